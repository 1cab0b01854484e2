"""Both notices, for the demo province and the real Phú Thọ 2026-08 captures, printed
through a real LibreOffice and read back from the PDF as an office prints them.

The documents are written by `write_notice` from a database synced from the
portal simulator (the generated demo province, two months; Phú Thọ replayed,
one month), converted by `render_pdf`, and read with `pdftotext -layout`.
These tests run wherever LibreOffice and poppler are installed (CI installs
them); without them they are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from service.app import App
from service.config import NoticeSettings, PortalSettings, Settings
from service.notices.produce import Request, write_notice
from service.notices.render import render_pdf
from service.notices.tables import APPENDIX_TABLE
from service.periods import Period
from service.simulator.simulator import GeneratedSource, PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO, SCHEMES

pytestmark = pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")) or not shutil.which("pdftotext"),
    reason="LibreOffice or poppler-utils is not installed here",
)

QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
AUTHORITY = "TM. ỦY BAN NHÂN DÂN"


@dataclass(frozen=True)
class Printed:
    """One notice: its .docx and the text of each page of its PDF."""

    docx: Path
    pages: list[str]

    def page_of(self, text: str) -> int:
        """The number (from 1) of the first page showing `text`."""
        return next(number for number, page in enumerate(self.pages, 1) if text in page)


def _app(folder: Path) -> App:
    settings = {"database": {"url": f"sqlite:///{folder / 'db.sqlite'}"}}
    app = App(Settings.model_validate(settings | {"scoring": {"schemes_dir": str(SCHEMES)}}))
    app.upgrade()
    return app


def _sync(app: App, source: object, province: str | None, periods: list[Period]) -> str:
    with PortalSimulator(source) as simulator:  # type: ignore[arg-type]
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        if province is None:
            from service.demo import _first_province

            province = _first_province(PortalSettings(base_url=simulator.base_url), periods[-1])
        for period in periods:
            outcome = sync_province(app.sessions(), portal, province, period, dt.date(2026, 11, 22))
            assert outcome.error is None, outcome.error
    return province


def _print(app: App, folder: Path, request: Request) -> Printed:
    settings = NoticeSettings(out_dir=folder, formats=("docx",))
    with app.sessions().begin() as session:
        outcome = write_notice(session, app.schemes, settings, request, folder, ("docx",))
    docx = outcome.files[0].path
    pdf = render_pdf(docx, folder / "pdf", timeout=300)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return Printed(docx, text.split("\f")[:-1])


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Printed]]:
    """The Công văn of a commune and the Báo cáo of its province's communes, for the
    demo (2026-09 and 2026-10) and for Phú Thọ (2026-08, the only month captured)."""
    notices: dict[str, Printed] = {}
    for name, source, province, periods in (
        ("demo", GeneratedSource(seed=2026, provinces=1, communes=23, agencies=6), None,
         [Period.parse("2026-09"), Period.parse("2026-10")]),
        ("phu-tho", ReplaySource(PHU_THO), "H44", [Period.parse("2026-08")]),
    ):  # fmt: skip
        folder = tmp_path_factory.mktemp(name)
        app = _app(folder)
        code = _sync(app, source, province, periods)
        commune = "H44.116" if name == "phu-tho" else f"{code}.120"
        for kind, unit in (("congvan", commune), ("baocao", code)):
            notices[f"{name} {kind}"] = _print(app, folder, Request(kind, unit, periods[-1]))
        app.engine.dispose()
    yield notices


NOTICES = ["demo congvan", "demo baocao", "phu-tho congvan", "phu-tho baocao"]


@pytest.mark.parametrize("notice", NOTICES)
def test_the_quoc_hieu_prints_on_one_line(printed: dict[str, Printed], notice: str) -> None:
    assert QUOC_HIEU in printed[notice].pages[0]


@pytest.mark.parametrize("notice", NOTICES)
def test_every_page_from_the_second_shows_its_number_and_none_is_empty(
    printed: dict[str, Printed], notice: str
) -> None:
    pages = printed[notice].pages
    assert len(pages) >= 2
    first_lines = [(page.split() or [""])[0] for page in pages]
    assert first_lines[0] != "1"
    assert first_lines[1:] == [str(number) for number in range(2, len(pages) + 1)]
    for number, page in enumerate(pages[1:], start=2):
        assert page.split() != [str(number)], f"page {number} is empty"


@pytest.mark.parametrize("notice", NOTICES)
def test_the_noi_nhan_prints_on_the_page_of_the_signing_authority(
    printed: dict[str, Printed], notice: str
) -> None:
    document = printed[notice]
    assert document.page_of("Nơi nhận") == document.page_of(AUTHORITY)


@pytest.mark.parametrize("notice", ["demo baocao", "phu-tho baocao"])
def test_the_bao_caos_body_fits_in_four_pages(printed: dict[str, Printed], notice: str) -> None:
    assert printed[notice].page_of(AUTHORITY) <= 4
    assert "Thấp nhất" not in " ".join(printed[notice].pages[:1])  # the chart is in the appendix


@pytest.mark.parametrize("notice", NOTICES)
def test_no_comparison_is_made_with_a_month_the_text_says_has_no_data(
    printed: dict[str, Printed], notice: str
) -> None:
    text = re.sub(r"\s+", " ", " ".join(printed[notice].pages))
    for month in set(re.findall(r"chưa có số liệu (tháng \d+/\d{4})", text)):
        assert f"so với {month}" not in text, month
        assert f"và {month}" not in text, month  # a chart caption naming it


def test_phu_thos_single_month_says_july_has_no_data(printed: dict[str, Printed]) -> None:
    text = re.sub(r"\s+", " ", " ".join(printed["phu-tho congvan"].pages))
    assert text.count("Chưa có số liệu tháng 7/2026 để so sánh.") == 1  # once, not per axis
    assert "Chủ tịch UBND xã yêu cầu" in text and "- Tỉnh Phú Thọ" not in text


@pytest.mark.parametrize("notice", NOTICES)
def test_tables_grids_agree_with_their_cells_and_appendix_rows_hold_together(
    printed: dict[str, Printed], notice: str
) -> None:
    document = Document(str(printed[notice].docx))
    for table in document.tables:
        grid = [int(column.get(qn("w:w"))) for column in table._tbl.tblGrid.iterchildren()]
        for row in table.rows:
            widths = [int(cell._tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for cell in row.cells]
            assert widths == grid[: len(widths)]
        caption = table._tbl.tblPr.find(qn("w:tblCaption"))
        if caption is None or caption.get(qn("w:val")) != APPENDIX_TABLE:
            continue
        header = table.rows[0]._tr.trPr
        assert header is not None and header.find(qn("w:tblHeader")) is not None
        for row in table.rows:
            assert row._tr.trPr.find(qn("w:cantSplit")) is not None
