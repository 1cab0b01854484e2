"""Benchmark: the monthly Công văn of 3,321 communes, as .docx with its three charts.

Targets: under 100 ms per document on this machine, the wall-clock total divided by
the documents, with every core at work (docs/benchmarks.md); and one notice with its
charts, in one process, at most 5x an empty docxtpl render measured in the same run
(issue 15; CPU time of this process, as the machine is shared). The
country is fictional and deterministic (34 provinces, each commune's
figures drawn from a seeded random walk) and built in memory: the rows are
the real `national_rows()` of the last two months' snapshots, so the
documents go through the same code as `dvcwatch notice` (`congvan`,
`congvan_charts`, `render_docx`), only without the database. Each
document is written, atomically, to a temporary folder.

Run with `python -m bench.notices [--units N] [--workers W]`.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docxtpl import DocxTemplate

from bench import Result, emit
from service.figures import AXES, COUNT_CODES, FigureValue
from service.indicators import CKMB, CLGQ, MDHL, MDSH, TDGQ, TTTT
from service.notices.congvan import congvan
from service.notices.documents import Issuer
from service.notices.notice_charts import congvan_charts
from service.notices.render import find_template, render_docx, write_atomic
from service.notices.texts import NoticeTexts, default_texts
from service.periods import Period
from service.scoring.national import NationalInput, national_rows
from service.snapshots import StoredUnit

PROVINCES, COMMUNES, MONTHS, SAMPLE = 34, 3321, 12, 200
PERIOD = Period(2025, "month", 9)
TARGET_MS = 100.0
TARGET_RATIO = 5.0  # one notice, charts included, against an empty docxtpl render (issue 15)
FLOOR_DOCUMENTS = 50
STEMS = ("Tân", "Bình", "An", "Thạnh", "Vĩnh", "Đông", "Phước", "Xuân", "Minh", "Hòa", "Phú",
         "Long", "Hưng", "Thuận", "Quang", "Trung", "Nghĩa", "Lộc")  # fmt: skip
#: Phụ lục I's metrics by axis: (code, dossiers a month at most, rate reported without counts).
METRICS = {
    CKMB.code: (("PUBLISH_ON_TIME", 40, True), ("DOSSIER_SYNC", 600, False)),
    TDGQ.code: (("PROCESSED_ON_TIME", 600, False),),
    CLGQ.code: (("ONLINE_SUBMISSION", 600, False),),
    TTTT.code: (("ONLINE_PAYMENT", 300, False), ("FEE_FORMALITY_PAID_ONLINE", 60, True)),
    MDHL.code: (("DOSSIER_RECEIVING_SATISFACTION", 400, True),),
    MDSH.code: (
        ("SO_HOA_GIAY_TO_GIAI_QUYET", 600, False),
        ("ORIGINAL_RESULT_AVAILABLE", 600, True),
    ),
}


@dataclass(frozen=True)
class Country:
    """What the Công văn of every commune needs for `PERIOD`, without a database.

    `rows` are `national_rows()` of `PERIOD` in their order; the maps are by unit
    code: the previous month's rows, both months' snapshots, and the total of
    each of the last `MONTHS` months (oldest first, as a trend chart takes it).
    """

    rows: list[dict[str, Any]]
    previous_rows: dict[str, dict[str, Any]]
    now: dict[str, StoredUnit]
    before: dict[str, StoredUnit]
    history: dict[str, list[tuple[str, float | None]]]
    sets: dict[tuple[str, str], list[dict[str, Any]]]

    def set_of(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """The rows ranked with `row` (same parent and group), as `produce` selects them."""
        return self.sets[(row["parent_code"], row["group"])]


def months() -> list[Period]:
    """The last `MONTHS` months up to `PERIOD`, oldest first."""
    periods = [PERIOD]
    while len(periods) < MONTHS:
        periods.insert(0, periods[0].previous())
    return periods


def commune_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct commune names (names within a province must differ: the place
    chart finds the unit by its name)."""
    pairs = [f"Xã {first} {second}" for first in STEMS for second in STEMS if first != second]
    return rng.sample(pairs, count)


