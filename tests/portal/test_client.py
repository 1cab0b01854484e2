"""The portal client is polite, retries only what may pass, and archives everything."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.periods import Period
from service.portal.api import API_PREFIX, SERVICE_RESULTS, period_fields
from service.portal.client import (
    PortalBlocked,
    PortalClient,
    PortalResponse,
    PortalUnavailable,
    looks_like_firewall_page,
)
from service.simulator.simulator import Fault, PortalSimulator, ReplaySource
from tests.conftest import FAST_PORTAL, PHU_THO, PHU_THO_ID

AUGUST = Period.parse("2026-08")


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    with PortalSimulator(ReplaySource(PHU_THO)) as running:
        yield running


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.archived: list[PortalResponse] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def client_for(simulator: PortalSimulator, recorder: Recorder, **settings: object) -> PortalClient:
    portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url, **settings})
    return PortalClient(portal, recorder.archived.append, sleep=recorder.sleep)


def test_requests_come_one_at_a_time_with_a_randomised_pause_between(simulator):
    recorder = Recorder()
    client = client_for(simulator, recorder, pause_seconds=(1.5, 4.0))
    for endpoint in ("transparency", "dvc-progress-tree", "dossier-digitized"):
        client.fetch_province(endpoint, PHU_THO_ID, AUGUST)
    assert len(recorder.sleeps) == 2 and all(1.5 <= s <= 4.0 for s in recorder.sleeps)
    assert simulator.max_concurrent == 1
    assert "dvcwatch" in client.session.headers["User-Agent"]


def test_server_errors_are_retried_with_growing_backoff(simulator):
    simulator.inject(Fault("5xx", endpoint="transparency", times=2))
    recorder = Recorder()
    client = client_for(simulator, recorder, retries=2, backoff_seconds=1.0)
    data = client.fetch_province("transparency", PHU_THO_ID, AUGUST)
    assert len(data["evaluation"]) == 163
    assert [r.status for r in recorder.archived] == [503, 503, 201]
    assert recorder.sleeps == [1.0, 2.0]


def test_server_errors_beyond_the_retries_make_the_portal_unavailable(simulator):
    simulator.inject(Fault("5xx", endpoint="transparency", times=-1))
    recorder = Recorder()
    with pytest.raises(PortalUnavailable, match="HTTP 503"):
        client_for(simulator, recorder, retries=1).fetch_province(
            "transparency", PHU_THO_ID, AUGUST
        )
    assert len(recorder.archived) == 2


def test_a_429_is_never_retried(simulator):
    simulator.inject(Fault("429", times=-1))
    recorder = Recorder()
    with pytest.raises(PortalBlocked):
        client_for(simulator, recorder, retries=3).fetch_province(
            "transparency", PHU_THO_ID, AUGUST
        )
    assert len(simulator.requests_log) == 1 and len(recorder.archived) == 1


def test_a_refused_connection_is_archived_and_reported(simulator):
    recorder = Recorder()
    client = client_for(simulator, recorder, retries=0)
    simulator.stop()
    with pytest.raises(PortalUnavailable, match="connection failed"):
        client.fetch_province("transparency", PHU_THO_ID, AUGUST)
    assert recorder.archived[0].status is None and "connection" in str(recorder.archived[0].error)


def test_the_firewall_page_is_recognised_but_json_and_other_html_are_not():
    page = (
        b"<html><head><title>Request Rejected</title></head>"
        b"<body>The requested URL was rejected.</body></html>"
    )
    assert looks_like_firewall_page(page)
    assert not looks_like_firewall_page(b'{"code":"OK","data":{}}')
    assert not looks_like_firewall_page(b"<html><body>Maintenance</body></html>")


def test_period_fields_follow_the_portals_forms():
    assert period_fields("transparency", AUGUST) == {"timeType": "month", "year": 2026, "month": 8}
    assert period_fields("transparency", Period.parse("2026-Q3")) == {
        "timeType": "quarter",
        "year": 2026,
        "quarter": 3,
    }
    assert period_fields("handling-satisfaction", Period.parse("2024-02")) == {
        "fromDate": "2024-02-01",
        "toDate": "2024-02-29",
    }


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A forward proxy that records each request's target and answers 502."""
    targets: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            targets.append(self.path)
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", targets
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("bypassed", [False, True])
def test_the_environments_proxy_is_read_once_and_used_for_every_request(
    proxy, monkeypatch, bypassed
):
    """`EnvironmentOnce` reads http_proxy and no_proxy once: every attempt still goes
    through the proxy they name, or straight to the portal where no_proxy says so."""
    address, targets = proxy
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", address)
    if bypassed:
        monkeypatch.setenv("no_proxy", "127.0.0.1")
    portal = "http://127.0.0.1:9"  # discard: nothing listens there
    client = PortalClient(FAST_PORTAL.model_copy(update={"base_url": portal}), lambda _r: None)
    with pytest.raises(PortalUnavailable):
        client.fetch_provinces(Period.parse("2026-08"))
    attempts = FAST_PORTAL.retries + 1
    expected = [] if bypassed else [f"{portal}{API_PREFIX}{SERVICE_RESULTS.name}"] * attempts
    assert targets == expected
