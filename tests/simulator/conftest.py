"""Shared by the portal simulator's tests: a real simulator on 127.0.0.1 and ways to ask it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from service.portal import api
from service.simulator.simulator import GeneratedSource, PortalSimulator, ReplaySource
from tests.conftest import CAPTURES, PHU_THO

GIA_LAI = CAPTURES / "gia-lai-2026-09-17-service-results"
API = api.API_PREFIX
#: Axis code → the name of the endpoint that scores it.
AXES = {code: endpoint.name for code, endpoint in api.BY_AXIS.items()}
ENDPOINTS = list(api.ENDPOINTS)


def period_body(endpoint: str, year: int = 2026, month: int = 8) -> dict[str, Any]:
    """The period fields of a month request, in the form `endpoint` takes."""
    asked = api.ENDPOINTS.get(endpoint)
    if asked is not None and asked.period_form is api.PeriodForm.DATES:
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


def ask(
    portal: PortalSimulator, province: str, endpoint: str = "transparency"
) -> requests.Response:
    return post(portal.base_url, endpoint, {**period_body(endpoint), "rootDepartmentId": province})
