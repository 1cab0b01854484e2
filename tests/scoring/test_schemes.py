"""Provincial schemes from configuration, and scoring units with them.

The reference case is the real appendix of huyện Tủa Chùa's report for
March 2024 (Điện Biên, Quyết định 459/QĐ-UBND), typed into
`tests/data/dienbien-459-2024-03.csv`: every unit's points, converted score,
class and order must come out as the report printed them.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from service.scoring.ranks import competition_ranks
from service.scoring.schemes import (
    Scheme,
    SchemeError,
    ScoringError,
    load_scheme,
    load_schemes,
    score_unit,
)
from service.sources.interchange import InterchangeRow, read_interchange

ROOT = Path(__file__).resolve().parents[2]
SCHEMES = ROOT / "config" / "schemes"
REPORT = ROOT / "tests" / "data" / "dienbien-459-2024-03.csv"

#: Tủa Chùa, March 2024: points of CKMB.3 … MDHL.3 for the best unit, CKMB.1-2 "-".
THI_TRAN = {
    "CKMB.1": None, "CKMB.2": None, "CKMB.3": 10, "TDGQ": 30, "DVTT.1": 10, "DVTT.2": 5.81,
    "SHHS.1": 5, "SHHS.2": 10, "MDHL.1": 5, "MDHL.2": 5, "MDHL.3": 5,
}  # fmt: skip


@pytest.fixture(scope="module")
def dienbien() -> Scheme:
    return load_scheme(SCHEMES / "dienbien-459.toml")


def with_points(**changes: float | None) -> dict[str, float | None]:
    points: dict[str, float | None] = dict(THI_TRAN)
    points.update({code.replace("_", "."): value for code, value in changes.items()})
    return points


def report_units() -> dict[str, list[InterchangeRow]]:
    """The report's rows per unit, in the report's order."""
    units: dict[str, list[InterchangeRow]] = defaultdict(list)
    for row in read_interchange(REPORT):
        units[row.unit_code].append(row)
    return units


def reported(rows: list[InterchangeRow], indicator: str) -> float | str | None:
    return next(row.value for row in rows if row.indicator == indicator)


def unit_points(rows: list[InterchangeRow]) -> dict[str, float | None]:
    """The indicator points of one unit's rows (None: not applicable)."""
    points: dict[str, float | None] = {}
    for row in rows:
        if not row.reported:
            assert not isinstance(row.value, str)
            points[row.indicator] = row.value
    return points


def test_dienbien_scheme_is_the_domain_table(dienbien: Scheme) -> None:
    assert dienbien.id == "dienbien-459"
    assert dienbien.interchange_name == "provincial:dienbien-459"
    assert "459/QĐ-UBND" in dienbien.legal_basis
    assert dienbien.default_scale == 100
    assert {item.code: item.max for item in dienbien.indicators} == {
        "CKMB.1": 5, "CKMB.2": 5, "CKMB.3": 10, "TDGQ": 30, "DVTT.1": 10, "DVTT.2": 10,
        "SHHS.1": 5, "SHHS.2": 10, "MDHL.1": 5, "MDHL.2": 5, "MDHL.3": 5,
    }  # fmt: skip
    assert [group.code for group in dienbien.groups] == ["CKMB", "TDGQ", "DVTT", "SHHS", "MDHL"]
    assert dienbien.groups[0].indicators == ("CKMB.1", "CKMB.2", "CKMB.3")
    assert [band.name for band in dienbien.bands] == ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"]


def test_not_applicable_indicators_leave_points_and_maximum(dienbien: Scheme) -> None:
    result = score_unit(dienbien, THI_TRAN)
    assert result.points == Decimal("85.81")
    assert result.applicable_max == 90
    assert result.converted_rounded == Decimal("95.34")  # 85.81 of 90, as the report says
    assert result.class_name == "Xuất sắc"
    assert result.not_applicable == ("CKMB.1", "CKMB.2")


