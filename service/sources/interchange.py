"""Read the interchange table: one figure per row, from CSV, XLSX or JSON.

Columns (docs/architecture.md): scheme, period, as_of, unit_code,
unit_name, parent_code, indicator, value, max, numerator, denominator.
scheme, period, unit_code, indicator and value are required; the others may
be absent or empty. Unknown columns are ignored.

Numbers are read the Vietnamese or the plain way, by the same rule for
every column (`numbers.py`); an empty cell means "not given".

Every problem in the file is collected before anything is returned: the
result is all rows or an InterchangeError listing each problem with its
place (`line N` in CSV, the header being line 1; `row N` in XLSX; `item N`,
1-based, in JSON). A row repeating (scheme, period, as_of, unit_code,
indicator) is an error naming both places, whether its figures differ or
are identical: a repeat is a copy-and-paste slip that might hide which
figure was meant, and an import is all-or-nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from service.scoring.changes import Period
from service.sources.numbers import parse_number

COLUMNS = (
    "scheme", "period", "as_of", "unit_code", "unit_name", "parent_code",
    "indicator", "value", "max", "numerator", "denominator", "dossier",
)  # fmt: skip
REQUIRED = ("scheme", "period", "unit_code", "indicator", "value")
REPORTED = frozenset({"TOTAL", "CONVERTED", "RANK", "CLASS", "DTB"})
TEXT_VALUED = frozenset({"CLASS"})
_SCHEME = re.compile(r"766|tt01|provincial:[a-z0-9][a-z0-9-]*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class InterchangeRow:
    """One validated figure. `value` is a number, text for CLASS, or None for
    "not applicable" (`-`); `max` None means no maximum or not applicable.
    `reported` marks figures a table states about itself (TOTAL, CONVERTED,
    RANK, CLASS, DTB), to be checked, not trusted. `line` is the row's
    place in its file and `location` says it as a person would
    ("line 7", "row 7", "item 7")."""

    scheme: str
    period: Period
    as_of: date | None
    unit_code: str
    unit_name: str
    parent_code: str
    indicator: str
    value: float | str | None
    max: float | None
    numerator: float | None
    denominator: float | None
    reported: bool
    line: int
    location: str
    dossier: str = ""  # tt01: the dossier a per-dossier criterion score belongs to

    @property
    def key(self) -> tuple[str, Period, date | None, str, str]:
        """What identifies a figure: no two rows of a table may share it."""
        indicator = f"{self.indicator}@{self.dossier}" if self.dossier else self.indicator
        return (self.scheme, self.period, self.as_of, self.unit_code, indicator)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, where it is and why."""

    location: str | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [part for part in (self.location, self.column and f"column {self.column}") if part]
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class InterchangeError(ValueError):
    """The file could not be read; `problems` lists every reason found."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.path}: {problem}" for problem in self.problems)


@dataclass(frozen=True)
class _Record:
    """A row as its file holds it; `flaw` says why it is not a row at all."""

    line: int
    location: str
    cells: Mapping[str, object]
    flaw: str | None = None


def read_interchange(path: str | Path) -> list[InterchangeRow]:
    """All rows of a `.csv`, `.xlsx` or `.json` interchange file, in file order.

    Raises InterchangeError (never returns part of a file) for an unknown
    extension, an unreadable file, a missing required column, any invalid
    cell, or a repeated figure.
    """
    path = Path(path)
    readers = {".csv": _csv_records, ".xlsx": _xlsx_records, ".json": _json_records}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        reason = f"unsupported file type {path.suffix!r}: expected .csv, .xlsx or .json"
        raise InterchangeError(path, [Problem(None, None, reason)])
    try:
        records = list(reader(path))
    except InterchangeError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, InvalidFileException) as error:
        raise InterchangeError(path, [Problem(None, None, _unreadable(path, error))]) from error
    problems: list[Problem] = []
    rows = [row for record in records if (row := _row(record, problems)) is not None]
    problems.extend(_repeats(rows))
    if problems:
        raise InterchangeError(path, problems)
    return rows


def _csv_records(path: Path) -> Iterator[_Record]:
    text = path.read_text(encoding="utf-8-sig")
    first_line = text.split("\n", 1)[0]
    delimiter = next((mark for mark in (",", ";", "\t") if mark in first_line), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = _header(next(reader, []), path)
    while True:
        line = reader.line_num + 1  # the record's first line, even if a quoted cell spans more
        cells = next(reader, None)
        if cells is None:
            return
        if any(cell.strip() for cell in cells):
            yield _table_record(line, f"line {line}", header, cells)


def _xlsx_records(path: Path) -> Iterator[_Record]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = _header(next(rows, ()), path)
        for number, values in enumerate(rows, start=2):
            if any(_text(value) for value in values):
                yield _table_record(number, f"row {number}", header, values)
    finally:
        workbook.close()


def _json_records(path: Path) -> Iterator[_Record]:
    items = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(items, list):
        raise ValueError("expected a JSON list of objects")
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            cells = {str(key).strip().lower(): value for key, value in item.items()}
            yield _Record(number, f"item {number}", cells)
        else:
            yield _Record(number, f"item {number}", {}, f"is {type(item).__name__}, not an object")


def _table_record(line: int, location: str, header: list[str], cells: Sequence[object]) -> _Record:
    """A CSV or sheet row under its header; cells beyond the header are a flaw."""
    surplus = any(_text(cell) for cell in cells[len(header) :])
    flaw = f"has {len(cells)} cells but the header names {len(header)} columns"
    return _Record(
        line, location, dict(zip(header, cells, strict=False)), flaw if surplus else None
    )


def _header(cells: Sequence[object], path: Path) -> list[str]:
    """The header's column names; missing required columns raise at once,
    since no row can be read without them."""
    header = [_text(cell).lower() for cell in cells]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        reason = "required column is missing (the first row must name the columns)"
        raise InterchangeError(path, [Problem(None, column, reason) for column in missing])
    return header


def _row(record: _Record, problems: list[Problem]) -> InterchangeRow | None:
    """The record as a row, or None after adding its problems to `problems`."""
    if record.flaw is not None:
        problems.append(Problem(record.location, None, record.flaw))
        return None
    cells = _Cells(record, problems)
    found = len(problems)
    scheme = cells.text("scheme", pattern=_SCHEME, expected="766, tt01 or provincial:<id>")
    period, as_of = cells.period(), cells.as_of()
    unit_code, indicator = cells.text("unit_code"), cells.text("indicator")
    value = cells.value(indicator)
    maximum = cells.number("max")
    numerator, denominator = cells.number("numerator"), cells.number("denominator")
    if period is None or len(problems) > found:
        return None
    return InterchangeRow(
        scheme=scheme,
        period=period,
        as_of=as_of,
        unit_code=unit_code,
        unit_name=cells.text("unit_name", required=False),
        parent_code=cells.text("parent_code", required=False),
        indicator=indicator,
        value=value,
        max=maximum,
        numerator=numerator,
        denominator=denominator,
        reported=indicator in REPORTED,
        line=record.line,
        location=record.location,
        dossier=cells.text("dossier", required=False),
    )


class _Cells:
    """Reads one record's cells, adding a Problem for each bad one."""

    def __init__(self, record: _Record, problems: list[Problem]) -> None:
        self.record = record
        self.problems = problems

    def problem(self, column: str, reason: str) -> None:
        self.problems.append(Problem(self.record.location, column, reason))

    def text(
        self,
        column: str,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        expected: str = "",
    ) -> str:
        text = _text(self.record.cells.get(column))
        if required and not text:
            self.problem(column, "is required")
        elif text and pattern is not None and not pattern.fullmatch(text):
            self.problem(column, f'"{text}" is not a known form (expected {expected})')
        return text

    def period(self) -> Period | None:
        raw = self.record.cells.get("period")
        if isinstance(raw, date):
            self.problem("period", "is a date cell: write the period as text, e.g. 2024-03")
            return None
        text = self.text("period")
        try:
            return Period.parse(text) if text else None
        except ValueError as error:
            self.problem("period", str(error))
            return None

    def as_of(self) -> date | None:
        raw = self.record.cells.get("as_of")
        if isinstance(raw, date):
            return raw.date() if isinstance(raw, datetime) else raw
        text = _text(raw)
        if not text:
            return None
        if _ISO_DATE.fullmatch(text):
            with contextlib.suppress(ValueError):  # 2024-09-31 has the form but is no date
                return date.fromisoformat(text)
        self.problem("as_of", f'"{text}" is not a real date written YYYY-MM-DD')
        return None

    def value(self, indicator: str) -> float | str | None:
        if indicator in TEXT_VALUED:
            return self.text("value")
        if not _text(self.record.cells.get("value")):
            self.problem("value", "is required (write - for not applicable)")
            return None
        value = self.number("value")
        if indicator == "RANK" and value is not None and (value < 1 or value != int(value)):
            self.problem("value", f"rank {_text(value)} is not a position (1, 2, 3 …)")
        return value

    def number(self, column: str) -> float | None:
        raw = self.record.cells.get(column)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            number: float | None = float(raw)
        else:
            text = _text(raw)
            if not text:
                return None
            try:
                number = parse_number(text)
            except ValueError as error:
                self.problem(column, str(error))
                return None
        if number is not None and number < 0 and column != "value":
            self.problem(column, f"{_text(number)} is negative")
        return number


