"""The portal simulator, over real HTTP on 127.0.0.1: replay, generation, faults, CLI."""

from __future__ import annotations

import json
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from service.portal.simulator import Fault, GeneratedSource, PortalSimulator, ReplaySource, main

PROJECT = Path(__file__).resolve().parents[2]
CAPTURES = PROJECT.parent / "shared" / "portal-captures"
PHU_THO = CAPTURES / "phu-tho-2026-08"
GIA_LAI = CAPTURES / "gia-lai-2026-09-17-service-results"
PHU_THO_ID = "019d2be3-6a88-732b-8b17-b68020c8553a"
API = "/api/v1/reporting/evaluation/"
AXES = {"CKMB": "transparency", "TDGQ": "dvc-progress-tree", "CLGQ": "provide-online-tree",
        "TTTT": "formality-online-payment-tree", "MDHL": "handling-satisfaction",
        "MDSH": "dossier-digitized"}
ENDPOINTS = ["service-results", *AXES.values()]


def period_body(endpoint: str, year: int = 2026, month: int = 8) -> dict[str, Any]:
    """The period fields of a month request, in the form `endpoint` takes."""
    if endpoint == "handling-satisfaction":
        last = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
        return {"fromDate": f"{year}-{month:02d}-01", "toDate": f"{year}-{month:02d}-{last}"}
    return {"timeType": "month", "year": year, "month": month}


def post(base_url: str, endpoint: str, body: Any) -> requests.Response:
    return requests.post(f"{base_url}{API}{endpoint}", json=body, timeout=30)


