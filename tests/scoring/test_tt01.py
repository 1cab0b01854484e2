"""The 9-criteria scheme (Thông tư 01/2018/TT-VPCP)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from service.scoring.schemes import Band, SchemeError
from service.scoring.tt01 import (
    CRITERIA,
    NO_DOSSIERS,
    Tt01Error,
    average_dossiers,
    load_tt01_bands,
    score_criteria,
    score_dossiers,
)

SCHEMES = Path(__file__).resolve().parents[2] / "config" / "schemes"


@pytest.fixture(scope="module")
def bands() -> tuple[Band, ...]:
    return load_tt01_bands(SCHEMES / "tt01.toml")


def criteria(*values: float) -> dict[str, float]:
    return dict(zip(CRITERIA, values, strict=True))


def summing_to(total: str) -> dict[str, float]:
    """Nine criterion averages, each within 0–2, that add up to `total`."""
    left, values = Decimal(total), []
    for _ in CRITERIA:
        value = min(Decimal(2), left)
        values.append(float(value))
        left -= value
    return criteria(*values)


def test_bands_come_from_configuration(bands: tuple[Band, ...]) -> None:
    assert bands == (
        Band("Xuất sắc", Decimal(15)), Band("Tốt", Decimal(12)), Band("Khá", Decimal(9)),
        Band("Trung bình", Decimal(6)),
        Band("Yếu", None),
    )  # fmt: skip


def test_total_dtb_and_class_from_unit_averages(bands: tuple[Band, ...]) -> None:
    # TC1…TC5 = 2 + 1.67 + 2 + 1.5 + 2 = 9.17; TC6…TC9 = 2 + 1.83 + 2 + 1 = 6.83
    result = score_criteria(criteria(2, 1.67, 2, 1.5, 2, 2, 1.83, 2, 1), bands)
    assert result.dtb == Decimal("9.17")
    assert result.total == 16
    assert result.class_name == "Xuất sắc"
    assert result.status is None


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        ("18", "Xuất sắc"), ("15", "Xuất sắc"), ("14.99", "Tốt"), ("12", "Tốt"),
        ("11.99", "Khá"), ("9", "Khá"), ("8.99", "Trung bình"), ("6", "Trung bình"),
        ("5.99", "Yếu"), ("0", "Yếu"),
    ],
)  # fmt: skip
def test_class_at_every_band_boundary(bands: tuple[Band, ...], total: str, expected: str) -> None:
    result = score_criteria(summing_to(total), bands)
    assert result.total == Decimal(total)
    assert result.class_name == expected


def test_dossier_scores_are_averaged_half_up_to_two_decimals(bands: tuple[Band, ...]) -> None:
    # TC1 over 8 dossiers: 2+2+2+2+2+2+1+0 = 13, 13/8 = 1.625 → 1.63 (half to even gives 1.62)
    # TC3 over 8 dossiers: five 2s and three 0s = 10, 10/8 = 1.25 exactly
    dossiers = [criteria(*[2] * 9) for _ in range(8)]
    dossiers[6] = {**dossiers[6], "TC1": 1}
    dossiers[7] = {**dossiers[7], "TC1": 0}
    for dossier in dossiers[5:]:
        dossier["TC3"] = 0
    averages = average_dossiers(dossiers)
    assert averages["TC1"] == 1.63
    assert averages["TC3"] == 1.25
    assert averages["TC9"] == 2.0
    result = score_dossiers(dossiers, bands)
    assert result.dossiers == 8
    assert result.total == Decimal("16.88")  # 1.63 + 2 + 1.25 + 6 × 2
    assert result.dtb == Decimal("8.88")  # 1.63 + 2 + 1.25 + 2 + 2


def test_thirds_round_to_two_decimals() -> None:
    dossiers = [criteria(*[2] * 9), criteria(*[2] * 9), criteria(*[1] * 9)]
    assert average_dossiers(dossiers)["TC5"] == 1.67  # 5/3


def test_a_unit_without_dossiers_is_not_scored_zero(bands: tuple[Band, ...]) -> None:
    for result in (score_dossiers([], bands), score_criteria(None, bands)):
        assert result.status == NO_DOSSIERS == "Không phát sinh TTHC"
        assert result.total is None
        assert result.dtb is None
        assert result.class_name is None
        assert result.criteria == {}


def test_a_criterion_outside_zero_to_two_is_named(bands: tuple[Band, ...]) -> None:
    with pytest.raises(Tt01Error, match="TC4: 3 is outside 0–2"):
        score_criteria(criteria(2, 2, 2, 3, 2, 2, 2, 2, 2), bands)
    with pytest.raises(Tt01Error, match="TC1: -0.5 is outside 0–2"):
        score_criteria(criteria(-0.5, 2, 2, 2, 2, 2, 2, 2, 2), bands)


def test_a_bad_dossier_score_names_the_dossier_and_criterion(bands: tuple[Band, ...]) -> None:
    dossiers = [criteria(*[2] * 9), {**criteria(*[2] * 9), "TC7": 4}]
    with pytest.raises(Tt01Error, match="dossier 2: TC7: 4 is outside 0–2"):
        score_dossiers(dossiers, bands)


def test_missing_and_unknown_criteria_are_named(bands: tuple[Band, ...]) -> None:
    scores: dict[str, float] = criteria(*[2] * 9)
    del scores["TC9"]
    scores["TC10"] = 1
    with pytest.raises(Tt01Error) as raised:
        score_criteria(scores, bands)
    assert "TC9: missing" in str(raised.value)
    assert "TC10: not one of the nine criteria" in str(raised.value)


def test_averaging_no_dossiers_is_an_error() -> None:
    with pytest.raises(Tt01Error, match="no dossiers"):
        average_dossiers([])


def test_bands_are_read_only_from_a_tt01_file() -> None:
    with pytest.raises(SchemeError, match="kind: expected 'tt01'"):
        load_tt01_bands(SCHEMES / "dienbien-459.toml")
