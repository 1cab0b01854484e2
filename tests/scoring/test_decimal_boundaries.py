"""Officials' figures are decimals: the edges where binary floats used to decide.

Each table row is a figure exactly on an edge: a reported figure differing
from the computed one by exactly the tolerance, a score exactly on a class
boundary of each scheme (on the 100- and the 10-point scale), totals that
are equal as decimals although their float sums differ. Rows marked "float"
are the ones floating point got wrong (68.11 − 68.1 = 0.010000000000005).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from service.figures import FigureValue
from service.scoring.appraisal import appraisal_rows, provincial_scorer, tt01_scorer
from service.scoring.changes import score_change
from service.scoring.national import NationalInput, national_rows
from service.scoring.ranks import competition_ranks, province_averages
from service.scoring.schemes import Scheme, load_scheme, score_unit
from service.scoring.tt01 import CRITERIA, average_dossiers, load_tt01_bands, score_criteria
from service.snapshots import StoredUnit

SCHEMES = Path(__file__).resolve().parents[2] / "config" / "schemes"
DIENBIEN = load_scheme(SCHEMES / "dienbien-459.toml")
TT01_BANDS = load_tt01_bands(SCHEMES / "tt01.toml")
NOT_APPLICABLE = ("CKMB.1", "CKMB.2")  # as in the Tủa Chùa report: 90 applicable points


def stored(
    unit_id: int, figures: Mapping[str, float | None], reported: Mapping[str, float] | None = None
) -> StoredUnit:
    """An imported unit with indicator points (None: not applicable) and the figures its
    table reported about itself."""
    values = {code: FigureValue(code, "indicator", value) for code, value in figures.items()}
    values |= {code: FigureValue(code, "reported", v) for code, v in (reported or {}).items()}
    return StoredUnit(
        unit_id, f"U{unit_id:02d}", None, f"Đơn vị {unit_id}", "UNKNOWN", None, "P",
        "import", "2024-03", dt.date(2024, 3, 31), 1, "final", values,
    )  # fmt: skip


def filled(maxima: Mapping[str, float], total: str) -> dict[str, float]:
    """Points for each indicator, each within its maximum, adding up to `total` as decimals."""
    left, points = Decimal(total), {}
    for code, maximum in maxima.items():
        value = min(Decimal(repr(maximum)), left)
        points[code], left = float(value), left - value
    assert left == 0, f"{total} does not fit"
    return points


def dienbien_points(total: str) -> dict[str, float]:
    maxima = {i.code: i.max for i in DIENBIEN.indicators if i.code not in NOT_APPLICABLE}
    return filled(maxima, total)


def tt01_points(total: str) -> dict[str, float]:
    return filled(dict.fromkeys(CRITERIA, 2.0), total)


def mismatched_fields(rows: list[dict]) -> list[str]:
    [row] = rows
    return [mismatch["field"] for mismatch in row["mismatches"]]


@pytest.mark.parametrize(
    ("points", "reported", "scale", "tolerance", "mismatch"),
    [
        ("68.10", {"TOTAL": 68.11}, 100, 0.01, False),  # float: 0.010000000000005 > 0.01
        ("68.10", {"TOTAL": 68.09}, 100, 0.01, False),
        ("68.10", {"TOTAL": 68.12}, 100, 0.01, True),
        ("68.10", {"TOTAL": 68.20}, 100, 0.1, False),  # float: 0.10000000000000853 > 0.1
        ("68.10", {"TOTAL": 68.21}, 100, 0.1, True),
        ("68.10", {"TOTAL": 68.11}, 100, Decimal("0.01"), False),  # float: as above
        ("68.10", {"TOTAL": 68.10}, 100, 0, False),
        ("68.10", {"TOTAL": 68.11}, 100, 0, True),
        # 68.10 of 90 is 75.666…, printed 75.67
        ("68.10", {"CONVERTED": 75.68}, 100, 0.01, False),  # float: 0.010000000000005 > 0.01
        ("68.10", {"CONVERTED": 75.66}, 100, 0.01, False),  # float: as above
        ("68.10", {"CONVERTED": 75.69}, 100, 0.01, True),
        # 68.10 of 90 on the 10-point scale is 7.5666…, printed 7.57
        ("68.10", {"CONVERTED": 7.56}, 10, 0.01, False),  # float: 0.010000000000000675 > 0.01
        ("68.10", {"CONVERTED": 7.58}, 10, 0.01, False),
        ("68.10", {"CONVERTED": 7.55}, 10, 0.01, True),
    ],
)
def test_a_provincial_figure_off_by_exactly_the_tolerance_agrees(
    points: str, reported: dict[str, float], scale: int, tolerance: float, mismatch: bool
) -> None:
    unit = stored(1, dienbien_points(points), reported)
    rows = appraisal_rows(
        "provincial:dienbien-459", provincial_scorer(DIENBIEN, scale), [unit], tolerance=tolerance
    )
    assert mismatched_fields(rows) == (list(reported) if mismatch else [])


@pytest.mark.parametrize(
    ("points", "reported", "mismatch"),
    [
        ("16.16", {"TOTAL": 16.17}, False),  # float: 0.010000000000001563 > 0.01
        ("16.16", {"TOTAL": 16.15}, False),
        ("16.16", {"TOTAL": 16.18}, True),
        ("8.04", {"DTB": 8.05}, False),  # TC1…TC5 = 2, 2, 2, 2, 0.04; float: > 0.01
        ("8.04", {"DTB": 8.03}, False),
        ("8.04", {"DTB": 8.06}, True),
    ],
)
def test_a_tt01_figure_off_by_exactly_the_tolerance_agrees(
    points: str, reported: dict[str, float], mismatch: bool
) -> None:
    unit = stored(1, tt01_points(points), reported)
    rows = appraisal_rows("tt01", tt01_scorer(TT01_BANDS), [unit], tolerance=0.01)
    assert mismatched_fields(rows) == (list(reported) if mismatch else [])


def band_scheme(tmp_path: Path, minima: list[str]) -> Scheme:
    """One indicator X of 100 points, so points are the converted score on the 100 scale."""
    names = ["Xuất sắc", "Tốt", "Khá", "Trung bình"]
    text = ['kind = "provincial"\nid = "t"\ntitle = "T"\nlegal_basis = "QĐ"\ndefault_scale = 100']
    text += [f'[[bands]]\nname = "{n}"\nmin = {m}' for n, m in zip(names, minima, strict=True)]
    text += ['[[bands]]\nname = "Yếu"', '[[groups]]\ncode = "A"\nname = "A"']
    text += ['[[groups.indicators]]\ncode = "X"\nlabel = "X"\nmax = 100']
    path = tmp_path / "t.toml"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return load_scheme(path)


#: Điện Biên (Quyết định 459): Xuất sắc ≥ 90, Tốt ≥ 80, Khá ≥ 70, Trung bình ≥ 50 on the
#: unrounded converted score; 81 of the 90 applicable points is exactly 90.
DIENBIEN_EDGES = [
    ("81", "Xuất sắc"), ("80.99", "Tốt"), ("72", "Tốt"), ("71.99", "Khá"),
    ("63", "Khá"), ("62.99", "Trung bình"), ("45", "Trung bình"), ("44.99", "Yếu"),
]  # fmt: skip


@pytest.mark.parametrize("scale", [100, 10])
@pytest.mark.parametrize(("points", "expected"), DIENBIEN_EDGES)
def test_dienbien_scores_on_each_band_minimum_earn_that_band(
    points: str, expected: str, scale: int
) -> None:
    assert (
        score_unit(
            DIENBIEN, dienbien_points(points) | dict.fromkeys(NOT_APPLICABLE), scale
        ).class_name
        == expected
    )


#: A province whose minimums have two decimals: on the 10-point scale they are
#: 8.523, 7.235, 6.002, 5.028, which the float division 85.23 × 10 / 100 made
#: 8.523000000000001, so a unit scoring exactly 8.523 fell a band short.
TWO_DECIMAL_MINIMA = ["85.23", "72.35", "60.02", "50.28"]


@pytest.mark.parametrize("scale", [100, 10])
@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ("85.23", "Xuất sắc"), ("85.22", "Tốt"), ("72.35", "Tốt"), ("72.34", "Khá"),
        ("60.02", "Khá"), ("60.01", "Trung bình"), ("50.28", "Trung bình"), ("50.27", "Yếu"),
    ],
)  # fmt: skip
def test_two_decimal_band_minimums_hold_on_both_scales(
    tmp_path: Path, points: str, expected: str, scale: int
) -> None:  # float on the 10 scale: 8.523, 7.235, 6.002 and 5.028 one band short
    scheme = band_scheme(tmp_path, TWO_DECIMAL_MINIMA)
    result = score_unit(scheme, {"X": float(points)}, scale)
    assert result.class_name == expected
    assert result.converted == Decimal(points) * scale / 100


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        ("15", "Xuất sắc"), ("14.99", "Tốt"), ("12", "Tốt"), ("11.99", "Khá"),
        ("9", "Khá"), ("8.99", "Trung bình"), ("6", "Trung bình"), ("5.99", "Yếu"),
    ],
)  # fmt: skip
def test_tt01_totals_on_each_band_minimum_earn_that_band(total: str, expected: str) -> None:
    unit = stored(1, tt01_points(total), {"TOTAL": float(total)})
    [row] = appraisal_rows("tt01", tt01_scorer(TT01_BANDS), [unit])
    assert (row["total"], row["class"], row["mismatches"]) == (float(total), expected, [])
    assert score_criteria(tt01_points(total), TT01_BANDS).class_name == expected


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([1, 2], 1.5),
        ([2, 2, 1], 1.67),  # 5/3 = 1.666…
        ([2, 1, 1], 1.33),  # 4/3 = 1.333…
        ([2] * 5 + [1] + [0] * 2, 1.38),  # 11/8 = 1.375: half up (half to even gives 1.38 too)
        ([2] * 6 + [1] + [0], 1.63),  # 13/8 = 1.625: half up, not half to even's 1.62
        ([2] * 33 + [1] * 100 + [0] * 67, 0.83),  # 166/200 = 0.83
        ([2] * 33 + [1] + [0] * 166, 0.34),  # 67/200 = 0.335: half up
    ],
)
def test_per_dossier_averages_round_half_up_to_two_decimals(
    scores: list[int], expected: float
) -> None:
    dossiers = [dict.fromkeys(CRITERIA, score) for score in scores]
    assert average_dossiers(dossiers)["TC1"] == expected


def ranked(totals: Mapping[str, str]) -> dict[str, tuple[int | None, bool]]:
    """Ranks of provincial units scored on one indicator group, through the appraisal."""
    units = [
        stored(n, dienbien_points(points) | dict.fromkeys(NOT_APPLICABLE))
        for n, points in enumerate(totals.values(), start=1)
    ]
    rows = appraisal_rows("provincial:dienbien-459", provincial_scorer(DIENBIEN, 100), units)
    return {row["unit_code"]: (row["rank"], row["rank_tied"]) for row in rows}


def test_totals_equal_as_decimals_tie_whatever_their_float_sums() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats, and 0.3 is 0.3
    ranks = competition_ranks(
        {"A": sum([0.1, 0.2]), "B": 0.3, "C": Decimal("0.1") + Decimal("0.2")}
    )
    assert {unit: (rank.rank, rank.tied) for unit, rank in ranks.items()} == {
        "A": (1, True), "B": (1, True), "C": (1, True),
    }  # fmt: skip
    # Two units of 75.30 points: float sums make one of them 75.30000000000001
    one = {"CKMB.3": 10, "TDGQ": 30, "DVTT.1": 10, "DVTT.2": 0.3, "SHHS.1": 0, "SHHS.2": 10}
    one |= {"MDHL.1": 5, "MDHL.2": 5, "MDHL.3": 5}
    other = one | {"DVTT.2": 0.1, "SHHS.1": 0.2}
    assert sum(map(float, one.values())) != sum(map(float, other.values()))
    units = [stored(n, p | dict.fromkeys(NOT_APPLICABLE)) for n, p in ((1, one), (2, other))]
    rows = appraisal_rows("provincial:dienbien-459", provincial_scorer(DIENBIEN, 100), units)
    assert [(row["total"], row["rank"], row["rank_tied"]) for row in rows] == [
        (75.3, 1, True), (75.3, 1, True),
    ]  # fmt: skip


def test_ranks_split_only_where_the_printed_decimals_differ() -> None:
    assert ranked({"a": "80", "b": "80", "c": "79.99"}) == {
        "U01": (1, True), "U02": (1, True), "U03": (3, False),
    }  # fmt: skip


def test_a_unit_is_below_the_average_of_its_set_as_decimals() -> None:
    # (19.23 + 18.04 + 18.63 + 18.64) / 4 = 18.635, printed 18.64; floats make it 18.634999…
    scores = {"a": 19.23, "b": 18.04, "c": 18.63, "d": 18.64}
    averages = province_averages({unit: {"CKMB": value} for unit, value in scores.items()})
    assert averages["CKMB"].average == Decimal("18.635")
    assert averages["CKMB"].below == ("b", "c")  # float: 18.63 was not below 18.63


def test_the_national_rows_name_units_below_the_decimal_average() -> None:
    axes = {"TDGQ": 20.0, "CLGQ": 12.0, "TTTT": 10.0, "MDHL": 18.0, "MDSH": 22.0}
    units = []
    for unit_id, ckmb in enumerate([19.23, 18.04, 18.63, 18.64], start=1):
        figures = {"TOTAL": FigureValue("TOTAL", "total", ckmb + 82, 100.0)}
        figures |= {
            code: FigureValue(code, "axis", v, None, code)
            for code, v in {**axes, "CKMB": ckmb}.items()
        }
        units.append(
            StoredUnit(
                unit_id, f"H.{unit_id}", None, f"Xã {unit_id}", "COMMUNE", 9, "H", "portal-766",
                "2026-08", dt.date(2026, 8, 31), 1, "final", figures,
            )
        )  # fmt: skip
    below = {row["unit_code"]: row["below_average"] for row in national_rows(NationalInput(units))}
    assert below == {"H.1": [], "H.2": ["CKMB"], "H.3": ["CKMB"], "H.4": []}


@pytest.mark.parametrize(
    ("current", "previous", "change"),
    [
        (0.3, 0.165, 0.14),  # 0.135 half up; float: 0.13499999999999998 → 0.13
        (88.005, 86.97, 1.04),  # 1.035 half up; float: 1.0349999999999966 → 1.03
        (93.81, 86.97, 6.84),
        (86.97, 93.81, -6.84),
        (18.0, 18.0, 0.0),
    ],
)
def test_a_change_is_the_difference_of_the_decimals(
    current: float, previous: float, change: float
) -> None:
    assert score_change(current, previous) == change


@pytest.mark.parametrize(
    ("total", "scale", "converted"),
    [
        (68.15, 10, 6.82),
        (68.14, 10, 6.81),
        (88.89, 100, 88.89),
        (100.0, 10, 10.0),
        (0.05, 10, 0.01),
    ],
)
def test_the_national_total_converts_to_the_ten_point_scale_half_up(
    total: float, scale: int, converted: float
) -> None:
    figures = {"TOTAL": FigureValue("TOTAL", "total", total, 100.0)}
    unit = StoredUnit(
        1, "H.1", None, "Xã", "COMMUNE", 9, "H", "portal-766", "2026-08", dt.date(2026, 8, 31),
        1, "final", figures,
    )  # fmt: skip
    [row] = national_rows(NationalInput([unit]), scale)
    assert row["converted"] == converted
