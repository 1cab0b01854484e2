"""The officials' spreadsheet, CSV file and terminal table of `dvcwatch scores`, read back as
Excel, a program and a person would read them (Phú Thọ 2026-08, the real captures)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from service.cli import main
from service.simulator.simulator import PortalSimulator, ReplaySource
from tests.conftest import PHU_THO, PROJECT, SCHEMES

REPR = re.compile(r"[{}\[\]]|'\w+':|True|False|None")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`--db` and `--config` of a SQLite database holding Phú Thọ's 2026-08."""
    folder = tmp_path_factory.mktemp("phu_tho")
    config = folder / "dvcwatch.toml"
    config.write_text("[portal]\npause_seconds = [0, 0]\n", encoding="utf-8")
    options = ["--db", f"sqlite:///{folder / 'x.db'}", "--config", str(config)]
    assert main([*options, "db", "upgrade"]) == 0
    with PortalSimulator(ReplaySource(PHU_THO)) as portal:
        sync = ["sync", "--province", "H44", "--period", "2026-08", "--portal-url", portal.base_url]
        assert main([*options, *sync]) == 0
    return options


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`--db` and `--config` of a SQLite database holding Tủa Chùa's 2024-03 (seed 000,
    provincial index) and Điện Biên Đông's 2021-Q1 (seed 002, nine criteria)."""
    folder = tmp_path_factory.mktemp("dien_bien")
    config = folder / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")
    options = ["--db", f"sqlite:///{folder / 'x.db'}", "--config", str(config)]
    assert main([*options, "db", "upgrade"]) == 0
    for table in ("dienbien-459-2024-03.csv", "tt01-dienbiendong-2021-Q1.csv"):
        assert main([*options, "import", str(PROJECT / "tests" / "data" / table)]) == 0
    return options


def scores(synced: list[str], *args: str) -> list[str]:
    return [*synced, "scores", "--period", "2026-08", *args]


TUA_CHUA = ["--scheme", "provincial:dienbien-459", "--period", "2024-03"]
DIEN_BIEN_DONG = ["--scheme", "tt01", "--period", "2021-Q1"]


def sheet_columns(sheet) -> dict[str, list]:
    """A sheet's table, column by column, keyed by heading."""
    headings = [cell.value for cell in sheet[4]]
    rows = list(sheet.iter_rows(min_row=5))
    return {h: [row[n] for row in rows] for n, h in enumerate(headings)}


def test_the_workbook_has_a_sheet_per_set_with_vietnamese_headers(synced, tmp_path, capsys):
    path = tmp_path / "diem.xlsx"
    assert main(scores(synced, "--format", "xlsx", "--out", str(path))) == 0
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Cơ quan, đơn vị", "Xã, phường", "Cần làm gì"]
    communes = workbook["Xã, phường"]
    assert "CỔNG DVCQG" in communes["A1"].value
    assert communes["A2"].value.startswith("Xã, phường thuộc UBND tỉnh Phú Thọ, tháng 8 năm 2026")
    headers = [cell.value for cell in communes[4]]
    assert headers[:3] == ["STT", "Mã đơn vị", "Tên đơn vị"]
    for wanted in ("Điểm tổng hợp", "Xếp hạng", "Tăng/giảm bậc", "Hồ sơ quá hạn"):
        assert wanted in headers
    assert "Công khai, minh bạch (tối đa 18)" in headers
    assert communes.max_row - 4 == 148 and workbook["Cơ quan, đơn vị"].max_row - 4 == 15
    assert workbook["Cần làm gì"]["A2"].value.startswith("Tháng 8 năm 2026")


def test_every_number_is_numeric_with_a_format_and_no_cell_holds_a_repr(synced, tmp_path):
    path = tmp_path / "diem.xlsx"
    assert main(scores(synced, "--format", "xlsx", "--out", str(path))) == 0
    numbers = 0
    for sheet in load_workbook(path):
        for row in sheet.iter_rows(min_row=5):
            for cell in row:
                if isinstance(cell.value, str):
                    assert not REPR.search(cell.value), (sheet.title, cell.coordinate, cell.value)
                    assert not re.fullmatch(r"[+-]?\d+([.,]\d+)?", cell.value), cell.coordinate
                elif isinstance(cell.value, int | float):
                    numbers += 1
                    assert cell.number_format != "General", (sheet.title, cell.coordinate)
    assert numbers > 163 * 10
    communes = load_workbook(path)["Xã, phường"]
    headers = [cell.value for cell in communes[4]]
    total = communes.cell(row=5, column=headers.index("Điểm tổng hợp") + 1)
    rank = communes.cell(row=5, column=headers.index("Xếp hạng") + 1)
    assert isinstance(total.value, int | float) and total.number_format == "0.00"
    assert rank.value == 1 and rank.number_format == "#,##0"


