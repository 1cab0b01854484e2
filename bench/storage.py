"""Benchmark: what a day of figures costs to keep, per unit, on SQLite (and PostgreSQL).

Run with `make bench` (or `python -m bench.storage [--pg URL]`). Against the generated
national set (34 provinces, 3,321 communes, 700 agencies) served by the simulator:

1. day 1: a sync of every province of a running month through the real client;
2. days 2 to 6: the same sync again; the portal answers the same bytes, so this
   measures what an unchanged day costs (a run naming the run whose answers it
   received again, the snapshots' last day): printed for day 2 (the one run of day 1
   that asked for the province list had eight answers, so its day-2 run keeps its
   seven; each day's runs share one list, as `dvcwatch sync` does) and as the steady
   state, the mean of days 4 to 6 (on PostgreSQL an update leaves the old row version
   behind until VACUUM frees it for reuse: the first unchanged days grow the tables,
   the next ones reuse that room, with a page now and then);
3. days 7 to 31: every day 5 % of the units, drawn from a seeded generator, get a
   changed total, and every unit's figures of that day are stored as a sync stores them
   (`store_snapshots`, parent by parent), with no HTTP: this measures the figures a
   changing day keeps. Raw answers of a changing day are one compressed copy of each
   province's seven answers whichever units changed (printed apart: the retention of
   `schedules.raw_retention_days` bounds them).

Sizes are the database file after VACUUM (SQLite) and `pg_total_relation_size` of the
tables (PostgreSQL), measured in this run. Targets (docs/benchmarks.md): an identical
sync adds < 1 KB per province; a changing day adds < 400 bytes per unit on SQLite and
< 700 on PostgreSQL.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import text

from bench import Result, emit, pg_schema_url
from service.app import App
from service.config import PortalSettings, Settings
from service.figures import FigureValue, UnitRecord
from service.indicators import NATIONAL
from service.models import UnitGroup
from service.periods import Period
from service.simulator.generated import GeneratedSource
from service.simulator.server import PortalSimulator
from service.snapshots import SnapshotKey, StoredUnit, latest_units, store_snapshots
from service.sync import SOURCE, ProvinceListing, sync_province

PROVINCES, COMMUNES, AGENCIES = 34, 3321, 700
PERIOD = Period.parse("2026-10")
TABLES = ("units", "snapshots", "figure_sets", "raw_responses", "raw_bodies")
IDENTICAL_DAYS = (2, 3, 4, 5, 6)
STEADY = 3  # the last identical days, averaged
CHANGING_DAYS = range(7, 32)
SHARE_CHANGING = 0.05


def size_of(app: App) -> int:
    """Bytes the figures and the raw archive take, as the database keeps them."""
    with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM"))
        if app.engine.dialect.name == "sqlite":
            pages = connection.execute(text("PRAGMA page_count")).scalar_one()
            page = connection.execute(text("PRAGMA page_size")).scalar_one()
            return int(pages) * int(page)
        return sum(
            int(connection.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
            for t in TABLES
        )


def raw_size(app: App) -> int:
    with app.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM raw_bodies")
            ).scalar_one()
        )


def sync_every_province(app: App, portal: PortalSettings, codes: list[str], day: int) -> int:
    """One day's `dvcwatch sync` of every province: one run, one list of provinces."""
    units, listing = 0, ProvinceListing()
    for code in codes:
        outcome = sync_province(
            app.sessions(), portal, code, PERIOD, PERIOD.first_day.replace(day=day), listing=listing
        )
        if outcome.error:
            raise SystemExit(f"{code}: {outcome.error}")
        units += outcome.units
    return units


def record_of(unit: StoredUnit, figures: tuple[FigureValue, ...]) -> UnitRecord:
    return UnitRecord(unit.department_id, unit.code, unit.name, unit.group, figures)


def changed(unit: StoredUnit, day: int) -> tuple[FigureValue, ...]:
    figures = []
    for figure in unit.figures.values():
        if figure.code == "TOTAL" and figure.value is not None:
            figure = figure._replace(value=round(figure.value + day / 100, 2))
        figures.append(figure)
    return tuple(figures)


