"""Read the interchange table: one figure per row, from CSV, XLSX or JSON.

Columns (docs/formats.md): scheme, period, as_of, unit_code, unit_name,
parent_code, indicator, value, max, numerator, denominator, dossier.
scheme, period, unit_code, indicator and value are required; the others may
be absent or empty. Unknown columns are ignored.

Numbers are read the Vietnamese or the plain way, by the same rule for
every column, and must be finite and in range (`numbers.py`); an empty
cell means "not given". Codes (unit, parent, indicator, dossier) must be
identifiers and names at most 255 characters (`identifiers.py`); files,
rows and cells have size limits (`limits.py`).

Every problem in the file is collected before anything is returned: the
result is all rows or an InterchangeError listing each problem with its
place (`line N` in CSV, the header being line 1; `row N` in XLSX; `item N`,
1-based, in JSON). A row repeating (scheme, period, as_of, unit_code,
indicator) is an error naming both places, whether its figures differ or
are identical: a repeat is a copy-and-paste slip that might hide which
figure was meant, and an import is all-or-nothing. A file without a data
row is an error too ("nothing to import").

What the figures mean under their scheme (maxima, counts, dates) is
`service.sources.rules`'s to check.
"""

from __future__ import annotations

import contextlib
import re
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl.utils.exceptions import InvalidFileException

from service.scoring.changes import Period
from service.scoring.tt01 import LEVEL, STATUS
from service.sources import readers
from service.sources.header import REQUIRED
from service.sources.identifiers import code_problem, name_problem
from service.sources.limits import cell_too_long
from service.sources.numbers import in_range, number_from_token, parse_number
from service.sources.problems import InterchangeError, Problem, ProblemList, file_problem
from service.sources.readers import JsonNumber, Record

__all__ = ["InterchangeError", "InterchangeRow", "Problem", "read_interchange", "REQUIRED"]

COLUMNS = (
    "scheme", "period", "as_of", "unit_code", "unit_name", "parent_code",
    "indicator", "value", "max", "numerator", "denominator", "dossier",
)  # fmt: skip
REPORTED = frozenset({"TOTAL", "CONVERTED", "RANK", "CLASS", "DTB"})
TEXT_VALUED = frozenset({"CLASS", STATUS, LEVEL})  # tt01's STATUS and LEVEL say words
MAX_TEXT_VALUE = 64  # a CLASS name; the database holds 64 characters
_SCHEME = re.compile(r"766|tt01|provincial:[a-z0-9][a-z0-9-]*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIRST_YEAR = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\r\n ]+")


@dataclass(frozen=True, slots=True)
class InterchangeRow:
    """One validated figure. `value` is a number, text for CLASS, or None for
    "not applicable" (`-`); `max` None means no maximum or not applicable.
    `line` is the row's place in its file, `place` its kind ("line" in CSV,
    "row" in XLSX, "item" in JSON). Slotted: a million of them must fit."""

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
    line: int
    place: str = "line"
    dossier: str = ""  # tt01: the dossier a per-dossier criterion score belongs to

    @property
    def reported(self) -> bool:
        """A figure the table states about itself (TOTAL, CONVERTED, RANK, CLASS,
        DTB), to be checked, not trusted."""
        return self.indicator in REPORTED

    @property
    def location(self) -> str:
        """The row's place as a person says it: "line 7", "row 7", "item 7"."""
        return f"{self.place} {self.line}"

    @property
    def key(self) -> tuple[str, Period, date | None, str, str]:
        """What identifies a figure: no two rows of a table may share it."""
        indicator = f"{self.indicator}@{self.dossier}" if self.dossier else self.indicator
        return (self.scheme, self.period, self.as_of, self.unit_code, indicator)


def read_interchange(path: str | Path) -> list[InterchangeRow]:
    """All rows of a `.csv`, `.xlsx` or `.json` interchange file, in file order.

    Raises InterchangeError (never returns part of a file) for an unknown
    extension, an unreadable or over-large file, a missing required column,
    any invalid cell, a repeated figure, or no data row at all.
    """
    path = Path(path)
    if path.suffix.lower() not in readers.READERS:
        reason = f"unsupported file type {path.suffix!r}: expected .csv, .xlsx or .json"
        raise file_problem(path, reason)
    problems = ProblemList()
    reading = _RowReader(problems)
    try:
        rows = [row for record in readers.records(path) if (row := reading.row(record))]
    except InterchangeError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, InvalidFileException) as error:
        raise file_problem(path, _unreadable(path, error)) from error
    if not rows and not problems:
        raise file_problem(path, "nothing to import: the table has no data rows")
    problems.extend(_repeats(rows))
    if problems:
        raise InterchangeError(path, problems)
    return rows