def _text(raw: object) -> str:
    """A cell as text: numbers without a spurious `.0`, dates in ISO form."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw).strip()


def _repeats(rows: list[InterchangeRow]) -> list[Problem]:
    """A problem for each row whose key an earlier row already has."""
    first: dict[tuple[str, Period, date | None, str, str], InterchangeRow] = {}
    problems: list[Problem] = []
    for row in rows:
        seen = first.setdefault(row.key, row)
        if seen is row:
            continue
        differences = [
            f"{field} {_shown(getattr(row, field))} here, {_shown(getattr(seen, field))} there"
            for field in ("value", "max", "numerator", "denominator")
            if getattr(row, field) != getattr(seen, field)
        ]
        dossier = f" of dossier {row.dossier}" if row.dossier else ""
        what = f"{row.indicator}{dossier} of {row.unit_code} ({row.scheme}, {row.period})"
        reason = (
            f"{what} repeats {seen.location} with different figures: {'; '.join(differences)}"
            if differences
            else f"{what} repeats {seen.location} (the same figures): keep one row"
        )
        problems.append(Problem(row.location, None, reason))
    return problems


def _shown(value: object) -> str:
    return "-" if value is None else _text(value)


def _unreadable(path: Path, error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text (save the table as CSV UTF-8)"
    if isinstance(error, OSError):
        return f"cannot read the file: {error.strerror or error}"
    kind = {".json": "JSON", ".xlsx": "Excel workbook"}.get(path.suffix.lower(), "table")
    return f"not a readable {kind}: {error}"