def test_scores_reproduce_the_tua_chua_march_2024_report(dienbien: Scheme) -> None:
    units = report_units()
    assert len(units) == 12
    for code, rows in units.items():
        result = score_unit(dienbien, unit_points(rows))
        assert result.points == Decimal(str(reported(rows, "TOTAL"))), code
        assert result.converted_rounded == Decimal(str(reported(rows, "CONVERTED"))), code
        assert result.class_name == reported(rows, "CLASS"), code


def test_ranking_the_report_by_converted_score_reproduces_its_order(dienbien: Scheme) -> None:
    units = report_units()
    converted = {
        code: score_unit(dienbien, unit_points(rows)).converted for code, rows in units.items()
    }
    ranks = competition_ranks(converted)
    assert list(ranks) == list(units)  # the report's order, ties in the report's order
    for code, rows in units.items():
        report_rank = reported(rows, "RANK")
        if ranks[code].tied:
            # Huổi Só, Lao Xả Phình and Tả Phìn all have 88.89: the report numbers
            # them 8, 9, 10; they share rank 8 and the tie is reported as one.
            assert ranks[code].rank == 8
            assert report_rank in (8, 9, 10)
        else:
            assert ranks[code].rank == report_rank, code
        assert ranks[code].rank_of == 12
    assert [code for code, rank in ranks.items() if rank.tied] == [
        "TUACHUA.HUOISO", "TUACHUA.LAOXAPHINH", "TUACHUA.TAPHIN",
    ]  # fmt: skip


def test_class_is_chosen_on_the_unrounded_score(dienbien: Scheme) -> None:
    assert score_unit(dienbien, with_points(DVTT_2=0.96)).class_name == "Tốt"  # 89.96
    almost = score_unit(dienbien, with_points(DVTT_2=0.9991))  # 89.999, shown as 90.00
    assert almost.converted_rounded == 90.0
    assert almost.class_name == "Tốt"
    exactly = score_unit(dienbien, with_points(DVTT_2=1))  # 81 of 90 is exactly 90
    assert exactly.class_name == "Xuất sắc"


@pytest.mark.parametrize(
    ("dvtt_2", "expected"),
    [
        (1, "Xuất sắc"),  # 81/90 → 9.0
        (0.96, "Tốt"),  # 80.96/90 → 8.9956, shown 9.00
        (0, "Tốt"),  # 80/90 → 8.89
    ],
)
def test_ten_point_scale_divides_the_bands(dienbien: Scheme, dvtt_2: float, expected: str) -> None:
    result = score_unit(dienbien, with_points(DVTT_2=dvtt_2), scale=10)
    assert result.class_name == expected
    assert result.scale == 10


def test_every_band_boundary(tmp_path: Path) -> None:
    scheme = load_scheme(write_scheme(tmp_path / "one.toml", indicators=[("X", 100)]))
    for points, expected in [
        (100, "Xuất sắc"), (90, "Xuất sắc"), (89.99, "Tốt"), (80, "Tốt"), (79.99, "Khá"),
        (70, "Khá"), (69.99, "Trung bình"), (50, "Trung bình"), (49.99, "Yếu"), (0, "Yếu"),
    ]:  # fmt: skip
        assert score_unit(scheme, {"X": points}).class_name == expected, points


def test_bad_points_are_errors_naming_each_code(dienbien: Scheme) -> None:
    points = with_points(TDGQ=31, SHHS_1=-1)
    points["CKMB.9"] = 1
    with pytest.raises(ScoringError) as raised:
        score_unit(dienbien, points)
    message = str(raised.value)
    assert "CKMB.9: not an indicator of scheme dienbien-459" in message
    assert "TDGQ: 31 is outside 0–30" in message
    assert "SHHS.1: -1 is outside 0–5" in message


def test_a_missing_indicator_is_an_error_not_a_silent_not_applicable(dienbien: Scheme) -> None:
    points = dict(THI_TRAN)
    del points["MDHL.3"]
    with pytest.raises(ScoringError, match="MDHL.3: no points given"):
        score_unit(dienbien, points)


