"""Author the .docx templates of the notices with python-docx; run it to regenerate them.

    .venv/bin/python templates/notices/build_templates.py

Writes `congvan.docx` and `baocao.docx` next to this file in the layout of
Nghị định 30/2020/NĐ-CP: A4; margins top and bottom 20 mm, left 30 mm,
right 15 mm; Times New Roman; the two-column head as a borderless table
(the issuing body, its number; the motto, place and date); body 14 pt,
justified, first-line indent; signature block and "Nơi nhận:"; appendix
tables with borders. docxtpl tags mark where the document's values go
(`doc` is a `service.notices.documents.Notice`, `charts` its images). An
office may restyle a copy in Word, keeping the tags, and place it in its
own template folder. The output is byte-for-byte reproducible.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from service.notices.tables import APPENDIX_TABLE, put_table_property

HERE = Path(__file__).resolve().parent
FONT = "Times New Roman"
TEXT_WIDTH = Mm(210 - 30 - 15)
LEFT_HEAD, RIGHT_HEAD = Mm(65), Mm(100)
Container = DocxDocument | _Cell
CENTER, JUSTIFY, LEFT = (
    WD_ALIGN_PARAGRAPH.CENTER,
    WD_ALIGN_PARAGRAPH.JUSTIFY,
    WD_ALIGN_PARAGRAPH.LEFT,
)


def new_document() -> DocxDocument:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    normal.paragraph_format.space_after = Pt(0)
    body = _style(document, "Notice Body", 14)
    body.paragraph_format.alignment = JUSTIFY
    body.paragraph_format.first_line_indent = Mm(12.7)
    body.paragraph_format.space_after = Pt(6)
    body.paragraph_format.line_spacing = 1.15
    heading = _style(document, "Notice Heading", 14, bold=True, base="Notice Body")
    heading.paragraph_format.keep_with_next = True
    closing = _style(document, "Notice Closing", 14, base="Notice Body")
    closing.paragraph_format.keep_with_next = True
    _style(document, "Notice Cell", 11).paragraph_format.alignment = CENTER
    _style(document, "Notice Cell Name", 11).paragraph_format.alignment = LEFT
    _style(document, "Notice Centered", 14).paragraph_format.alignment = CENTER
    _style(document, "Notice Caption", 12, italic=True).paragraph_format.alignment = CENTER
    document.core_properties.author = "dvcwatch"
    document.core_properties.title = "dvcwatch notice template"
    return document


def _style(
    document: DocxDocument,
    name: str,
    size: int,
    bold: bool = False,
    italic: bool = False,
    base: str = "Normal",
) -> ParagraphStyle:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    assert isinstance(style, ParagraphStyle)
    style.base_style = document.styles[base]
    style.font.size, style.font.bold, style.font.italic = Pt(size), bold, italic
    return style


def para(
    container: Container,
    text: str = "",
    style: str = "Notice Centered",
    size: int | None = None,
    bold: bool = False,
    italic: bool = False,
) -> Paragraph:
    """A paragraph whose text (a docxtpl tag included) is one run, so no tag is split."""
    paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    return paragraph


def rule(cell: _Cell, width: Length) -> None:
    """The short line under the body's name and under the motto: a bottom border
    on an empty paragraph indented from both sides."""
    paragraph = para(cell, size=2)
    indent = (cell.width - width) // 2
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = indent
    paragraph.paragraph_format.space_after = Pt(6)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def borders(table: Table, value: str) -> None:
    """All borders of `table` set to `value` ("single" or "nil")."""
    properties = table._tbl.tblPr
    element = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        border = OxmlElement(f"w:{side}")
        border.set(qn("w:val"), value)
        if value != "nil":
            border.set(qn("w:sz"), "4")
            border.set(qn("w:color"), "000000")
        element.append(border)
    put_table_property(properties, element)


def two_columns(document: DocxDocument, left: Length, right: Length) -> Table:
    """A borderless, fixed two-column table whose grid says what its cells say
    (Word lays out by the cells, LibreOffice by the grid: they must agree)."""
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    borders(table, "nil")
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, (left, right), strict=True):
        column.w = width
    properties = table._tbl.tblPr
    size = {qn("w:w"): str(Length(left + right).twips), qn("w:type"): "dxa"}
    put_table_property(properties, properties.makeelement(qn("w:tblW"), size))
    layout = properties.makeelement(qn("w:tblLayout"), {qn("w:type"): "fixed"})
    put_table_property(properties, layout)
    for row in table.rows:
        row.cells[0].width, row.cells[1].width = left, right
        keep_row_whole(row._tr)
    for cell in table.rows[0].cells:
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    return table


def keep_row_whole(row: object) -> None:
    """The row is never split across two pages."""
    properties = row.get_or_add_trPr()  # type: ignore[attr-defined]
    properties.append(OxmlElement("w:cantSplit"))


def field(paragraph: Paragraph, instruction: str, shown: str) -> None:
    """A Word field (e.g. PAGE) in `paragraph`, showing `shown` until it is updated."""

    def mark(kind: str) -> None:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(element)

    mark("begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    mark("separate")
    paragraph.add_run(shown)
    mark("end")


def page_numbers(document: DocxDocument) -> None:
    """Nghị định 30: the page number centred in the top margin, from the second page
    (the first page's header is empty)."""
    section = document.sections[0]
    section.different_first_page_header_footer = True
    section.header_distance = Mm(10)
    paragraph = section.header.paragraphs[0]
    paragraph.style = document.styles["Notice Centered"]
    field(paragraph, "PAGE", "2")


def head(document: DocxDocument, with_subject: bool) -> None:
    """Body and motto on the first row, number (and a Công văn's subject) and date on the second."""
    table = two_columns(document, LEFT_HEAD, RIGHT_HEAD)
    body, motto = table.rows[0].cells
    para(body, "{%p if doc.header.body_parent %}")
    para(body, "{{ doc.header.body_parent }}", size=13)
    para(body, "{%p endif %}")
    para(body, "{{ doc.header.body_name }}", size=13, bold=True)
    rule(body, Mm(22))
    para(motto, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
    para(motto, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True)
    rule(motto, Mm(58))
    number, date = table.add_row().cells
    number.width, date.width = LEFT_HEAD, RIGHT_HEAD
    for cell in (number, date):
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    para(number, "{{ doc.header.number_line }}", size=13)
    if with_subject:
        para(number, "{{ doc.subject }}", size=12).paragraph_format.space_before = Pt(6)
    para(date, "{{ doc.header.place_date }}", size=14, italic=True)
    para(document)


def loop(container: Container, items: str, *lines: tuple[str, str]) -> None:
    """`{%p for … %}` around one paragraph per (text, style)."""
    para(container, f"{{%p for {items} %}}")
    for text, style in lines:
        para(container, text, style=style)
    para(container, "{%p endfor %}")


def body(document: DocxDocument) -> None:
    loop(document, "text in doc.opening", ("{{ text }}", "Notice Body"))
    para(document, "{%p for section in doc.sections %}")
    para(document, "{{ section.heading }}", style="Notice Heading")
    loop(document, "text in section.paragraphs", ("{{ text }}", "Notice Body"))
    para(document, "{%p endfor %}")
    # the closing stays on the page of the "Nơi nhận" and the signature under it
    loop(document, "text in doc.closing", ("{{ text }}", "Notice Closing"))


def signature(document: DocxDocument) -> None:
    """ "Nơi nhận:" bottom left (bold italic 12 pt, list 11 pt); the signer right."""
    table = two_columns(document, Mm(75), Mm(90))
    copies, signer = table.rows[0].cells
    para(copies, "Nơi nhận:", style="Notice Cell Name", size=12, bold=True, italic=True)
    para(copies, "{%p for line in doc.copies %}")
    para(copies, "{{ line }}", style="Notice Cell Name", size=11)
    para(copies, "{%p endfor %}")
    para(signer, "{%p if doc.signature.signing_for %}")
    para(signer, "{{ doc.signature.signing_for }}", size=14, bold=True)
    para(signer, "{%p endif %}")
    para(signer, "{{ doc.signature.title }}", size=14, bold=True)
    for _ in range(4):
        para(signer)
    para(signer, "{{ doc.signature.name }}", size=14, bold=True)


def table_row(table: Table, cells: tuple[str, str, str], bold: bool, heading: bool = False) -> None:
    """A row whose first two cells are fixed and the rest repeat (`{%tc for %}`);
    the name (second cell) is aligned left except in the heading row."""
    first, name, each = cells
    texts = (
        first,
        name,
        "{%tc for " + each + " %}",
        "{{ " + each.split()[0] + " }}",
        "{%tc endfor %}",
    )
    row = table.add_row()
    keep_row_whole(row._tr)
    for cell, text in zip(row.cells, texts, strict=True):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
        style = "Notice Cell Name" if text == name and not heading else "Notice Cell"
        para(cell, text, style=style, bold=bold)


def tag_row(table: Table, tag: str) -> None:
    row = table.add_row()
    row.cells[0].paragraphs[0].add_run(tag)


def appendix_table(document: DocxDocument) -> None:
    """The bordered table of an appendix: a header row repeated on every page, then
    each row (bold when `row.strong`)."""
    table = document.add_table(rows=0, cols=5)
    borders(table, "single")
    caption = OxmlElement("w:tblCaption")
    caption.set(qn("w:val"), APPENDIX_TABLE)
    put_table_property(table._tbl.tblPr, caption)
    table_row(
        table,
        ("{{ table.columns[0] }}", "{{ table.columns[1] }}", "column in table.columns[2:]"),
        True,
        True,
    )
    header = table.rows[0]._tr.get_or_add_trPr()
    header.append(OxmlElement("w:tblHeader"))
    tag_row(table, "{%tr for row in table.rows %}")
    tag_row(table, "{%tr if row.strong %}")
    cells = ("{{ row.cells[0] }}", "{{ row.cells[1] }}", "cell in row.cells[2:]")
    table_row(table, cells, True)
    tag_row(table, "{%tr else %}")
    table_row(table, cells, False)
    tag_row(table, "{%tr endif %}")
    tag_row(table, "{%tr endfor %}")


def appendices(document: DocxDocument, page_break: bool) -> None:
    para(document, "{%p for appendix in doc.appendices %}")
    title = para(document, "{{ appendix.title }}", bold=True)
    title.paragraph_format.page_break_before = page_break
    para(document, "{%p if appendix.subtitle %}")
    para(document, "{{ appendix.subtitle }}", bold=True)
    para(document, "{%p endif %}")
    para(document, "{{ appendix.note }}", italic=True).paragraph_format.space_after = Pt(6)
    para(document, "{%p for table in appendix.tables %}")
    para(document, "{%p if table.caption %}")
    para(document, "{{ table.caption }}", style="Notice Caption")
    para(document, "{%p endif %}")
    appendix_table(document)
    para(document)
    para(document, "{%p endfor %}")
    para(document, "{%p for chart in appendix.charts %}")
    para(document, "{%p if charts[chart.key] %}")
    image = para(document, "{{ charts[chart.key] }}")
    image.paragraph_format.keep_with_next = True  # the caption under its chart
    para(document, "{{ chart.caption }}", style="Notice Caption")
    para(document, "{%p endif %}")
    para(document, "{%p endfor %}")
    para(document, "{%p endfor %}")


def congvan() -> DocxDocument:
    document = new_document()
    page_numbers(document)
    head(document, with_subject=True)
    # Nghị định 30: one recipient on the line of "Kính gửi:", several listed under it
    para(document, "{%p if doc.addressees | length == 1 %}")
    para(document, "Kính gửi: {{ doc.addressees[0] }}", style="Notice Centered")
    para(document, "{%p else %}")
    para(document, "Kính gửi:", style="Notice Centered")
    loop(document, "line in doc.addressees", ("{{ line }}", "Notice Centered"))
    para(document, "{%p endif %}")
    para(document)
    body(document)
    signature(document)
    landscape_section(document)
    appendices(document, page_break=True)
    return document


def baocao() -> DocxDocument:
    document = new_document()
    page_numbers(document)
    head(document, with_subject=False)
    para(document, "{{ doc.title }}", bold=True)
    para(document, "{{ doc.subject }}", bold=True).paragraph_format.space_after = Pt(12)
    body(document)
    signature(document)
    landscape_section(document)
    appendices(document, page_break=False)
    return document


def landscape_section(document: DocxDocument) -> None:
    """A new page turned landscape, for the appendices: their tables of six or seven
    columns need its width (on a portrait page a Công văn's "Nội dung" was 24 mm wide
    beside four dates, one word a line)."""
    landscape = document.add_section(WD_SECTION.NEW_PAGE)
    landscape.orientation = WD_ORIENT.LANDSCAPE
    landscape.different_first_page_header_footer = False  # the appendix's first page is numbered
    landscape.page_width, landscape.page_height = Mm(297), Mm(210)


def save_reproducibly(document: DocxDocument, path: Path) -> None:
    """Save with fixed zip timestamps, so an unchanged template is an unchanged file."""
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            fixed = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(item.filename))


def main(out_dir: Path = HERE) -> list[Path]:
    """Write both templates into `out_dir` (by default, next to this script)."""
    written = []
    for name, build in (("congvan", congvan), ("baocao", baocao)):
        save_reproducibly(build(), out_dir / f"{name}.docx")
        written.append(out_dir / f"{name}.docx")
    return written


if __name__ == "__main__":
    for path in main():
        print(path)
