"""Reading a workbook: what openpyxl warns about or cannot read is one line naming the file."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from service.app import App
from service.sources import readers
from service.sources.interchange import InterchangeError, read_interchange
from tests.conftest import PROJECT
from tests.sources.hostile import COLUMNS, csv_text, rewrite_member, table, write_xlsx


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InterchangeError) as raised:
        read_interchange(path)
    return [str(problem) for problem in raised.value.problems]


def sheetless_with_print_titles(path: Path) -> None:
    """A workbook whose only sheet was removed from workbook.xml, its print titles left:
    openpyxl warns "Defined names for sheet index 0 cannot be located"."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    sheet.print_title_rows = "1:1"
    workbook.save(path)
    rewrite_member(
        path, "xl/workbook.xml", lambda xml: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", xml)
    )


def test_no_library_warning_escapes_reading_a_workbook_without_a_sheet(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    sheetless_with_print_titles(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert problems_of(path) == ["has no sheet"]


def test_a_date_cell_out_of_range_is_a_bad_cell_not_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    write_xlsx([dict(row) for row in table()])(path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    sheet["H2"] = 99_999_999_999
    sheet["H2"].number_format = "yyyy-mm-dd"
    workbook.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert problems_of(path) == ['row 2, column value: "#VALUE!" is not a number']


def test_the_command_prints_one_line_for_a_workbook_without_a_sheet(
    app: App, tmp_path: Path
) -> None:
    path = tmp_path / "table.xlsx"
    sheetless_with_print_titles(path)
    config = tmp_path / "dvcwatch.toml"
    config.write_text("", encoding="utf-8")
    command = [sys.executable, "-m", "service.cli", "import", str(path), "--config", str(config)]
    command += ["--db", app.settings.database.url]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert (done.returncode, done.stderr) == (
        2,
        f"dvcwatch: nothing imported: {path}: has no sheet\n",
    )


def csv_bytes() -> bytes:
    return csv_text(table()).encode()


def xlsx_bytes(tmp_path: Path) -> bytes:
    write_xlsx([dict(row) for row in table()])(tmp_path / "real.xlsx")
    return (tmp_path / "real.xlsx").read_bytes()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
OLD_OR_LOCKED = (
    "is an Excel 97-2003 (.xls) or password-protected workbook: "
    "save it in Excel, unprotected, as .xlsx"
)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("table.csv", "xlsx", "is an Excel workbook (a zip), not a CSV table: name it .xlsx"),
        ("table.json", "xlsx", "is an Excel workbook (a zip), not a JSON table: name it .xlsx"),
        (
            "table.xlsx",
            "csv",
            "is not an Excel workbook (.xlsx is a zip): a CSV table must be named .csv, "
            "a JSON one .json",
        ),
        ("table.xlsx", "empty", "is an empty file, not an Excel workbook"),
        ("table.xlsx", "ole", OLD_OR_LOCKED),
        ("table.csv", "ole", OLD_OR_LOCKED),
    ],
)
def test_a_file_of_another_form_than_its_name_says_so(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    data = {"csv": csv_bytes(), "xlsx": xlsx_bytes(tmp_path), "empty": b"", "ole": OLE}
    path = tmp_path / name
    path.write_bytes(data[content])
    assert problems_of(path) == [problem]


def test_an_error_of_dvcwatch_s_own_is_not_taken_for_a_damaged_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.xlsx"
    write_xlsx([dict(row) for row in table()])(path)

    def broken(*args: object) -> list[str]:
        raise TypeError("a bug in dvcwatch")

    monkeypatch.setattr(readers, "column_names", broken)
    with pytest.raises(TypeError, match="a bug in dvcwatch"):
        read_interchange(path)


SHEET = "xl/worksheets/sheet1.xml"


def without_tail(xml: bytes, cut: int) -> Callable[[bytes], bytes]:
    return lambda _: xml[:cut]


@pytest.mark.parametrize("number", [1, 2])
def test_a_sheet_cut_short_is_unreadable_at_the_row_it_ends_in(tmp_path: Path, number: int) -> None:
    """Cut at every 20th byte of the row: never 'a required column is missing'."""
    path = tmp_path / "table.xlsx"
    write_xlsx([dict(row) for row in table()])(path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(SHEET)
    start = xml.index(b'<row r="%d"' % number)
    end = xml.index(b"</row>", start) + len(b"</row>")
    for cut in range(start + 1, end - 1, 20):
        rewrite_member(path, SHEET, without_tail(xml, cut))
        [problem] = problems_of(path)
        assert problem.startswith(f"row {number}: not a readable Excel workbook: "), cut
