"""The appendix tables of a rendered .docx, sized to their page and their content.

docxtpl repeats rows and cells but cannot size them. Each appendix table (its
`w:tblCaption` is `APPENDIX_TABLE`) is made as wide as its section's text,
with a fixed layout whose grid and cell widths agree (Word follows the cells,
LibreOffice the grid). Columns are sized from their text: each is at least as
wide as its longest word, so a date or a figure is never broken ("31/10/202 /
6"); the name column (the second) takes what is left.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from service.notices.documents import BREAK

#: Tables fitted to the page carry this caption (set by build_templates.py).
APPENDIX_TABLE = "dvcwatch-appendix"
#: The size of the tables' text (style "Notice Cell") and the cells' side margins.
CELL_FONT, CELL_PADDING = Pt(11), 2 * 108 + 40  # twips: Word's 0.19 cm each side, and slack
NAME_MIN, WIDEST = Mm(55).twips, Mm(40).twips  # a value column wider than WIDEST wraps
NAME_LEAST = Mm(45).twips  # the name column of a table too wide for NAME_MIN
#: A table of more columns than this (a provincial index's eleven criteria) prints in a
#: smaller font with narrow cell margins: at 11 pt its codes alone took a landscape page.
WIDE_TABLE, WIDE_FONT, WIDE_MARGIN = 14, Pt(9), 57  # twips each side: 0.1 cm
WIDE_PADDING = 2 * WIDE_MARGIN + 40
#: A run's properties after its size, in the schema's order (Word rejects them out of it).
_AFTER_SIZE = {
    qn(f"w:{name}")
    for name in (
        "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
        "lang", "eastAsianLayout", "specVanish", "oMath",
    )
}  # fmt: skip
#: Times New Roman's advance widths in ems, by kind of character (near enough to size).
_NARROW, _WIDE = set(" ,.;:/()-'!|ijlrtf"), set("%MWmw")


def fit_tables(docx: DocxDocument) -> None:
    """Fit every appendix table to the text width of the section it is in."""
    pending: list[Any] = []
    for element in docx.element.body.iterchildren():
        if element.tag == qn("w:tbl") and _is_appendix(element):
            pending.append(element)
        section = element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}")
        if element.tag == qn("w:sectPr"):
            section = element
        if section is not None:
            for table in pending:
                _fit(table, _text_width(section))
            pending = []


@lru_cache(maxsize=4096)
def text_width(text: str, bold: bool = False, font: int = CELL_FONT.twips) -> int:
    """About how wide `text` prints in the tables' font (`font` twips high), in twips
    (cached: a month's tables repeat the same dates, dashes and labels)."""
    ems = sum(
        0.28 if c in _NARROW else 0.9 if c in _WIDE else 0.72 if c.isupper() else 0.5 for c in text
    )
    return int(ems * font * (1.08 if bold else 1.0))


def column_widths(
    cells: list[list[str]], width: int, font: int = CELL_FONT.twips, padding: int = CELL_PADDING
) -> list[int]:
    """Widths (twips) of columns holding `cells` (rows of texts; the first is the
    header, set in bold) within `width`: every column at least its longest word,
    values up to their whole text (at most `WIDEST`), the name column the rest.
    When the whole texts do not fit, the header's are given up first (a heading
    "Tiêu chí 1" wraps over its "1,75" before a note "Không phát sinh TTHC" does),
    then the widest columns give up room to the narrow ones (`_level`), the name
    column among them (down to `NAME_LEAST`) when even that is not enough."""
    count = max(len(row) for row in cells)
    least, wish = [padding] * count, [padding] * count
    body_wish = [padding] * count
    for index, row in enumerate(cells):
        for column, text in enumerate(row):
            bold = index == 0
            # a no-break space binds ("+ 1,05 điểm phần trăm" is one word); str.split()
            # would not
            spaced = text.replace("\n", " ").replace(BREAK, " ")
            words = [text_width(w, bold, font) for w in spaced.split(" ") if w] or [0]
            least[column] = max(least[column], max(words) + padding)
            whole = min(text_width(text, bold, font) + padding, WIDEST)
            wish[column] = max(wish[column], whole)
            if index > 0:
                body_wish[column] = max(body_wish[column], whole)
    wish = [max(w, low) for w, low in zip(wish, least, strict=True)]
    body_wish = [max(w, low) for w, low in zip(body_wish, least, strict=True)]
    values = [c for c in range(count) if c != 1]
    room = width - max(NAME_MIN, least[1])
    if sum(body_wish[c] for c in values) <= room:  # values whole; headers share what is left
        floor, ceiling = sum(body_wish[c] for c in values), sum(wish[c] for c in values)
        share = 1.0 if ceiling <= room else (room - floor) / max(ceiling - floor, 1)
        widths = [body_wish[c] + int((wish[c] - body_wish[c]) * share) for c in range(count)]
    else:  # too many columns (nine criteria): the name gives up some room too
        least[1], body_wish[1] = max(least[1], NAME_LEAST), max(NAME_MIN, least[1])
        level = _level(least, body_wish, list(range(count)), width)
        widths = [max(least[c], min(body_wish[c], level)) for c in range(count)]
    widths[1] = width - sum(widths[c] for c in values)
    return widths


def _level(least: list[int], wish: list[int], values: list[int], room: int) -> int:
    """The highest width every value column may grow to (none below its least, none
    above its wish) with all of them within `room`: the narrow columns get their whole
    text first and the widest gives up what is missing (a class "Xuất sắc" stays on one
    line; a long note wraps)."""
    low, high = 0, max((wish[c] for c in values), default=0)
    while low < high:
        middle = (low + high + 1) // 2
        if sum(max(least[c], min(wish[c], middle)) for c in values) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _is_appendix(table: Any) -> bool:
    caption = table.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
    return caption is not None and caption.get(qn("w:val")) == APPENDIX_TABLE


def _text_width(section: Any) -> int:
    """Text width in twentieths of a point (the unit of table widths)."""
    size, margins = section.find(qn("w:pgSz")), section.find(qn("w:pgMar"))
    return (
        int(size.get(qn("w:w"))) - int(margins.get(qn("w:left"))) - int(margins.get(qn("w:right")))
    )


def _cell_text(cell: Any) -> str:
    return "".join(t.text or "" for t in cell.iter(qn("w:t")))


def _fit(table: Any, width: int) -> None:
    rows = table.findall(qn("w:tr"))
    cells = [[_cell_text(c) for c in row.findall(qn("w:tc"))] for row in rows]
    count = max((len(row) for row in cells), default=0)
    if count < 3:
        return
    if count > WIDE_TABLE:
        _smaller(table)
        widths = column_widths(cells, width, WIDE_FONT.twips, WIDE_PADDING)
    else:
        widths = column_widths(cells, width)
    _fixed_layout(table, width)
    grid = table.find(qn("w:tblGrid"))
    for column in list(grid):
        grid.remove(column)
    for value in widths:
        grid.append(grid.makeelement(qn("w:gridCol"), {qn("w:w"): str(value)}))
    for row in rows:
        for cell, value in zip(row.findall(qn("w:tc")), widths, strict=False):
            properties = cell.find(qn("w:tcPr"))
            if properties is None:
                properties = cell.makeelement(qn("w:tcPr"), {})
                cell.insert(0, properties)
            for old in properties.findall(qn("w:tcW")):
                properties.remove(old)
            size = properties.makeelement(qn("w:tcW"), {qn("w:w"): str(value), qn("w:type"): "dxa"})
            properties.insert(0, size)


#: The order of a table's properties in the schema (Word rejects them out of order).
_TABLE_PROPERTIES = [
    qn(f"w:{name}")
    for name in (
        "tblStyle",
        "tblpPr",
        "tblOverlap",
        "bidiVisual",
        "tblStyleRowBandSize",
        "tblStyleColBandSize",
        "tblW",
        "jc",
        "tblCellSpacing",
        "tblInd",
        "tblBorders",
        "shd",
        "tblLayout",
        "tblCellMar",
        "tblLook",
        "tblCaption",
        "tblDescription",
    )
]


def _smaller(table: Any) -> None:
    """The table's text in `WIDE_FONT` and its cells' side margins `WIDE_MARGIN`."""
    half_points = str(int(WIDE_FONT.pt * 2))
    for run in table.iter(qn("w:r")):
        properties = run.find(qn("w:rPr"))
        if properties is None:
            properties = run.makeelement(qn("w:rPr"), {})
            run.insert(0, properties)
        for old in [*properties.findall(qn("w:sz")), *properties.findall(qn("w:szCs"))]:
            properties.remove(old)
        later = next((child for child in properties if child.tag in _AFTER_SIZE), None)
        for tag in ("w:sz", "w:szCs"):
            size = properties.makeelement(qn(tag), {qn("w:val"): half_points})
            if later is None:
                properties.append(size)
            else:
                later.addprevious(size)
    margins = table.makeelement(qn("w:tblCellMar"), {})
    for side in ("w:left", "w:right"):
        size = {qn("w:w"): str(WIDE_MARGIN), qn("w:type"): "dxa"}
        margins.append(margins.makeelement(qn(side), size))
    put_table_property(table.find(qn("w:tblPr")), margins)


def _fixed_layout(table: Any, width: int) -> None:
    """The table as wide as the text, its columns as given (not re-fitted by Word)."""
    properties = table.find(qn("w:tblPr"))
    size = {qn("w:w"): str(width), qn("w:type"): "dxa"}
    put_table_property(properties, properties.makeelement(qn("w:tblW"), size))
    layout = {qn("w:type"): "fixed"}
    put_table_property(properties, properties.makeelement(qn("w:tblLayout"), layout))


def put_table_property(properties: Any, element: Any) -> None:
    """Put `element` into a table's `w:tblPr`, replacing one of the same kind, at
    its place in the schema's order."""
    for old in properties.findall(element.tag):
        properties.remove(old)
    rank = _TABLE_PROPERTIES.index(element.tag)
    later = [child for child in properties if child.tag in _TABLE_PROPERTIES[rank + 1 :]]
    if later:
        later[0].addprevious(element)
    else:
        properties.append(element)
