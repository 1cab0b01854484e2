"""Sync of one province-period against the simulator replaying real portal captures."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.models import FetchRun, RawResponse, Snapshot
from service.periods import Period
from service.portal.api import AXIS_OF
from service.simulator.simulator import Fault, GeneratedSource, PortalSimulator, ReplaySource
from service.snapshots import latest_units
from service.sync import SyncOutcome, sync_province
from tests.conftest import FAST_PORTAL, PHU_THO, PHU_THO_ID
from tests.waiting import Gate

AUGUST = Period.parse("2026-08")
TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    with PortalSimulator(ReplaySource(PHU_THO)) as running:
        yield running


def sync(sessions: sessionmaker[Session], simulator: PortalSimulator, **portal: Any) -> SyncOutcome:
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url, **portal})
    return sync_province(sessions, settings, "H44", AUGUST, TODAY)


def snapshot_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Snapshot)) or 0)


def the_run(sessions: sessionmaker[Session], run_id: int) -> FetchRun:
    with sessions() as session:
        return session.get_one(FetchRun, run_id)


def capture(endpoint: str) -> dict[str, dict[str, Any]]:
    data = json.loads((PHU_THO / endpoint / "month-all.json").read_bytes())["data"]
    units = data.get("children") or data["evaluation"]
    return {unit["departmentId"]: unit for unit in units}


def test_every_captured_unit_is_stored_with_the_portals_own_figures(sessions, simulator):
    outcome = sync(sessions, simulator)
    assert outcome.status == "ok", outcome.error
    with sessions() as session:
        stored = {u.department_id: u for u in latest_units(session, "766", "2026-08")}
    raw = {endpoint: capture(endpoint) for endpoint in AXIS_OF}
    assert set(raw["transparency"]) <= set(stored)
    assert len(raw["transparency"]) == 163
    for department_id, unit in ((d, stored[d]) for d in raw["transparency"]):
        for endpoint, axis in AXIS_OF.items():
            record = raw[endpoint][department_id]
            expected = record["score"] if endpoint == "dvc-progress-tree" else record["totalScore"]
            assert unit.figures[axis].value == expected, (unit.label, axis)
        progress = raw["dvc-progress-tree"][department_id]
        assert unit.figures["OVERDUE"].value == progress["totalOverdue"]
        payment = raw["formality-online-payment-tree"][department_id]
        paid = unit.figures["ONLINE_PAYMENT"]
        assert paid.numerator == payment["totalDossierOnlinePaymentSuccess"]
        assert paid.denominator == payment["totalDossierFinancialObligation"]
        digitised = {m["code"]: m for m in raw["dossier-digitized"][department_id]["metrics"]}
        figure = unit.figures["SO_HOA_GIAY_TO_GIAI_QUYET"]
        metric = digitised["SO_HOA_GIAY_TO_GIAI_QUYET"]
        assert (figure.numerator, figure.denominator) == (
            metric["numerator"],
            metric["denominator"],
        )
        assert unit.code == progress["departmentCode"]


def test_null_in_the_portal_stays_no_data(sessions, simulator):
    sync(sessions, simulator)
    with sessions() as session:
        units = latest_units(session, "766", "2026-08")
    publish = [u.figures["PUBLISH_ON_TIME"] for u in units if "PUBLISH_ON_TIME" in u.figures]
    assert publish and all(f.value is None and f.ratio is None for f in publish)


def test_the_same_sync_twice_stores_nothing_new(sessions, simulator):
    first = sync(sessions, simulator)
    second = sync(sessions, simulator)
    assert first.written == 164 and second.written == 0 and second.unchanged == 164
    assert snapshot_count(sessions) == 164


def test_a_server_error_is_retried_and_stored_once(sessions, simulator):
    simulator.inject(Fault("5xx", endpoint="transparency", times=1))
    outcome = sync(sessions, simulator)
    assert outcome.status == "ok", outcome.error
    assert snapshot_count(sessions) == 164
    with sessions() as session:
        statuses = session.scalars(
            select(RawResponse.http_status).where(RawResponse.endpoint == "transparency")
        ).all()
    assert sorted(statuses) == [201, 503]


def failed(sessions: sessionmaker[Session], outcome: SyncOutcome) -> FetchRun:
    """The run record of a sync that must have stored nothing."""
    assert snapshot_count(sessions) == 0
    run = the_run(sessions, outcome.run_id)
    assert run.finished_at is not None and run.error
    return run


@pytest.mark.parametrize(
    ("kind", "message"),
    [("429", "HTTP 429"), ("403", "HTTP 403"), ("firewall", "web firewall rejected")],
)
def test_a_block_stops_the_run_at_once_and_stores_nothing(sessions, simulator, kind, message):
    simulator.inject(Fault(kind, endpoint="dvc-progress-tree", times=-1))
    outcome = sync(sessions, simulator)
    run = failed(sessions, outcome)
    assert (run.status, run.error_kind) == ("blocked", "blocked")
    assert message in str(run.error) and "dvc-progress-tree" in str(run.error)
    endpoints = [endpoint for endpoint, _body in simulator.requests_log]
    assert endpoints[-1] == "dvc-progress-tree" and endpoints.count("dvc-progress-tree") == 1


def test_a_timeout_that_outlasts_the_retries_fails_the_run(sessions, simulator):
    with Gate() as gate:  # the answer is held until every try has timed out
        simulator.sleep = gate
        simulator.inject(Fault("delay", endpoint="handling-satisfaction", times=-1, seconds=1.0))
        outcome = sync(sessions, simulator, timeout_seconds=0.3, retries=1)
    assert gate.held == [1.0, 1.0]  # the first try and its retry
    run = failed(sessions, outcome)
    assert run.error_kind == "unavailable" and "timed out" in str(run.error)


def test_truncated_json_fails_the_run_naming_the_endpoint(sessions, simulator):
    simulator.inject(Fault("truncated", endpoint="dossier-digitized", times=-1))
    run = failed(sessions, sync(sessions, simulator))
    assert run.error_kind == "bad_response"
    assert "dossier-digitized" in str(run.error) and "not valid JSON" in str(run.error)


def test_a_missing_field_fails_the_run_naming_endpoint_unit_and_field(sessions, simulator):
    simulator.inject(Fault("missing_field", endpoint="transparency", field="totalScore"))
    run = failed(sessions, sync(sessions, simulator))
    assert run.error_kind == "parse"
    assert "transparency: unit" in str(run.error) and "'totalScore': missing" in str(run.error)


def test_every_response_is_archived_raw_before_parsing(sessions, simulator):
    simulator.inject(Fault("missing_field", endpoint="transparency", field="totalScore"))
    outcome = sync(sessions, simulator)
    with sessions() as session:
        archived = session.scalars(
            select(RawResponse).where(RawResponse.fetch_run_id == outcome.run_id)
        ).all()
    assert {r.endpoint for r in archived} >= set(AXIS_OF)
    assert all(len(r.body_sha256) == 64 and r.body_size > 0 for r in archived)


Edit = Callable[[dict[str, Any]], str]


def first_commune(data: dict[str, Any]) -> dict[str, Any]:
    units = data.get("children") or data["evaluation"]
    return next(u for u in units if (u.get("level") or u.get("departmentLevel")) == "COMMUNE")


def negative_count(data: dict[str, Any]) -> str:
    first_commune(data)["totalOverdue"] = -2
    return "'totalOverdue': expected a count"


def ratio_out_of_range(data: dict[str, Any]) -> str:
    first_commune(data)["ratio"] = 140.5
    return "'ratio': ratio 140.5 is outside 0-100"


def wrong_type(data: dict[str, Any]) -> str:
    first_commune(data)["totalOnTime"] = "702"
    return "'totalOnTime': expected a number, got '702'"


def duplicated_unit(data: dict[str, Any]) -> str:
    data["children"].append(dict(first_commune(data)))
    return "'departmentId': the unit appears twice"


def missing_unit(data: dict[str, Any]) -> str:
    data["children"].remove(first_commune(data))
    return "dvc-progress-tree: unit H44.100 (UBND Phường Việt Trì): field 'departmentId': missing"


@pytest.mark.parametrize(
    "edit", [negative_count, ratio_out_of_range, wrong_type, duplicated_unit, missing_unit]
)
def test_a_bad_figure_fails_the_run_and_stores_nothing(sessions, tmp_path: Path, edit: Edit):
    folder = tmp_path / "captures"
    shutil.copytree(PHU_THO, folder)
    target = folder / "dvc-progress-tree" / "month-all.json"
    target.chmod(0o644)
    body = json.loads(target.read_bytes())
    expected = edit(body["data"])
    target.write_text(json.dumps(body, ensure_ascii=False))
    with PortalSimulator(ReplaySource(folder)) as simulator:
        run = failed(sessions, sync(sessions, simulator))
    assert run.error_kind == "parse"
    assert expected in str(run.error), run.error


def test_an_unknown_province_is_a_clear_error(sessions, simulator):
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    outcome = sync_province(sessions, settings, "H99", AUGUST, TODAY)
    run = failed(sessions, outcome)
    assert run.error_kind == "unknown_province" and "'H99'" in str(run.error)
    # recorded, but not as a sync: a mistyped code is no scope that "never synced"
    assert outcome.kind == "unknown_province" and run.job == "province-check"


def test_a_vietnamese_user_agent_is_sent_as_ascii_and_syncs(sessions, simulator):
    """docs/operations.md suggests a user agent naming the office in Vietnamese; HTTP/1.1
    headers carry ASCII, so its letters are sent without their marks."""
    sent: list[str] = []
    http = requests.Session()
    http.hooks["response"].append(lambda r, *_a, **_k: sent.append(r.request.headers["User-Agent"]))
    settings = FAST_PORTAL.model_copy(
        update={
            "base_url": simulator.base_url,
            "user_agent": "dvcwatch/0.1 (Văn phòng UBND tỉnh Điện Biên; it@example.gov.vn)",
        }
    )
    outcome = sync_province(sessions, settings, "H44", AUGUST, TODAY, http=http)
    assert outcome.status == "ok", outcome.error
    assert set(sent) == {"dvcwatch/0.1 (Van phong UBND tinh Dien Bien; it@example.gov.vn)"}


def test_the_province_is_found_by_its_department_id_too(sessions, simulator):
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    outcome = sync_province(sessions, settings, PHU_THO_ID, AUGUST, TODAY)
    assert outcome.status == "ok" and outcome.units == 163


def test_a_province_on_several_pages_is_fetched_whole(sessions):
    source = GeneratedSource(seed=7, provinces=1, communes=230, agencies=20)
    with PortalSimulator(source) as simulator:
        settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url, "page_size": 100})
        outcome = sync_province(sessions, settings, "H01", AUGUST, TODAY)
        pages = [
            body.get("currentPage") for e, body in simulator.requests_log if e == "transparency"
        ]
    assert outcome.status == "ok", outcome.error
    assert outcome.units == 250 and pages == [1, 2, 3]
