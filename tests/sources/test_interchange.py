"""Reading the interchange table from CSV, XLSX and JSON."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from service.scoring.changes import Period
from service.sources.interchange import InterchangeError, read_interchange
from service.sources.numbers import parse_number

HEADER = (
    "scheme,period,as_of,unit_code,unit_name,parent_code,indicator,value,max,numerator,denominator"
)
REPORT = Path(__file__).resolve().parents[2] / "tests" / "data" / "dienbien-459-2024-03.csv"
ROW = "766,2024-09,,H21.227,UBND xã Bình Thành,H21"


def write_csv(tmp_path: Path, *lines: str, name: str = "table.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InterchangeError) as raised:
        read_interchange(path)
    return [str(problem) for problem in raised.value.problems]


def test_reads_the_tua_chua_report_table() -> None:
    rows = read_interchange(REPORT)
    assert len(rows) == 12 * 15
    first = rows[0]
    assert (first.scheme, first.period, first.as_of) == (
        "provincial:dienbien-459", Period(2024, "month", 3), None,
    )  # fmt: skip
    assert (first.unit_code, first.unit_name, first.parent_code) == (
        "TUACHUA.THITRAN", "UBND thị trấn", "TUACHUA",
    )  # fmt: skip
    assert (first.indicator, first.value, first.max, first.line) == ("CKMB.1", None, None, 2)
    total = next(row for row in rows if row.indicator == "TOTAL")
    assert (total.value, total.max, total.reported) == (85.81, 90, True)
    assert next(row for row in rows if row.indicator == "CLASS").value == "Xuất sắc"
    assert {row.indicator for row in rows if row.reported} == {
        "TOTAL",
        "CONVERTED",
        "CLASS",
        "RANK",
    }


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("17,5", 17.5), ("17.5", 17.5), ("30", 30.0), ("0,45", 0.45), ("-3,8", -3.8),
        ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("1.234.567", 1234567.0),
        ("1,234,567", 1234567.0), ("4.642.000,25", 4642000.25),
        ("1,234", 1.234),  # a lone mark is the decimal mark, never a thousands mark
        ("1.234", 1.234),
        ("-", None), ("–", None),
    ],
)  # fmt: skip
def test_vietnamese_and_plain_numbers(text: str, number: float | None) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(
    "text", ["abc", "1,23.4", "12.34.5", "1.234,5,6", "1e5", "nan", "17,", "--"]
)
def test_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=f'"{text}" is not a number'):
        parse_number(text)


def test_an_out_of_range_number_states_the_range_in_english_digits() -> None:
    # The reason is for the operator: English grouping, as every CLI message.
    with pytest.raises(ValueError, match="within ±1,000,000,000,000"):
        parse_number("10000000000000")


def test_csv_with_a_bom_and_vietnamese_decimals(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER, f'{ROW},CKMB,"17,5",18,"295","313"', bom=True)
    (row,) = read_interchange(path)
    assert (row.scheme, row.value, row.max, row.numerator, row.denominator) == (
        "766", 17.5, 18, 295, 313,
    )  # fmt: skip
    assert not row.reported


def test_semicolon_separated_csv_as_excel_writes_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER.replace(",", ";"), f"{ROW.replace(',', ';')};CKMB;17,5;18;;")
    assert read_interchange(path)[0].value == 17.5


def test_a_malformed_row_names_line_column_and_reason(tmp_path: Path) -> None:
    lines = [HEADER] + [f"{ROW},CKMB.{n},1,5,," for n in range(1, 6)] + [f"{ROW},TDGQ,abc,20,,"]
    path = write_csv(tmp_path, *lines)
    assert problems_of(path) == ['line 7, column value: "abc" is not a number']


def test_every_problem_is_collected_not_only_the_first(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER,
        "766,2024-13,,H21.227,,H21,CKMB,17,18,,",
        "provincal:x,2024-09,2024-09-31,H21.227,,H21,TDGQ,18,20,,",
        f"{ROW},MDSH,,22,,",
        "766,2024-09,,,,H21,TTTT,5,10,-1,x",
        f"{ROW},RANK,3.5,23,,",
    )
    assert problems_of(path) == [
        "line 2, column period: '2024-13' is not a period: expected YYYY-MM, YYYY-Qn or YYYY",
        'line 3, column scheme: "provincal:x" is not a known form'
        " (expected 766, tt01 or provincial:<id>)",
        'line 3, column as_of: "2024-09-31" is not a real date written YYYY-MM-DD',
        "line 4, column value: is required (write - for not applicable)",
        "line 5, column unit_code: is required",
        "line 5, column numerator: -1 is negative",
        'line 5, column denominator: "x" is not a number',
        "line 6, column value: rank 3.5 is not a position (1, 2, 3 …)",
    ]


def test_the_error_prints_one_problem_a_line_prefixed_by_the_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER, f"{ROW},CKMB,x,18,,", f"{ROW},TDGQ,y,20,,")
    with pytest.raises(InterchangeError) as raised:
        read_interchange(path)
    assert str(raised.value).splitlines() == [
        f'{path}: line 2, column value: "x" is not a number',
        f'{path}: line 3, column value: "y" is not a number',
    ]
    assert raised.value.path == path


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    header = HEADER.replace("unit_code,", "").replace(",value", "")
    path = write_csv(tmp_path, header, "766,2024-09,,UBND,H21,CKMB,18,,")
    assert problems_of(path) == [
        "column unit_code: required column is missing (the first row must name the columns)",
        "column value: required column is missing (the first row must name the columns)",
    ]


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "scheme,period,unit_code,indicator,value", "766,2022,H21,TOTAL,93.81"
    )
    (row,) = read_interchange(path)
    assert (row.period, row.unit_name, row.max, row.reported) == (
        Period(2022, "year", 0),
        "",
        None,
        True,
    )


def test_a_repeat_with_another_value_names_both_lines(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, HEADER, f"{ROW},TDGQ,18,20,,", f"{ROW},CKMB,17,18,,", f"{ROW},TDGQ,18.5,20,,"
    )
    assert problems_of(path) == [
        "line 4: TDGQ of H21.227 (766, 2024-09) repeats line 2 with different figures:"
        " value 18.5 here, 18 there"
    ]


def test_an_identical_repeat_is_reported_as_a_duplicate(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER, f"{ROW},TDGQ,18,20,,", f'{ROW},TDGQ,"18,0",20,,')
    assert problems_of(path) == [
        "line 3: TDGQ of H21.227 (766, 2024-09) repeats line 2 (the same figures): keep one row"
    ]


def test_running_figures_of_different_days_are_not_repeats(tmp_path: Path) -> None:
    running = "766,2026-10,{day},H21.227,,H21,TDGQ,{value},20,,"
    path = write_csv(
        tmp_path,
        HEADER,
        running.format(day="2026-10-02", value=18),
        running.format(day="2026-10-03", value=19),
    )
    assert [row.as_of for row in read_interchange(path)] == [date(2026, 10, 2), date(2026, 10, 3)]


def test_a_quoted_cell_over_two_lines_keeps_the_line_numbers(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER,
        '766,2024-09,,H21.1,"UBND xã\nBình Thành",H21,CKMB,17,18,,',
        f"{ROW},CKMB,x,18,,",
    )
    assert problems_of(path) == ['line 4, column value: "x" is not a number']


def test_blank_lines_are_skipped_and_extra_cells_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER, "", f"{ROW},CKMB,17,18,,,surplus")
    assert problems_of(path) == ["line 3: has 12 cells but the header names 11 columns"]


def test_an_unknown_extension_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "table.xls"
    path.write_bytes(b"")
    assert problems_of(path) == ["unsupported file type '.xls': expected .csv, .xlsx or .json"]


def test_a_csv_that_is_not_utf8_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(
        (HEADER + "\n766,2024-09,,H21.227,Bình Thành,H21,CKMB,17,18,,\n").encode("latin-1")
    )
    assert problems_of(path) == ["line 2: not UTF-8 text (save the table as CSV UTF-8)"]


def test_a_missing_file_is_explained(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nowhere.csv") == [
        "cannot read the file: No such file or directory"
    ]


def write_xlsx(tmp_path: Path, *rows: list[object]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("notes").append(["ignored"])
    path = tmp_path / "table.xlsx"
    workbook.save(path)
    return path


def test_reads_the_first_sheet_of_a_workbook(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            "766",
            "2024-09",
            datetime(2024, 10, 2),
            "H21.227",
            "UBND xã Bình Thành",
            "H21",
            "CKMB",
            17.5,
            18,
            295,
            313,
        ],
        [
            "766",
            "2024-09",
            None,
            "H21.227",
            "UBND xã Bình Thành",
            "H21",
            "CLASS",
            "Tốt",
            None,
            None,
            None,
        ],
        [766, 2024, None, 12345, None, "H21", "TDGQ", "18,25", "20", None, None],
    )
    first, second, third = read_interchange(path)
    assert (first.as_of, first.value, first.numerator, first.line, first.location) == (
        date(2024, 10, 2), 17.5, 295, 2, "row 2",
    )  # fmt: skip
    assert (second.value, second.reported) == ("Tốt", True)
    assert (third.scheme, third.period, third.unit_code, third.value) == (
        "766", Period(2024, "year", 0), "12345", 18.25,
    )  # fmt: skip


def test_workbook_errors_name_the_sheet_row(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        ["766", "2024-09", None, "H21.227", None, "H21", "CKMB", 17.5, 18, None, None],
        ["766", datetime(2024, 3, 1), None, "H21.227", None, "H21", "TDGQ", "abc", 20, None, None],
    )
    assert problems_of(path) == [
        "row 3, column period: is a date cell: write the period as text, e.g. 2024-03",
        'row 3, column value: "abc" is not a number',
    ]


def test_a_file_named_xlsx_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    path.write_text("scheme,period\n", encoding="utf-8")
    [problem] = problems_of(path)
    assert problem.startswith("is not an Excel workbook (.xlsx is a zip): a CSV table must be")


def write_json(tmp_path: Path, items: object) -> Path:
    path = tmp_path / "table.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def test_reads_a_json_list_of_objects(tmp_path: Path) -> None:
    item = {"scheme": "tt01", "period": "2021-Q1", "unit_code": "DBD.01", "parent_code": "DBD"}
    path = write_json(
        tmp_path,
        [
            {**item, "indicator": "TC1", "value": 1.67, "max": 2},
            {**item, "indicator": "DTB", "value": "9,5"},
        ],
    )
    first, second = read_interchange(path)
    assert (first.period, first.value, first.max, first.location) == (
        Period(2021, "quarter", 1),
        1.67,
        2,
        "item 1",
    )
    assert (second.value, second.reported, second.line) == (9.5, True, 2)


def test_json_errors_name_the_item(tmp_path: Path) -> None:
    good = {
        "scheme": "766",
        "period": "2024-09",
        "unit_code": "H21.227",
        "indicator": "CKMB",
        "value": 17,
    }
    path = write_json(
        tmp_path,
        [
            good,
            {**good, "indicator": "TDGQ", "value": True},
            ["not", "an", "object"],
            {"scheme": "766"},
        ],
    )
    assert problems_of(path) == [
        'item 2, column value: "True" is not a number',
        "item 3: is list, not an object",
        "item 4, column period: is required",
        "item 4, column unit_code: is required",
        "item 4, column indicator: is required",
        "item 4, column value: is required (write - for not applicable)",
    ]


@pytest.mark.parametrize(
    ("content", "reason"), [("{}", "expected a JSON list of objects"), ("[1,", "Expecting value")]
)
def test_json_that_is_not_a_list_is_an_error(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "table.json"
    path.write_text(content, encoding="utf-8")
    [problem] = problems_of(path)
    assert problem.startswith("not a readable JSON") and reason in problem


def test_a_conflict_shows_large_figures_in_full(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, HEADER, f'{ROW},OVERDUE,"1.234.567",,,', f'{ROW},OVERDUE,"1.234.568",,,'
    )
    assert problems_of(path) == [
        "line 3: OVERDUE of H21.227 (766, 2024-09) repeats line 2 with different figures:"
        " value 1234568 here, 1234567 there"
    ]
