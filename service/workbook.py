"""The officials' spreadsheet of `dvcwatch scores --format xlsx`: opened in Excel as it is.

One sheet per comparison set (cơ quan, đơn vị / xã, phường), each with a title (the index,
the set, the period), Vietnamese headings, numbers stored as numbers with their format,
a bold frozen header with a filter, widths that fit, and an A4 landscape print set-up one
page wide with the header repeated. A sheet "Cần làm gì" lists, for the national index,
how many more dossiers each indicator needs. This file is for reading: `dvcwatch import`
takes the interchange table (`docs/formats.md`), not this. Text is stored as text, never
as a formula (a unit's name is imported as typed); the file is written by
`service.files.write_atomic`. A figure that does not apply or has no data shows "-", as
seed 000's appendix and the notices write it, never an empty cell.
"""

from __future__ import annotations

import errno
import gc
import io
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.files import check_suffix, write_atomic
from service.indicators import NATIONAL
from service.score_columns import (
    NUMBER_FORMATS,
    Column,
    ScoreSet,
    columns_for,
    score_sets,
    what_it_takes_columns,
    what_it_takes_items,
)
from service.scoring.tt01 import TT01_KIND
from service.vnformat import capitalised, period_long

HEADER_ROW = 4
TITLE = {
    NATIONAL: "KẾT QUẢ ĐÁNH GIÁ CHẤT LƯỢNG PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP TRÊN CỔNG DVCQG",
    # seed 002's title
    TT01_KIND: "KẾT QUẢ CHẤM ĐIỂM ĐÁNH GIÁ VIỆC GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
}
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TEXT_WIDTH = 30  # characters; longer names wrap
NUMBER_WIDTH = 8
FORBIDDEN_IN_SHEET_NAMES = str.maketrans({c: " " for c in "[]:*?/\\"})
#: What a cell shows for a figure that does not apply or has no data (an indicator marked
#: "-", no previous period, a unit without dossiers), as seed 000's appendix and the
#: notices (`vnformat.number`) write it: an empty cell reads as forgotten.
MISSING = "-"
#: The text columns holding a figure (a unit's class): missing, they show MISSING too. Other
#: text columns (a note, the axes below the average) left empty have nothing to say.
FIGURE_TEXT_HEADINGS = frozenset({"Xếp loại"})


def write_workbook(
    rows: Sequence[dict[str, Any]],
    path: Path,
    set_names: Mapping[str, str] | None = None,
    scheme_titles: Mapping[str, str] | None = None,
) -> None:
    """Write `rows` (from `score_rows`) to `path` atomically. `set_names` maps a parent code
    to how the title names it ("UBND tỉnh Phú Thọ"); the code is shown where it is missing.
    `scheme_titles` names a provincial scheme as its decision does (`Scheme.title`).
    A `path` not named .xlsx is refused (`files.check_suffix`) before anything is built."""
    check_suffix(path, ".xlsx")
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    sets = score_sets(rows)
    several_parents = len({s.parent_code for s in sets}) > 1
    for score_set in sets:
        sheet = workbook.create_sheet(_sheet_name(score_set, several_parents, workbook))
        title = _title(score_set, set_names or {}, scheme_titles or {})
        _table(sheet, title, columns_for(score_set.rows), score_set.rows)
    items = what_it_takes_items(rows)
    if items:
        sheet = workbook.create_sheet("Cần làm gì")
        period = _period_line(rows)  # a line of its own: "Tháng 8 năm 2026 (…)"
        title = ("SỐ HỒ SƠ CẦN THÊM ĐỂ TĂNG ĐIỂM (ƯỚC TÍNH)", capitalised(period))
        _table(sheet, title, what_it_takes_columns(), items)
    if not sets:
        _table(workbook.create_sheet("Không có số liệu"), ("KHÔNG CÓ SỐ LIỆU", ""), [], [])
    write_atomic(path, _saved(workbook).getvalue())


def _saved(workbook: Workbook) -> io.BytesIO:
    """The workbook's bytes. openpyxl spools each sheet to a temporary file first; when that
    write fails (a full disk), its abandoned spooler re-raises the same error as it is
    collected, so that echo is silenced here and the failure raised once, as an OSError."""
    buffer = io.BytesIO()
    failure = None
    try:
        workbook.save(buffer)
    except etree.SerialisationError as exc:
        failure = str(exc)
    if failure is not None:  # the error and its frames are released: collect the spooler now
        hook = sys.unraisablehook
        sys.unraisablehook = lambda _unraisable: None
        try:
            gc.collect()
        finally:
            sys.unraisablehook = hook
        raise _as_os_error(failure, tempfile.gettempdir())
    return buffer


