"""The portal's requests: endpoints, bodies and periods read as the portal reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from service.simulator.simulator import PortalSimulator
from tests.conftest import PHU_THO_ID
from tests.simulator.conftest import API, period_body, post


def test_an_unknown_endpoint_is_404(phu_tho: PortalSimulator) -> None:
    response = post(phu_tho.base_url, "ranking", {**period_body("x"), "rootDepartmentId": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("transparency", "not json"),
        ("transparency", {"year": 2026, "month": 8, "rootDepartmentId": PHU_THO_ID}),
        (
            "transparency",
            {"timeType": "month", "year": 2026, "month": 13, "rootDepartmentId": PHU_THO_ID},
        ),
        ("transparency", {"timeType": "month", "year": 2026, "month": 8}),
        (
            "handling-satisfaction",
            {"fromDate": "2026-08-02", "toDate": "2026-08-31", "rootDepartmentId": PHU_THO_ID},
        ),
        (
            "handling-satisfaction",
            {"timeType": "month", "year": 2026, "month": 8, "rootDepartmentId": PHU_THO_ID},
        ),
        ("service-results", {"timeType": "year", "year": 2026, "departmentType": "PROVINCE"}),
    ],
)
def test_malformed_bodies_are_400(phu_tho: PortalSimulator, endpoint: str, body: Any) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = requests.post(f"{phu_tho.base_url}{API}{endpoint}", data=raw, timeout=10)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


def test_handling_satisfaction_reads_whole_quarters_and_years(
    country: PortalSimulator, province_id: str
) -> None:
    for (first, last), period in [
        (("2026-07-01", "2026-09-30"), {"quarter": 3}),
        (("2026-01-01", "2026-12-31"), {}),
    ]:
        satisfaction = post(
            country.base_url,
            "handling-satisfaction",
            {"fromDate": first, "toDate": last, "rootDepartmentId": province_id},
        ).json()["data"]
        kind = "quarter" if period else "year"
        progress = post(
            country.base_url,
            "dvc-progress-tree",
            {
                "timeType": kind,
                "year": 2026,
                **period,
                "rootDepartmentId": province_id,
            },
        ).json()["data"]
        assert satisfaction["overview"]["totalDossiers"] == progress["parent"]["totalReceived"]


@pytest.mark.parametrize(
    ("endpoint", "key", "status"),
    [
        ("dossier-digitized", "formalityID", 404),  # its key: a procedure nobody recorded
        ("dossier-digitized", "formalityId", 201),  # not its key: ignored, the whole province
        ("transparency", "formalityId", 404),
        ("transparency", "formalityID", 201),
        ("handling-satisfaction", "formalityId", 201),  # no procedure filter at all
    ],
)
def test_one_procedure_is_asked_for_under_the_endpoint_s_own_key(
    phu_tho: PortalSimulator, endpoint: str, key: str, status: int
) -> None:
    body = {**period_body(endpoint), "rootDepartmentId": PHU_THO_ID, key: "not-recorded"}
    assert post(phu_tho.base_url, endpoint, body).status_code == status
