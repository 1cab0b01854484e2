"""The header row: a header no row can be read under is one line per problem, naming its cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.sources.interchange import InterchangeError, read_interchange
from tests.sources.hostile import COLUMNS, _columns, table, write_csv, write_xlsx


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InterchangeError) as raised:
        read_interchange(path)
    return [str(problem) for problem in raised.value.problems]


def write(path: Path, columns: tuple[str, ...]) -> Path:
    if path.suffix == ".csv":
        write_csv(table(), columns=columns)(path)  # type: ignore[arg-type]
    else:
        write_xlsx([dict(row) for row in table()], columns)(path)
    return path


@pytest.mark.parametrize(
    ("columns", "csv_problem", "xlsx_problem"),
    [
        (
            _columns("period", "period,period"),
            "line 1: the column 'period' appears twice: columns 2 and 3",
            "row 1: the column 'period' appears twice: cells B1 and C1",
        ),
        (
            _columns("period", "period, PERIOD "),
            "line 1: the column 'period' appears twice: columns 2 and 3 "
            "(letter case and surrounding spaces do not make another column)",
            "row 1: the column 'period' appears twice: cells B1 and C1 "
            "(letter case and surrounding spaces do not make another column)",
        ),
        (
            _columns("period", "period,"),
            "line 1: column 3 of the header is empty (between 'period' and 'as_of'): "
            "name the column (a column of another name is ignored) or delete it",
            "row 1: cell C1 of the header is empty (between 'period' and 'as_of'): "
            "name the column (a column of another name is ignored) or delete it",
        ),
        (  # adjacent empty names: one problem, between the names beside them
            _columns("period", "period,,"),
            "line 1: columns 3 and 4 of the header are empty (between 'period' and 'as_of'): "
            "name the columns (a column of another name is ignored) or delete them",
            "row 1: cells C1 and D1 of the header are empty (between 'period' and 'as_of'): "
            "name the columns (a column of another name is ignored) or delete them",
        ),
        (
            _columns("scheme", ",,,scheme"),
            "line 1: columns 1, 2 and 3 of the header are empty (before 'scheme'): "
            "name the columns (a column of another name is ignored) or delete them",
            "row 1: cells A1, B1 and C1 of the header are empty (before 'scheme'): "
            "name the columns (a column of another name is ignored) or delete them",
        ),
        (
            _columns("unit_code", "unit\u200b_code"),
            "line 1: the name 'unit\\u200b_code' in column 4: "
            "U+200B (a control or format character) may not appear in a name",
            "row 1: the name 'unit\\u200b_code' in cell D1: "
            "U+200B (a control or format character) may not appear in a name",
        ),
        (
            ("", "  "),
            "line 1: the header is empty: the first line must name the columns "
            "(scheme, period, unit_code, indicator, value)",
            "row 1: the header is empty: the first row must name the columns "
            "(scheme, period, unit_code, indicator, value)",
        ),
        (
            tuple(table()[0].values()),
            "line 1: names none of the required columns "
            "(scheme, period, unit_code, indicator, value): the first line must",
            "row 1: names none of the required columns "
            "(scheme, period, unit_code, indicator, value): the first row must",
        ),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_header_problem_is_one_line_naming_the_cell(
    tmp_path: Path, suffix: str, columns: tuple[str, ...], csv_problem: str, xlsx_problem: str
) -> None:
    path = write(tmp_path / f"table{suffix}", columns)
    assert problems_of(path) == [csv_problem if suffix == ".csv" else xlsx_problem]


def test_a_sheet_header_with_a_byte_order_mark_names_the_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "table.xlsx", _columns("scheme", "\ufeffscheme"))
    assert problems_of(path) == [
        "row 1: the name '\\ufeffscheme' in cell A1: "
        "U+FEFF (a control or format character) may not appear in a name"
    ]


def test_one_byte_order_mark_before_a_csv_header_is_the_encoding_s(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    write_csv(table())(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(read_interchange(path)) == len(table())


def test_names_differing_in_case_and_spaces_only_are_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "table.csv", COLUMNS)
    header, rest = path.read_text(encoding="utf-8").split("\n", 1)
    shouted = ",".join(f" {name.upper()} " for name in header.split(","))
    path.write_text(f"{shouted}\n{rest}", encoding="utf-8")
    assert len(read_interchange(path)) == len(table())
