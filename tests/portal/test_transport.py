"""Portal reads are bounded: deadlines, decompressed size, redirects; the wreckage is archived."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

from service.periods import Period
from service.portal.checks import NonFinite
from service.portal.client import (
    ARCHIVED_PREFIX_BYTES,
    PortalBadResponse,
    PortalClient,
    PortalResponse,
    PortalRunDeadline,
    PortalUnavailable,
    read_envelope,
)
from service.portal.transport import ExchangeFailed, Inflater
from service.simulator.simulator import Fault, PortalSimulator, ReplaySource
from tests.conftest import FAST_PORTAL, PHU_THO, PHU_THO_ID

AUGUST = Period.parse("2026-08")
URL = "http://127.0.0.1/api"


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    with PortalSimulator(ReplaySource(PHU_THO)) as running:
        yield running


class FakeClock:
    """Time the test controls: only sleeping moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(
    simulator: PortalSimulator, archived: list[PortalResponse], **settings: object
) -> PortalClient:
    portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url, **settings})
    return PortalClient(portal, archived.append)


def fetch(client: PortalClient, endpoint: str = "transparency") -> object:
    return client.fetch_province(endpoint, PHU_THO_ID, AUGUST)


def test_a_trickling_answer_is_cut_at_the_request_deadline(simulator):
    # 64 bytes every 0.2 s never leaves the socket silent for the 5 s read timeout.
    simulator.inject(Fault("trickle", endpoint="transparency", times=-1, seconds=0.2))
    archived: list[PortalResponse] = []
    client = client_for(simulator, archived, retries=0, request_deadline_seconds=1.0)
    with pytest.raises(PortalUnavailable, match="request deadline of 1 s") as caught:
        fetch(client)
    assert "request_deadline_seconds" in str(caught.value)
    [kept] = archived
    assert kept.status == 201 and kept.error and "deadline passed after" in kept.error
    assert 0 < len(kept.body) < 60_000 and kept.body.startswith(b'{"code":"OK"')


def test_a_whole_answer_within_its_deadline_is_read(simulator):
    simulator.inject(Fault("trickle", endpoint="dvc-progress-tree", seconds=0.0001))
    client = client_for(simulator, [], retries=0, request_deadline_seconds=60)
    data = fetch(client, "dvc-progress-tree")
    assert isinstance(data, dict) and len(data["children"]) == 163


def test_the_run_deadline_stops_the_run_instead_of_pausing_past_it(simulator):
    clock = FakeClock()
    portal = FAST_PORTAL.model_copy(
        update={"base_url": simulator.base_url, "pause_seconds": (10.0, 10.0)}
    )
    client = PortalClient(
        portal.model_copy(update={"run_deadline_seconds": 15.0}),
        lambda _response: None,
        sleep=clock.sleep,
        clock=clock,
    )
    fetch(client)
    fetch(client, "dvc-progress-tree")  # after a 10 s pause: 10 s of the run's 15 s gone
    with pytest.raises(PortalRunDeadline, match="run's deadline of 15 s") as caught:
        fetch(client, "dossier-digitized")
    assert caught.value.kind == "deadline" and clock.sleeps == [10.0]
    assert [endpoint for endpoint, _ in simulator.requests_log] == [
        "transparency",
        "dvc-progress-tree",
    ]


def test_a_trickle_past_the_run_deadline_is_not_retried(simulator):
    simulator.inject(Fault("trickle", endpoint="transparency", times=-1, seconds=0.2))
    client = client_for(
        simulator, [], retries=3, request_deadline_seconds=60, run_deadline_seconds=1.0
    )
    with pytest.raises(PortalRunDeadline):
        fetch(client)
    assert len(simulator.requests_log) == 1


@pytest.mark.parametrize("kind", ["huge", "gzip_bomb"])
def test_an_answer_over_the_size_limit_is_refused_and_only_its_start_archived(simulator, kind):
    simulator.inject(Fault(kind, endpoint="transparency", times=-1))  # 200 MB, 1 GB inflated
    archived: list[PortalResponse] = []
    client = client_for(simulator, archived, retries=3, max_body_bytes=3_000_000)
    with pytest.raises(PortalBadResponse, match="larger than the limit of 3000000 bytes"):
        fetch(client)
    [kept] = archived  # never retried: the same answer would come again
    assert len(kept.body) == ARCHIVED_PREFIX_BYTES and kept.body.startswith(b'{"code":"OK"')
    assert kept.error and f"only the first {ARCHIVED_PREFIX_BYTES} bytes are kept" in kept.error


def test_a_compressed_answer_within_the_limit_is_inflated_and_archived_inflated(simulator):
    simulator.inject(Fault("gzip_bomb", endpoint="transparency", size=1))  # just the answer
    archived: list[PortalResponse] = []
    data = fetch(client_for(simulator, archived))
    assert isinstance(data, dict) and len(data["evaluation"]) == 163
    assert archived[0].body.startswith(b'{"code":"OK"') and archived[0].error is None


def test_a_connection_reset_mid_body_is_retried_then_the_portal_is_unavailable(simulator):
    simulator.inject(Fault("reset", endpoint="transparency", times=-1))
    archived: list[PortalResponse] = []
    with pytest.raises(PortalUnavailable, match="connection broke after"):
        fetch(client_for(simulator, archived, retries=1))
    assert len(archived) == 2
    assert all(r.error and "connection broke" in r.error and r.body for r in archived)


def test_a_redirect_loop_ends_at_the_redirect_limit(simulator):
    simulator.inject(Fault("redirect_loop", endpoint="transparency", times=-1))
    archived: list[PortalResponse] = []
    with pytest.raises(PortalBadResponse, match="more than 3 redirects"):
        fetch(client_for(simulator, archived, max_redirects=3))
    assert len(simulator.requests_log) == 4 and len(archived) == 1


def test_one_redirect_is_followed(simulator):
    simulator.inject(Fault("redirect_loop", endpoint="transparency", times=1))
    data = fetch(client_for(simulator, [], max_redirects=1))
    assert isinstance(data, dict) and len(data["evaluation"]) == 163


def test_a_corrupt_compressed_body_is_refused_and_gzip_members_make_one_body():
    inflater = Inflater(1000)
    inflater.start("gzip")
    with pytest.raises(ExchangeFailed, match="corrupt") as caught:
        inflater.feed(b"this is not gzip at all")
    assert not caught.value.retriable
    whole = Inflater(100)
    whole.start("gzip")
    whole.feed(gzip.compress(b"[1]") + gzip.compress(b" "))  # two members, one body
    whole.finish()
    assert bytes(whole.body) == b"[1] "


def test_non_finite_numbers_reach_the_checks_marked_not_as_invalid_json():
    body = b'{"code":"OK","data":{"a":NaN,"b":-Infinity,"c":1e400,"d":1.5},"message":"OK"}'
    data = read_envelope("transparency", URL, 201, body)
    assert data == {"a": NonFinite("NaN"), "b": NonFinite("-Infinity"), "c": NonFinite("1e400"),
                    "d": 1.5}  # fmt: skip


def test_json_nested_too_deeply_is_a_bad_response_not_a_crash():
    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(PortalBadResponse, match="nested too deeply"):
        read_envelope("transparency", URL, 201, body)