def test_a_unit_with_nothing_applicable_has_no_converted_score(dienbien: Scheme) -> None:
    result = score_unit(dienbien, dict.fromkeys(THI_TRAN))
    assert (result.points, result.applicable_max) == (0, 0)
    assert result.converted is None
    assert result.converted_rounded is None
    assert result.class_name is None


def test_an_unsupported_scale_is_refused(dienbien: Scheme) -> None:
    with pytest.raises(ScoringError, match="scale 20"):
        score_unit(dienbien, THI_TRAN, scale=20)


def test_adding_a_province_needs_only_a_new_file(tmp_path: Path) -> None:
    for name in ("dienbien-459.toml", "tt01.toml"):
        shutil.copy(SCHEMES / name, tmp_path / name)
    write_scheme(tmp_path / "laichau-99.toml", scheme_id="laichau-99", scale=10)
    schemes = load_schemes(tmp_path)
    assert sorted(schemes) == ["dienbien-459", "laichau-99"]  # the tt01 file is not provincial
    result = score_unit(schemes["laichau-99"], {"A.1": 9, "A.2": 8.5})
    assert result.converted == 8.75
    assert result.class_name == "Tốt"  # 8.75 on the 10 scale: bands ÷ 10


def test_the_project_config_folder_loads() -> None:
    assert list(load_schemes(SCHEMES)) == ["dienbien-459"]


def test_a_missing_scheme_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SchemeError, match="not a folder of scheme files"):
        load_schemes(tmp_path / "nowhere")


def test_the_same_id_in_two_files_is_an_error(tmp_path: Path) -> None:
    write_scheme(tmp_path / "a.toml")
    write_scheme(tmp_path / "b.toml")
    with pytest.raises(SchemeError, match=r"b\.toml: id: 'test-1' is also defined in .*a\.toml"):
        load_schemes(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('title = "T"', "", "title: expected non-empty text"),
        ("max = 10", 'max = "ten"', "groups[0].indicators[0].max: expected a number"),
        ("max = 10", "max = 0", "groups[0].indicators[0].max: must be positive"),
        ('code = "A.2"', 'code = "A.1"', "groups[0]: indicator A.1 appears twice"),
        ("default_scale = 100", "default_scale = 50", "default_scale: expected one of (10, 100)"),
        ("min = 80", "min = 95", "bands[1].min: must be below the band before"),
        ('name = "Yếu"', 'name = "Yếu"\nmin = 0', "bands[4].min: this band must not have"),
        ('name = "Khá"', 'name = "Tốt"', "bands[2].name: 'Tốt' is used by another band"),
        ('kind = "provincial"', "", "kind: missing"),
        ('kind = "provincial"', "kind = [", "not valid TOML"),
    ],
)
def test_an_invalid_scheme_names_the_file_and_key(
    tmp_path: Path, old: str, new: str, named: str
) -> None:
    path = write_scheme(tmp_path / "broken.toml")
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SchemeError) as raised:
        load_scheme(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert named in str(raised.value)


def write_scheme(
    path: Path,
    scheme_id: str = "test-1",
    scale: int = 100,
    indicators: list[tuple[str, float]] | None = None,
) -> Path:
    """A minimal valid scheme file with the usual bands."""
    items = indicators or [("A.1", 10), ("A.2", 10)]
    bands = [("Xuất sắc", 90), ("Tốt", 80), ("Khá", 70), ("Trung bình", 50)]
    text = [f'kind = "provincial"\nid = "{scheme_id}"\ntitle = "T"\nlegal_basis = "QĐ"']
    text.append(f"default_scale = {scale}")
    text += [f'[[bands]]\nname = "{name}"\nmin = {minimum}' for name, minimum in bands]
    text.append('[[bands]]\nname = "Yếu"')
    text.append('[[groups]]\ncode = "A"\nname = "Nhóm A"')
    text += [
        f'[[groups.indicators]]\ncode = "{code}"\nlabel = "{code}"\nmax = {maximum}'
        for code, maximum in items
    ]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path
