"""`dvcwatch import`: an interchange table into snapshots, all or nothing.

The file is read and checked whole before anything is written
(`service.sources.interchange` for the cells, `service.sources.rules` for
what they mean under their scheme); any problem rejects the file with every
problem listed by place, and nothing is stored. A good file is stored in one
transaction, as source `import`: re-importing the same file writes nothing,
a changed figure becomes a revision. The rows are written a few hundred
units at a time inside that transaction, so that a million rows never
become a million ORM objects at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from service.figures import AXES, COUNT_CODES, FigureValue, UnitRecord
from service.indicators import NATIONAL
from service.models import FigureKind, UnitGroup
from service.scoring.book import SchemeBook
from service.scoring.tt01 import CRITERIA, average_dossiers
from service.snapshots import SnapshotKey, store_snapshots
from service.sources.bounds import DOSSIERS
from service.sources.interchange import InterchangeError, InterchangeRow, read_interchange
from service.sources.rules import by_dossier, check_rows

SOURCE = "import"
NOT_APPLICABLE = "NOT_APPLICABLE"
_NATIONAL_COUNTS = set(COUNT_CODES.values())
_UNITS_PER_WRITE = 500


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    units: int
    written: int
    unchanged: int
    revised: int
    tables: tuple[tuple[str, str], ...]  # (scheme, period) pairs the file held


def import_file(
    sessions: sessionmaker[Session],
    path: Path,
    book: SchemeBook,
    only_scheme: str | None,
    today: date,
) -> ImportSummary:
    """Check and store one file; raises InterchangeError (nothing stored) on any problem.
    `today` is the local date: figures read after it (`as_of`) are refused."""
    rows = read_interchange(path)
    problems = check_rows(rows, book, only_scheme, today)
    if problems:
        raise InterchangeError(path, problems)
    written = unchanged = revised = 0
    with sessions.begin() as session:
        for key, parent, records in _batches(rows):
            result = store_snapshots(session, key, records, parent)
            written, unchanged = written + result.written, unchanged + result.unchanged
            revised += result.revised
    tables = tuple(sorted({(r.scheme, str(r.period)) for r in rows}))
    units = len({(r.scheme, r.unit_code) for r in rows})
    return ImportSummary(len(rows), units, written, unchanged, revised, tables)


_Batch = tuple[SnapshotKey, UnitRecord | None, list[UnitRecord]]


def _batches(rows: Iterable[InterchangeRow]) -> Iterator[_Batch]:
    """(snapshot key, parent, unit records) batches of at most _UNITS_PER_WRITE units;
    a unit without a parent code has no parent (never a nameless one)."""
    grouped: dict[tuple[str, str, date | None, str], dict[str, list[InterchangeRow]]]
    grouped = defaultdict(dict)
    for row in rows:
        group = (row.scheme, str(row.period), row.as_of, row.parent_code)
        grouped[group].setdefault(row.unit_code, []).append(row)
    for (scheme, period, as_of, parent_code), units in grouped.items():
        completeness = "running" if as_of else "final"
        first_row = next(iter(units.values()))[0]
        key = SnapshotKey(SOURCE, scheme, period, as_of or first_row.period.last_day, completeness)
        parent = _parent(parent_code)
        codes = list(units)
        for start in range(0, len(codes), _UNITS_PER_WRITE):
            chunk = codes[start : start + _UNITS_PER_WRITE]
            yield key, parent, [_record(code, units[code]) for code in chunk]


def _parent(code: str) -> UnitRecord | None:
    return UnitRecord(None, code, code, UnitGroup.UNKNOWN) if code else None


def _record(unit_code: str, rows: Sequence[InterchangeRow]) -> UnitRecord:
    name = next((row.unit_name for row in rows if row.unit_name), unit_code)
    figures = tuple(_figure(row) for row in rows if not row.dossier)
    dossiers = by_dossier(rows)
    if dossiers:
        figures += _dossier_averages(dossiers, has_count=any(r.indicator == DOSSIERS for r in rows))
    return UnitRecord(None, unit_code, name, UnitGroup.UNKNOWN, figures)


def _dossier_averages(
    dossiers: dict[str, list[InterchangeRow]], has_count: bool
) -> tuple[FigureValue, ...]:
    """Per-dossier criterion scores → the unit's averages (2 decimals), and the count."""
    scores = [{r.indicator: float(r.value or 0) for r in rows} for rows in dossiers.values()]
    averages = average_dossiers(scores)
    figures = tuple(
        FigureValue(code, FigureKind.INDICATOR, averages[code], 2.0) for code in CRITERIA
    )
    if not has_count:
        figures += (FigureValue(DOSSIERS, FigureKind.COUNT, float(len(dossiers))),)
    return figures


def _figure(row: InterchangeRow) -> FigureValue:
    text = row.value if isinstance(row.value, str) else None
    value = row.value if isinstance(row.value, float) else None
    status = NOT_APPLICABLE if row.value is None else None
    return FigureValue(
        code=row.indicator,
        kind=_kind(row),
        value=value,
        max_value=row.max,
        numerator=row.numerator,
        denominator=row.denominator,
        text_value=text,
        quality_status=status,
    )


def _kind(row: InterchangeRow) -> str:
    if row.scheme == NATIONAL:
        if row.indicator == "TOTAL":
            return FigureKind.TOTAL
        if row.indicator in AXES:
            return FigureKind.AXIS
        if row.indicator in _NATIONAL_COUNTS:
            return FigureKind.COUNT
    if row.reported:
        return FigureKind.REPORTED
    return FigureKind.COUNT if row.indicator == DOSSIERS else FigureKind.INDICATOR