def fetch(base_url: str, endpoint: str, province_id: str | None, **period: int) -> Any:
    """The `data` of a successful month answer (every unit on one page)."""
    body = {**period_body(endpoint, **period), "currentPage": 1, "pageSize": 1000}
    if province_id is None:
        body["departmentType"] = "ADMINISTRATIVE_UNIT"
    else:
        body["rootDepartmentId"] = province_id
    response = post(base_url, endpoint, body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def units(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["evaluation"] if "evaluation" in data else data["children"]


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value, list items merged: its shape, not its figures."""
    paths = set()
    if isinstance(value, dict):
        for key, item in value.items():
            paths |= {f"{prefix}/{key}"} | key_paths(item, f"{prefix}/{key}")
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


def recorded(endpoint: str) -> dict[str, Any]:
    return json.loads((PHU_THO / endpoint / "month-all.json").read_bytes())


@pytest.fixture(scope="module")
def phu_tho() -> Iterator[PortalSimulator]:
    with PortalSimulator(ReplaySource(PHU_THO)) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def country() -> Iterator[PortalSimulator]:
    with PortalSimulator(GeneratedSource(seed=7, provinces=2, communes=120, agencies=30)) as sim:
        yield sim


@pytest.fixture(scope="module")
def province_id(country: PortalSimulator) -> str:
    return str(fetch(country.base_url, "service-results", None)["evaluation"][0]["departmentId"])


@pytest.fixture
def fresh_portal() -> Iterator[PortalSimulator]:
    with PortalSimulator(GeneratedSource(seed=3, provinces=1, communes=6, agencies=2)) as sim:
        yield sim


@pytest.fixture
def fresh_province(fresh_portal: PortalSimulator) -> str:
    source = fresh_portal.source
    assert isinstance(source, GeneratedSource)
    return source.provinces[0].department.department_id


# --- replay ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(AXES.values()))
def test_replay_serves_the_recorded_bytes(phu_tho: PortalSimulator, endpoint: str) -> None:
    manifest = json.loads((PHU_THO / "manifest.json").read_text(encoding="utf-8"))
    capture = next(c for c in manifest["captures"] if c["file"] == f"{endpoint}/month-all.json")
    response = post(phu_tho.base_url, endpoint, capture["payload"])
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == (PHU_THO / endpoint / "month-all.json").read_bytes()


def test_replay_derives_service_results_from_the_six_axes(phu_tho: PortalSimulator) -> None:
    response = post(phu_tho.base_url, "service-results",
                    {**period_body("service-results"), "rootDepartmentId": PHU_THO_ID})
    assert response.status_code == 201
    assert response.headers["X-Simulator-Derived"] == "service-results"
    data = response.json()["data"]
    assert len(data["evaluation"]) == 163
    scores = {code: {u["departmentId"]: u.get("totalScore", u.get("score"))
                     for u in units(recorded(endpoint)["data"])} for code, endpoint in AXES.items()}
    for unit in data["evaluation"]:
        assert unit["groupScores"] == {code: scores[code][unit["departmentId"]] for code in AXES}
        assert unit["totalScore"] == round(sum(unit["groupScores"].values()), 2)
    assert sorted({u["childGroup"] for u in data["evaluation"]}) == ["AGENCY", "COMMUNE"]
    overview = data["overview"]
    parents = [recorded(e)["data"].get("overview") or recorded(e)["data"]["parent"]
               for e in AXES.values()]
    assert overview["totalScore"] == round(sum(p["totalScore"] for p in parents), 2) == 59.92
    assert (overview["departmentCode"], overview["agencyCount"], overview["communeCount"]) == (
        "H44", 15, 148)


def test_replay_derives_the_province_list_from_the_root_nodes(phu_tho: PortalSimulator) -> None:
    data = fetch(phu_tho.base_url, "service-results", None)
    assert [row["departmentCode"] for row in data["evaluation"]] == ["H44"]
    real = json.loads((GIA_LAI / "response.json").read_bytes())["data"]
    assert key_paths(data) == key_paths(real)


@pytest.mark.parametrize("body", [
    {**period_body("transparency", month=7), "rootDepartmentId": PHU_THO_ID},
    {**period_body("transparency"), "rootDepartmentId": "not-a-recorded-province"},
    {"timeType": "quarter", "year": 2026, "quarter": 3, "rootDepartmentId": PHU_THO_ID},
    {**period_body("transparency"), "rootDepartmentId": PHU_THO_ID, "formalityId": "x"},
])
def test_replay_answers_404_for_what_it_has_not_recorded(phu_tho: PortalSimulator,
                                                         body: dict[str, Any]) -> None:
    response = post(phu_tho.base_url, "transparency", body)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_replay_of_a_crawler_exchange_serves_its_province_list() -> None:
    with PortalSimulator(ReplaySource(GIA_LAI)) as simulator:
        request = json.loads((GIA_LAI / "request.json").read_bytes())
        response = post(simulator.base_url, "service-results", request)
    assert response.status_code == 201
    assert response.content == (GIA_LAI / "response.json").read_bytes()
    assert "X-Simulator-Derived" not in response.headers


def test_replay_without_a_manifest_serves_each_endpoint_folder(tmp_path: Path) -> None:
    (tmp_path / "dvc-progress-tree").mkdir()
    shutil.copy(PHU_THO / "dvc-progress-tree" / "month-all.json", tmp_path / "dvc-progress-tree")
    with PortalSimulator(ReplaySource(tmp_path)) as simulator:
        body = {**period_body("dvc-progress-tree", month=3), "rootDepartmentId": PHU_THO_ID}
        response = post(simulator.base_url, "dvc-progress-tree", body)
        missing = post(simulator.base_url, "transparency",
                       {**period_body("transparency"), "rootDepartmentId": PHU_THO_ID})
    assert response.content == (PHU_THO / "dvc-progress-tree" / "month-all.json").read_bytes()
    assert missing.status_code == 404


# --- the protocol --------------------------------------------------------------


def test_an_unknown_endpoint_is_404(phu_tho: PortalSimulator) -> None:
    response = post(phu_tho.base_url, "ranking", {**period_body("x"), "rootDepartmentId": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("endpoint", "body"), [
    ("transparency", "not json"),
    ("transparency", {"year": 2026, "month": 8, "rootDepartmentId": PHU_THO_ID}),
    ("transparency", {"timeType": "month", "year": 2026, "month": 13,
                      "rootDepartmentId": PHU_THO_ID}),
    ("transparency", {"timeType": "month", "year": 2026, "month": 8}),
    ("handling-satisfaction", {"fromDate": "2026-08-02", "toDate": "2026-08-31",
                               "rootDepartmentId": PHU_THO_ID}),
    ("handling-satisfaction", {"timeType": "month", "year": 2026, "month": 8,
                               "rootDepartmentId": PHU_THO_ID}),
    ("service-results", {"timeType": "year", "year": 2026, "departmentType": "PROVINCE"}),
])
def test_malformed_bodies_are_400(phu_tho: PortalSimulator, endpoint: str, body: Any) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = requests.post(f"{phu_tho.base_url}{API}{endpoint}", data=raw, timeout=10)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


def test_handling_satisfaction_reads_whole_quarters_and_years(country: PortalSimulator,
                                                             province_id: str) -> None:
    for (first, last), period in [(("2026-07-01", "2026-09-30"), {"quarter": 3}),
                                  (("2026-01-01", "2026-12-31"), {})]:
        satisfaction = post(country.base_url, "handling-satisfaction", {
            "fromDate": first, "toDate": last, "rootDepartmentId": province_id}).json()["data"]
        kind = "quarter" if period else "year"
        progress = post(country.base_url, "dvc-progress-tree", {
            "timeType": kind, "year": 2026, **period, "rootDepartmentId": province_id,
        }).json()["data"]
        assert satisfaction["overview"]["totalDossiers"] == progress["parent"]["totalReceived"]


# --- the generated country ----------------------------------------------------------


def test_the_same_seed_gives_the_same_bytes(country: PortalSimulator, province_id: str) -> None:
    source = GeneratedSource(seed=7, provinces=2, communes=120, agencies=30)
    with PortalSimulator(source) as twin, PortalSimulator(GeneratedSource(seed=8)) as other:
        for endpoint in ENDPOINTS:
            body = {**period_body(endpoint), "rootDepartmentId": province_id, "pageSize": 200}
            assert post(twin.base_url, endpoint, body).content == post(
                country.base_url, endpoint, body).content
        body = {**period_body("service-results"), "departmentType": "ADMINISTRATIVE_UNIT"}
        assert post(twin.base_url, "service-results", body).content == post(
            country.base_url, "service-results", body).content
        assert post(other.base_url, "service-results", body).content != post(
            country.base_url, "service-results", body).content


@pytest.mark.parametrize("endpoint", list(AXES.values()))
def test_generated_answers_have_the_recorded_shape(country: PortalSimulator, province_id: str,
                                                   endpoint: str) -> None:
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
    assert [row["departmentCode"] for row in sorted(data["evaluation"],
                                                    key=lambda r: r["departmentCode"])] == [
        "H01", "H02"]


def test_generated_figures_drift_between_months(country: PortalSimulator,
                                                province_id: str) -> None:
    july = fetch(country.base_url, "service-results", province_id, month=7)["evaluation"]
    august = fetch(country.base_url, "service-results", province_id, month=8)["evaluation"]
    before = {row["departmentId"]: row for row in july}
    deltas = [row["scoreDelta"] for row in august]
    assert min(deltas) < 0 < max(deltas)
    for row in august:
        earlier = before[row["departmentId"]]
        assert row["scoreDelta"] == round(row["totalScore"] - earlier["totalScore"], 2)
    held = [code for row in august for code, score in row["groupScores"].items()
            if score == before[row["departmentId"]]["groupScores"][code]]
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
def test_generated_axis_totals_are_their_metric_scores(august: dict[str, Any], axis: str,
                                                       max_score: int) -> None:
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
    return ((round(6 * paid / owed, 2) if owed else 0) + capped(unit["totalFeeDossierFormality"])
            + capped(unit["totalDossierOnlineFormalityPaymentSuccess"]))


def test_generated_payment_scores_follow_the_fitted_formula(august: dict[str, Any]) -> None:
    for unit in units(august["TTTT"]):
        assert unit["totalDossierOnlinePaymentSuccess"] <= unit["totalDossierFinancialObligation"]
        assert unit["totalScore"] == pytest.approx(payment_points(unit), abs=0.005)


def test_generated_rankings_sum_the_axes(country: PortalSimulator, province_id: str,
                                         august: dict[str, Any]) -> None:
    axis_totals = {code: {u["departmentId"]: u.get("totalScore", u.get("score"))
                          for u in units(data)} for code, data in august.items()}
    for row in fetch(country.base_url, "service-results", province_id)["evaluation"]:
        assert row["groupScores"] == {code: axis_totals[code][row["departmentId"]]
                                      for code in AXES}
        assert row["totalScore"] == round(sum(row["groupScores"].values()), 2)


def test_generated_figures_are_plausibly_spread(country: PortalSimulator,
                                                province_id: str) -> None:
    ranking = fetch(country.base_url, "service-results", province_id)["evaluation"]
    communes = [row["totalScore"] for row in ranking if row["childGroup"] == "COMMUNE"]
    assert sum(55 <= score <= 95 for score in communes) >= 0.8 * len(communes)
    progress = units(fetch(country.base_url, "dvc-progress-tree", province_id))
    payment = units(fetch(country.base_url, "formality-online-payment-tree", province_id))
    sync = [u["metrics"][3] for u in units(fetch(country.base_url, "transparency", province_id))]
    digitised = [u["metrics"][1]
                 for u in units(fetch(country.base_url, "dossier-digitized", province_id))]
    assert any(u["totalOverdue"] > 0 for u in progress)
    assert any(u["totalReceived"] == 0 for u in progress)
    assert any(u["totalDossierOnlinePaymentSuccess"] < u["totalDossierFinancialObligation"]
               for u in payment)
    assert any(m["numerator"] < m["denominator"] for m in sync if m["denominator"])
    assert any(m["numerator"] < m["denominator"] for m in digitised if m["denominator"])
    assert any("dataQualityStatus" in m for m in sync)


def test_a_generated_quarter_sums_its_months(country: PortalSimulator, province_id: str) -> None:
    body = {"timeType": "quarter", "year": 2026, "quarter": 3, "rootDepartmentId": province_id}
    quarter = post(country.base_url, "dvc-progress-tree", body).json()["data"]
    months = [fetch(country.base_url, "dvc-progress-tree", province_id, month=m)
              for m in (7, 8, 9)]
    assert quarter["parent"]["totalReceived"] == sum(m["parent"]["totalReceived"] for m in months)
    charted = [point["month"] for point in quarter["monthlyChart"] if point["onTimePct"]]
    assert charted == ["07", "08", "09"]


def test_generated_lists_are_paged(country: PortalSimulator, province_id: str) -> None:
    body = {**period_body("transparency"), "rootDepartmentId": province_id,
            "currentPage": 2, "pageSize": 10}
    data = post(country.base_url, "transparency", body).json()["data"]
    assert [row["stt"] for row in data["evaluation"]] == list(range(11, 21))
    assert data["pagination"] == {"total": 75, "currentPage": 2, "pageSize": 10, "totalPages": 8}


def test_a_national_country_has_every_unit() -> None:
    source = GeneratedSource(seed=1, provinces=34, communes=3321, agencies=700)
    with PortalSimulator(source) as simulator:
        provinces = fetch(simulator.base_url, "service-results", None)["evaluation"]
        levels = [child["level"] for row in provinces for child in units(
            fetch(simulator.base_url, "dvc-progress-tree", row["departmentId"]))]
    assert len(provinces) == 34
    assert (levels.count("COMMUNE"), levels.count("PROVINCE")) == (3321, 700)


def test_a_generated_unknown_province_is_404(country: PortalSimulator) -> None:
    response = post(country.base_url, "transparency",
                    {**period_body("transparency"), "rootDepartmentId": PHU_THO_ID})
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


# --- faults ------------------------------------------------------------------


def ask(portal: PortalSimulator, province: str,
        endpoint: str = "transparency") -> requests.Response:
    return post(portal.base_url, endpoint, {**period_body(endpoint), "rootDepartmentId": province})


@pytest.mark.parametrize(("kind", "status", "sign"), [
    ("5xx", 503, "503"), ("429", 429, "Too Many Requests"), ("403", 403, "Forbidden"),
    ("firewall", 200, "The requested URL was rejected. Please consult with your administrator."),
])
def test_a_refusal_answers_like_the_portal_then_expires(
        fresh_portal: PortalSimulator, fresh_province: str, kind: str, status: int,
        sign: str) -> None:
    fresh_portal.inject(Fault(kind))
    refused = ask(fresh_portal, fresh_province)
    assert (refused.status_code, sign in refused.text) == (status, True)
    if kind == "429":
        assert refused.headers["Retry-After"] == "30"
    if kind == "firewall":
        assert "<title>Request Rejected</title>" in refused.text
        assert re.search(r"support ID is: \d+", refused.text)
    assert ask(fresh_portal, fresh_province).status_code == 201


def test_a_truncated_answer_is_cut_json(fresh_portal: PortalSimulator, fresh_province: str) -> None:
    whole = ask(fresh_portal, fresh_province).content
    fresh_portal.inject(Fault("truncated"))
    cut = ask(fresh_portal, fresh_province)
    assert cut.status_code == 201
    assert whole.startswith(cut.content) and len(cut.content) < len(whole)
    with pytest.raises(ValueError):
        cut.json()


def test_a_missing_field_leaves_every_unit(fresh_portal: PortalSimulator,
                                           fresh_province: str) -> None:
    fresh_portal.inject(Fault("missing_field", endpoint="transparency", field="totalScore"))
    data = ask(fresh_portal, fresh_province).json()["data"]
    assert all("totalScore" not in unit for unit in data["evaluation"])
    assert "totalScore" in data["overview"]


def test_a_delay_holds_the_answer(fresh_portal: PortalSimulator, fresh_province: str) -> None:
    fresh_portal.inject(Fault("delay", seconds=0.3))
    started = time.monotonic()
    assert ask(fresh_portal, fresh_province).status_code == 201
    assert time.monotonic() - started >= 0.3


def test_a_fault_hits_its_endpoint_its_number_of_times(fresh_portal: PortalSimulator,
                                                       fresh_province: str) -> None:
    fresh_portal.inject(Fault("5xx", endpoint="dossier-digitized", times=2))
    fresh_portal.inject(Fault("403", endpoint="dvc-progress-tree", times=-1))
    assert ask(fresh_portal, fresh_province, "transparency").status_code == 201
    statuses = [ask(fresh_portal, fresh_province, "dossier-digitized").status_code
                for _ in range(3)]
    assert statuses == [503, 503, 201]
    assert {ask(fresh_portal, fresh_province, "dvc-progress-tree").status_code
            for _ in range(3)} == {403}
    fresh_portal.clear_faults()
    assert ask(fresh_portal, fresh_province, "dvc-progress-tree").status_code == 201


def test_faults_can_be_driven_over_http(fresh_portal: PortalSimulator,
                                        fresh_province: str) -> None:
    control = f"{fresh_portal.base_url}/_simulator/faults"
    added = requests.post(control, json={"kind": "429", "times": -1}, timeout=10)
    assert added.status_code == 201
    assert ask(fresh_portal, fresh_province).status_code == 429
    assert requests.delete(control, timeout=10).status_code == 200
    assert ask(fresh_portal, fresh_province).status_code == 201
    assert requests.post(control, json={"kind": "meltdown"}, timeout=10).status_code == 400
    assert requests.post(control, json={"kind": "5xx", "times": "2"}, timeout=10).status_code == 400


def test_faults_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        Fault("meltdown")
    with pytest.raises(ValueError):
        Fault("5xx", times=0)
    assert Fault.from_spec("429:transparency:3") == Fault("429", "transparency", 3)
    assert Fault.from_spec("5xx") == Fault("5xx")


def test_requests_are_logged_and_concurrency_measured(fresh_portal: PortalSimulator,
                                                      fresh_province: str) -> None:
    for endpoint in ("transparency", "dossier-digitized"):
        ask(fresh_portal, fresh_province, endpoint)
    assert [endpoint for endpoint, _ in fresh_portal.requests_log] == [
        "transparency", "dossier-digitized"]
    assert fresh_portal.requests_log[0][1]["rootDepartmentId"] == fresh_province
    assert fresh_portal.max_concurrent == 1
    fresh_portal.inject(Fault("delay", times=-1, seconds=0.3))
    callers = [threading.Thread(target=ask, args=(fresh_portal, fresh_province))
               for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert fresh_portal.max_concurrent >= 2


# --- the command line ------------------------------------------------------------


def test_the_cli_serves_until_sigterm_then_exits_0() -> None:
    command = [sys.executable, "-m", "service.portal.simulator", "--generate", "--seed", "2",
               "--port", "0", "--fault", "429:transparency:1"]
    with subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 15)
            assert ready, "the simulator printed nothing"
            line = process.stdout.readline()
            match = re.fullmatch(r"dvcwatch portal simulator listening on "
                                 r"(http://127\.0\.0\.1:\d+)\n", line)
            assert match, line
            url = match.group(1)
            ranking = fetch(url, "service-results", None)
            assert len(ranking["evaluation"]) == 1
            province = ranking["evaluation"][0]["departmentId"]
            body = {**period_body("transparency"), "rootDepartmentId": province}
            assert [post(url, "transparency", body).status_code for _ in range(2)] == [429, 201]
        finally:
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""


def test_the_cli_refuses_a_host_outside_the_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--generate", "--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err