def store_a_changing_day(app: App, day: int, rng: random.Random) -> int:
    """Store every unit's figures of `day`, 5 % of them changed; returns how many changed."""
    sessions = app.sessions()
    key = SnapshotKey(SOURCE, NATIONAL, str(PERIOD), PERIOD.first_day.replace(day=day), "running")
    with sessions() as session:
        units = latest_units(session, NATIONAL, str(PERIOD))
    provinces = {u.unit_id: u for u in units if u.group == UnitGroup.PROVINCE}
    children: dict[int, list[UnitRecord]] = defaultdict(list)
    moved = 0
    for unit in units:
        if unit.parent_id is None:
            continue
        change = rng.random() < SHARE_CHANGING
        moved += change
        figures = changed(unit, day) if change else tuple(unit.figures.values())
        children[unit.parent_id].append(record_of(unit, figures))
    with sessions.begin() as session:
        for province_id, records in children.items():
            province = provinces[province_id]
            own = record_of(province, tuple(province.figures.values()))
            store_snapshots(session, key, records, own)
            store_snapshots(session, key, [own], None)
    return moved


def run(db_url: str, portal: PortalSettings, codes: list[str], seed: int) -> dict[str, float]:
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    app.upgrade()
    units = sync_every_province(app, portal, codes, 1)
    after_first = size_of(app)
    identical = [after_first]
    for day in IDENTICAL_DAYS:
        sync_every_province(app, portal, codes, day)
        identical.append(size_of(app))
    after_identical = identical[-1]
    raw_before = raw_size(app)
    rng = random.Random(seed)
    started = time.perf_counter()
    moved = sum(store_a_changing_day(app, day, rng) for day in CHANGING_DAYS)
    storing = time.perf_counter() - started
    after_changes = size_of(app)
    app.engine.dispose()
    days = len(CHANGING_DAYS)
    return {
        "units": units,
        "first": after_first,
        "identical_first": (identical[1] - identical[0]) / len(codes),
        "identical_per_province": (identical[-1] - identical[-1 - STEADY]) / (STEADY * len(codes)),
        "changing_per_unit_day": (after_changes - after_identical) / (units * days),
        "changed_share": moved / (units * days),
        "raw_per_unit_day": raw_before / units,
        "store_seconds_per_day": storing / days,
    }


def report(label: str, figures: dict[str, float]) -> None:
    print(f"{label}: {figures['units']:.0f} units; first sync {figures['first'] / 1e6:.1f} MB")
    print(
        f"  identical sync: {figures['identical_first']:.0f} bytes per province the first "
        f"unchanged day, {figures['identical_per_province']:.0f} a day from the 4th to the "
        f"6th"
    )
    print(
        f"  changing day ({figures['changed_share']:.1%} of units changed): "
        f"{figures['changing_per_unit_day']:.0f} bytes per unit per day, "
        f"{figures['store_seconds_per_day']:.2f} s to store a day"
    )
    print(
        f"  raw answers of one sync (stored once, compressed): "
        f"{figures['raw_per_unit_day']:.0f} bytes per unit"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="also measure on this PostgreSQL URL (a new schema)")
    parser.add_argument("--seed", type=int, default=766)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}; seed {args.seed}"
    )
    source = GeneratedSource(args.seed, PROVINCES, COMMUNES, AGENCIES)
    results = {}
    with PortalSimulator(source) as simulator, tempfile.TemporaryDirectory() as folder:
        portal = PortalSettings(base_url=simulator.base_url, pause_seconds=(0.0, 0.0))
        codes = [p.department.code for p in source.provinces]
        results["SQLite"] = run(f"sqlite:///{Path(folder) / 'bench.db'}", portal, codes, args.seed)
        if args.pg:
            results["PostgreSQL"] = run(pg_schema_url(args.pg), portal, codes, args.seed)
    for label, figures in results.items():
        report(label, figures)
    limits = {"SQLite": 400, "PostgreSQL": 700}
    command = "python -m bench.storage" + (" --pg URL" if args.pg else "")
    for label, f in results.items():
        per_year = f["changing_per_unit_day"] * 365
        emit(
            Result(
                f"storage, {label}: a day with {f['changed_share']:.0%} of units changed",
                f"{f['changing_per_unit_day']:.0f} B per unit per day",
                "",
                None,
                f"< {limits[label]} B",
                f["changing_per_unit_day"] < limits[label],
                command=f"{command}; a year of such days: "
                f"{per_year * f['units'] / PROVINCES / 1e6:,.1f} MB an average province "
                f"({f['units'] / PROVINCES:.0f} units), {per_year * f['units'] / 1e6:,.0f} MB "
                "the country",
            )
        )
        emit(
            Result(
                f"storage, {label}: the same sync again",
                f"{f['identical_per_province']:.0f} B per province",
                "",
                None,
                "< 1,024 B",
                f["identical_per_province"] < 1024,
                command=command,
            )
        )
    met = all(
        f["identical_per_province"] < 1024 and f["changing_per_unit_day"] < limits[label]
        for label, f in results.items()
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
