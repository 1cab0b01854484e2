"""`dvcwatch import`: an interchange table into snapshots, all or nothing.

The file is read and checked whole (`service.sources.interchange` for the
cells, this module for what they mean under their scheme); any problem
rejects the file with every problem listed by line, and nothing is stored.
A good file is stored in one transaction, as source `import`: re-importing
the same file writes nothing, a changed figure becomes a revision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from service.figures import AXES, COUNT_CODES, FigureValue, UnitRecord
from service.models import FigureKind, UnitGroup
from service.scoring.book import SchemeBook
from service.scoring.tt01 import CRITERIA, average_dossiers
from service.snapshots import SnapshotKey, store_snapshots
from service.sources.interchange import InterchangeError, InterchangeRow, Problem, read_interchange

SOURCE = "import"
NOT_APPLICABLE = "NOT_APPLICABLE"
DOSSIERS = "DOSSIERS"  # tt01: how many dossiers were scored; 0 = "Không phát sinh TTHC"
_NATIONAL_COUNTS = set(COUNT_CODES.values())


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    units: int
    written: int
    unchanged: int
    revised: int
    tables: tuple[tuple[str, str], ...]  # (scheme, period) pairs the file held


def import_file(
    sessions: sessionmaker[Session], path: Path, book: SchemeBook, only_scheme: str | None = None
) -> ImportSummary:
    """Check and store one file; raises InterchangeError (nothing stored) on any problem."""
    rows = read_interchange(path)
    problems = check_rows(rows, book, only_scheme)
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


def check_rows(
    rows: Sequence[InterchangeRow], book: SchemeBook, only_scheme: str | None
) -> list[Problem]:
    """What the rows mean under their scheme: known codes, maxima, nothing missing."""
    problems = []
    for row in rows:
        if only_scheme and row.scheme != only_scheme:
            problems.append(
                _problem(row, "scheme", f"{row.scheme!r} is not --scheme {only_scheme!r}")
            )
        else:
            problems.extend(_row_problems(row, book))
    if not problems:
        problems.extend(_missing_indicators(rows, book))
    return problems


def _row_problems(row: InterchangeRow, book: SchemeBook) -> list[Problem]:
    if row.dossier and (row.scheme != "tt01" or row.indicator not in CRITERIA):
        reason = "only the tt01 criteria TC1-TC9 are scored per dossier"
        return [_problem(row, "dossier", reason)]
    if row.dossier and not isinstance(row.value, float):
        return [_problem(row, "value", f"dossier {row.dossier} needs a score 0-2, not '-'")]
    if row.reported or row.indicator == DOSSIERS:
        return []
    if row.scheme == "766":
        maximum = AXES.get(row.indicator)
        return _above(row, maximum) if maximum is not None else []
    expected = book.indicator_max(row.scheme)
    if expected is None:
        return [_problem(row, "scheme", book.unknown(row.scheme))]
    if row.indicator not in expected:
        known = ", ".join(expected)
        reason = f"{row.indicator!r} is not an indicator of {row.scheme} ({known})"
        return [_problem(row, "indicator", reason)]
    maximum = expected[row.indicator]
    if row.value is not None and row.max is not None and row.max != maximum:
        return [_problem(row, "max", f"{row.max:g} is not {row.indicator}'s maximum {maximum:g}")]
    return _above(row, maximum)


def _above(row: InterchangeRow, maximum: float) -> list[Problem]:
    if isinstance(row.value, float) and not 0 <= row.value <= maximum:
        reason = f"{row.value:g} is outside 0-{maximum:g}, the range of {row.indicator}"
        return [_problem(row, "value", reason)]
    return []


def _missing_indicators(rows: Sequence[InterchangeRow], book: SchemeBook) -> list[Problem]:
    """Every unit of a provincial or tt01 table needs a row per indicator ('-' if n/a)."""
    units: dict[tuple[str, str, str], list[InterchangeRow]] = defaultdict(list)
    for row in rows:
        units[(row.scheme, str(row.period), row.unit_code)].append(row)
    problems = []
    for (scheme, _period, unit_code), unit_rows in units.items():
        if any(row.dossier for row in unit_rows):
            problems.extend(_incomplete_dossiers(unit_code, unit_rows))
            continue
        present = {row.indicator for row in unit_rows}
        if scheme == "tt01" and any(r.indicator == DOSSIERS and r.value == 0 for r in unit_rows):
            continue
        needed = list(CRITERIA) if scheme == "tt01" else list(book.indicator_max(scheme) or {})
        missing = [code for code in needed if code not in present]
        if missing:
            reason = (
                f"unit {unit_code} has no row for {', '.join(missing)} "
                "(write '-' for not applicable)"
            )
            problems.append(_problem(unit_rows[0], "indicator", reason))
    return problems


def _incomplete_dossiers(unit_code: str, rows: Sequence[InterchangeRow]) -> list[Problem]:
    """A unit scored per dossier: every dossier scores all nine criteria, and the unit
    has no unit-level criterion rows besides (which of the two would be meant?)."""
    problems = []
    unit_level = [row for row in rows if row.indicator in CRITERIA and not row.dossier]
    if unit_level:
        reason = f"unit {unit_code} has both per-dossier and unit-level criteria"
        problems.append(_problem(unit_level[0], "dossier", reason))
    for dossier, dossier_rows in _by_dossier(rows).items():
        missing = [c for c in CRITERIA if c not in {r.indicator for r in dossier_rows}]
        if missing:
            reason = f"dossier {dossier} of {unit_code} has no row for {', '.join(missing)}"
            problems.append(_problem(dossier_rows[0], "indicator", reason))
    return problems


def _by_dossier(rows: Sequence[InterchangeRow]) -> dict[str, list[InterchangeRow]]:
    dossiers: dict[str, list[InterchangeRow]] = defaultdict(list)
    for row in rows:
        if row.dossier:
            dossiers[row.dossier].append(row)
    return dossiers


def _problem(row: InterchangeRow, column: str, reason: str) -> Problem:
    return Problem(row.location, column, reason)


def _batches(
    rows: Iterable[InterchangeRow],
) -> list[tuple[SnapshotKey, UnitRecord, list[UnitRecord]]]:
    """Rows grouped into (snapshot key, parent, unit records) batches."""
    grouped: dict[tuple[str, str, str], dict[str, list[InterchangeRow]]] = defaultdict(dict)
    keys: dict[tuple[str, str, str], SnapshotKey] = {}
    for row in rows:
        batch = (row.scheme, str(row.period), row.as_of.isoformat() if row.as_of else "")
        group = (*batch[:2], f"{batch[2]}|{row.parent_code}")
        grouped[group].setdefault(row.unit_code, []).append(row)
        as_of = row.as_of or row.period.last_day
        completeness = "running" if row.as_of else "final"
        keys[group] = SnapshotKey(SOURCE, row.scheme, str(row.period), as_of, completeness)
    batches = []
    for group, units in grouped.items():
        parent_code = group[2].split("|", 1)[1]
        parent = UnitRecord(None, parent_code, parent_code, UnitGroup.UNKNOWN)
        records = [_record(code, unit_rows) for code, unit_rows in units.items()]
        batches.append((keys[group], parent, records))
    return batches


def _record(unit_code: str, rows: Sequence[InterchangeRow]) -> UnitRecord:
    name = next((row.unit_name for row in rows if row.unit_name), unit_code)
    figures = tuple(_figure(row) for row in rows if not row.dossier)
    dossiers = _by_dossier(rows)
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
    if row.scheme == "766":
        if row.indicator == "TOTAL":
            return FigureKind.TOTAL
        if row.indicator in AXES:
            return FigureKind.AXIS
        if row.indicator in _NATIONAL_COUNTS:
            return FigureKind.COUNT
    if row.reported:
        return FigureKind.REPORTED
    return FigureKind.COUNT if row.indicator == DOSSIERS else FigureKind.INDICATOR
