"""Benchmark: how long `dvcwatch --help` and `dvcwatch status` take to start and answer.

Each is run as a fresh process (the installed `dvcwatch` script of this interpreter's
environment) five times; the best wall time counts, as the machine is shared. The floor,
measured in the same run, is `python -c pass` with the same interpreter: the ratio is what
dvcwatch's own start costs beyond Python's. Beside it, the same run measures importing
the libraries `status` still needs (pydantic for the settings, APScheduler's cron parser
to check the schedule), which no code of dvcwatch's can make faster, and importing
SQLAlchemy's ORM, which `status` with nothing to settle no longer imports
(`status_quick.read_quickly`). `status` reads a fresh, migrated SQLite database (the
schema check and its queries included), and with `--pg` a fresh PostgreSQL schema too.
Peak memory is each child's `ru_maxrss`.
Targets (issue 15): `--help` under 0.4 s, `status` under 0.5 s on either database; exit 1
if missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import Result, emit

RUNS = 5
TARGETS = {"dvcwatch --help": 0.4, "dvcwatch status": 0.5, "dvcwatch status, PostgreSQL": 0.5}
DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")
#: The libraries' own start: pydantic's package loads its parts when one is first named.
LIBRARIES = "from pydantic import BaseModel; from apscheduler.triggers.cron import CronTrigger"
SQLALCHEMY = "import sqlalchemy.orm"


#: Runs one statement on the database argv[1] names, in a process of its own: importing
#: SQLAlchemy here would count in every child's peak memory (a fork's starts as ours).
STATEMENT = """
import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1], isolation_level="AUTOCOMMIT").connect() as connection:
    connection.execute(text(sys.argv[2]))
"""


@contextmanager
def _postgresql(url: str | None) -> Iterator[str | None]:
    """A fresh schema of the database `url` names, as a URL (dropped afterwards)."""
    if url is None:
        yield None
        return
    schema = f"bench_startup_{uuid.uuid4().hex[:8]}"
    run = [sys.executable, "-c", STATEMENT, url]
    subprocess.run([*run, f'CREATE SCHEMA "{schema}"'], check=True)
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        subprocess.run([*run, f'DROP SCHEMA "{schema}" CASCADE'], check=True)


def best_of(command: list[str]) -> tuple[float, float]:
    """The best wall time of `RUNS` runs (seconds) and the largest peak RSS (MB)."""
    best, peak = float("inf"), 0.0
    for _ in range(RUNS):
        started = time.perf_counter()
        pid = subprocess.Popen(command, stdout=subprocess.DEVNULL).pid
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed")
        best, peak = min(best, elapsed), max(peak, usage.ru_maxrss / 1024)
    return best, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="PostgreSQL URL: `status` is measured there too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, _postgresql(args.pg) as pg:
        url = f"sqlite:///{Path(folder) / 'startup.db'}"
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "libraries": [sys.executable, "-c", LIBRARIES],
            "sqlalchemy": [sys.executable, "-c", SQLALCHEMY],
            "dvcwatch --help": [DVCWATCH, "--help"],
            "dvcwatch status": [DVCWATCH, "--db", url, "status"],
        }
        if pg:
            commands["dvcwatch status, PostgreSQL"] = [DVCWATCH, "--db", pg, "status"]
        for database in (url, pg) if pg else (url,):
            upgrade = [DVCWATCH, "--db", database, "db", "upgrade"]
            subprocess.run(upgrade, check=True, capture_output=True)
        measured = {name: best_of(command) for name, command in commands.items()}
    floor, floor_mb = measured.pop("python -c pass")
    libraries, _ = measured.pop("libraries")
    sqlalchemy, _ = measured.pop("sqlalchemy")
    beside = (
        f"importing pydantic and APScheduler's cron: {libraries:.3f} s; "
        f"SQLAlchemy's ORM, which status does not import: {sqlalchemy:.3f} s"
    )
    print(
        f"start-up, best of {RUNS} (floor `python -c pass`: {floor:.3f} s, {floor_mb:.0f} MB; "
        f"{beside})"
    )
    missed = False
    for name, (seconds, mb) in measured.items():
        target = TARGETS[name]
        missed |= seconds >= target
        print(
            f"  {name}: {seconds:.3f} s ({seconds / floor:.1f}x the floor), peak {mb:.0f} MB; "
            f"target < {target} s{'' if seconds < target else ' MISSED'}"
        )
        emit(
            Result(
                f"start-up: `{name}`, best of {RUNS}",
                f"{seconds:.3f} s",
                f"`python -c pass` {floor:.3f} s ({beside})",
                seconds / floor,
                f"< {target} s",
                seconds < target,
                mb,
                "python -m bench.startup",
            )
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
