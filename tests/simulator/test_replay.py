"""Replay: recorded portal answers served byte for byte, rankings derived from them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from service.simulator.simulator import PortalSimulator, ReplaySource
from tests.conftest import PHU_THO, PHU_THO_ID
from tests.simulator.conftest import (
    AXES,
    GIA_LAI,
    fetch,
    key_paths,
    period_body,
    post,
    recorded,
    units,
)


@pytest.mark.parametrize("endpoint", list(AXES.values()))
def test_replay_serves_the_recorded_bytes(phu_tho: PortalSimulator, endpoint: str) -> None:
    manifest = json.loads((PHU_THO / "manifest.json").read_text(encoding="utf-8"))
    capture = next(c for c in manifest["captures"] if c["file"] == f"{endpoint}/month-all.json")
    response = post(phu_tho.base_url, endpoint, capture["payload"])
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == (PHU_THO / endpoint / "month-all.json").read_bytes()


def test_replay_derives_service_results_from_the_six_axes(phu_tho: PortalSimulator) -> None:
    response = post(
        phu_tho.base_url,
        "service-results",
        {**period_body("service-results"), "rootDepartmentId": PHU_THO_ID},
    )
    assert response.status_code == 201
    assert response.headers["X-Simulator-Derived"] == "service-results"
    data = response.json()["data"]
    assert len(data["evaluation"]) == 163
    scores = {
        code: {
            u["departmentId"]: u.get("totalScore", u.get("score"))
            for u in units(recorded(endpoint)["data"])
        }
        for code, endpoint in AXES.items()
    }
    for unit in data["evaluation"]:
        assert unit["groupScores"] == {code: scores[code][unit["departmentId"]] for code in AXES}
        assert unit["totalScore"] == round(sum(unit["groupScores"].values()), 2)
    assert sorted({u["childGroup"] for u in data["evaluation"]}) == ["AGENCY", "COMMUNE"]
    overview = data["overview"]
    parents = [
        recorded(e)["data"].get("overview") or recorded(e)["data"]["parent"] for e in AXES.values()
    ]
    assert overview["totalScore"] == round(sum(p["totalScore"] for p in parents), 2) == 59.92
    assert (overview["departmentCode"], overview["agencyCount"], overview["communeCount"]) == (
        "H44",
        15,
        148,
    )


def test_replay_derives_the_province_list_from_the_root_nodes(phu_tho: PortalSimulator) -> None:
    data = fetch(phu_tho.base_url, "service-results", None)
    assert [row["departmentCode"] for row in data["evaluation"]] == ["H44"]
    real = json.loads((GIA_LAI / "response.json").read_bytes())["data"]
    assert key_paths(data) == key_paths(real)


@pytest.mark.parametrize(
    "body",
    [
        {**period_body("transparency", month=7), "rootDepartmentId": PHU_THO_ID},
        {**period_body("transparency"), "rootDepartmentId": "not-a-recorded-province"},
        {"timeType": "quarter", "year": 2026, "quarter": 3, "rootDepartmentId": PHU_THO_ID},
        {**period_body("transparency"), "rootDepartmentId": PHU_THO_ID, "formalityId": "x"},
    ],
)
def test_replay_answers_404_for_what_it_has_not_recorded(
    phu_tho: PortalSimulator, body: dict[str, Any]
) -> None:
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
        missing = post(
            simulator.base_url,
            "transparency",
            {**period_body("transparency"), "rootDepartmentId": PHU_THO_ID},
        )
    assert response.content == (PHU_THO / "dvc-progress-tree" / "month-all.json").read_bytes()
    assert missing.status_code == 404
