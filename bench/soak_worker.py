"""The soak's dvcwatch process (`bench/soak.py` starts it, kills it, starts it again).

It is `dvcwatch run --once` and the outbox's passes on a clock the driver controls:
the phases (cycle: sync, catch-up, send; deliver: one outbox pass; status: close the
runs of dead processes and report) are read from a JSON file, and before each one
the worker says `@soak ready N` and waits for the driver's `go` (the driver sets
the simulated portal's day and arms the phase's faults meanwhile); after it,
`@soak done N`. The service's clock (`service.clock.use_clock`) reads the phase's
time, so every stored time, lease, repeat and escalation is simulated time.

`--break snapshots` is the soak's own proof: every unit's figures look new to the
snapshot store, so each sync writes a snapshot again and the checker must say so.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import resource
import sys
import uuid
from pathlib import Path
from typing import Any

PROTOCOL = "@soak"


def _say(*words: object) -> None:
    print(PROTOCOL, *words, flush=True)


def _break_snapshots() -> None:
    """Every reading looks changed: the store writes a snapshot where it should extend one."""
    from service import snapshots

    honest = getattr(snapshots, "figure_set", None)
    if not callable(honest):  # renamed: the break would miss
        raise SystemExit("soak --break snapshots: service.snapshots.figure_set is gone")
    snapshots.figure_set = lambda rows: (uuid.uuid4().hex, honest(rows)[1])  # type: ignore[assignment]


async def _phases(args: argparse.Namespace, now: list[dt.datetime]) -> int:
    from jobs.scheduler import Service
    from jobs.steps import deliver
    from jobs.work import Context
    from service.app import App
    from service.commands.common import worker_name
    from service.config import load_settings
    from service.delivery import setup
    from service.runs import close_abandoned
    from service.status import Reader, collect

    app = App(load_settings(Path(args.config), os.environ, args.db))
    context = Context(app, worker_name(), setup.channels(app.settings))
    phases: list[list[str]] = json.loads(Path(args.phases).read_text(encoding="utf-8"))
    for index in range(args.start, len(phases)):
        kind, at = phases[index]
        _say("ready", index)
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
            return 3
        now[0] = dt.datetime.fromisoformat(at)
        if kind == "cycle":
            await Service(context).run_once()
        elif kind == "deliver":
            await deliver(context)
        else:
            close_abandoned(app.sessions())
            with app.sessions()() as session:
                report: dict[str, Any] = collect(Reader.of_session(session))
            _say("status", json.dumps(report, default=str, ensure_ascii=False))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        logging.getLogger("dvcwatch.soak").info(
            "phase %d (%s at %s) done; peak RSS so far %.0f MB", index, kind, at, peak
        )
        _say("done", index)
    for channel in context.channels.values():
        await channel.close()
    app.engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--phases", required=True, help="JSON list of [kind, naive UTC time]")
    parser.add_argument("--start", type=int, default=0, help="the first phase to run")
    parser.add_argument("--break", dest="broken", choices=("snapshots",))
    args = parser.parse_args(argv)
    from service import logs
    from service.clock import use_clock

    logs.configure(sys.stderr, os.environ)
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    now = [dt.datetime(2000, 1, 1)]
    use_clock(lambda: now[0])
    if args.broken == "snapshots":
        _break_snapshots()
    return asyncio.run(_phases(args, now))


if __name__ == "__main__":
    sys.exit(main())
