"""Faults: the simulator refuses, delays and damages answers as the real portal does."""

from __future__ import annotations

import re
import threading

import pytest
import requests

from service.simulator.simulator import Fault, PortalSimulator
from tests.simulator.conftest import ask
from tests.waiting import Gate, wait_until


@pytest.mark.parametrize(
    ("kind", "status", "sign"),
    [
        ("5xx", 503, "503"),
        ("429", 429, "Too Many Requests"),
        ("403", 403, "Forbidden"),
        (
            "firewall",
            200,
            "The requested URL was rejected. Please consult with your administrator.",
        ),
    ],
)
def test_a_refusal_answers_like_the_portal_then_expires(
    fresh_portal: PortalSimulator, fresh_province: str, kind: str, status: int, sign: str
) -> None:
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


def test_a_missing_field_leaves_every_unit(
    fresh_portal: PortalSimulator, fresh_province: str
) -> None:
    fresh_portal.inject(Fault("missing_field", endpoint="transparency", field="totalScore"))
    data = ask(fresh_portal, fresh_province).json()["data"]
    assert all("totalScore" not in unit for unit in data["evaluation"])
    assert "totalScore" in data["overview"]


def test_a_delay_holds_the_answer(fresh_portal: PortalSimulator, fresh_province: str) -> None:
    answers: list[requests.Response] = []
    with Gate() as gate:
        fresh_portal.sleep = gate
        fresh_portal.inject(Fault("delay", seconds=0.3))
        caller = threading.Thread(target=lambda: answers.append(ask(fresh_portal, fresh_province)))
        caller.start()
        wait_until(lambda: gate.held, "the request to reach its delay")
        assert caller.is_alive() and answers == []  # no answer while the delay lasts
        gate.open()
        caller.join()
    assert gate.held == [0.3] and answers[0].status_code == 201
    assert ask(fresh_portal, fresh_province).status_code == 201 and gate.held == [0.3]


def test_a_fault_hits_its_endpoint_its_number_of_times(
    fresh_portal: PortalSimulator, fresh_province: str
) -> None:
    fresh_portal.inject(Fault("5xx", endpoint="dossier-digitized", times=2))
    fresh_portal.inject(Fault("403", endpoint="dvc-progress-tree", times=-1))
    assert ask(fresh_portal, fresh_province, "transparency").status_code == 201
    statuses = [
        ask(fresh_portal, fresh_province, "dossier-digitized").status_code for _ in range(3)
    ]
    assert statuses == [503, 503, 201]
    assert {
        ask(fresh_portal, fresh_province, "dvc-progress-tree").status_code for _ in range(3)
    } == {403}
    fresh_portal.clear_faults()
    assert ask(fresh_portal, fresh_province, "dvc-progress-tree").status_code == 201


def test_faults_can_be_driven_over_http(fresh_portal: PortalSimulator, fresh_province: str) -> None:
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
