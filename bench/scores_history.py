"""Benchmark: scores, changes and ranks of 3,321 communes over 24 months.

The analysis is pure (`service.scoring.national.analyse`), so the benchmark
builds the snapshots in memory (34 provinces, deterministic figures) and
times the scores, changes against the month before, ranks within each
province and the province averages for every one of the 24 months: the
work a history (charts, "falling for N months" alerts) needs. Target
(docs/benchmarks.md): under 2 s. It also reports, as information, the full
`scores` rows (formatting and what it takes) for the 24 months, and one
`dvcwatch scores` call reading a month and its previous month from SQLite.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from service.app import App
from service.config import Settings
from service.figures import AXES, COUNT_CODES, FigureValue, UnitRecord
from service.indicators import NATIONAL, TTTT
from service.periods import Period
from service.scoring.national import NationalInput, analyse, national_rows
from service.scoring.report import score_rows
from service.snapshots import SnapshotKey, StoredUnit, store_snapshots
from service.sync import SOURCE

PROVINCES, COMMUNES, MONTHS = 34, 3321, 24
Work = Callable[[NationalInput], Sequence[Any]]


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
        "ONLINE_PAYMENT", "metric", None, None, TTTT.code, paid, paid + rng.randrange(0, 40)
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


def time_months(data: dict[Period, list[StoredUnit]], work: Work) -> tuple[float, int]:
    """Seconds to run `work` on every month with the month before, and results made."""
    started, results = time.perf_counter(), 0
    periods = list(data)
    for index, period in enumerate(periods):
        previous = data[periods[index - 1]] if index else []
        results += len(work(NationalInput(data[period], previous)))
    return time.perf_counter() - started, results


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
                key = SnapshotKey(SOURCE, NATIONAL, str(period), period.last_day, "final")
                store_snapshots(session, key, records)
        started = time.perf_counter()
        with app.sessions()() as session:
            rows = score_rows(session, app.schemes, NATIONAL, last)
        elapsed = time.perf_counter() - started
        app.engine.dispose()
    assert len(rows) == COMMUNES
    return elapsed


def main() -> int:
    data = history()
    analysis, results = time_months(data, analyse)
    rendering, rows = time_months(data, national_rows)
    reading = time_reading(data)
    print(
        f"scores, changes and ranks, {COMMUNES} communes x {MONTHS} months "
        f"({results} results): {analysis:.2f} s"
    )
    print(f"the same as full `scores` rows with what it takes ({rows} rows): {rendering:.2f} s")
    print(
        f"one `scores` call from SQLite (read 2 months + analyse, {COMMUNES} communes): "
        f"{reading:.2f} s"
    )
    return 0 if analysis < 2 else 1  # the target of docs/benchmarks.md


if __name__ == "__main__":
    sys.exit(main())
