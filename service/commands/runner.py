"""`dvcwatch run`: the service."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from service import logs
from service.app import App
from service.commands.common import EXIT_FAILED, worker_name


def run_service(app: App, args: argparse.Namespace) -> int:
    from jobs.leader import LockHeld
    from jobs.scheduler import Service
    from jobs.work import Context
    from service.alerts import setup
    from service.delivery import setup as delivery_setup

    logs.configure(sys.stderr, os.environ)
    # "skipped: maximum number of running instances" is the outbox doing its job.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    app.sessions()  # fails now, with its message, if the database is not migrated
    # The files the jobs read, checked before any job runs: a missing directory or rules
    # file is one line and exit 2 now, not a failure after the first sync.
    setup.rules(app.settings)
    delivery_setup.directory(app.settings)
    service = Service(Context(app, worker_name(), delivery_setup.channels(app.settings)))
    try:
        return asyncio.run(service.run_once() if args.once else service.run_forever())
    except LockHeld as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_FAILED
