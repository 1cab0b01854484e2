"""Importing interchange tables: all or nothing, appraised against what dvcwatch computes."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from service.cli import main
from service.models import Snapshot
from service.periods import Period
from service.scoring.report import score_rows
from tests.conftest import SCHEMES

DATA = Path(__file__).parent / "data"
DIENBIEN = DATA / "dienbien-459-2024-03.csv"
SCHEME = "provincial:dienbien-459"
#: The appendix of seed 000, in the report's order: unit, points, converted, class.
REPORT = [
    ("TUACHUA.THITRAN", 85.81, 95.34, "Xuất sắc"),
    ("TUACHUA.MUONGBANG", 84.64, 94.04, "Xuất sắc"),
    ("TUACHUA.TUATHANG", 82.98, 92.20, "Xuất sắc"),
    ("TUACHUA.MUONGDUN", 82.03, 91.14, "Xuất sắc"),
    ("TUACHUA.SINCHAI", 81.42, 90.47, "Xuất sắc"),
    ("TUACHUA.TRUNGTHU", 81.30, 90.33, "Xuất sắc"),
    ("TUACHUA.SINHPHINH", 80.96, 89.96, "Tốt"),
    ("TUACHUA.HUOISO", 80.00, 88.89, "Tốt"),
    ("TUACHUA.LAOXAPHINH", 80.00, 88.89, "Tốt"),
    ("TUACHUA.TAPHIN", 80.00, 88.89, "Tốt"),
    ("TUACHUA.XANHE", 79.66, 88.51, "Tốt"),
    ("TUACHUA.TASINTHANG", 75.45, 83.83, "Tốt"),
]


@pytest.fixture
def cli(app, tmp_path):
    """`dvcwatch ...` in-process on the test's database, with the project's schemes."""
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")

    def run(*args: str) -> int:
        return main([*args, "--db", app.settings.database.url, "--config", str(config)])

    return run


def stored(app) -> int:
    with app.sessions()() as session:
        return int(session.scalar(select(func.count()).select_from(Snapshot)) or 0)


def scores(app, scheme: str = SCHEME, period: str = "2024-03", **options):
    with app.sessions()() as session:
        return score_rows(session, app.schemes, scheme, Period.parse(period), **options)


def test_the_dienbien_report_imports_and_scores_as_the_report_says(app, cli, capsys):
    assert cli("import", str(DIENBIEN), "--scheme", SCHEME) == 0
    assert "every reported figure agrees" in capsys.readouterr().out
    rows = scores(app)
    assert [row["unit_code"] for row in rows] == [code for code, *_ in REPORT]
    for row, (code, points, converted, class_name) in zip(rows, REPORT, strict=True):
        assert row["total"] == pytest.approx(points, abs=0.005), code
        assert row["converted"] == pytest.approx(converted, abs=0.01), code
        assert row["class"] == class_name, code
        assert row["max"] == 90 and row["not_applicable"] == ["CKMB.1", "CKMB.2"]
        assert row["mismatches"] == [] and row["rank_of"] == 12
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 11, 12]


def test_the_ten_point_scale_divides_the_converted_score_and_the_bands(app, cli):
    cli("import", str(DIENBIEN))
    first = scores(app, scale=10)[0]
    assert first["converted"] == pytest.approx(9.53, abs=0.01) and first["class"] == "Xuất sắc"


def test_importing_the_same_file_again_stores_nothing_new(app, cli, capsys):
    cli("import", str(DIENBIEN))
    before = stored(app)
    assert cli("import", str(DIENBIEN)) == 0
    assert "0 new snapshots" in capsys.readouterr().out and stored(app) == before == 12


def edited(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "table.csv"
    text = DIENBIEN.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_reported_total_that_does_not_add_up_is_listed(app, cli, tmp_path, capsys):
    wrong = edited(
        tmp_path,
        "TUACHUA.XANHE,UBND xã Xá Nhè,TUACHUA,TOTAL,79.66",
        "TUACHUA.XANHE,UBND xã Xá Nhè,TUACHUA,TOTAL,79.96",
    )
    assert cli("import", str(wrong)) == 0
    out = capsys.readouterr().out
    assert (
        "mismatch provincial:dienbien-459 2024-03 TUACHUA.XANHE TOTAL: reported 79.96, "
        "computed 79.66" in out
    )
    xa_nhe = next(r for r in scores(app) if r["unit_code"] == "TUACHUA.XANHE")
    assert xa_nhe["mismatches"] == [{"field": "TOTAL", "reported": 79.96, "computed": 79.66}]
    assert scores(app, tolerance=0.5)[10]["mismatches"] == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("TUACHUA,TDGQ,30,30", "TUACHUA,TDGQ,ba mươi,30", 'line 5, column value: "ba mươi"'),
        ("TUACHUA,TDGQ,30,30", "TUACHUA,TDGQ,31,30", "31 is outside 0-30"),
        # as written, not %g's 1.23457e+06
        ("TUACHUA,TDGQ,30,30", "TUACHUA,TDGQ,1234567,30", "1234567 is outside 0-30"),
        ("TUACHUA,TDGQ,30,30", "TUACHUA,TDGQ,30,25", "25 is not TDGQ's maximum 30"),
        ("TUACHUA,TDGQ,30,30", "TUACHUA,TDGQ.9,30,30", "'TDGQ.9' is not an indicator"),
        ("TUACHUA,TDGQ,30,30", "TUACHUA,CKMB.3,30,30", "line 5"),
        (
            "provincial:dienbien-459,2024-03,,TUACHUA.THITRAN,UBND thị trấn,TUACHUA,TDGQ",
            "provincial:laichau-1,2024-03,,TUACHUA.THITRAN,UBND thị trấn,TUACHUA,TDGQ",
            "unknown scheme 'provincial:laichau-1'",
        ),
        (
            "2024-03,,TUACHUA.THITRAN,UBND thị trấn,TUACHUA,TDGQ",
            "2024-13,,TUACHUA.THITRAN,UBND thị trấn,TUACHUA,TDGQ",
            "line 5, column period",
        ),
    ],
)
def test_a_bad_row_rejects_the_whole_file_naming_the_line(
    app, cli, tmp_path, capsys, old, new, message
):
    assert cli("import", str(edited(tmp_path, old, new))) == 2
    error = capsys.readouterr().err
    assert "nothing imported" in error and message in error, error
    assert stored(app) == 0


def test_a_missing_indicator_row_is_named(app, cli, tmp_path, capsys):
    lines = DIENBIEN.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "table.csv"
    path.write_text("".join(line for i, line in enumerate(lines) if i != 4), encoding="utf-8")
    assert cli("import", str(path)) == 2
    assert "unit TUACHUA.THITRAN has no row for TDGQ" in capsys.readouterr().err
    assert stored(app) == 0


def test_a_duplicated_figure_names_both_lines(app, cli, tmp_path, capsys):
    lines = DIENBIEN.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "table.csv"
    path.write_text("".join(lines) + lines[4].replace(",30,30", ",29,30"), encoding="utf-8")
    assert cli("import", str(path)) == 2
    error = capsys.readouterr().err
    assert "line 182" in error and "line 5" in error
    assert stored(app) == 0


def test_rows_of_another_scheme_are_refused_with_scheme(app, cli, capsys):
    assert cli("import", str(DIENBIEN), "--scheme", "tt01") == 2
    assert "is not --scheme 'tt01'" in capsys.readouterr().err and stored(app) == 0


TT01_ROWS = [
    *(
        {"indicator": f"TC{n}", "value": v}
        for n, v in zip(range(1, 10), [2, 2, 1.5, 2, 2, 2, 1.67, 2, 1], strict=True)
    ),
    {"indicator": "TOTAL", "value": 16.17},
    {"indicator": "DTB", "value": 9.5},
    {"indicator": "CLASS", "value": "Xuất sắc"},
]


def test_tt01_totals_desk_score_classes_and_units_without_dossiers(app, cli, tmp_path):
    rows = [
        {
            "scheme": "tt01",
            "period": "2021-Q1",
            "unit_code": "DBD.TUPHAP",
            "unit_name": "Phòng Tư pháp",
            "parent_code": "DBD",
            **row,
        }
        for row in TT01_ROWS
    ]
    rows.append(
        {
            "scheme": "tt01",
            "period": "2021-Q1",
            "unit_code": "DBD.XA1",
            "unit_name": "UBND xã Na Son",
            "parent_code": "DBD",
            "indicator": "DOSSIERS",
            "value": "0",
        }
    )
    path = tmp_path / "tt01.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert cli("import", str(path), "--scheme", "tt01") == 0
    by_code = {row["unit_code"]: row for row in scores(app, "tt01", "2021-Q1")}
    desk = by_code["DBD.TUPHAP"]
    assert (desk["total"], desk["dtb"], desk["class"], desk["max"]) == (16.17, 9.5, "Xuất sắc", 18)
    assert desk["mismatches"] == [] and desk["rank"] == 1
    no_dossiers = by_code["DBD.XA1"]
    assert no_dossiers["status"] == "Không phát sinh TTHC"
    assert no_dossiers["total"] is None and no_dossiers["class"] is None
    assert no_dossiers["rank"] is None


def test_scores_export_to_xlsx_for_excel(app, cli, tmp_path, capsys):
    cli("import", str(DIENBIEN))
    out = tmp_path / "bao-cao.xlsx"
    assert (
        cli(
            "scores",
            "--period",
            "2024-03",
            "--scheme",
            SCHEME,
            "--format",
            "xlsx",
            "--out",
            str(out),
        )
        == 0
    )
    sheet = openpyxl.load_workbook(out).worksheets[0]
    header = [cell.value for cell in sheet[4]]
    first = dict(zip(header, [cell.value for cell in sheet[5]], strict=True))
    assert first["Mã đơn vị"] == "TUACHUA.THITRAN" and first["Xếp loại"] == "Xuất sắc"
    assert first["Điểm quy đổi"] == pytest.approx(95.34, abs=0.01) and sheet.max_row == 4 + 12


def test_scores_as_csv_and_json_carry_the_contract_fields(app, cli, capsys):
    cli("import", str(DIENBIEN))
    capsys.readouterr()
    cli("scores", "--period", "2024-03", "--scheme", SCHEME, "--format", "json")
    first = json.loads(capsys.readouterr().out)[0]
    for key in (
        "unit_code",
        "unit_name",
        "period",
        "scheme",
        "total",
        "max",
        "converted",
        "class",
        "rank",
        "rank_of",
        "total_delta",
        "rank_change",
        "axes",
        "counts",
        "mismatches",
        "not_applicable",
    ):
        assert key in first
    assert first["axes"]["TDGQ"] == {"score": 30.0, "max": 30.0, "delta": None}
    cli("scores", "--period", "2024-03", "--scheme", SCHEME, "--format", "csv")
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("unit_code,unit_name") and "CKMB.3" in header


def per_dossier_rows(scores: dict[str, list[float]], unit: str = "DBD.TUPHAP") -> list[dict]:
    return [
        {
            "scheme": "tt01",
            "period": "2021-Q1",
            "unit_code": unit,
            "unit_name": "Phòng Tư pháp",
            "parent_code": "DBD",
            "indicator": f"TC{number}",
            "value": value,
            "dossier": dossier,
        }
        for dossier, values in scores.items()
        for number, value in enumerate(values, start=1)
    ]


def test_tt01_per_dossier_scores_are_averaged_to_two_decimals(app, cli, tmp_path):
    dossiers = {
        "HS-01": [2, 2, 2, 2, 2, 2, 2, 2, 1],
        "HS-02": [2, 1, 2, 2, 2, 2, 1, 2, 1],
        "HS-03": [1, 2, 2, 1, 2, 2, 2, 2, 2],
    }
    path = tmp_path / "dossiers.json"
    path.write_text(json.dumps(per_dossier_rows(dossiers), ensure_ascii=False), encoding="utf-8")
    assert cli("import", str(path), "--scheme", "tt01") == 0
    [row] = scores(app, "tt01", "2021-Q1")
    # TC1 (2+2+1)/3 = 1.67, TC2 1.67, TC5..TC6 2, TC7 1.67, TC9 (1+1+2)/3 = 1.33
    assert row["axes"]["TC1"]["score"] == 1.67 and row["axes"]["TC9"]["score"] == 1.33
    assert row["total"] == pytest.approx(1.67 + 1.67 + 2 + 1.67 + 2 + 2 + 1.67 + 2 + 1.33)
    assert row["dtb"] == pytest.approx(1.67 + 1.67 + 2 + 1.67 + 2)


def test_a_dossier_missing_a_criterion_rejects_the_file(app, cli, tmp_path, capsys):
    rows = per_dossier_rows({"HS-01": [2, 2, 2, 2, 2, 2, 2, 2, 1]})[:-1]  # no TC9
    path = tmp_path / "dossiers.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert cli("import", str(path)) == 2
    assert "dossier HS-01 of DBD.TUPHAP has no row for TC9" in capsys.readouterr().err
    assert stored(app) == 0


def test_a_table_without_the_optional_parent_code_column_imports(app, cli, tmp_path, capsys):
    path = tmp_path / "no-parent.csv"
    path.write_text(
        "scheme,period,unit_code,unit_name,indicator,value,max\n"
        '766,2024-09,H21.227,UBND xã Bình Thành,CKMB,"17,5",18\n'
        "766,2024-09,H21.228,,TOTAL,86.97,100\n",
        encoding="utf-8",
    )
    assert cli("import", str(path)) == 0, capsys.readouterr().err
    rows = {row["unit_code"]: row for row in scores(app, "766", "2024-09")}
    assert rows["H21.227"]["axes"]["CKMB"]["score"] == 17.5 and rows["H21.228"]["total"] == 86.97


def test_a_refused_file_prints_each_problem_on_one_line_naming_file_place_and_column(
    app, cli, tmp_path, capsys
):
    lines = DIENBIEN.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = lines[4].replace(",30,30", ",NaN,30")
    lines[7] = lines[7].replace("TUACHUA.THITRAN", "TUACHUA/../THITRAN")
    path = tmp_path / "table.csv"
    path.write_text("".join(lines), encoding="utf-8")
    assert cli("import", str(path)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"dvcwatch: nothing imported: {path}: line 5, column value: ")
    assert err[1].startswith(f"{path}: line 8, column unit_code: is not a code")
    assert len(err) == 2 and stored(app) == 0


def test_a_column_named_twice_is_one_line_not_a_problem_per_row(app, cli, tmp_path, capsys):
    header, rest = DIENBIEN.read_text(encoding="utf-8").split("\n", 1)
    path = tmp_path / "table.csv"
    path.write_text(header.replace("period,", "period,period,", 1) + "\n" + rest, encoding="utf-8")
    assert cli("import", str(path)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"dvcwatch: nothing imported: {path}: line 1: the column 'period' appears twice: "
        "columns 2 and 3"
    ]
    assert stored(app) == 0
