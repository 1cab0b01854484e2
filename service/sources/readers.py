"""The three forms of the interchange table, read as a stream of records.

`records(path)` yields one `Record` per non-empty data row, in file order,
holding its cells under the header's (lower-cased) column names. Nothing
is interpreted here: that is `interchange.py`'s. What is checked here is
the file's shape and size (`limits.py`) and its header (`header.py`): a structure, encoding or size
problem raises InterchangeError at once, naming the place where it was
found, because nothing after it can be trusted; a row that is merely
malformed (surplus cells, a JSON item that is not an object, repeated
keys) becomes a record with a `flaw`, so that every such row is listed.

CSV is read line by line (never the whole file), XLSX through openpyxl's
read-only streaming, JSON whole (its size limit is smaller accordingly).
"""

from __future__ import annotations

import csv
import itertools
import json
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from service.sources import limits
from service.sources.header import column_names
from service.sources.problems import InterchangeError, Problem, file_problem


@dataclass(frozen=True, slots=True)
class Record:
    """A row as its file holds it; `flaw` says why it is not a row at all."""

    line: int
    place: str  # "line" (CSV), "row" (XLSX) or "item" (JSON)
    cells: Mapping[str, object]
    flaw: str | None = None

    @property
    def location(self) -> str:
        return f"{self.place} {self.line}"


class JsonNumber(str):
    """A JSON number as written (`17.5`, `1e400`, `NaN`): read later, where its
    place is known, so that an out-of-range number is named like any bad cell."""

    __slots__ = ()


def csv_records(path: Path) -> Iterator[Record]:
    with path.open("rb") as handle:
        lines = _bounded_lines(handle, path)
        first = next(lines, "")
        delimiter = next((mark for mark in (",", ";", "\t") if mark in first), ",")
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
        header = column_names(_next_csv(reader, path, 1) or [], path, "line")
        count = 0
        while True:
            line = reader.line_num + 1  # the record's first line, even if a quoted cell spans more
            cells = _next_csv(reader, path, line)
            if cells is None:
                return
            if any(cell.strip() for cell in cells):
                count = _counted(count, path, f"line {line}")
                yield _table_record(line, "line", header, cells)


def _bounded_lines(handle: BinaryIO, path: Path) -> Iterator[str]:
    """The file's lines as text, refusing one longer than MAX_LINE_CHARS before it
    is held whole, and naming the line that is not UTF-8 (a BOM is skipped)."""
    for number in itertools.count(1):
        raw = handle.readline(limits.MAX_LINE_CHARS + 1)
        if not raw:
            return
        if len(raw) > limits.MAX_LINE_CHARS:
            reason = f"is longer than {limits.MAX_LINE_CHARS} bytes"
            raise InterchangeError(path, [Problem(f"line {number}", None, reason)])
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            reason = "not UTF-8 text (save the table as CSV UTF-8)"
            raise InterchangeError(path, [Problem(f"line {number}", None, reason)]) from None


def _next_csv(reader: Iterator[list[str]], path: Path, line: int) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as error:
        reason = f"not a readable CSV row: {error}"
        raise InterchangeError(path, [Problem(f"line {line}", None, reason)]) from None


