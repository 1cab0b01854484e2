"""The HTTP server: every portal request logged, concurrency measured."""

from __future__ import annotations

import threading

from service.simulator.simulator import Fault, PortalSimulator
from tests.simulator.conftest import ask
from tests.waiting import Gate, wait_until


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
    # Back to back, each on a connection (a thread) of its own: a request is out of
    # flight before its answer leaves, so none is ever counted beside the next.
    for _ in range(20):
        ask(fresh_portal, fresh_province)
    assert fresh_portal.max_concurrent == 1
    with Gate() as gate:  # three requests held in their delay at once
        fresh_portal.sleep = gate
        fresh_portal.inject(Fault("delay", times=-1, seconds=0.3))
        callers = [
            threading.Thread(target=ask, args=(fresh_portal, fresh_province)) for _ in range(3)
        ]
        for caller in callers:
            caller.start()
        wait_until(lambda: len(gate.held) == 3, "three requests held in their delay")
        gate.open()
        for caller in callers:
            caller.join()
    assert fresh_portal.max_concurrent == 3