def test_each_sheet_is_ready_to_filter_and_print_on_a4_landscape(synced, tmp_path):
    path = tmp_path / "diem.xlsx"
    assert main(scores(synced, "--format", "xlsx", "--out", str(path))) == 0
    for sheet in load_workbook(path):
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith("5")
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A4:")
        assert all(cell.font.bold for cell in sheet[4])
        assert sheet.page_setup.orientation == "landscape"
        assert str(sheet.page_setup.paperSize) == str(sheet.PAPERSIZE_A4)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.print_title_rows == "$4:$4"
        letters = [get_column_letter(n) for n in range(1, sheet.max_column + 1)]
        widths = [sheet.column_dimensions[letter].width for letter in letters]
        # Fitted to one A4 landscape page (about 145 character widths at 100 %), 200 widths
        # print at 72 %, still comfortable to read.
        assert sum(widths) <= 200, (sheet.title, sum(widths))


def test_a_csv_file_for_excel_starts_with_a_bom_and_stdout_does_not(synced, tmp_path, capsys):
    path = tmp_path / "diem.csv"
    assert main(scores(synced, "--format", "csv", "--out", str(path))) == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    capsys.readouterr()
    assert main(scores(synced, "--format", "csv")) == 0
    printed = capsys.readouterr().out
    assert not printed.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 163 and rows[0]["unit_code"] and "UBND" in data.decode("utf-8-sig")
    assert rows == list(csv.DictReader(io.StringIO(printed)))


def test_csv_flattens_nested_values_into_named_columns(synced, capsys):
    capsys.readouterr()
    assert main(scores(synced, "--format", "csv")) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert not any(REPR.search(value or "") for row in rows for value in row.values())
    unit = next(row for row in rows if row["unit_code"] == "H44.223")
    assert unit["what_it_takes.TDGQ.more_dossiers_for_next_step"] == "3"
    assert unit["what_it_takes.TDGQ.estimate"] == "true"
    assert unit["rank_tied"] == "false" and unit["overdue"] == "29"


def test_the_terminal_table_has_a_block_per_set_with_vietnamese_headings(synced, capsys):
    capsys.readouterr()
    assert main(scores(synced)) == 0
    text = capsys.readouterr().out
    agencies = text.index("Cơ quan, đơn vị thuộc UBND tỉnh Phú Thọ (15 đơn vị)")
    communes = text.index("Xã, phường thuộc UBND tỉnh Phú Thọ (148 đơn vị)")
    assert agencies < communes
    header = text.splitlines()[1]
    assert header.split()[:4] == ["Hạng", "Mã", "Tên", "đơn"] and "Quá hạn" in header
    assert "rank_of" not in text and "not_digitised" not in text


def test_json_keeps_the_machine_keys(synced, capsys):
    capsys.readouterr()
    assert main(scores(synced, "--format", "json")) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"rank_of", "total_delta", "counts", "what_it_takes"} <= set(rows[0])


def test_out_with_a_format_that_has_no_file_form_is_bad_usage(synced, tmp_path, capsys):
    assert main(scores(synced, "--format", "table", "--out", str(tmp_path / "x"))) == 2
    assert "--out goes with --format xlsx or csv" in capsys.readouterr().err


def test_the_workbook_and_the_table_name_units_as_officials_write_them(synced, tmp_path, capsys):
    path = tmp_path / "diem.xlsx"
    assert main(scores(synced, "--format", "xlsx", "--out", str(path))) == 0
    workbook = load_workbook(path)
    names = [
        row[2]
        for title in ("Cơ quan, đơn vị", "Xã, phường")
        for row in workbook[title].iter_rows(min_row=5, values_only=True)
    ]
    assert len(names) == 163 and "UBND xã Bình Phú" in names
    assert not [name for name in names if "Tỉnh Phú Thọ" in str(name)]
    capsys.readouterr()
    assert main(scores(synced, "--format", "table")) == 0
    table = capsys.readouterr().out
    assert "UBND xã Bình Phú" in table and "- Tỉnh Phú Thọ" not in table
    assert main(scores(synced, "--format", "csv")) == 0  # programs keep the portal's name
    assert "UBND xã Bình Phú - Tỉnh Phú Thọ" in capsys.readouterr().out


