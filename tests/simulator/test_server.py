"""The HTTP server: every portal request logged, concurrency measured."""

from __future__ import annotations

import threading

from service.simulator.simulator import Fault, PortalSimulator
from tests.simulator.conftest import ask


def test_requests_are_logged_and_concurrency_measured(
    fresh_portal: PortalSimulator, fresh_province: str
) -> None:
    for endpoint in ("transparency", "dossier-digitized"):
        ask(fresh_portal, fresh_province, endpoint)
    assert [endpoint for endpoint, _ in fresh_portal.requests_log] == [
        "transparency",
        "dossier-digitized",
    ]
    assert fresh_portal.requests_log[0][1]["rootDepartmentId"] == fresh_province
    assert fresh_portal.max_concurrent == 1
    fresh_portal.inject(Fault("delay", times=-1, seconds=0.3))
    callers = [threading.Thread(target=ask, args=(fresh_portal, fresh_province)) for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert fresh_portal.max_concurrent >= 2
