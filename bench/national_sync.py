"""Benchmark: sync a national-scale generated set (34 provinces, 3,321 communes,
~700 agencies, one month) from the simulator into a fresh database.

Run with `make bench` (or `python -m bench.national_sync [--db URL]`). The
simulator runs in its own process, as the portal would; the figures reported
are this process's wall time and peak resident memory, which is where the
parsing and storing happen, with the politeness pause at zero.

The simulator makes each answer the first time it is asked and keeps it, so every
question is asked once (a sync into a scratch database) before anything is timed.
Measured in the same run, the floors the sync is compared with:
- Floor A: the same requests (read back from the raw archive of the first sync)
  sent with a plain `requests.Session` and their answers `json.loads`-ed;
- Floor B: `json.loads` of the same bodies, already in memory.
Each of the first sync and Floor A is the best of `ROUNDS` runs (the sync into a
fresh database each time), taken in turns, so that a moment of a busy machine
does not decide the ratio; every run's time is printed.
Targets (issue 15, docs/benchmarks.md): the first sync within 2.5 x Floor A on
SQLite and 4 x on PostgreSQL, 239 requests for 34 provinces (the province list
once, then seven a province), peak memory under 150 MB for the syncing process
and for its second process (`sync.sync_provinces`) each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import requests
from sqlalchemy import select

from bench import Result, emit, peak_mb, pg_schema_url
from service.app import App
from service.config import PortalSettings, Settings
from service.models import RawBody, RawResponse
from service.periods import Period
from service.portal.api import API_PREFIX, SERVICE_RESULTS
from service.portal.client import PortalClient
from service.sync import sync_provinces

PROVINCES, COMMUNES, AGENCIES = 34, 3321, 700
#: Each time is the best of this many runs: a busy machine slows a run, never speeds it.
ROUNDS = 3


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
    rows = client.fetch_provinces(period)[SERVICE_RESULTS.list_key]
    return [str(row["departmentCode"]) for row in rows]


def sync_all(
    app: App, portal: PortalSettings, codes: list[str], period: Period
) -> tuple[float, int, int]:
    """One run over every province, as `dvcwatch sync` makes it (`sync_provinces`: one
    province list, each province's answers read in a second process)."""
    sessions = app.sessions()
    today = dt.date.today()
    started = time.perf_counter()
    units = written = 0
    for outcome in sync_provinces(sessions, portal, codes, period, today):
        if outcome.error:
            raise SystemExit(f"{outcome.scope}: {outcome.error}")
        units += outcome.units
        written += outcome.written
    return time.perf_counter() - started, units, written


def warm_up(portal: PortalSettings, codes: list[str], period: Period, scratch: Path) -> None:
    """Every question asked once, into a database thrown away: the simulator makes an
    answer the first time it is asked and keeps it (as a real portal serves what it
    has), and Floor A, measured after the syncs, meets kept answers too."""
    app = App(Settings.model_validate({"database": {"url": f"sqlite:///{scratch}"}}))
    app.upgrade()
    sync_all(app, portal, codes, period)
    app.engine.dispose()


def archived(app: App) -> list[tuple[str, dict[str, object], bytes]]:
    """Every request of the runs so far (endpoint, body) with the bytes it received."""
    with app.sessions()() as session:
        rows = session.execute(
            select(RawResponse.endpoint, RawResponse.request_body, RawBody.body)
            .join(RawBody, RawBody.sha256 == RawResponse.body_sha256)
            .order_by(RawResponse.id)
        )
        return [(endpoint, json.loads(body), zlib.decompress(raw)) for endpoint, body, raw in rows]


def floor_a(base_url: str, requests_made: list[tuple[str, dict[str, object], bytes]]) -> float:
    """The same requests with plain `requests`, each answer `json.loads`-ed."""
    http = requests.Session()
    started = time.perf_counter()
    for endpoint, body, _ in requests_made:
        answer = http.post(base_url.rstrip("/") + API_PREFIX + endpoint, json=body, timeout=60)
        json.loads(answer.content)
    return time.perf_counter() - started


def floor_b(requests_made: list[tuple[str, dict[str, object], bytes]]) -> float:
    """`json.loads` of the same bodies, from memory."""
    started = time.perf_counter()
    for _, _, raw in requests_made:
        json.loads(raw)
    return time.perf_counter() - started


def _seconds(times: list[float]) -> str:
    return ", ".join(f"{time:.2f}" for time in times) + " s"


def children_peak_mb() -> float:
    """The peak resident memory of this process's children that have ended."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def country_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options of a bench on the generated country: --pg, --seed, --period."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pg", help="a PostgreSQL URL: the bench uses a new schema of it")
    parser.add_argument("--seed", type=int, default=766)
    parser.add_argument("--period", default="2026-08")
    return parser


def main() -> int:
    parser = country_arguments(__doc__)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    period = Period.parse(args.period)
    simulator, url = start_simulator(args.seed)
    try:
        with tempfile.TemporaryDirectory() as folder:
            portal = PortalSettings(base_url=url, pause_seconds=(0.0, 0.0))
            codes = province_codes(portal, period)
            warm_up(portal, codes, period, Path(folder) / "warm-up.db")
            firsts: list[float] = []
            plains: list[float] = []
            for number in range(1 if args.db else ROUNDS):
                db_url = args.db or f"sqlite:///{Path(folder) / f'bench-{number}.db'}"
                if args.pg:
                    db_url = pg_schema_url(args.pg)
                app = App(Settings.model_validate({"database": {"url": db_url}}))
                app.upgrade()
                first, units, written = sync_all(app, portal, codes, period)
                firsts.append(first)
                if number == 0:
                    requests_made = archived(app)
                    again, _, rewritten = sync_all(app, portal, codes, period)
                app.engine.dispose()
                plains.append(floor_a(url, requests_made))
            loads = min(floor_b(requests_made) for _ in firsts)
            second_peak = children_peak_mb()  # the second processes, all ended by now
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    first, plain = min(firsts), min(plains)
    peak = peak_mb()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}, database {db_url.split(':')[0]}"
    )
    database = db_url.split(":")[0].split("+")[0]
    limit = 4.0 if database == "postgresql" else 2.5
    print(
        f"national sync, {len(codes)} provinces, {units} units, {written} snapshots, "
        f"{len(requests_made)} requests: {first:.2f} s"
    )
    print(f"Floor A (the same requests with plain requests + json.loads): {plain:.2f} s")
    print(f"Floor B (json.loads of the same bodies from memory): {loads:.2f} s")
    print(
        f"ratio: {first / plain:.2f} x Floor A (target <= {limit:g}), {first / loads:.1f} x Floor B"
    )
    print(f"same sync again (nothing new, {rewritten} written): {again:.2f} s")
    print(f"rounds (fresh database each): sync {_seconds(firsts)}, Floor A {_seconds(plains)}")
    print(
        f"peak memory (RSS): the syncing process {peak:.0f} MB, its second process "
        f"{second_peak:.0f} MB (target < 150 each)"
    )
    met = (
        first <= limit * plain
        and max(peak, second_peak) < 150
        and len(requests_made) == 1 + 7 * len(codes)
    )
    label = "PostgreSQL" if database == "postgresql" else "SQLite"
    emit(
        Result(
            f"national sync, {label}: {len(codes)} provinces, {units:,} units, "
            f"{len(requests_made)} requests",
            f"{first:.2f} s",
            f"Floor A {plain:.2f} s (Floor B {loads:.2f} s)",
            first / plain,
            f"<= {limit:g} x Floor A, 239 requests, < 150 MB",
            met,
            max(peak, second_peak),
            "python -m bench.national_sync" + (" --pg URL" if args.pg else ""),
        )
    )
    return 0 if met else 1  # the targets of issue 15 (docs/benchmarks.md)


if __name__ == "__main__":
    sys.exit(main())