def test_an_imported_provincial_table_is_titled_and_noted_in_vietnamese(imported, tmp_path):
    """Tủa Chùa's table (seed 000) as an official opens it: the decision's index in the
    title, no scheme code, no "UNKNOWN" set, a code column wide enough for its longest
    code on one line; Điện Biên Đông's nine criteria (seed 002) with its disagreements
    named as the columns are."""
    path = tmp_path / "tuachua.xlsx"
    assert main([*imported, "scores", *TUA_CHUA, "--format", "xlsx", "--out", str(path)]) == 0
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Đơn vị"]
    sheet = workbook["Đơn vị"]
    assert sheet["A1"].value == (
        "KẾT QUẢ CHẤM ĐIỂM: BỘ CHỈ SỐ ĐÁNH GIÁ CHẤT LƯỢNG PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP "
        "TRONG THỰC HIỆN THỦ TỤC HÀNH CHÍNH, DỊCH VỤ CÔNG THEO THỜI GIAN THỰC TRÊN MÔI "
        "TRƯỜNG ĐIỆN TỬ TỈNH ĐIỆN BIÊN"
    )
    assert sheet["A2"].value.startswith("Đơn vị thuộc TUACHUA, tháng 3 năm 2024")
    codes = [row[1].value for row in sheet.iter_rows(min_row=5)]
    longest = max(codes, key=len)  # "TUACHUA.MUONGBANG": capitals, wider than digits
    assert sheet.column_dimensions["B"].width >= 1.3 * len(longest)
    path = tmp_path / "dienbiendong.xlsx"
    assert main([*imported, "scores", *DIEN_BIEN_DONG, "--format", "xlsx", "--out", str(path)]) == 0
    sheet = load_workbook(path)["Đơn vị"]
    assert sheet["A1"].value == "KẾT QUẢ CHẤM ĐIỂM ĐÁNH GIÁ VIỆC GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
    notes = [row[-1].value for row in sheet.iter_rows(min_row=5) if row[-1].value]
    assert "Tổng điểm: báo cáo 15,5, tính lại 14,25" in " ".join(notes)
    assert "ĐTB: báo cáo 10, tính lại 9,5" in " ".join(notes)
    assert not any("TOTAL" in note or "DTB" in note for note in notes)


def test_a_row_whose_text_wraps_is_tall_enough_for_its_lines(synced, tmp_path):
    """Printed, a row of Phú Thọ's workbook with "Công khai, minh bạch; Số hóa hồ sơ" in a
    narrower column printed over the next row: a row is given the height of its longest
    text's lines, counted at a digit's width a letter and more for a capital."""
    path = tmp_path / "diem.xlsx"
    assert main(scores(synced, "--format", "xlsx", "--out", str(path))) == 0
    checked = 0
    for sheet in load_workbook(path):
        widths = {c: sheet.column_dimensions[get_column_letter(c)].width for c in range(1, 60)}
        for row in sheet.iter_rows(min_row=5):
            texts = [
                (cell.value, widths[cell.column]) for cell in row if isinstance(cell.value, str)
            ]
            # L lines of room R hold at most L*R letters and the L-1 spaces the breaks
            # take, each letter a digit wide at least: L >= (len + 1) / (R + 1)
            lines = max((-(-(len(t) + 1) // int(w))) for t, w in texts) if texts else 1
            if lines > 1:
                checked += 1
                assert (sheet.row_dimensions[row[0].row].height or 15) >= 13 * lines, (
                    sheet.title,
                    row[0].row,
                )
    assert checked  # the workbook has such rows


def test_a_figure_that_does_not_apply_or_has_no_data_shows_a_dash(synced, imported, tmp_path):
    """Seed 000 writes "-" where an indicator does not apply (Tủa Chùa's CKMB.1 and CKMB.2),
    and the notices write "-" for a missing figure: an empty cell reads as forgotten. The
    figures there stay numbers, an empty note stays empty, and the CSV for programs keeps
    a missing value empty (`docs/formats.md`)."""
    path = tmp_path / "tuachua.xlsx"
    assert main([*imported, "scores", *TUA_CHUA, "--format", "xlsx", "--out", str(path)]) == 0
    columns = sheet_columns(load_workbook(path)["Đơn vị"])
    for code in ("CKMB.1", "CKMB.2"):
        cells = next(cells for heading, cells in columns.items() if heading.startswith(code))
        assert [cell.value for cell in cells] == ["-"] * 12, code
        assert {cell.alignment.horizontal for cell in cells} == {"center"}
    assert all(isinstance(cell.value, float) for cell in columns["Điểm quy đổi"])
    assert {cell.value for cell in columns["Ghi chú"]} == {None}

    path = tmp_path / "dienbiendong.xlsx"
    assert main([*imported, "scores", *DIEN_BIEN_DONG, "--format", "xlsx", "--out", str(path)]) == 0
    columns = sheet_columns(load_workbook(path)["Đơn vị"])
    unscored = [
        n for n, cell in enumerate(columns["Ghi chú"]) if cell.value == "Không phát sinh TTHC"
    ]
    assert unscored
    for heading, cells in columns.items():
        if heading not in ("STT", "Mã đơn vị", "Tên đơn vị", "Ghi chú"):
            assert all(cells[n].value == "-" for n in unscored), heading
            assert all(cells[n].alignment.horizontal == "center" for n in unscored), heading
    assert isinstance(columns["Tổng điểm"][0].value, int | float)

    path = tmp_path / "diem.xlsx"
    assert main(scores(synced, "--format", "xlsx", "--out", str(path))) == 0
    columns = sheet_columns(load_workbook(path)["Xã, phường"])  # one period: nothing before
    for heading in ("Tăng/giảm điểm so với kỳ trước", "Xếp hạng kỳ trước", "Tăng/giảm bậc"):
        assert {cell.value for cell in columns[heading]} == {"-"}, heading
    assert all(isinstance(cell.value, int) for cell in columns["Xếp hạng"])
    path = tmp_path / "diem.csv"
    assert main(scores(synced, "--format", "csv", "--out", str(path))) == 0
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert {row["previous_rank"] for row in rows} == {""}
