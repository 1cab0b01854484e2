"""The generated country: deterministic, plausible, shaped like the recordings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.simulator.simulator import GeneratedSource, PortalSimulator
from tests.conftest import PHU_THO_ID
from tests.simulator.conftest import (
    AXES,
    ENDPOINTS,
    GIA_LAI,
    fetch,
    key_paths,
    period_body,
    post,
    recorded,
    units,
)


def test_the_same_seed_gives_the_same_bytes(country: PortalSimulator, province_id: str) -> None:
    source = GeneratedSource(seed=7, provinces=2, communes=120, agencies=30)
    with PortalSimulator(source) as twin, PortalSimulator(GeneratedSource(seed=8)) as other:
        for endpoint in ENDPOINTS:
            body = {**period_body(endpoint), "rootDepartmentId": province_id, "pageSize": 200}
            assert (
                post(twin.base_url, endpoint, body).content
                == post(country.base_url, endpoint, body).content
            )
        body = {**period_body("service-results"), "departmentType": "ADMINISTRATIVE_UNIT"}
        assert (
            post(twin.base_url, "service-results", body).content
            == post(country.base_url, "service-results", body).content
        )
        assert (
            post(other.base_url, "service-results", body).content
            != post(country.base_url, "service-results", body).content
        )


@pytest.mark.parametrize("endpoint", list(AXES.values()))
def test_generated_answers_have_the_recorded_shape(
    country: PortalSimulator, province_id: str, endpoint: str
) -> None:
    generated = fetch(country.base_url, endpoint, province_id)
    real = recorded(endpoint)["data"]
    # Only some metrics carry a data-quality flag, in the recording as in the generated country.
    flags = {path for path in key_paths(real) if "/dataQuality" in path}
    assert key_paths(generated) - flags == key_paths(real) - flags
    for key in ("overview", "parent", "evaluation", "children"):
        if key in real:
            first_real = real[key][0] if isinstance(real[key], list) else real[key]
            first = generated[key][0] if isinstance(generated[key], list) else generated[key]
            assert list(first) == list(first_real), key


def test_the_generated_province_list_has_the_recorded_shape(country: PortalSimulator) -> None:
    data = fetch(country.base_url, "service-results", None, year=2026)
    real = json.loads((GIA_LAI / "response.json").read_bytes())["data"]
    assert key_paths(data) == key_paths(real)
    assert [
        row["departmentCode"]
        for row in sorted(data["evaluation"], key=lambda r: r["departmentCode"])
    ] == ["H01", "H02"]


def test_generated_figures_drift_between_months(country: PortalSimulator, province_id: str) -> None:
    july = fetch(country.base_url, "service-results", province_id, month=7)["evaluation"]
    august = fetch(country.base_url, "service-results", province_id, month=8)["evaluation"]
    before = {row["departmentId"]: row for row in july}
    deltas = [row["scoreDelta"] for row in august]
    assert min(deltas) < 0 < max(deltas)
    for row in august:
        earlier = before[row["departmentId"]]
        assert row["scoreDelta"] == round(row["totalScore"] - earlier["totalScore"], 2)
    held = [
        code
        for row in august
        for code, score in row["groupScores"].items()
        if score == before[row["departmentId"]]["groupScores"][code]
    ]
    assert len(held) > 20


@pytest.fixture(scope="module")
def august(country: PortalSimulator, province_id: str) -> dict[str, Any]:
    """One generated province's six axis answers for August 2026, keyed by axis."""
    return {code: fetch(country.base_url, endpoint, province_id) for code, endpoint in AXES.items()}


def test_generated_progress_counts_add_up(august: dict[str, Any]) -> None:
    for unit in units(august["TDGQ"]):
        received, on_time = unit["totalReceived"], unit["totalOnTime"]
        assert unit["totalOverdue"] <= received - on_time
        assert unit["ratio"] == (round(100 * on_time / received, 2) if received else 0)
        assert unit["score"] == (round(20 * on_time / received, 2) if received else 0)


@pytest.mark.parametrize(("axis", "max_score"), [("CKMB", 18), ("MDHL", 18), ("MDSH", 22)])
def test_generated_axis_totals_are_their_metric_scores(
    august: dict[str, Any], axis: str, max_score: int
) -> None:
    for unit in [august[axis]["overview"], *units(august[axis])]:
        scores = [metric["score"] for metric in unit["metrics"] if metric["score"] is not None]
        assert unit["totalScore"] == round(sum(scores), 2)
        assert unit["ratio"] == round(100 * unit["totalScore"] / max_score, 2)
        for metric in unit["metrics"]:
            if metric["denominator"]:
                share = metric["numerator"] / metric["denominator"]
                assert metric["ratio"] == round(100 * share, 2)
            elif axis != "MDHL" and metric["numerator"] is not None:
                # Satisfaction shows 0 for 0/0; the others null, as recorded.
                assert metric["ratio"] is metric["score"] is None