class _RowReader:
    """Turns records into rows, sharing equal values between rows (a million
    rows name a few thousand units, periods and days)."""

    def __init__(self, problems: ProblemList) -> None:
        self.problems = problems
        self.periods: dict[str, Period] = {}
        self.maxima: dict[float, float] = {}

    def row(self, record: Record) -> InterchangeRow | None:
        """The record as a row, or None after adding its problems."""
        if record.flaw is not None:
            self.problems.append(Problem(record.location, None, record.flaw))
            return None
        cells = _Cells(record, self.problems)
        found = len(self.problems)
        scheme = cells.text("scheme", pattern=_SCHEME, expected="766, tt01 or provincial:<id>")
        period, as_of = self.period(cells), cells.as_of()
        unit_code, indicator = cells.code("unit_code"), cells.code("indicator")
        value = cells.value(indicator)
        maximum = cells.number("max")
        numerator, denominator = cells.number("numerator"), cells.number("denominator")
        unit_name, parent_code = cells.name("unit_name"), cells.code("parent_code", required=False)
        dossier = cells.code("dossier", required=False)
        if period is None or len(self.problems) > found:
            return None
        return InterchangeRow(
            scheme=sys.intern(scheme),
            period=period,
            as_of=as_of,
            unit_code=sys.intern(unit_code),
            unit_name=sys.intern(unit_name),
            parent_code=sys.intern(parent_code),
            indicator=sys.intern(indicator),
            value=value,
            max=maximum if maximum is None else self.maxima.setdefault(maximum, maximum),
            numerator=numerator,
            denominator=denominator,
            line=record.line,
            place=record.place,
            dossier=sys.intern(dossier),
        )

    def period(self, cells: _Cells) -> Period | None:
        if isinstance(cells.raw("period"), date):
            cells.problem("period", "is a date cell: write the period as text, e.g. 2024-03")
            return None
        text = cells.text("period")
        if not text or text in self.periods:
            return self.periods.get(text)
        try:
            period = Period.parse(text)
        except ValueError as error:
            cells.problem("period", str(error))
            return None
        if period.year < _FIRST_YEAR:
            cells.problem("period", f"{text} is before {_FIRST_YEAR}: not a period of the index")
            return None
        return self.periods.setdefault(text, period)


