# ruff: noqa: E501  (one corpus case a line reads as a table)
"""A corpus of malformed and hostile interchange files, generated (nothing large is committed).

Each `Case` writes one file and says where its refusal must point: a place
("line 3, column value", "row 4", "item 2, column unit_code", "byte 1",
"part xl/sharedStrings.xml") that the one-line error has to name.

Three families:
- the same bad cell in all three forms (CSV line, XLSX row, JSON item):
  numbers, counts, points, ratios, dates, periods, codes, names, sizes;
- what only one form can carry: JSON's NaN and repeated keys, a workbook's
  zip bomb, entities and damaged zip entries, a CSV's encodings and over-long lines;
- paths that are not regular files (a named pipe, a link to a device, a folder);
- `VALID`: the dialects that must be accepted (separators, decimal comma,
  BOM, CRLF, XLSX with real numbers, JSON, optional columns left out).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from sqlalchemy import MetaData, create_engine, select

COLUMNS = (
    "scheme", "period", "as_of", "unit_code", "unit_name", "parent_code",
    "indicator", "value", "max", "numerator", "denominator", "dossier",
)  # fmt: skip
_UNIT = {"scheme": "766", "period": "2024-09", "as_of": "", "parent_code": "H21", "dossier": ""}
_FIGURES = (  # indicator, value, max, numerator, denominator
    ("CKMB", "17.5", "18", "", ""),
    ("TDGQ", "18.6", "20", "", ""),
    ("TOTAL", "86.97", "100", "", ""),
    ("OVERDUE", "3", "", "", ""),
    ("DOSSIER_SYNC", "5.4", "6", "295", "313"),
    ("RANK", "3", "23", "", ""),
)
UNITS = (("H21.227", "UBND xã Bình Thành"), ("H21.228", "UBND xã Hoà Bình"))
MiB = 1024 * 1024


def table() -> list[dict[str, str]]:
    """A valid 766 table: two units of H21 in 2024-09, six figures each, as text cells."""
    return [
        {**_UNIT, "unit_code": code, "unit_name": name, "indicator": indicator,
         "value": value, "max": maximum, "numerator": numerator, "denominator": denominator}
        for code, name in UNITS
        for indicator, value, maximum, numerator, denominator in _FIGURES
    ]  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One file of the corpus: `write(path)` makes it, `place` is what its refusal names."""

    name: str
    suffix: str
    write: Callable[[Path], None]
    place: str


# --- writers -------------------------------------------------------------------------------


def csv_text(rows: list[dict[str, str]], delimiter: str = ",", columns: tuple[str, ...] = COLUMNS,
             newline: str = "\n") -> str:  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(columns)
    writer.writerows([[row.get(column, "") for column in columns] for row in rows])
    return out.getvalue()