def figures(rng: random.Random, level: float) -> dict[str, FigureValue]:
    """One commune-month: the six axes at about `level` of their maxima, the total,
    the counts and Phụ lục I's metrics."""
    result = {}
    for code, maximum in AXES.items():
        score = round(maximum * min(1.0, max(0.0, level + rng.uniform(-0.08, 0.08))), 2)
        result[code] = FigureValue(code, "axis", score, maximum, code)
    total = round(sum(f.value or 0.0 for f in result.values()), 2)
    result["TOTAL"] = FigureValue("TOTAL", "total", total, 100.0)
    for code in COUNT_CODES.values():
        result[code] = FigureValue(code, "count", float(rng.randrange(0, 40)))
    for axis, metrics in METRICS.items():
        for code, most, rate_only in metrics:
            denominator = rng.randrange(most // 4, most + 1)
            numerator = round(denominator * min(1.0, level + rng.uniform(-0.05, 0.1)))
            ratio = round(100 * numerator / denominator, 2)
            result[code] = FigureValue(
                code,
                "metric",
                None,
                axis=axis,
                numerator=None if rate_only else numerator,
                denominator=None if rate_only else denominator,
                ratio=ratio,
            )
    return result


def unit_code(number: int, province: int) -> str:
    return f"T{province:02d}.X{number:04d}"


def snapshot(
    number: int, name: str, province: int, period: Period, values: dict[str, FigureValue]
) -> StoredUnit:
    return StoredUnit(
        unit_id=number,
        code=unit_code(number, province),
        department_id=None,
        name=name,
        group="COMMUNE",
        parent_id=10_000 + province,
        parent_code=f"T{province:02d}",
        source="portal-766",
        period=str(period),
        as_of=period.last_day,
        revision=1,
        completeness="final",
        figures=values,
    )


def build_country(communes: int) -> Country:
    """`communes` communes spread over `PROVINCES` provinces, the same for the same count."""
    rng = random.Random(766)
    names = [commune_names(rng, -(-communes // PROVINCES)) for _ in range(PROVINCES)]
    periods = months()
    by_month: dict[Period, list[StoredUnit]] = {period: [] for period in periods[-2:]}
    history: dict[str, list[tuple[str, float | None]]] = {}
    for number in range(communes):
        province, level = number % PROVINCES, rng.uniform(0.55, 0.9)
        name, points = names[province][number // PROVINCES], []
        for period in periods:
            level = min(0.98, max(0.3, level + rng.uniform(-0.04, 0.05)))
            month = figures(rng, level)
            points.append((str(period), month["TOTAL"].value))
            if period in by_month:
                by_month[period].append(snapshot(number, name, province, period, month))
        history[unit_code(number, province)] = points
    before, now = by_month[periods[-2]], by_month[PERIOD]
    rows = national_rows(NationalInput(now, before))
    sets: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        sets[(row["parent_code"], row["group"])].append(row)
    return Country(
        rows=rows,
        previous_rows={row["unit_code"]: row for row in national_rows(NationalInput(before))},
        now={unit.label: unit for unit in now},
        before={unit.label: unit for unit in before},
        history=history,
        sets=dict(sets),
    )


def issuer(row: dict[str, Any]) -> Issuer:
    """A commune's People's Committee as its configuration would name it (seed 004's
    layout: no parent body above the commune's own)."""
    place = str(row["unit_name"]).removeprefix("Xã ")
    return Issuer(
        body_name=f"Ủy ban nhân dân\nxã {place}",
        number_pattern="UBND-VP",
        place=place,
        signer_name="Nguyễn Văn Thử",
        recipients=("Các bộ phận chuyên môn thuộc UBND xã", "Các thôn, tổ dân phố"),
        copies=("TT Đảng ủy xã", "TT HĐND xã"),
        short_name=f"UBND xã {place}",
    )


@dataclass(frozen=True)
class Writer:
    """Writes the Công văn of the country's `index`-th row into `folder`."""

    country: Country
    folder: Path
    texts: NoticeTexts
    template: Path

    def write(self, index: int) -> tuple[float, float]:
        """The seconds spent on the charts and on the whole document."""
        started = time.perf_counter()
        country, row = self.country, self.country.rows[index]
        code = row["unit_code"]
        before = country.previous_rows.get(code)
        document = congvan(
            row,
            before,
            country.now[code].figures,
            country.before[code].figures if code in country.before else None,
            issuer(row),
            PERIOD,
            None,
            self.texts,
        )
        charted = time.perf_counter()
        charts = congvan_charts(
            row, before, country.set_of(row), country.history[code], self.texts.axis_names
        )
        drawn = time.perf_counter()
        render_docx(document, self.template, self.folder / f"{code}.docx", charts)
        return drawn - charted, time.perf_counter() - started


#: Each worker's writer: set once per process by `_start` (a pool passes tasks, not state).
_WRITER: Writer | None = None


def _start(writer: Writer) -> None:
    global _WRITER
    _WRITER = writer


def _write(index: int) -> tuple[float, float]:
    assert _WRITER is not None, "the pool starts each worker with _start"
    return _WRITER.write(index)


def run_pool(writer: Writer, documents: int, workers: int) -> float:
    """Seconds, wall clock, for `workers` processes to write `documents` notices,
    counted from the start of the pool (the workers' start-up is included)."""
    # fork: the workers inherit the country instead of each building or unpickling it
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    started = time.perf_counter()
    with context.Pool(workers, initializer=_start, initargs=(writer,)) as pool:
        for _ in pool.imap_unordered(_write, range(documents), chunksize=8):
            pass
    return time.perf_counter() - started


def run_one_process(writer: Writer, documents: int) -> tuple[float, float, float]:
    """Milliseconds per document in this process alone: all of it, and the charts (wall
    clock), and all of it in this process's CPU time."""
    cpu = time.process_time()
    timings = [writer.write(index) for index in range(documents)]
    cpu = time.process_time() - cpu
    return (
        1000 * sum(whole for _, whole in timings) / documents,
        1000 * sum(charts for charts, _ in timings) / documents,
        1000 * cpu / documents,
    )


def empty_render_ms(folder: Path, documents: int) -> float:
    """The floor: CPU milliseconds per .docx that docxtpl renders from an empty document
    (python-docx's blank one) with an empty context, written as a notice is written."""
    blank = folder / "blank.docx"
    Document().save(str(blank))
    started = time.process_time()
    for index in range(documents):
        template = DocxTemplate(blank)
        template.render({})
        buffer = io.BytesIO()
        template.save(buffer)
        write_atomic(folder / f"empty-{index}.docx", buffer.getvalue())
    return 1000 * (time.process_time() - started) / documents


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--units", type=int, default=COMMUNES, help="communes (3321)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    country = build_country(args.units)
    texts, template = default_texts(), find_template("congvan", None)
    with tempfile.TemporaryDirectory(prefix="dvcwatch-bench-") as folder:
        writer = Writer(country, Path(folder), texts, template)
        wall = run_pool(writer, len(country.rows), args.workers)
        written = len(list(Path(folder).glob("*.docx")))
        sample = min(SAMPLE, len(country.rows))
        (Path(folder) / "empty").mkdir()
        floors = [empty_render_ms(Path(folder) / "empty", FLOOR_DOCUMENTS)]
        alone, charts, cpu = run_one_process(
            Writer(country, Path(folder) / "one", texts, template), sample
        )
        floors.append(empty_render_ms(Path(folder) / "empty", FLOOR_DOCUMENTS))
    floor = min(floors)  # measured before and after the notices: the quieter one counts
    ratio = cpu / floor
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_document = 1000 * wall / len(country.rows)
    print(f"machine: {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"command: python -m bench.notices {' '.join(sys.argv[1:])}".rstrip())
    print(f"documents: {written} Công văn (.docx with 3 charts) for {len(country.rows)} communes "
          f"in {PROVINCES} provinces, {args.workers} worker processes")  # fmt: skip
    print(f"total: {wall:.1f} s")
    print(f"per document: {per_document:.1f} ms (wall total ÷ documents), "
          f"{per_document * args.workers:.1f} ms per document per worker")  # fmt: skip
    print(f"one process, first {sample} documents: {alone:.1f} ms per document "
          f"(of which charts {charts:.1f} ms)")  # fmt: skip
    print(f"one notice against an empty docxtpl render (CPU time, this process): {cpu:.1f} ms "
          f"against {floor:.1f} ms = {ratio:.1f}x (target <= {TARGET_RATIO:.0f}x); "
          f"peak memory {peak:.0f} MB")  # fmt: skip
    met = written == len(country.rows) and per_document < TARGET_MS
    print(f"target: under {TARGET_MS:.0f} ms per document: {'met' if met else 'NOT met'}")
    met = met and ratio <= TARGET_RATIO
    emit(
        Result(
            "one Công văn with its 3 charts (one process)",
            f"{cpu:.1f} ms CPU",
            f"an empty docxtpl render {floor:.1f} ms",
            ratio,
            f"<= {TARGET_RATIO:.0f} x",
            ratio <= TARGET_RATIO,
            peak,
            f"python -m bench.notices {' '.join(sys.argv[1:])}".rstrip(),
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