def _as_os_error(failure: str, where: str) -> OSError:
    """lxml reports a failed write as "IO_EFBIG", "IO_ENOSPC"…: the OSError it stands for."""
    name = failure.removeprefix("IO_")
    number = next((n for n, known in errno.errorcode.items() if known == name), errno.EIO)
    return OSError(number, os.strerror(number), where)


def _sheet_name(score_set: ScoreSet, with_parent: bool, workbook: Workbook) -> str:
    name = f"{score_set.parent_code} {score_set.name}" if with_parent else score_set.name
    name = name.translate(FORBIDDEN_IN_SHEET_NAMES).strip()[:31] or "Đơn vị"
    taken, candidate, n = set(workbook.sheetnames), name, 2
    while candidate in taken:
        candidate = f"{name[:27]} ({n})"
        n += 1
    return candidate


def _title(
    score_set: ScoreSet, set_names: Mapping[str, str], scheme_titles: Mapping[str, str]
) -> tuple[str, str]:
    first = score_set.rows[0]
    scheme = str(first.get("scheme") or "")
    named = scheme_titles.get(scheme)
    heading = TITLE.get(scheme) or (
        f"KẾT QUẢ CHẤM ĐIỂM: {named.upper()}" if named else "KẾT QUẢ CHẤM ĐIỂM, XẾP LOẠI"
    )
    parent = score_set.parent_code
    where = set_names.get(parent, parent) if parent else None
    subject = f"{score_set.name} thuộc {where}" if where else score_set.name
    return heading, f"{subject}, {_period_line(score_set.rows)}"


def _period_line(rows: Sequence[dict[str, Any]]) -> str:
    first = rows[0]
    line = period_long(str(first["period"]))
    as_of = first.get("as_of")
    if as_of:
        day, month, year = str(as_of)[8:10], str(as_of)[5:7], str(as_of)[:4]
        line += f" (số liệu ngày {int(day)}/{int(month)}/{year})"
    return line


def _table(
    sheet: Worksheet,
    title: tuple[str, str],
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
) -> None:
    width = len(columns) + 1
    for line, (text, size) in enumerate(zip(title, (14, 12), strict=True), start=1):
        cell = _cell(sheet, line, 1, text)
        cell.font = Font(bold=True, size=size)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if width > 1:
            sheet.merge_cells(start_row=line, start_column=1, end_row=line, end_column=width)
    headings = ["STT", *(column.heading for column in columns)]
    for number, heading in enumerate(headings, start=1):
        cell = _cell(sheet, HEADER_ROW, number, heading)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, row in enumerate(rows, start=1):
        line = HEADER_ROW + index
        _put(sheet, line, 1, index, "integer")
        for number, column in enumerate(columns, start=2):
            value = column.value(row)
            if value is None and _is_figure(column):
                _put_missing(sheet, line, number)
            else:
                _put(sheet, line, number, value, column.kind)
    _fit(sheet, headings, columns, rows)
    _title_heights(sheet, title, width)
    _print_setup(sheet, width, HEADER_ROW + len(rows))


