"""Benchmark: scores, changes and ranks of 3,321 communes over 24 months.

The analysis is pure (`service.scoring.national`), so the benchmark builds
the snapshots in memory (34 provinces, deterministic figures that drift
month to month) and times `national_rows` for every month against the month
before: the work `dvcwatch scores` does once the snapshots are read. It then
times reading one month and its previous month back from a SQLite database
holding those two months, the I/O side of one `scores` call. Target
(docs/benchmarks.md): under 2 s for the 24 months.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from service.app import App
from service.config import Settings
from service.figures import AXES, COUNT_CODES, FigureValue, UnitRecord
from service.periods import Period
from service.scoring.national import NationalInput, national_rows
from service.scoring.report import score_rows
from service.snapshots import SnapshotKey, StoredUnit, store_snapshots

PROVINCES, COMMUNES, MONTHS = 34, 3321, 24


def months() -> list[Period]:
    period, result = Period(2024, "month", 11), []
    for _ in range(MONTHS):
        period = Period(period.year + period.number // 12, "month", period.number % 12 + 1)
        result.append(period)
    return result


def figures(rng: random.Random, level: float) -> dict[str, FigureValue]:
    axes = {
        code: round(maximum * min(1.0, level + rng.uniform(-0.1, 0.1)), 2)
        for code, maximum in AXES.items()
    }
    result = {
        code: FigureValue(code, "axis", score, AXES[code], code) for code, score in axes.items()
    }
    result["TOTAL"] = FigureValue("TOTAL", "total", round(sum(axes.values()), 2), 100.0)
    for code in COUNT_CODES.values():
        result[code] = FigureValue(code, "count", float(rng.randrange(0, 30)))
    paid = rng.randrange(0, 200)
    result["ONLINE_PAYMENT"] = FigureValue(
        "ONLINE_PAYMENT", "metric", None, None, "TTTT", paid, paid + rng.randrange(0, 40)
    )
    return result


def history() -> dict[Period, list[StoredUnit]]:
    rng = random.Random(766)
    levels = [rng.uniform(0.5, 0.95) for _ in range(COMMUNES)]
    result = {}
    for period in months():
        units = []
        for number, level in enumerate(levels):
            province = number % PROVINCES
            units.append(
                StoredUnit(
                    unit_id=number,
                    code=f"H{province:02d}.{number}",
                    department_id=None,
                    name=f"UBND xã {number}",
                    group="COMMUNE",
                    parent_id=10_000 + province,
                    parent_code=f"H{province:02d}",
                    source="portal-766",
                    period=str(period),
                    as_of=period.last_day,
                    revision=1,
                    completeness="final",
                    figures=figures(rng, level),
                )
            )
        result[period] = units
    return result


def time_analysis(data: dict[Period, list[StoredUnit]]) -> tuple[float, int]:
    started, rows = time.perf_counter(), 0
    periods = list(data)
    for index, period in enumerate(periods):
        previous = data[periods[index - 1]] if index else []
        rows += len(national_rows(NationalInput(data[period], previous)))
    return time.perf_counter() - started, rows


def time_reading(data: dict[Period, list[StoredUnit]]) -> float:
    last, before = list(data)[-1], list(data)[-2]
    with tempfile.TemporaryDirectory() as folder:
        app = App(Settings.model_validate({"database": {"url": f"sqlite:///{Path(folder)}/b.db"}}))
        app.upgrade()
        with app.sessions().begin() as session:
            for period in (before, last):
                records = [
                    UnitRecord(
                        f"d{u.unit_id}", u.code, u.name, "COMMUNE", tuple(u.figures.values())
                    )
                    for u in data[period]
                ]
                key = SnapshotKey("portal-766", "766", str(period), period.last_day, "final")
                store_snapshots(session, key, records)
        started = time.perf_counter()
        with app.sessions()() as session:
            rows = score_rows(session, app.schemes, "766", last)
        elapsed = time.perf_counter() - started
        app.engine.dispose()
    assert len(rows) == COMMUNES
    return elapsed


def main() -> int:
    data = history()
    analysis, rows = time_analysis(data)
    reading = time_reading(data)
    print(
        f"scores, changes and ranks, {COMMUNES} communes x {MONTHS} months ({rows} rows): "
        f"{analysis:.2f} s"
    )
    print(
        f"one `scores` call from SQLite (read 2 months + analyse, {COMMUNES} communes): "
        f"{reading:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