def payment_points(unit: dict[str, Any]) -> float:
    """TTTT as docs/domain.md fits it, recomputed from a payment-tree unit's counts."""
    fees = unit["totalFeeFormality"]

    def capped(count: int) -> float:
        return round(min(2, 2.5 * count / fees), 2) if fees else 0

    paid, owed = unit["totalDossierOnlinePaymentSuccess"], unit["totalDossierFinancialObligation"]
    return (
        (round(6 * paid / owed, 2) if owed else 0)
        + capped(unit["totalFeeDossierFormality"])
        + capped(unit["totalDossierOnlineFormalityPaymentSuccess"])
    )


def test_generated_payment_scores_follow_the_fitted_formula(august: dict[str, Any]) -> None:
    for unit in units(august["TTTT"]):
        assert unit["totalDossierOnlinePaymentSuccess"] <= unit["totalDossierFinancialObligation"]
        assert unit["totalScore"] == pytest.approx(payment_points(unit), abs=0.005)


def test_generated_rankings_sum_the_axes(
    country: PortalSimulator, province_id: str, august: dict[str, Any]
) -> None:
    axis_totals = {
        code: {u["departmentId"]: u.get("totalScore", u.get("score")) for u in units(data)}
        for code, data in august.items()
    }
    for row in fetch(country.base_url, "service-results", province_id)["evaluation"]:
        assert row["groupScores"] == {code: axis_totals[code][row["departmentId"]] for code in AXES}
        assert row["totalScore"] == round(sum(row["groupScores"].values()), 2)


def test_generated_figures_are_plausibly_spread(country: PortalSimulator, province_id: str) -> None:
    ranking = fetch(country.base_url, "service-results", province_id)["evaluation"]
    communes = [row["totalScore"] for row in ranking if row["childGroup"] == "COMMUNE"]
    assert sum(55 <= score <= 95 for score in communes) >= 0.8 * len(communes)
    progress = units(fetch(country.base_url, "dvc-progress-tree", province_id))
    payment = units(fetch(country.base_url, "formality-online-payment-tree", province_id))
    sync = [u["metrics"][3] for u in units(fetch(country.base_url, "transparency", province_id))]
    digitised = [
        u["metrics"][1] for u in units(fetch(country.base_url, "dossier-digitized", province_id))
    ]
    assert any(u["totalOverdue"] > 0 for u in progress)
    assert any(u["totalReceived"] == 0 for u in progress)
    assert any(
        u["totalDossierOnlinePaymentSuccess"] < u["totalDossierFinancialObligation"]
        for u in payment
    )
    assert any(m["numerator"] < m["denominator"] for m in sync if m["denominator"])
    assert any(m["numerator"] < m["denominator"] for m in digitised if m["denominator"])
    assert any("dataQualityStatus" in m for m in sync)


def test_a_generated_quarter_sums_its_months(country: PortalSimulator, province_id: str) -> None:
    body = {"timeType": "quarter", "year": 2026, "quarter": 3, "rootDepartmentId": province_id}
    quarter = post(country.base_url, "dvc-progress-tree", body).json()["data"]
    months = [fetch(country.base_url, "dvc-progress-tree", province_id, month=m) for m in (7, 8, 9)]
    assert quarter["parent"]["totalReceived"] == sum(m["parent"]["totalReceived"] for m in months)
    charted = [point["month"] for point in quarter["monthlyChart"] if point["onTimePct"]]
    assert charted == ["07", "08", "09"]


def test_generated_lists_are_paged(country: PortalSimulator, province_id: str) -> None:
    body = {
        **period_body("transparency"),
        "rootDepartmentId": province_id,
        "currentPage": 2,
        "pageSize": 10,
    }
    data = post(country.base_url, "transparency", body).json()["data"]
    assert [row["stt"] for row in data["evaluation"]] == list(range(11, 21))
    assert data["pagination"] == {"total": 75, "currentPage": 2, "pageSize": 10, "totalPages": 8}


def test_a_national_country_has_every_unit() -> None:
    source = GeneratedSource(seed=1, provinces=34, communes=3321, agencies=700)
    with PortalSimulator(source) as simulator:
        provinces = fetch(simulator.base_url, "service-results", None)["evaluation"]
        levels = [
            child["level"]
            for row in provinces
            for child in units(fetch(simulator.base_url, "dvc-progress-tree", row["departmentId"]))
        ]
    assert len(provinces) == 34
    assert (levels.count("COMMUNE"), levels.count("PROVINCE")) == (3321, 700)


def test_a_generated_unknown_province_is_404(country: PortalSimulator) -> None:
    response = post(
        country.base_url,
        "transparency",
        {**period_body("transparency"), "rootDepartmentId": PHU_THO_ID},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