def _title_heights(sheet: Worksheet, title: tuple[str, str], width: int) -> None:
    """Title lines as tall as they wrap to across the table (a provincial index's name is
    longer than the page is wide: one line of it printed cut at both edges)."""
    room = sum(sheet.column_dimensions[get_column_letter(n)].width for n in range(1, width + 1))
    for line, (text, size) in enumerate(zip(title, (14, 12), strict=True), start=1):
        per_line = max(room * 11 / size / 1.3, 1)  # capitals in a larger font than the body's
        lines = -(-_width_of(text) // int(per_line))
        if lines > 1:
            sheet.row_dimensions[line].height = size * 1.5 * lines


def _is_figure(column: Column) -> bool:
    return column.kind != "text" or column.heading in FIGURE_TEXT_HEADINGS


def _put(sheet: Worksheet, line: int, number: int, value: Any, kind: str) -> None:
    cell = _cell(sheet, line, number, _cell_value(value))
    cell.border = BORDER
    if isinstance(cell.value, int | float):
        cell.number_format = NUMBER_FORMATS[kind]  # type: ignore[index]
        cell.alignment = Alignment(horizontal="right", vertical="top")
    else:
        # indented: a text after a right-aligned number would otherwise read as one word
        cell.alignment = Alignment(horizontal="left", wrap_text=True, vertical="top", indent=1)


def _put_missing(sheet: Worksheet, line: int, number: int) -> None:
    """MISSING, centred: against a cell's right edge a dash reads as part of its border."""
    cell = _cell(sheet, line, number, MISSING)
    cell.border = BORDER
    cell.alignment = Alignment(horizontal="center", vertical="top")


def _cell(sheet: Worksheet, line: int, number: int, value: Any) -> Cell:
    """The cell holding `value`, text always stored as text: openpyxl makes any text
    starting with "=" a formula, and a unit's name is imported as people typed it
    (`=cmd|' /C calc'!A0` would run when the sheet is opened)."""
    cell = sheet.cell(row=line, column=number, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _cell_value(value: Any) -> Any:
    """Numbers stay numbers; anything else is text a person can read (never a repr)."""
    if value is None or isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return str(value)


def _fit(
    sheet: Worksheet, headings: Sequence[str], columns: Sequence[Column], rows: Sequence[Any]
) -> None:
    """Widths from content, so that a set's table prints one A4 landscape page wide: numbers
    as wide as the longest (at least NUMBER_WIDTH), text up to TEXT_WIDTH and wrapped;
    headings wrap over as many lines as they need, and the header row is as tall."""
    kinds = ["integer", *(column.kind for column in columns)]
    lines = 1
    for number, (heading, kind) in enumerate(zip(headings, kinds, strict=True), start=1):
        cells = sheet.iter_rows(
            min_row=HEADER_ROW + 1, max_row=HEADER_ROW + len(rows), min_col=number, max_col=number
        )
        longest = max((_width_of(_shown(row[0].value)) for row in cells), default=0)
        word = max((len(part) for part in heading.split()), default=1)
        if number == 1:
            width = max(longest, 3) + 2
        elif kind == "text":
            width = min(max(longest, word) + 2, TEXT_WIDTH)
        else:
            width = max(longest + 2, word + 1, NUMBER_WIDTH)
        sheet.column_dimensions[get_column_letter(number)].width = width
        lines = max(lines, -(-len(heading) // max(width - 2, 1)))
    sheet.row_dimensions[HEADER_ROW].height = 15 * min(lines + 1, 6)
    _row_heights(sheet, len(headings), len(rows))
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=min(4, len(headings) + 1))


def _row_heights(sheet: Worksheet, width: int, count: int) -> None:
    """Rows as tall as their wrapped text (spreadsheet programs do not all measure it)."""
    widths = [sheet.column_dimensions[get_column_letter(n)].width for n in range(1, width + 1)]
    for line in range(HEADER_ROW + 1, HEADER_ROW + count + 1):
        texts = [
            (cell.value, w)
            for cell, w in zip(sheet[line][:width], widths, strict=True)
            if isinstance(cell.value, str)
        ]
        needed = max((_wrapped_lines(text, w) for text, w in texts), default=1)
        if needed > 1:
            sheet.row_dimensions[line].height = 13 * needed + 2


def _wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` wraps to, word by word, in a column `width` characters wide
    (each word measured as `_width_of` measures it, in digits' widths)."""
    room = max(int(width - 1), 1)
    lines, used = 1, 0
    for word in map(_width_of, text.split()):
        if used and used + 1 + word > room:
            lines, used = lines + 1, 0
        used += (1 if used else 0) + word
        lines += (used - 1) // room  # a word longer than the column
        used = (used - 1) % room + 1
    return lines


def _width_of(text: str) -> int:
    """About how many digits' widths `text` takes: a capital is wider than a digit
    ("TUACHUA.MUONGBANG" wrapped its last letter in a column as wide as 17 digits)."""
    return round(sum(1.3 if c.isupper() else 1.0 for c in text))


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:+.2f}"
    return "" if value is None else str(value)


def _print_setup(sheet: Worksheet, width: int, last_row: int) -> None:
    last_column = get_column_letter(width)
    if last_row > HEADER_ROW:
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{last_column}{last_row}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A1:{last_column}{max(last_row, HEADER_ROW)}"
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5
    sheet.oddFooter.center.text = "Trang &P/&N"
