"""What every command shares: exit codes, bad-usage errors, periods, names."""

from __future__ import annotations

import argparse
import os
import socket

from service.app import App
from service.clock import local_today
from service.periods import Period

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the person at the keyboard: exit code 2."""


def parse_period(text: str | None) -> Period:
    if text is None:
        return Period.month_of(local_today())
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from None


def tolerance(app: App, args: argparse.Namespace) -> float:
    """`--tolerance`, else the settings' (each checked finite and not negative where it
    is read: `cli._tolerance`, `ScoringSettings`)."""
    return float(app.settings.scoring.tolerance if args.tolerance is None else args.tolerance)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