def write_csv(rows: list[dict[str, str]], **options: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(csv_text(rows, **options), encoding="utf-8")  # type: ignore[arg-type]


def write_xlsx(rows: list[dict[str, object]], columns: tuple[str, ...] = COLUMNS) -> Callable[[Path], None]:  # fmt: skip
    def write(path: Path) -> None:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(list(columns))
        for row in rows:
            sheet.append([None if row.get(c) in ("", None) else row.get(c) for c in columns])
        workbook.save(path)

    return write


def write_json(items: object) -> Callable[[Path], None]:
    return lambda path: path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")


def write_bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def sparse(size: int) -> Callable[[Path], None]:
    """A file of `size` bytes that takes no room on disk: its size alone must refuse it."""

    def write(path: Path) -> None:
        with path.open("wb") as handle:
            handle.truncate(size)

    return write


def patched_xlsx(rows: list[dict[str, object]], member: str, old: bytes, new: bytes) -> Callable[[Path], None]:  # fmt: skip
    """A real workbook whose `member` has `old` replaced by `new` (a cell XML openpyxl would
    never write: NaN, 1e400, a DOCTYPE)."""

    def write(path: Path) -> None:
        write_xlsx(rows)(path)
        rewrite_member(path, member, lambda data: _replaced(data, old, new))

    return write


def rewrite_member(path: Path, member: str, change: Callable[[bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[member] = change(parts.get(member, b""))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _replaced(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, (old, data[:300])
    return data.replace(old, new, 1)


def patched_zip_entry(member: str, flags: int = 0, method: int | None = None, data: bytes = b"") -> Callable[[Path], None]:  # fmt: skip
    """A real workbook whose `member` has the general-purpose `flags` bits set and its
    compression `method` changed, in its local and its central header alike, and whose
    compressed bytes begin with `data`: what zipfile meets when it opens that part."""

    def write(path: Path) -> None:
        write_xlsx(table())(path)
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
        raw = bytearray(path.read_bytes())
        name = member.encode()
        local = info.header_offset
        central = next(at for at in _offsets(raw, b"PK\x01\x02") if raw[at + 46 : at + 46 + len(name)] == name)  # fmt: skip
        for at in (local + 6, central + 8):  # the flags, then the method, of each header
            raw[at : at + 2] = (int.from_bytes(raw[at : at + 2], "little") | flags).to_bytes(2, "little")  # fmt: skip
            if method is not None:
                raw[at + 2 : at + 4] = method.to_bytes(2, "little")
        start = local + 30 + int.from_bytes(raw[local + 26 : local + 28], "little") + int.from_bytes(raw[local + 28 : local + 30], "little")  # fmt: skip
        raw[start : start + len(data)] = data
        path.write_bytes(bytes(raw))

    return write


def _offsets(raw: bytearray, signature: bytes) -> Iterator[int]:
    at = raw.find(signature)
    while at >= 0:
        yield at
        at = raw.find(signature, at + 1)


def cell_in_column(column: str) -> Callable[[Path], None]:
    """A real workbook whose row 3 has one more cell, in `column`, past the table's columns."""

    def write(path: Path) -> None:
        write_xlsx(table())(path)
        workbook = openpyxl.load_workbook(path)
        sheet = workbook.active
        assert sheet is not None
        sheet[f"{column}3"] = "ghi chú"
        workbook.save(path)

    return write


def fifo(path: Path) -> None:
    """A named pipe: opening it for reading waits for a writer that never comes."""
    os.mkfifo(path)


def link_to(target: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def shared_strings_bomb(path: Path) -> None:
    """A workbook of ~0.4 MB whose one shared string (a unit name) expands to 400 MB."""
    write_xlsx(table())(path)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            if name != "xl/sharedStrings.xml":
                archive.writestr(name, data)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as stream:
            stream.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            stream.write(b"<si><t>")
            chunk = b"A" * (4 * MiB)
            for _ in range(100):
                stream.write(chunk)
            stream.write(b"</t></si></sst>")


def padded_sheet(path: Path) -> None:
    """A workbook whose sheet expands a thousand times (20 MB of blanks): a zip bomb's shape."""
    write_xlsx(table())(path)
    rewrite_member(
        path, "xl/worksheets/sheet1.xml", lambda data: data.replace(b"<sheetData>", b"<sheetData>" + b" " * (20 * MiB), 1)
    )  # fmt: skip


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)


# --- the corpus ----------------------------------------------------------------------------

#: (name, row index in table(), column, bad cell text, what the reason says)
BAD_CELLS: tuple[tuple[str, int, str, str], ...] = (
    ("value-nan", 0, "value", "NaN"),
    ("value-infinity", 0, "value", "Infinity"),
    ("value-1e400", 0, "value", "1e400"),
    ("value-words", 0, "value", "mười bảy"),
    ("value-fullwidth-digits", 0, "value", "１７"),
    ("value-hex", 0, "value", "0x11"),
    ("value-missing", 0, "value", ""),
    ("count-400-digits", 3, "value", "1" * 400),
    ("count-negative", 3, "value", "-1"),
    ("count-fractional", 3, "value", "2,5"),
    ("points-negative", 0, "value", "-0,5"),
    ("points-above-maximum", 0, "value", "18,5"),
    ("total-over-100", 2, "value", "100.01"),
    ("max-not-the-indicators", 0, "max", "20"),
    ("numerator-above-denominator", 4, "numerator", "314"),
    ("numerator-fractional", 4, "numerator", "295.5"),
    ("denominator-negative", 4, "denominator", "-3"),
    ("rank-zero", 5, "value", "0"),
    ("rank-outside-its-set", 5, "max", "2"),
    ("as-of-in-2099", 0, "as_of", "2099-01-01"),
    ("as-of-before-the-period", 0, "as_of", "2024-08-31"),
    ("as-of-not-a-day", 0, "as_of", "2024-09-31"),
    ("period-not-begun", 0, "period", "2099-01"),
    ("period-month-13", 0, "period", "2024-13"),
    ("period-year-zero", 0, "period", "0000-01"),
    ("indicator-unknown-to-766", 0, "indicator", "CKMB_BONUS"),
    ("scheme-unknown", 0, "scheme", "provincial:nowhere"),
    ("code-300-characters", 0, "unit_code", "H" * 300),
    ("code-with-space", 0, "unit_code", "H21 227"),
    ("code-path-traversal", 0, "unit_code", "a/../../../../x/congvan"),
    ("code-backslash", 0, "unit_code", "H21\\227"),
    ("code-dot-dot", 0, "unit_code", "H21..227"),
    ("code-quote", 0, "unit_code", 'H21"227'),
    ("code-semicolon", 0, "unit_code", "H21;DROP"),
    ("code-nul", 0, "unit_code", "H21\x00227"),
    ("code-escape-sequence", 0, "unit_code", "H21\x1b[31m"),
    ("code-missing", 0, "unit_code", ""),
    ("code-right-to-left-override", 0, "unit_code", "H21.\u202e722"),
    ("code-zero-width-space", 0, "unit_code", "H21.\u200b227"),
    ("parent-byte-order-mark", 0, "parent_code", "H\ufeff21"),
    ("parent-path-traversal", 0, "parent_code", "../../etc"),
    ("name-256-characters", 0, "unit_name", "x" * 256),
    ("name-nul", 0, "unit_name", "UBND\x00xã"),
    ("name-bell", 0, "unit_name", "UBND\x07xã"),
    ("name-right-to-left-override", 0, "unit_name", "UBND xã \u202ehnàhT hnìB"),
    ("cell-2000-characters", 0, "unit_name", "Bình Thành " * 200),
    ("dossier-on-766", 0, "dossier", "HS-01"),
)
_XLSX_CANNOT_HOLD = {"code-nul", "code-escape-sequence", "name-nul", "name-bell"}


def bad_cell_cases() -> Iterator[Case]:
    for name, index, column, text in BAD_CELLS:
        rows = table()
        rows[index] = {**rows[index], column: text}
        yield Case(f"csv-{name}", ".csv", write_csv(rows), f"line {index + 2}, column {column}")
        items = [{k: v for k, v in row.items() if v != ""} for row in rows]
        if column == "value" and not text:
            items[index]["value"] = ""
        yield Case(f"json-{name}", ".json", write_json(items), f"item {index + 1}, column {column}")
        if name not in _XLSX_CANNOT_HOLD:  # openpyxl refuses to write control characters
            xlsx_rows: list[dict[str, object]] = [dict(row) for row in rows]
            yield Case(f"xlsx-{name}", ".xlsx", write_xlsx(xlsx_rows), f"row {index + 2}, column {column}")  # fmt: skip


def _json_items() -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if v != ""} for row in table()]


def _json_text(replace: str, by: str) -> Callable[[Path], None]:
    text = json.dumps(_json_items(), ensure_ascii=False)
    assert replace in text
    return lambda path: path.write_text(text.replace(replace, by, 1), encoding="utf-8")


def json_cases() -> Iterator[Case]:
    value = '"value": "17.5"'
    yield Case("json-token-nan", ".json", _json_text(value, '"value": NaN'), "item 1, column value")
    yield Case("json-token-infinity", ".json", _json_text(value, '"value": Infinity'), "item 1, column value")  # fmt: skip
    yield Case("json-token-minus-infinity", ".json", _json_text(value, '"value": -Infinity'), "item 1, column value")  # fmt: skip
    yield Case("json-token-1e400", ".json", _json_text(value, '"value": 1e400'), "item 1, column value")  # fmt: skip
    yield Case("json-token-400-digits", ".json", _json_text('"value": "3"', '"value": ' + "9" * 400), "item 4, column value")  # fmt: skip
    yield Case("json-value-true", ".json", _json_text(value, '"value": true'), "item 1, column value")  # fmt: skip
    yield Case("json-value-null", ".json", _json_text(value, '"value": null'), "item 1, column value")  # fmt: skip
    yield Case("json-value-list", ".json", _json_text(value, '"value": [17.5]'), "item 1, column value")  # fmt: skip
    yield Case("json-value-object", ".json", _json_text(value, '"value": {"v": 17.5}'), "item 1, column value")  # fmt: skip
    yield Case("json-value-nested-deep", ".json", _json_text(value, '"value": ' + "[" * 500 + "]" * 500), "item 1, column value")  # fmt: skip
    yield Case("json-repeated-key", ".json", _json_text(value, '"value": "17.5", "value": "1"'), "item 1")  # fmt: skip
    yield Case("json-repeated-key-by-case", ".json", _json_text(value, '"value": "17.5", "Value": "1"'), "item 1")  # fmt: skip
    yield Case("json-code-lone-surrogate", ".json", _json_text('"unit_code": "H21.227"', '"unit_code": "H21\\ud800"'), "item 1, column unit_code")  # fmt: skip
    yield Case("json-name-lone-surrogate", ".json", _json_text('"unit_name": "UBND xã Bình Thành"', '"unit_name": "\\udfff"'), "item 1, column unit_name")  # fmt: skip
    yield Case("json-item-a-number", ".json", _json_text("[{", "[7, {"), "item 1")
    yield Case("json-item-a-list", ".json", _json_text("[{", "[[], {"), "item 1")
    yield Case("json-top-level-object", ".json", write_bytes(b'{"scheme": "766"}'), "JSON list")
    yield Case("json-top-level-string", ".json", write_bytes(b'"766"'), "JSON list")
    yield Case("json-empty-list", ".json", write_bytes(b"[]"), "nothing to import")
    yield Case("json-empty-file", ".json", write_bytes(b""), "line 1 column 1")
    yield Case("json-nested-100000", ".json", write_bytes(b"[" * 100_000 + b"]" * 100_000), "nest too deeply")  # fmt: skip
    yield Case("json-trailing-comma", ".json", _json_text("}]", "},]"), "line 1 column")
    yield Case("json-truncated", ".json", lambda p: p.write_text(json.dumps(_json_items())[:200], encoding="utf-8"), "line 1 column")  # fmt: skip
    yield Case("json-latin-1", ".json", lambda p: p.write_bytes(json.dumps(_json_items(), ensure_ascii=False).encode("latin-1", "replace").replace(b"?", b"\xe0")), "byte ")  # fmt: skip
    yield Case("json-utf-16", ".json", lambda p: p.write_bytes(json.dumps(_json_items()).encode("utf-16")), "byte 1")  # fmt: skip
    yield Case("json-65-mb", ".json", sparse(65 * MiB), "more than the 64.0 MB")
    yield Case("json-repeated-figure", ".json", write_json([*_json_items(), _json_items()[1]]), "item 13")  # fmt: skip


def _csv(rows: list[dict[str, str]] | None = None, **options: str) -> str:
    return csv_text(table() if rows is None else rows, **options)  # type: ignore[arg-type]


def csv_cases() -> Iterator[Case]:
    good = _csv()
    yield Case("csv-empty-file", ".csv", write_bytes(b""), "line 1: the header is empty")
    yield Case("csv-header-only", ".csv", write_bytes(good.splitlines()[0].encode()), "nothing to import")  # fmt: skip
    yield Case("csv-blank-lines-only", ".csv", write_bytes((good.splitlines()[0] + "\n\n\n,,,\n").encode()), "nothing to import")  # fmt: skip
    yield Case("csv-no-unit-code-column", ".csv", write_bytes(_csv(columns=tuple(c for c in COLUMNS if c != "unit_code")).encode()), "column unit_code")  # type: ignore[arg-type]  # fmt: skip
    yield Case("csv-surplus-cells", ".csv", write_bytes(good.replace("313,\n", "313,,surplus\n", 1).encode()), "line 6")  # fmt: skip
    yield Case("csv-line-of-70000-characters", ".csv", write_bytes((good + "766," + "9" * 70_000 + "\n").encode()), "line 14")  # fmt: skip
    yield Case("csv-unterminated-quote", ".csv", write_bytes((good + '766,"2024-09,\n' + "x" * 1000 + "\n") .encode() * 200), "line 14")  # fmt: skip
    yield Case("csv-latin-1", ".csv", write_bytes(good.encode("latin-1", "replace")), "line 2")
    yield Case("csv-cp1258", ".csv", write_bytes(good.encode("cp1258", "replace")), "line 2")
    yield Case("csv-utf-16", ".csv", write_bytes(good.encode("utf-16")), "line 1")
    yield Case("csv-bad-byte-on-line-9", ".csv", write_bytes(good.encode().replace(b"H21.228", b"H21.\xff28", 3)), "line 8")  # fmt: skip
    yield Case("csv-two-boms", ".csv", write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + good.encode()), "in column 1: U+FEFF")  # fmt: skip
    yield Case("csv-65-columns", ".csv", write_bytes((",".join([*COLUMNS, *(f"x{n}" for n in range(60))]) + "\n").encode() + good.split("\n", 1)[1].encode()), "more than 64")  # fmt: skip
    yield Case("csv-513-mb", ".csv", sparse(513 * MiB), "more than the 512.0 MB")
    yield from csv_header_cases()
    rows = table()
    yield Case("csv-repeated-figure", ".csv", write_csv([*rows, rows[1]]), "line 14")
    yield Case("csv-repeated-figure-same-value-other-spelling", ".csv", write_csv([*rows, {**rows[0], "value": "17,50"}]), "line 14")  # fmt: skip
    moved = [dict(row) for row in rows]
    moved[3]["parent_code"] = "H22"
    yield Case("csv-one-unit-two-parents", ".csv", write_csv(moved), "line 5, column parent_code")


def xlsx_cases() -> Iterator[Case]:
    sheet = "xl/worksheets/sheet1.xml"
    rows: list[dict[str, object]] = [dict(row) for row in table()]
    numeric = [dict(row, value=float(str(row["value"]))) for row in rows]
    numeric[0]["value"] = 4242.5  # a marker to replace in the sheet's XML
    marker = b"<v>4242.5</v>"
    yield Case("xlsx-not-a-zip", ".xlsx", write_bytes(_csv().encode()), "is not an Excel workbook")  # fmt: skip
    yield Case("xlsx-empty-zip", ".xlsx", lambda p: zipfile.ZipFile(p, "w").close(), "not a readable Excel workbook")  # fmt: skip
    yield Case("xlsx-truncated", ".xlsx", lambda p: (write_xlsx(rows)(p), p.write_bytes(p.read_bytes()[:3000])), "not a readable Excel workbook")  # type: ignore[func-returns-value]  # fmt: skip
    yield Case("xlsx-shared-strings-400-mb", ".xlsx", shared_strings_bomb, "part xl/sharedStrings.xml")  # fmt: skip
    yield Case("xlsx-sheet-expands-1000-times", ".xlsx", padded_sheet, f"part {sheet}")
    yield Case("xlsx-billion-laughs", ".xlsx", patched_xlsx(rows, sheet, b"<worksheet", LAUGHS + b"<worksheet"), f"part {sheet}")  # fmt: skip
    yield Case("xlsx-external-entity", ".xlsx", patched_xlsx(rows, "xl/workbook.xml", b"<workbook", b'<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook'), "part xl/workbook.xml")  # fmt: skip
    yield Case("xlsx-cell-nan", ".xlsx", patched_xlsx(numeric, sheet, marker, b"<v>NaN</v>"), "row 2")  # fmt: skip
    yield Case("xlsx-cell-1e400", ".xlsx", patched_xlsx(numeric, sheet, marker, b"<v>1e400</v>"), "row 2, column value")  # fmt: skip
    yield Case("xlsx-cell-400-digits", ".xlsx", patched_xlsx(numeric, sheet, marker, b"<v>" + b"7" * 400 + b"</v>"), "row 2, column value")  # fmt: skip
    yield Case("xlsx-cell-shared-string-out-of-range", ".xlsx", patched_xlsx(numeric, sheet, b'<c r="H2" t="n"><v>4242.5</v>', b'<c r="H2" t="s"><v>99999</v>'), "row 2")  # fmt: skip
    yield Case("xlsx-cell-error-value", ".xlsx", patched_xlsx(numeric, sheet, b'<c r="H2" t="n"><v>4242.5</v>', b'<c r="H2" t="e"><v>#DIV/0!</v>'), "row 2, column value")  # fmt: skip
    yield Case("xlsx-cell-boolean", ".xlsx", patched_xlsx(numeric, sheet, b'<c r="H2" t="n"><v>4242.5</v>', b'<c r="H2" t="b"><v>1</v>'), "row 2, column value")  # fmt: skip
    dated = [dict(row) for row in numeric]
    dated[1]["period"] = dt.datetime(2024, 9, 1)
    yield Case("xlsx-period-as-date-cell", ".xlsx", write_xlsx(dated), "row 3, column period")
    dated = [dict(row) for row in numeric]
    dated[1]["value"] = dt.datetime(2024, 9, 1)
    yield Case("xlsx-value-as-date-cell", ".xlsx", write_xlsx(dated), "row 3, column value")
    yield Case("xlsx-header-only", ".xlsx", write_xlsx([]), "nothing to import")
    yield Case("xlsx-row-one-billion", ".xlsx", patched_xlsx(numeric, sheet, b'<row r="13"', b'<row r="1000000000"'), "row 2000002")  # fmt: skip
    yield Case("xlsx-65-mb", ".xlsx", sparse(65 * MiB), "more than the 64.0 MB")
    yield Case("xlsx-zip-encrypted-part", ".xlsx", patched_zip_entry(sheet, flags=0x1), f"part {sheet} is encrypted")  # fmt: skip
    yield Case("xlsx-zip-method-99", ".xlsx", patched_zip_entry(sheet, method=99), f"part {sheet} is compressed by method 99")  # fmt: skip
    yield Case("xlsx-zip-corrupt-deflate", ".xlsx", patched_zip_entry(sheet, data=b"\xff" * 16), f"part {sheet} cannot be decompressed")  # fmt: skip
    yield Case("xlsx-zip-corrupt-styles", ".xlsx", patched_zip_entry("xl/styles.xml", data=b"\xff" * 16), "part xl/styles.xml cannot be decompressed")  # fmt: skip
    yield Case("xlsx-cell-in-column-13", ".xlsx", cell_in_column("M"), "row 3: cell M3 is outside")
    yield Case(
        "xlsx-cell-in-column-65", ".xlsx", cell_in_column("BM"), "row 3: cell BM3 is outside"
    )
    yield from xlsx_header_cases()


def _columns(replace: str, by: str) -> tuple[str, ...]:
    """COLUMNS with the first column named `replace` named `by` (one or more names)."""
    index = COLUMNS.index(replace)
    return (*COLUMNS[:index], *by.split(","), *COLUMNS[index + 1 :])


#: (name, header as the columns it names, the place and reason its refusal starts with)
HEADERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("column-twice", _columns("period", "period,period"), "1: the column 'period' appears twice"),
    (
        "column-twice-by-case-and-spaces",
        _columns("period", "period, PERIOD "),
        "1: the column 'period' appears twice",
    ),
    (
        "column-three-times",
        _columns("value", "value,Value,VALUE"),
        "1: the column 'value' appears 3 times",
    ),
    ("header-cell-empty", _columns("period", "period,"), "1: column 3 of the header is empty"),
    (
        "header-first-cell-empty",
        _columns("scheme", ",scheme"),
        "1: column 1 of the header is empty",
    ),
    (
        "header-zero-width-space",
        _columns("unit_code", "unit\u200b_code"),
        "1: the name 'unit\\u200b_code'",
    ),
    ("header-blank", ("", "  ", ""), "1: the header is empty"),
    ("header-is-a-data-row", tuple(table()[0].values()), "1: names none of the required columns"),
)


def csv_header_cases() -> Iterator[Case]:
    for name, columns, reason in HEADERS:
        yield Case(f"csv-{name}", ".csv", write_csv(table(), columns=columns), f"line {reason}")  # type: ignore[arg-type]


def xlsx_header_cases() -> Iterator[Case]:
    rows: list[dict[str, object]] = [dict(row) for row in table()]
    for name, columns, reason in HEADERS:
        reason = reason.replace("column 1 of", "cell A1 of").replace("column 3 of", "cell C1 of")
        yield Case(f"xlsx-{name}", ".xlsx", write_xlsx(rows, columns), f"row {reason}")
    yield Case("xlsx-header-byte-order-mark", ".xlsx", write_xlsx(rows, _columns("scheme", "\ufeffscheme")), "row 1: the name '\\ufeffscheme' in cell A1")  # fmt: skip
    yield Case("xlsx-empty-sheet", ".xlsx", lambda path: openpyxl.Workbook().save(path), "row 1: the header is empty")  # fmt: skip


def not_a_file_cases() -> Iterator[Case]:
    """Paths that stat() calls empty and that would never end (or never begin) being read."""
    yield Case("csv-named-pipe", ".csv", fifo, "not a regular file")
    yield Case("json-link-to-dev-zero", ".json", link_to("/dev/zero"), "not a regular file")
    yield Case("xlsx-link-to-dev-urandom", ".xlsx", link_to("/dev/urandom"), "not a regular file")
    yield Case("csv-a-folder", ".csv", lambda path: path.mkdir(), "not a regular file")


def cases() -> list[Case]:
    """The whole hostile corpus."""
    return [*bad_cell_cases(), *json_cases(), *csv_cases(), *xlsx_cases(), *not_a_file_cases()]


def valid_cases() -> list[Case]:
    """Dialects that must import: (name, suffix, writer); `place` is unused ("")."""
    rows = table()
    decimal_comma = [{**row, "value": row["value"].replace(".", ",")} for row in rows]
    required_only = ("scheme", "period", "unit_code", "indicator", "value")
    no_parent = tuple(c for c in COLUMNS if c != "parent_code")
    native = [dict(row, value=float(row["value"]), max=float(row["max"]) if row["max"] else "") for row in rows]  # fmt: skip
    items = [{k: (float(v) if k in ("value", "max") else v) for k, v in row.items() if v != ""} for row in rows]  # fmt: skip
    return [
        Case("csv-comma", ".csv", write_csv(rows), ""),
        Case("csv-semicolon-decimal-comma", ".csv", write_csv(decimal_comma, delimiter=";"), ""),
        Case("csv-tab", ".csv", write_csv(decimal_comma, delimiter="\t"), ""),
        Case(
            "csv-bom-crlf",
            ".csv",
            lambda p: p.write_bytes(b"\xef\xbb\xbf" + _csv(newline="\r\n").encode()),
            "",
        ),  # fmt: skip
        Case("csv-without-parent-code", ".csv", write_csv(rows, columns=no_parent), ""),  # type: ignore[arg-type]
        Case(
            "csv-required-columns-only",
            ".csv",
            write_csv([r for r in rows if r["indicator"] != "RANK"], columns=required_only),
            "",
        ),  # type: ignore[arg-type]  # fmt: skip
        Case("xlsx-text-cells", ".xlsx", write_xlsx([dict(row) for row in decimal_comma]), ""),
        Case("xlsx-number-cells", ".xlsx", write_xlsx(native), ""),  # type: ignore[arg-type]
        Case("json-numbers", ".json", write_json(items), ""),
        Case(
            "json-text-cells-with-bom",
            ".json",
            lambda p: p.write_bytes(b"\xef\xbb\xbf" + json.dumps(_json_items()).encode()),
            "",
        ),  # fmt: skip
    ]


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: what "the database unchanged" compares."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(bind=engine)
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()
