"""Rendering with the real docxtpl, Jinja2 and python-docx; PDF with a fake `soffice`."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import stat
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm

from service.notices import render
from service.notices.baocao import baocao
from service.notices.charts import trend_chart
from service.notices.congvan import CongVan, congvan
from service.notices.documents import Issuer, Notice
from service.notices.render import (
    NoticeTemplateError,
    PdfConversionFailed,
    PdfUnavailable,
    find_template,
    render_docx,
    render_html,
    render_pdf,
    write_atomic,
)
from service.notices.tables import (
    CELL_PADDING,
    NAME_LEAST,
    WIDE_FONT,
    WIDE_MARGIN,
    column_widths,
    text_width,
)
from service.notices.texts import TEMPLATES_DIR, default_texts
from service.notices.tt01_appendix import COLUMNS
from service.vnformat import BLANK
from tests.notices import (
    BINH_THANH_ISSUER,
    TUA_CHUA_ISSUER,
    binh_thanh_figures,
    binh_thanh_row,
    tua_chua_rows,
)
from tests.waiting import wait_until

HOSTILE = "Xã <script>alert('x')</script> & Co"


def binh_thanh(issuer: Issuer = BINH_THANH_ISSUER, **changes: Any) -> CongVan:
    return congvan(
        binh_thanh_row(**changes),
        binh_thanh_row(8),
        binh_thanh_figures(9),
        binh_thanh_figures(8),
        issuer,
        "2024-09",
        date(2024, 10, 5),
    )


def rendered(notice: Notice, folder: Path, charts: dict[str, bytes] | None = None) -> DocxDocument:
    out = render_docx(notice, find_template(notice.kind, None), folder / "out.docx", charts)
    return docx.Document(str(out))


def all_text(document: DocxDocument) -> str:
    """Paragraphs and table cells, in document order."""
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def congvan_docx(tmp_path_factory: pytest.TempPathFactory) -> DocxDocument:
    charts = {"trend": trend_chart([("2024-08", 86.97), ("2024-09", 93.81)])}
    return rendered(binh_thanh(), tmp_path_factory.mktemp("congvan"), charts)


def test_the_congvan_has_its_header_in_a_borderless_two_column_table(
    congvan_docx: DocxDocument,
) -> None:
    head = congvan_docx.tables[0]
    body, motto = head.rows[0].cells
    number, place_date = head.rows[1].cells
    assert body.text.startswith("ỦY BAN NHÂN DÂN\nXÃ BÌNH THÀNH")
    assert all(run.bold for run in body.paragraphs[0].runs)
    assert motto.paragraphs[0].text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert motto.paragraphs[1].text == "Độc lập - Tự do - Hạnh phúc"
    assert all(run.bold for p in motto.paragraphs[:2] for run in p.runs)
    assert number.paragraphs[0].text == f"Số: {BLANK}/UBND-VP"
    assert number.paragraphs[1].text.startswith("V/v kết quả đánh giá chất lượng phục vụ")
    assert number.paragraphs[1].text.endswith("trên cổng DVCQG tháng 9 năm 2024")
    assert place_date.text == "Bình Thành, ngày 05 tháng 10 năm 2024"
    assert all(run.italic for run in place_date.paragraphs[0].runs)
    borders = head._tbl.tblPr.find(qn("w:tblBorders"))
    assert {edge.get(qn("w:val")) for edge in borders} == {"nil"}


def test_the_congvan_is_a4_with_the_nghi_dinh_30_margins_in_times_new_roman(
    congvan_docx: DocxDocument,
) -> None:
    section = congvan_docx.sections[0]
    page = (section.page_width, section.page_height)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(length.mm) if length else None for length in page] == [210, 297]
    assert [round(length.mm) if length else None for length in margins] == [20, 20, 30, 15]
    normal = congvan_docx.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "Times New Roman"
    body = next(p for p in congvan_docx.paragraphs if p.text.startswith("1.1. "))
    style = body.style
    assert style is not None and style.name == "Notice Body"
    assert style.font.size is not None and style.font.size.pt == 14
    assert style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    indent = style.paragraph_format.first_line_indent
    assert indent is not None and indent.mm > 10


def test_the_congvan_says_each_axis_the_total_and_the_rank(congvan_docx: DocxDocument) -> None:
    paragraphs = [p.text for p in congvan_docx.paragraphs]
    for sentence in (
        "1.1. Điểm số trục nội dung Công khai minh bạch đạt 17,5/18 điểm, "
        "tăng 3,8 điểm so với tháng 8/2024.",
        "1.3. Điểm số trục nội dung Dịch vụ công trực tuyến đạt 7,2/12 điểm, "
        "giảm 0,1 điểm so với tháng 8/2024.",
        "1.4. Điểm số trục nội dung Thanh toán trực tuyến đạt 10/10 điểm, "
        "giữ nguyên điểm so với tháng 8/2024.",
        "1.7. Điểm tổng hợp đạt 93,81/100 điểm, tăng 6,84 điểm; xếp hạng 03/23 xã, phường "
        "và tăng 18 bậc trên bảng xếp hạng so với tháng 8/2024.",
        "Kính gửi:",
        "- 14 xóm.",
    ):
        assert sentence in paragraphs
    text = all_text(congvan_docx)
    assert "31/9" not in text
    assert "Nơi nhận:" in text and "- Lưu: VT, VP." in text and "Ma Khánh Sơn" in text


def test_the_congvan_appendices_are_bordered_tables_with_their_values(
    congvan_docx: DocxDocument,
) -> None:
    first, second = congvan_docx.tables[2], congvan_docx.tables[3]
    header = [cell.text for cell in first.rows[0].cells]
    assert header[2:] == [
        "Số liệu ngày 31/8/2024",
        "Tỷ lệ ngày 31/8/2024",
        "Số liệu ngày 30/9/2024",
        "Tỷ lệ ngày 30/9/2024",
        "Tăng (+)/ Giảm (-) so với ngày 31/8/2024",
    ]
    rows = {row.cells[1].text: [cell.text for cell in row.cells] for row in first.rows}
    assert rows["Công khai, minh bạch (điểm)"][2:] == ["13,7", "", "17,5", "", "+ 3,8"]
    assert rows["Tỷ lệ hồ sơ thanh toán trực tuyến"][2:] == [
        "4.642/4.808", "96,55%", "4.763/4.906", "97,09%",
        "+ 0,54 điểm phần trăm".replace(" ", "\u00a0"),
    ]  # fmt: skip
    overdue = next(row for row in second.rows if row.cells[1].text == "Số lượng hồ sơ quá hạn")
    assert [cell.text for cell in overdue.cells][2:] == ["4", "3", "- 1"]
    borders = first._tbl.tblPr.find(qn("w:tblBorders"))
    assert {edge.get(qn("w:val")) for edge in borders} == {"single"}
    titles = [p.text for p in congvan_docx.paragraphs if p.text.startswith("PHỤ LỤC")]
    assert titles == [
        "PHỤ LỤC I. BIỂU TỔNG HỢP SỐ LIỆU THÁNG 9 NĂM 2024",
        "PHỤ LỤC II. THỐNG KÊ CHI TIẾT CỦA XÃ BÌNH THÀNH THÁNG 9 NĂM 2024",
    ]


def test_a_given_chart_is_embedded_and_a_missing_one_is_left_out(
    congvan_docx: DocxDocument,
) -> None:
    assert len(congvan_docx.inline_shapes) == 1
    captions = [p.text for p in congvan_docx.paragraphs if "qua các tháng" in p.text]
    assert captions == ["Điểm tổng hợp của Xã Bình Thành qua các tháng"]


def test_an_unconfigured_issuer_leaves_the_number_and_the_day_blank(tmp_path: Path) -> None:
    notice = congvan(binh_thanh_row(), None, {}, None, Issuer(), "2024-09", None)
    head = rendered(notice, tmp_path).tables[0]
    assert head.rows[1].cells[0].paragraphs[0].text == f"Số: {BLANK}/{BLANK}"
    assert head.rows[1].cells[1].text == f"{BLANK}, ngày {BLANK} tháng 10 năm 2024"


def test_a_parent_body_is_upright_above_the_bold_name(tmp_path: Path) -> None:
    issuer = Issuer(body_parent="UBND huyện Định Hóa", body_name="Văn phòng")
    body = rendered(binh_thanh(issuer), tmp_path).tables[0].rows[0].cells[0]
    parent, name = body.paragraphs[0], body.paragraphs[1]
    assert (parent.text, name.text) == ("UBND HUYỆN ĐỊNH HÓA", "VĂN PHÒNG")
    assert not any(run.bold for run in parent.runs)
    assert all(run.bold for run in name.runs)


def test_the_baocao_counts_classes_names_units_and_ranks_them_on_a_landscape_page(
    tmp_path: Path,
) -> None:
    report = baocao(tua_chua_rows(), None, TUA_CHUA_ISSUER, "2024-03", "QĐ 459", default_texts())
    document = rendered(report, tmp_path)
    text = all_text(document)
    assert (
        "Thực hiện chấm điểm, đánh giá 12/12 xã, thị trấn. "
        "Trong đó, 06 đơn vị xếp loại Xuất sắc, 06 đơn vị xếp loại Tốt."
    ) in text
    assert (
        "Chưa số hóa thành phần hồ sơ khi giải quyết thủ tục hành chính: UBND xã Xá Nhè 01 hồ sơ."
        in text
    )
    ranking, outstanding = document.tables[-2:]
    assert [cell.text for cell in outstanding.rows[1].cells][:3] == ["1", "UBND xã Xá Nhè", "1"]
    assert [cell.text for cell in ranking.rows[1].cells][:2] == ["1", "UBND thị trấn"]
    assert [cell.text for cell in ranking.rows[-1].cells][-3:] == ["75,45", "83,83", "Tốt"]
    assert len(ranking.rows) == 13
    assert document.sections[-1].orientation == WD_ORIENT.LANDSCAPE
    assert document.sections[0].orientation == WD_ORIENT.PORTRAIT


def test_a_name_with_markup_is_printed_as_text_in_the_docx(tmp_path: Path) -> None:
    document = rendered(binh_thanh(unit_name=HOSTILE), tmp_path)
    assert f"2. Tổng hợp chi tiết số liệu của {HOSTILE}" in [p.text for p in document.paragraphs]


class _Balance(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element."""

    VOID = {"meta", "br", "img", "link", "hr", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"


@pytest.mark.parametrize("kind", ["congvan", "baocao"])
def test_the_html_escapes_names_and_parses(kind: str) -> None:
    if kind == "congvan":
        notice: Notice = binh_thanh(unit_name=HOSTILE)
    else:
        rows = [row | {"unit_name": HOSTILE} for row in tua_chua_rows()]
        notice = baocao(rows, None, TUA_CHUA_ISSUER, "2024-03", "QĐ 459", default_texts())
    page = render_html(notice, find_template(kind, None, "html"), {"place": b"\x89PNG"})
    assert "<script>" not in page
    assert "Xã &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in page
    assert 'src="data:image/png;base64,iVBORw=="' in page
    balance = _Balance()
    balance.feed(page)
    balance.close()
    assert balance.open == []


def _template_with(tmp_path: Path, tag: str) -> Path:
    """A copy of the Công văn template with one more paragraph holding `tag`."""
    folder = tmp_path / "office"
    folder.mkdir()
    document = docx.Document(str(find_template("congvan", None)))
    document.add_paragraph(tag)
    document.save(str(folder / "congvan.docx"))
    return folder


@pytest.mark.parametrize(
    ("tag", "named"), [("{{ signer_phone }}", "signer_phone"), ("{{ doc.fax }}", "fax")]
)
def test_a_template_naming_an_undeclared_variable_fails_clearly_and_writes_nothing(
    tmp_path: Path, tag: str, named: str
) -> None:
    folder = _template_with(tmp_path, tag)
    template = find_template("congvan", folder)
    assert template == folder / "congvan.docx"
    out = tmp_path / "out" / "congvan.docx"
    with pytest.raises(NoticeTemplateError, match=named) as error:
        render_docx(binh_thanh(), template, out)
    assert str(template) in str(error.value)
    assert not out.parent.exists()  # not even the folder: nothing was written


def test_a_failed_render_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "congvan.docx"
    out.write_bytes(b"last month's signed copy")
    folder = _template_with(tmp_path, "{{ nothing_here }}")
    with pytest.raises(NoticeTemplateError):
        render_docx(binh_thanh(), find_template("congvan", folder), out)
    assert out.read_bytes() == b"last month's signed copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["congvan.docx", "office"]


def test_an_interrupted_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(render.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(tmp_path / "a.docx", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_templates_are_found_in_the_office_folder_first(tmp_path: Path) -> None:
    assert find_template("baocao", tmp_path) == TEMPLATES_DIR / "baocao.docx"
    assert find_template("baocao", None, "html") == TEMPLATES_DIR / "baocao.html.j2"
    (tmp_path / "baocao.html.j2").write_text('{% extends "_notice.html.j2" %}', encoding="utf-8")
    assert find_template("baocao", tmp_path, "html") == tmp_path / "baocao.html.j2"
    with pytest.raises(NoticeTemplateError, match="kinds are congvan, baocao"):
        find_template("thongbao", None)


def test_the_committed_templates_are_what_the_build_script_makes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_templates", TEMPLATES_DIR / "build_templates.py"
    )
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for built in script.main(tmp_path):
        assert built.read_bytes() == (TEMPLATES_DIR / built.name).read_bytes(), built.name


# PDF ----------------------------------------------------------------------------------

FAKE_SOFFICE = """#!{python}
import os, pathlib, subprocess, sys, time
args = sys.argv[1:]
pathlib.Path(os.environ["FAKE_SOFFICE_LOG"]).write_text("\\n".join(args))
mode = os.environ.get("FAKE_SOFFICE_MODE", "ok")
if mode == "hang":  # stuck, with a helper process of its own as LibreOffice has
    helper = [sys.executable, "-c", "import time; time.sleep(600)", args[-1]]
    subprocess.Popen(helper, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(600)  # then it would give its PDF: only being stopped ends it sooner
if mode == "fail":
    sys.stderr.write("source file could not be loaded")
    sys.exit(1)
out = pathlib.Path(args[args.index("--outdir") + 1])
out.mkdir(parents=True, exist_ok=True)
(out / (pathlib.Path(args[-1]).stem + ".pdf")).write_bytes(b"%PDF-1.4\\n% fake\\n%%EOF\\n")
"""


@pytest.fixture
def fake_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `soffice` first (and alone) on PATH; returns the file it logs its arguments to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "soffice"
    program.write_text(FAKE_SOFFICE.format(python=sys.executable), encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_SOFFICE_LOG", str(tmp_path / "soffice.log"))
    return tmp_path / "soffice.log"


def test_pdf_is_converted_by_soffice_with_its_own_profile(
    tmp_path: Path, fake_soffice: Path
) -> None:
    source = write_atomic(tmp_path / "in" / "congvan-2024-09.docx", b"docx")
    pdf = render_pdf(source, tmp_path / "out", timeout=20)
    assert pdf == tmp_path / "out" / "congvan-2024-09.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    args = fake_soffice.read_text().splitlines()
    assert args[0].startswith("-env:UserInstallation=file://")
    assert {"--headless", "--convert-to", "pdf"} <= set(args)
    assert args[-1] == str(source)
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["congvan-2024-09.pdf"]


def test_a_hanging_conversion_is_stopped_after_the_timeout(
    tmp_path: Path, fake_soffice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped, not waited for: the conversion fails (a hung LibreOffice that ran to its
    end would give a PDF), and neither it nor its helper is left running."""
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "hang")
    source = write_atomic(tmp_path / "a.docx", b"docx")
    with pytest.raises(PdfConversionFailed, match="longer than 0.5 s"):
        render_pdf(source, tmp_path / "out", timeout=0.5)
    assert not (tmp_path / "out").exists()
    wait_until(lambda: not processes_naming(source), "the conversion's processes to end")


def processes_naming(path: Path) -> list[int]:
    """The live processes with `path` among their arguments (a zombie has none)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or one that just ended
            continue
        if entry.name.isdigit() and os.fsencode(path) in arguments:
            found.append(int(entry.name))
    return found


def test_a_failed_conversion_says_what_libreoffice_said(
    tmp_path: Path, fake_soffice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SOFFICE_MODE", "fail")
    source = write_atomic(tmp_path / "a.docx", b"docx")
    with pytest.raises(PdfConversionFailed, match="exit 1.*could not be loaded"):
        render_pdf(source, tmp_path / "out")


def test_without_libreoffice_the_pdf_error_names_the_missing_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PdfUnavailable, match="LibreOffice is not installed.*'soffice'"):
        render_pdf(tmp_path / "a.docx", tmp_path)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(
    not any(shutil.which(name) for name in ("soffice", "libreoffice")),
    reason="LibreOffice is not installed here (the fake-soffice tests cover the logic)",
)
def test_a_real_libreoffice_turns_the_congvan_into_a_pdf(tmp_path: Path) -> None:
    source = tmp_path / "congvan.docx"
    render_docx(binh_thanh(), find_template("congvan", None), source)
    pdf = render.render_pdf(source, tmp_path / "pdf", timeout=120)
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 10_000


def test_a_table_of_many_columns_wraps_headers_and_names_before_its_values() -> None:
    """The nine-criteria appendix: fifteen columns on a landscape page. A value ("Xuất
    sắc", "10,00") keeps its line; the headings and the name column wrap instead."""
    row = ["1", "Phòng Lao động - Thương binh và Xã hội", *["1,75"] * 9, "17,75", "10,00",
           "Xuất sắc", "Không phát sinh TTHC"]  # fmt: skip
    width = 14287  # A4 landscape less the margins of Nghị định 30, in twips
    widths = column_widths([list(COLUMNS), row], width)
    assert sum(widths) == width and widths[1] >= NAME_LEAST
    for column in (2, 11, 12, 13):
        assert widths[column] >= text_width(row[column]) + CELL_PADDING, COLUMNS[column]
    assert widths[2] < text_width("Tiêu chí 1", bold=True) + CELL_PADDING  # the heading wraps


def test_the_section_break_after_the_signature_is_a_point_high(tmp_path: Path) -> None:
    """Printed through LibreOffice, a 14 pt empty paragraph after a signature that ends its
    page fell onto a page of its own (an empty page before a seed-002-sized appendix)."""
    report = baocao(tua_chua_rows(), None, TUA_CHUA_ISSUER, "2024-03", "QĐ 459", default_texts())
    body = rendered(report, tmp_path).element.body
    breaks = [p for p in body.iterchildren(qn("w:p")) if p.find(f"{qn('w:pPr')}/{qn('w:sectPr')}")
              is not None]  # fmt: skip
    assert len(breaks) == 1 and breaks[0].getprevious().tag == qn("w:tbl")
    spacing = breaks[0].find(f"{qn('w:pPr')}/{qn('w:spacing')}")
    assert (spacing.get(qn("w:line")), spacing.get(qn("w:lineRule"))) == ("20", "exact")
    assert breaks[0].find(f"{qn('w:pPr')}/{qn('w:rPr')}/{qn('w:sz')}").get(qn("w:val")) == "2"


@pytest.mark.parametrize(
    ("recipients", "lines"),
    [
        (("Sở Nội vụ",), ["Kính gửi: Sở Nội vụ."]),
        ((), [f"Kính gửi: {BLANK}"]),
        (("Phòng A", "Phòng B"), ["Kính gửi:", "- Phòng A;", "- Phòng B."]),
    ],
)
def test_kinh_gui_is_one_line_for_one_recipient_and_a_list_for_several(
    tmp_path: Path, recipients: tuple[str, ...], lines: list[str]
) -> None:
    issuer = dataclasses.replace(BINH_THANH_ISSUER, recipients=recipients)
    paragraphs = [p.text for p in rendered(binh_thanh(issuer), tmp_path).paragraphs]
    start = next(i for i, text in enumerate(paragraphs) if text.startswith("Kính gửi:"))
    assert paragraphs[start : start + len(lines)] == lines
    assert paragraphs[start + len(lines)].strip() == ""  # then the body, after a blank line


def test_a_change_in_points_is_one_word_a_crowded_table_never_breaks() -> None:
    change = "- 1,7 điểm phần trăm".replace(" ", "\u00a0")
    header = ["STT", "Nội dung", "Số liệu", "Tỷ lệ", "Số liệu", "Tỷ lệ", "Tăng (+)/ Giảm (-)"]
    row = [
        "1.1",
        "Tỷ lệ TTHC cập nhật",
        "Không phát sinh",
        "82,35%",
        "Không phát sinh",
        "9%",
        change,
    ]
    widths = column_widths([header, row, row], Mm(160).twips)
    assert widths[-1] >= text_width(change) + CELL_PADDING


def test_a_table_of_eleven_criteria_prints_small_enough_for_its_names(tmp_path: Path) -> None:
    """Tủa Chùa's appendix (seed 000): sixteen columns. At 11 pt its codes alone filled
    the landscape page ("CKM / B.1" broke mid-code, names wrapped over four lines, twelve
    rows over two pages); it prints at 9 pt with narrow margins, codes wrap at their dot,
    the name column keeps its room."""
    report = baocao(tua_chua_rows(), None, TUA_CHUA_ISSUER, "2024-03", "QĐ 459", default_texts())
    document = rendered(report, tmp_path)
    ranked = next(t for t in document.tables if len(t.columns) == 16)
    table = ranked._tbl
    sizes = {size.get(qn("w:val")) for size in table.iter(qn("w:sz"))}
    assert sizes == {str(int(WIDE_FONT.pt * 2))}
    margins = table.tblPr.find(qn("w:tblCellMar"))
    assert {m.get(qn("w:w")) for m in margins} == {str(WIDE_MARGIN)}
    grid = [int(column.get(qn("w:w"))) for column in table.tblGrid.iterchildren()]
    assert grid[1] >= NAME_LEAST
    assert "CKMB.\u200b1 (5)" in [cell.text for cell in ranked.rows[0].cells]
    for run in table.iter(qn("w:r")):  # the schema's order: the size before the language
        tags = [child.tag for child in run.find(qn("w:rPr"))]
        if qn("w:lang") in tags:
            assert tags.index(qn("w:sz")) < tags.index(qn("w:lang"))
