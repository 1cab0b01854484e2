"""Benchmark: sync a national-scale generated set (34 provinces, 3,321 communes,
~700 agencies, one month) from the simulator into a fresh database.

Run with `make bench` (or `python -m bench.national_sync [--db URL]`). The
simulator runs in its own process, as the portal would; the figures reported
are this process's wall time and peak resident memory, which is where the
parsing and storing happen. Targets (docs/benchmarks.md): under 10 s and
under 300 MB with the politeness pause at zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from service.app import App
from service.config import PortalSettings, Settings
from service.periods import Period
from service.portal.client import PortalClient
from service.sync import sync_province

PROVINCES, COMMUNES, AGENCIES = 34, 3321, 700


def start_simulator(seed: int) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-m",
        "service.simulator.simulator",
        "--generate",
        "--seed",
        str(seed),
        "--provinces",
        str(PROVINCES),
        "--communes",
        str(COMMUNES),
        "--agencies",
        str(AGENCIES),
        "--port",
        "0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, line.strip().rsplit(" ", 1)[-1]


def province_codes(portal: PortalSettings, period: Period) -> list[str]:
    client = PortalClient(portal, archive=lambda _response: None)
    rows = client.fetch_provinces(period)["evaluation"]
    return [str(row["departmentCode"]) for row in rows]


def sync_all(
    app: App, portal: PortalSettings, codes: list[str], period: Period
) -> tuple[float, int, int]:
    sessions = app.sessions()
    today = dt.date.today()
    started = time.perf_counter()
    units = written = 0
    for code in codes:
        outcome = sync_province(sessions, portal, code, period, today)
        if outcome.error:
            raise SystemExit(f"{code}: {outcome.error}")
        units += outcome.units
        written += outcome.written
    return time.perf_counter() - started, units, written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument("--period", default="2026-08")
    args = parser.parse_args()
    period = Period.parse(args.period)
    simulator, url = start_simulator(args.seed)
    try:
        with tempfile.TemporaryDirectory() as folder:
            db_url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
            portal = PortalSettings(base_url=url, pause_seconds=(0.0, 0.0))
            app = App(Settings.model_validate({"database": {"url": db_url}}))
            app.upgrade()
            codes = province_codes(portal, period)
            first, units, written = sync_all(app, portal, codes, period)
            again, _, rewritten = sync_all(app, portal, codes, period)
            app.engine.dispose()
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}, database {db_url.split(':')[0]}"
    )
    print(
        f"national sync, {len(codes)} provinces, {units} units, {written} snapshots: {first:.2f} s"
    )
    print(f"same sync again (nothing new, {rewritten} written): {again:.2f} s")
    print(f"peak memory (RSS of the syncing process): {peak_mb:.0f} MB")
    return 0 if first < 10 and peak_mb < 300 else 1  # the targets of docs/benchmarks.md


if __name__ == "__main__":
    sys.exit(main())