def xlsx_records(path: Path) -> Iterator[Record]:
    limits.check_workbook(path)
    load = partial(openpyxl.load_workbook, path, read_only=True, data_only=True)
    workbook = _from_openpyxl(path, None, load)
    try:
        if not workbook.worksheets:
            raise file_problem(path, "has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # type: ignore[union-attr]  # a declared size may lie
        # One column past the limit: a filled cell there is named, not silently dropped.
        rows = _sheet_rows(path, sheet.iter_rows(values_only=True, max_col=limits.MAX_COLUMNS + 1))
        header = column_names(next(rows, ()), path, "row")
        for number, values in enumerate(rows, start=2):
            # Every row counts, empty ones too: a sheet may number its one row 10⁹.
            _counted(number - 2, path, f"row {number}")
            if values.count(None) < len(values) and any(_filled(value) for value in values):
                yield _table_record(number, "row", header, values)
    finally:
        workbook.close()


def _sheet_rows(path: Path, rows: Iterator[tuple[object, ...]]) -> Iterator[tuple[object, ...]]:
    """The sheet's rows, from row 1 (an empty row is one of Nones), each read through
    `_from_openpyxl` at its place."""
    for number in itertools.count(1):
        row = _from_openpyxl(path, f"row {number}", partial(next, rows, None))
        if row is None:
            return
        yield row


_T = TypeVar("_T")
_WORKBOOK_ERRORS = (
    KeyError, IndexError, TypeError, AttributeError, SyntaxError, EOFError, ValueError,
    zlib.error, zipfile.BadZipFile, InvalidFileException,
)  # fmt: skip


def _from_openpyxl(path: Path, place: str | None, call: Callable[[], _T]) -> _T:
    """`call()`, a call into openpyxl, with its warnings ignored and its failures said as
    the workbook's, at `place`. openpyxl warns on stderr about what it drops or cannot
    place (defined names of a missing sheet, an extension, a date cell out of range, which
    it reads as an error value): no message for the operator, and a cell it concerns is
    checked like any other. A malformed part fails with whatever its parser raised. Only
    openpyxl's calls are caught so: an error of dvcwatch's own is never taken for a
    damaged file, and warnings are never ignored across a `yield`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except _WORKBOOK_ERRORS as error:
        reason = f"not a readable Excel workbook: {_first_line(error)}"
        raise InterchangeError(path, [Problem(place, None, reason)]) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= 200 else f"{line[:200]}…"


def json_records(path: Path) -> Iterator[Record]:
    items = _json_document(path)
    if not isinstance(items, list):
        raise file_problem(path, "not a readable JSON table: expected a JSON list of objects")
    for number, item in enumerate(items, start=1):
        _counted(number - 1, path, f"item {number}")
        if isinstance(item, dict):
            cells = {str(key).strip().lower(): value for key, value in item.items()}
            repeated = _repeated_keys(item)
            flaw = f"repeats the key(s) {', '.join(repeated)}" if repeated else None
            yield Record(number, "item", cells, flaw)
        else:
            yield Record(number, "item", {}, f"is {_json_type(item)}, not an object")


def _json_document(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        reason = "not UTF-8 text (save the table as UTF-8)"
        raise InterchangeError(path, [Problem(f"byte {error.start + 1}", None, reason)]) from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_JsonObject.from_pairs,
            parse_int=JsonNumber,
            parse_float=JsonNumber,
            parse_constant=JsonNumber,
        )
    except RecursionError:
        reason = "not a readable JSON table: arrays or objects nest too deeply"
        raise file_problem(path, reason) from None
    except json.JSONDecodeError as error:
        raise file_problem(path, f"not a readable JSON table: {error}") from None


class _JsonObject(dict[str, object]):
    """A JSON object that remembers the keys it had more than once."""

    repeated: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, object]]) -> _JsonObject:
        made = cls(pairs)
        names = [key.strip().lower() for key, _ in pairs]
        if len(set(names)) < len(names):
            made.repeated = tuple(dict.fromkeys(n for n in names if names.count(n) > 1))
        return made


def _repeated_keys(item: dict[str, object]) -> tuple[str, ...]:
    return item.repeated if isinstance(item, _JsonObject) else ()


def _json_type(item: object) -> str:
    return "a number" if isinstance(item, JsonNumber) else type(item).__name__


def _counted(count: int, path: Path, place: str) -> int:
    """`count` + 1, or InterchangeError once the table has more than MAX_ROWS rows."""
    if count >= limits.MAX_ROWS:
        reason = f"more than {limits.MAX_ROWS} rows: split the table"
        raise InterchangeError(path, [Problem(place, None, reason)])
    return count + 1


def _table_record(line: int, place: str, header: list[str], cells: Sequence[object]) -> Record:
    """A CSV or sheet row under its header; a filled cell beyond the header is a flaw
    (in a sheet, the first such cell is named as Excel names it)."""
    surplus = next((n for n in range(len(header), len(cells)) if _filled(cells[n])), None)
    flaw = None
    if surplus is not None and place == "row":
        cell = f"{get_column_letter(surplus + 1)}{line}"
        flaw = f"cell {cell} is outside the table's {len(header)} columns"
    elif surplus is not None:
        flaw = f"has {len(cells)} cells but the header names {len(header)} columns"
    return Record(line, place, dict(zip(header, cells, strict=False)), flaw)


def _filled(cell: object) -> bool:
    return cell is not None and str(cell).strip() != ""


READERS = {".csv": csv_records, ".xlsx": xlsx_records, ".json": json_records}


def records(path: Path) -> Iterable[Record]:
    """The records of a `.csv`, `.xlsx` or `.json` file (see the module docstring)."""
    limits.check_file(path)
    _check_form(path)
    return READERS[path.suffix.lower()](path)


_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip's directory
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003, and any password-protected workbook


def _check_form(path: Path) -> None:
    """InterchangeError when the file's first bytes say it is another form than its name
    (a workbook named .csv or .json, text named .xlsx, an old or encrypted workbook), said
    as such rather than as whatever the reader of the named form would fail with."""
    with path.open("rb") as handle:
        start = handle.read(len(_OLE))
    suffix = path.suffix.lower()
    if start.startswith(_OLE):
        reason = "is an Excel 97-2003 (.xls) or password-protected workbook"
        raise file_problem(path, f"{reason}: save it in Excel, unprotected, as .xlsx")
    if suffix == ".xlsx" and not start.startswith(_ZIP):
        if not start:
            raise file_problem(path, "is an empty file, not an Excel workbook")
        reason = "is not an Excel workbook (.xlsx is a zip): a CSV table must be named .csv"
        raise file_problem(path, f"{reason}, a JSON one .json")
    if suffix != ".xlsx" and start.startswith(_ZIP):
        form = "CSV" if suffix == ".csv" else "JSON"
        raise file_problem(path, f"is an Excel workbook (a zip), not a {form} table: name it .xlsx")
