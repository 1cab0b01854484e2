"""The nine-criteria (tt01) Báo cáo, quarterly and yearly, written from a table typed from
seed 002 (Điện Biên Đông, Quý I năm 2021) and read back from the .docx (python-docx)
and, where LibreOffice is installed, from its PDF as an office prints it.

The table has both levels, a unit of each that did not score itself, an agency
without dossiers, a commune whose self-score the office corrects (15,50 → 14,25)
and a town whose ĐTB does not add up; the quarter's table gives each unit's LEVEL,
the year's leaves it to the units' names.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from service.app import App
from service.config import IssuerSettings, NoticeSettings, Settings
from service.imports import import_file
from service.notices.documents import Issuer
from service.notices.produce import NoticeError, Request, write_notice
from service.notices.render import render_pdf
from service.notices.texts import default_texts
from service.notices.tt01_report import tt01_baocao
from service.notices.tt01_texts import load_tt01_texts
from service.periods import Period
from service.scoring.tt01 import NO_DOSSIERS
from tests.conftest import SCHEMES
from tests.notices.test_print import QUOC_HIEU, Printed

DATA = Path(__file__).resolve().parents[1] / "data"
TABLES = ("tt01-dienbiendong-2021-Q1.csv", "tt01-dienbiendong-2021.csv")
PERIODS = ("2021-Q1", "2021")
#: A quarter of seed 002's size and counts (14 agencies, 14 communes), levels by name.
SEED_SIZED = "tt01-dienbiendong-2021-Q2.csv"
PRINTED = (*PERIODS, "2021-Q2")
#: Seed 002's signature: a deputy signs for the head of the office.
ISSUER = IssuerSettings(
    body_parent="UBND HUYỆN ĐIỆN BIÊN ĐÔNG",
    body_name="VĂN PHÒNG HĐND - UBND",
    number_pattern="BC-VP",
    place="Điện Biên Đông",
    authority="KT.",
    authority_of="Chánh Văn phòng",
    signer_title="Phó Chánh Văn phòng",
    short_name="Văn phòng HĐND-UBND huyện",
    area_name="huyện Điện Biên Đông",
    recipients=("Đ/c Chủ tịch UBND huyện (b/c)",),
    copies=(  # seed 002's "Nơi nhận"
        "Văn phòng UBND tỉnh Điện Biên",
        "Các phòng, ban chuyên môn thuộc UBND huyện",
        "UBND các xã, thị trấn",
        "Trang thông tin điện tử huyện",
    ),
    archive_line="Lưu: VT.",
)
AUTHORITY = "KT. CHÁNH VĂN PHÒNG"
DISTRICT = (
    "- Cấp huyện: 04/06 đơn vị được chấm điểm: 03 đơn vị đạt loại Xuất sắc; 01 đơn vị đạt "
    "loại Tốt; 01 đơn vị chưa thực hiện việc chấm điểm (Phòng Nội vụ); 01 đơn vị chưa phát "
    "sinh hồ sơ (Phòng Văn hóa và Thông tin)."
)
COMMUNES = (
    "- Cấp xã: 04/05 đơn vị được chấm điểm: 03 đơn vị đạt loại Xuất sắc; 01 đơn vị đạt loại "
    "Tốt; 01 đơn vị chưa thực hiện việc chấm điểm (UBND xã Phì Nhừ)."
)
CORRECTED = "- UBND xã Keo Lôm tự chấm 15,50 điểm; kết quả thẩm định 14,25 điểm, đạt loại Tốt."
DESK = (
    "- UBND thị trấn Điện Biên Đông tự chấm ĐTB CCVC, BP một cửa 10,00 điểm; tổng điểm "
    "tiêu chí 1 đến tiêu chí 5 sau thẩm định là 9,50 điểm."
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Path]]:
    folder = tmp_path_factory.mktemp("tt01")
    settings = {"database": {"url": f"sqlite:///{folder / 'db.sqlite'}"}}
    app = App(Settings.model_validate(settings | {"scoring": {"schemes_dir": str(SCHEMES)}}))
    app.upgrade()
    for table in (*TABLES, SEED_SIZED):
        import_file(app.sessions(), DATA / table, app.schemes, None, dt.date(2026, 12, 5))
    yield app, folder
    app.engine.dispose()


def _write(world: tuple[App, Path], request: Request) -> Path:
    app, folder = world
    settings = NoticeSettings(out_dir=folder, formats=("docx",))
    with app.sessions().begin() as session:
        outcome = write_notice(session, app.schemes, settings, request, folder, ("docx",))
    return outcome.files[0].path


@pytest.fixture(scope="module")
def reports(world: tuple[App, Path]) -> dict[str, Path]:
    return {p: _write(world, Request("baocao", "DBD", Period.parse(p), "tt01", ISSUER))
            for p in PRINTED}  # fmt: skip


def _paragraphs(docx: Path) -> list[str]:
    """Every paragraph of the body and of its tables, spaces tidied."""
    document = Document(str(docx))
    cells = [p for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    return [" ".join(p.text.split()) for p in [*document.paragraphs, *cells]]


@pytest.mark.parametrize("period", PERIODS)
def test_each_level_is_counted_by_class_unscored_and_without_dossiers(reports, period):
    text = _paragraphs(reports[period])
    assert DISTRICT in text and COMMUNES in text
    assert text.index(DISTRICT) < text.index(COMMUNES)


@pytest.mark.parametrize("period", PERIODS)
def test_the_appraisal_names_the_corrected_self_score_and_the_desk_score(reports, period):
    text = _paragraphs(reports[period])
    assert CORRECTED in text and DESK in text


def test_a_quarter_of_seed_002s_size_counts_as_seed_002_does(reports):
    text = " ".join(_paragraphs(reports["2021-Q2"]))
    assert (
        "- Cấp huyện: 08/14 đơn vị được chấm điểm: 07 đơn vị đạt loại Xuất sắc; 01 đơn vị đạt "
        "loại Tốt; 02 đơn vị chưa thực hiện việc chấm điểm (Phòng Nông nghiệp và Phát triển "
        "nông thôn; Phòng Y tế); 04 đơn vị chưa phát sinh hồ sơ (" in text
    )
    assert (
        "- Cấp xã: 11/14 đơn vị được chấm điểm: 09 đơn vị đạt loại Xuất sắc; 02 đơn vị đạt loại "
        "Tốt; 03 đơn vị chưa thực hiện việc chấm điểm (UBND xã Nong U; UBND xã Pú Hồng; UBND "
        "xã Tìa Dình)." in text
    )


def test_the_subject_and_the_closing_say_the_quarter_or_the_year(reports):
    quarter, year = _paragraphs(reports["2021-Q1"]), _paragraphs(reports["2021"])
    subject = "Kết quả chấm điểm đánh giá việc giải quyết thủ tục hành chính {} trên địa bàn "
    assert subject.format("Quý I năm 2021") + "huyện Điện Biên Đông" in quarter
    assert subject.format("năm 2021") + "huyện Điện Biên Đông" in year
    assert "Điện Biên Đông, ngày …… tháng 4 năm 2021" in quarter
    assert "Điện Biên Đông, ngày …… tháng 01 năm 2022" in year


def test_the_appendix_groups_the_units_by_level_with_their_notes(reports):
    table = Document(str(reports["2021-Q1"])).tables[-1]
    rows = [[" ".join(c.text.split()) for c in row.cells] for row in table.rows]
    assert rows[0] == ["STT", "Tên cơ quan, đơn vị", *(f"Tiêu chí {i}" for i in range(1, 10)),
                       "Tổng điểm", "ĐTB", "Phân loại", "Ghi chú"]  # fmt: skip
    groups = [row[:2] for row in rows if row[0] in ("I", "II")]
    assert groups == [["I", "Cơ quan chuyên môn thuộc UBND huyện"],
                      ["II", "UBND các xã, thị trấn"]]  # fmt: skip
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Phòng Văn hóa và Thông tin"][-1] == "Không phát sinh TTHC"
    assert by_name["Phòng Nội vụ"][-1] == "Chưa chấm điểm"
    assert by_name["UBND xã Keo Lôm"][11:] == ["14,25", "8,25", "Tốt", "Tự chấm 15,50 điểm"]
    assert by_name["UBND thị trấn Điện Biên Đông"][-1] == "ĐTB tự chấm 10,00"
    assert by_name["Phòng Lao động - Thương binh và Xã hội"][:13] == ["1", rows[2][1], *["2"] * 9,
                                                                      "18,00", "10,00"]  # fmt: skip


def test_a_deputy_signs_for_the_head_of_the_office(reports):
    text = _paragraphs(reports["2021-Q1"])
    assert AUTHORITY in text and "PHÓ CHÁNH VĂN PHÒNG" in text
    assert "- Lưu: VT." in text


@pytest.mark.parametrize(
    ("kind", "scheme", "period", "message"),
    [
        ("congvan", "tt01", "2021-Q1", "--kind congvan --scheme tt01: the nine-criteria scheme "
         "has a Báo cáo only"),
        ("baocao", "tt01", "2021-02", "--period 2021-02: the nine-criteria Báo cáo is written for "
         "a quarter (2021-Q1) or a year (2021)"),
        ("congvan", "766", "2021-Q1", "--period 2021-Q1: the congvan of scheme 766 is written "
         "for a month (e.g. 2021-03)"),
        ("baocao", "766", "2021", "--period 2021: the baocao of scheme 766 is written for a month"),
    ],
)  # fmt: skip
def test_a_notice_that_is_not_written_for_such_a_period_is_one_line(
    world, kind, scheme, period, message
):
    with pytest.raises(NoticeError) as raised:
        _write(world, Request(kind, "DBD", Period.parse(period), scheme, ISSUER))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_set_without_tt01_units_for_the_period_is_one_line(world):
    with pytest.raises(NoticeError, match=r"^--unit DBD: no tt01 units in this set for 2020-Q4$"):
        _write(world, Request("baocao", "DBD", Period.parse("2020-Q4"), "tt01", ISSUER))


# Printed through LibreOffice, with the checks of test_print.py ---------------------------

needs_libreoffice = pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")) or not shutil.which("pdftotext"),
    reason="LibreOffice or poppler-utils is not installed here",
)


@pytest.fixture(scope="module")
def printed(reports, world) -> dict[str, Printed]:
    found = {}
    for period, docx in reports.items():
        pdf = render_pdf(docx, world[1] / f"pdf-{period}", timeout=300)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        found[period] = Printed(docx, text.split("\f")[:-1])
    return found


@needs_libreoffice
@pytest.mark.parametrize("period", PRINTED)
def test_it_prints_in_the_form_of_nghi_dinh_30(printed, period):
    document = printed[period]
    pages = document.pages
    assert QUOC_HIEU in pages[0]
    first_lines = [(page.split() or [""])[0] for page in pages]
    assert first_lines[0] != "1" and first_lines[1:] == [str(n) for n in range(2, len(pages) + 1)]
    for number, page in enumerate(pages[1:], start=2):
        assert page.split() != [str(number)], f"page {number} is empty"
    assert document.page_of("Nơi nhận") == document.page_of(AUTHORITY)
    joined = re.sub(r"\s+", " ", " ".join(pages))
    assert re.search(r"0[37] đơn vị đạt loại Xuất sắc; 01 đơn vị đạt loại Tốt", joined)


@needs_libreoffice
@pytest.mark.parametrize("period", PRINTED)
def test_the_appendix_tables_grid_agrees_with_its_cells_and_rows_hold_together(printed, period):
    table = Document(str(printed[period].docx)).tables[-1]
    grid = [int(column.get(qn("w:w"))) for column in table._tbl.tblGrid.iterchildren()]
    assert len(grid) == 15
    for row in table.rows:
        widths = [int(cell._tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for cell in row.cells]
        assert widths == grid
        assert row._tr.trPr.find(qn("w:cantSplit")) is not None
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_a_self_score_of_a_unit_without_dossiers_is_corrected_in_words():
    row = {"unit_code": "DBD.VHTT", "unit_name": "Phòng Văn hóa và Thông tin", "total": None,
           "class": None, "status": NO_DOSSIERS, "axes": {},
           "mismatches": [{"field": "TOTAL", "reported": 16.0, "computed": None}]}  # fmt: skip
    document = tt01_baocao([row], {}, Issuer(), Period.parse("2021-Q1"), "", default_texts(),
                           load_tt01_texts(None))  # fmt: skip
    appraisal = next(s for s in document.sections if s.heading == "2. Kết quả thẩm định")
    assert appraisal.paragraphs[1] == (
        "- Phòng Văn hóa và Thông tin tự chấm 16,00 điểm; kết quả thẩm định: không phát sinh TTHC."
    )


def test_the_command_writes_the_quarter_and_refuses_a_month_in_one_line(app, cli, tmp_path, capsys):
    import_file(app.sessions(), DATA / TABLES[0], app.schemes, None, dt.date(2026, 12, 5))
    asked = ("notice", "--kind", "baocao", "--scheme", "tt01", "--unit", "DBD", "--to", "docx")
    assert cli(*asked, "--period", "2021-Q1", "--out", str(tmp_path)) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written.suffix == ".docx" and DISTRICT in _paragraphs(written)
    assert cli(*asked, "--period", "2021-03", "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "dvcwatch: --period 2021-03: the nine-criteria Báo cáo is written for a quarter "
        "(2021-Q1) or a year (2021)"
    ]