class _Cells:
    """Reads one record's cells, adding a Problem for each bad one."""

    def __init__(self, record: Record, problems: ProblemList) -> None:
        self.record = record
        self.problems = problems

    def problem(self, column: str, reason: str) -> None:
        self.problems.append(Problem(self.record.location, column, reason))

    def raw(self, column: str) -> object:
        """The cell as read; a list or an object (JSON) is no cell value."""
        value = self.record.cells.get(column)
        if isinstance(value, list | dict):
            self.problem(column, f"is {'a list' if isinstance(value, list) else 'an object'}, "
                         "not a single value")  # fmt: skip
            return None
        return value

    def text(
        self,
        column: str,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        expected: str = "",
    ) -> str:
        text = _text(self.raw(column))
        wrong = cell_too_long(text) or _not_unicode(text)
        if wrong:
            self.problem(column, wrong)
            return ""
        if required and not text:
            self.problem(column, "is required")
        elif text and pattern is not None and not pattern.fullmatch(text):
            self.problem(column, f'"{text}" is not a known form (expected {expected})')
        return text

    def code(self, column: str, required: bool = True) -> str:
        """An identifier (see identifiers.py), or "" after a problem."""
        text = self.text(column, required)
        wrong = code_problem(text) if text else None
        if wrong:
            self.problem(column, f"is not a code: {wrong}")
            return ""
        return text

    def name(self, column: str) -> str:
        """Free text; line breaks and tabs inside a cell (Alt+Enter in Excel) read as spaces."""
        text = _LINE_BREAKS.sub(" ", self.text(column, required=False))
        wrong = name_problem(text)
        if wrong:
            self.problem(column, wrong)
            return ""
        return text

    def as_of(self) -> date | None:
        raw = self.raw("as_of")
        if isinstance(raw, date):
            return raw.date() if isinstance(raw, datetime) else raw
        text = self.text("as_of", required=False)
        if not text:
            return None
        if _ISO_DATE.fullmatch(text):
            with contextlib.suppress(ValueError):  # 2024-09-31 has the form but is no date
                return date.fromisoformat(text)
        self.problem("as_of", f'"{text}" is not a real date written YYYY-MM-DD')
        return None

    def value(self, indicator: str) -> float | str | None:
        if indicator in TEXT_VALUED:
            text = self.name("value")
            if len(text) > MAX_TEXT_VALUE:
                self.problem("value", f"has {len(text)} characters, more than {MAX_TEXT_VALUE}")
            elif not text:
                self.problem("value", "is required")
            return text
        if not _text(self.raw("value")):
            self.problem("value", "is required (write - for not applicable)")
            return None
        value = self.number("value")
        if indicator == "RANK" and value is not None and (value < 1 or value != int(value)):
            self.problem("value", f"rank {_text(value)} is not a position (1, 2, 3 …)")
        return value

    def number(self, column: str) -> float | None:
        raw = self.raw(column)
        try:
            number = _number(raw)
        except ValueError as error:
            self.problem(column, str(error))
            return None
        if number is not None and number < 0 and column != "value":
            self.problem(column, f"{_text(number)} is negative")
        return number


def _number(raw: object) -> float | None:
    """A cell as a number (see numbers.py); None if empty or `-`; ValueError if not one."""
    if isinstance(raw, JsonNumber):
        return number_from_token(raw)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return in_range(raw)
    if isinstance(raw, date):
        raise ValueError(f"is a date cell ({_text(raw)}), not a number")
    text = _text(raw)
    return parse_number(text) if text else None


def _not_unicode(text: str) -> str | None:
    """Why `text` cannot be stored or printed (a lone surrogate, as JSON's "\\ud800"), or None."""
    if _SURROGATE.search(text):
        return "is not valid Unicode text (a lone surrogate)"
    return None


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


def _repeats(rows: Iterable[InterchangeRow]) -> list[Problem]:
    """A problem for each row whose key an earlier row already has, in file order.

    Rows are compared within their unit, so the memory this takes is one unit's
    keys at a time, not the whole file's."""
    units: dict[tuple[str, Period, str], list[InterchangeRow]] = defaultdict(list)
    for row in rows:
        units[(row.scheme, row.period, row.unit_code)].append(row)
    found: list[tuple[int, Problem]] = []
    for unit_rows in units.values():
        first: dict[tuple[str, Period, date | None, str, str], InterchangeRow] = {}
        for row in unit_rows:
            seen = first.setdefault(row.key, row)
            if seen is not row:
                found.append((row.line, Problem(row.location, None, _repeat_reason(row, seen))))
    return [problem for _, problem in sorted(found, key=lambda pair: pair[0])]


def _repeat_reason(row: InterchangeRow, seen: InterchangeRow) -> str:
    differences = [
        f"{field} {_shown(getattr(row, field))} here, {_shown(getattr(seen, field))} there"
        for field in ("value", "max", "numerator", "denominator")
        if getattr(row, field) != getattr(seen, field)
    ]
    dossier = f" of dossier {row.dossier}" if row.dossier else ""
    what = f"{row.indicator}{dossier} of {row.unit_code} ({row.scheme}, {row.period})"
    if differences:
        return f"{what} repeats {seen.location} with different figures: {'; '.join(differences)}"
    return f"{what} repeats {seen.location} (the same figures): keep one row"


def _shown(value: object) -> str:
    return "-" if value is None else _text(value)


def _unreadable(path: Path, error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text (save the table as UTF-8)"
    if isinstance(error, OSError):
        return f"cannot read the file: {error.strerror or error}"
    kind = {".json": "JSON", ".xlsx": "Excel workbook"}.get(path.suffix.lower(), "table")
    return f"not a readable {kind}: {_first_line(error)}"


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 200 else f"{text[:200]}…"
