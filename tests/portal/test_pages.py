"""`client.checked_page` (a sync's check of an answer, without decoding its units)
accepts and refuses exactly what `read_envelope` does, and reads the same page count
and unit list, whatever the answer holds."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.loopback_http import LoopbackServer
from service.portal import api
from service.portal.client import (
    PortalBadResponse,
    PortalClient,
    PortalError,
    PortalResponse,
    _total_pages,
    checked_page,
    joined,
    read_envelope,
)
from service.simulator.generated import GeneratedSource
from service.simulator.server import PortalSimulator
from tests.conftest import FAST_PORTAL
from tests.test_sync import AUGUST

URL = "http://127.0.0.1:9/api"
ENDPOINT = api.TRANSPARENCY.name
UNIT = {"departmentId": "u-1", "departmentName": "UBND xã Thanh Ba", "totalScore": 12.5}

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_pagination = st.one_of(
    _json,
    st.fixed_dictionaries(
        {"totalPages": st.one_of(st.integers(-2, 60), st.floats(), st.booleans(), _json)}
    ),
)


@st.composite
def answers(draw: Any) -> tuple[int, bytes]:
    """An answer: mostly an envelope around data with or without a unit list and a
    pagination, then perhaps spoiled byte-wise."""
    data: Any = {"overview": UNIT, "evaluation": [UNIT, UNIT]}
    if draw(st.booleans()):
        data["pagination"] = draw(_pagination)
    if draw(st.booleans()):
        data["evaluation"] = draw(_json)
    if draw(st.integers(0, 9)) == 0:
        data = draw(_json)
    envelope: Any = {
        "code": draw(st.sampled_from(["OK", "OK", "OK", "ERR", 1, None])),
        "data": data,
    }
    if draw(st.integers(0, 9)) == 0:
        envelope = draw(_json)
    body = json.dumps(envelope, ensure_ascii=draw(st.booleans()), allow_nan=True).encode()
    spoils = {
        "none": lambda b: b,
        "invalid utf-8 in a text": lambda b: b.replace(b"Thanh Ba", b"Thanh \xff Ba", 1),
        "an encoded surrogate": lambda b: b.replace(b"Thanh Ba", b"Thanh \xed\xa0\x80", 1),
        "a lone surrogate escape": lambda b: b.replace(b"Thanh Ba", b"\\ud800", 1),
        "a byte order mark": lambda b: b"\xef\xbb\xbf" + b,
        "trailing bytes": lambda b: b + b"x",
        "cut short": lambda b: b[: len(b) // 2],
        "a long integer": lambda b: b.replace(b"12.5", b"123456789012345678901", 1),
        # `json` refuses an integer past 4,300 digits, where msgspec skips it unread
        "an integer json refuses": lambda b: b.replace(b"12.5", b"7" * 4301, 1),
        "NaN": lambda b: b.replace(b"12.5", b"NaN", 1),
        "1e400": lambda b: b.replace(b"12.5", b"1e400", 1),
        "deep": lambda b: b.replace(b"12.5", b"[" * 1000 + b"]" * 1000, 1),
        "html": lambda _b: b"<html><body>Request Rejected</body></html>",
    }
    spoil = draw(st.sampled_from(sorted(spoils)))
    status = draw(st.sampled_from([201, 201, 201, 200, 403, 429, 500, 503]))
    return status, spoils[spoil](body)


def as_read_envelope_reads(status: int, body: bytes) -> object:
    try:
        data = read_envelope(ENDPOINT, URL, status, body)
    except PortalError as exc:
        return type(exc), str(exc)
    units = data.get("evaluation") if isinstance(data, dict) else None
    return _total_pages(data), isinstance(units, list)


def as_checked(status: int, body: bytes) -> object:
    try:
        page = checked_page(ENDPOINT, URL, status, body)
    except PortalError as exc:
        return type(exc), str(exc)
    assert page.body is body
    return page.total_pages, page.lists_units


@settings(max_examples=600, deadline=None)
@given(answers())
@example((201, b'{"code":"OK","data":{"evaluation":[],"pagination":{"totalPages":3}}}'))
@example((201, b'{"code":"OK","data":{"evaluation":null,"pagination":{"totalPages":true}}}'))
@example((201, b'{"code":"OK","code":"ERR","data":{}}'))
@example((201, b'{"code":"ERR","code":"OK","data":{"evaluation":[]}}'))
@example((201, b'{"code":"OK","data":{"evaluation":[], "evaluation":{}}}'))
@example((201, b'{"code":"OK","data":{"evaluation":[], "x": "\xff"}}'))
@example(
    (201, b'{"code":"OK","data":{"pagination":{"totalPages":' + str(math.pi).encode() + b"}}}")
)
@example((201, b'{"code":"OK","data":{"evaluation":[{"x":' + b"7" * 5000 + b"}]}}"))
def test_a_page_is_checked_as_read_envelope_reads_it(answer):
    status, body = answer
    assert as_checked(status, body) == as_read_envelope_reads(status, body)


def test_a_value_nested_deeper_than_msgspec_reads_is_left_to_read_envelope():
    """msgspec stops at Python's recursion limit (which hypothesis raises, hence not an
    example above), orjson reads 1,024 levels."""
    body = b'{"code":"OK","data":{"evaluation":[],"x":' + b"[" * 1020 + b"]" * 1020 + b"}}"
    assert as_checked(201, body) == as_read_envelope_reads(201, body) == (1, True)


def test_fetch_pages_asks_and_keeps_what_fetch_province_joins():
    """The same requests, and the pages whose units `fetch_province` joins."""
    source = GeneratedSource(seed=5, provinces=1, communes=130, agencies=2)
    province = source.provinces[0].department.department_id
    with PortalSimulator(source) as portal:
        settings = FAST_PORTAL.model_copy(update={"base_url": portal.base_url, "page_size": 100})
        archived: list[list[PortalResponse]] = [[], []]
        for endpoint in (api.TRANSPARENCY.name, api.DVC_PROGRESS_TREE.name):
            pages = PortalClient(settings, archived[0].append).fetch_pages(
                endpoint, province, AUGUST
            )
            data = PortalClient(settings, archived[1].append).fetch_province(
                endpoint, province, AUGUST
            )
            assert joined(endpoint, pages) == data
        assert len(archived[0]) == 3  # the listing in two pages, the tree in one
    assert [a.request_body for a in archived[0]] == [a.request_body for a in archived[1]]
    assert [a.body for a in archived[0]] == [a.body for a in archived[1]]


class _TwoPages(BaseHTTPRequestHandler):
    """A listing of two pages, the second without its list of units."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = (
            {"evaluation": [], "pagination": {"totalPages": 2}} if asked["currentPage"] == 1 else {}
        )
        answer = json.dumps({"code": "OK", "data": data}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


def test_a_later_page_without_a_unit_list_is_refused_by_both_in_the_same_words():
    server = LoopbackServer(("127.0.0.1", 0), _TwoPages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = FAST_PORTAL.model_copy(
            update={"base_url": f"http://127.0.0.1:{server.server_port}"}
        )
        refusals = []
        for fetch in ("fetch_pages", "fetch_province"):
            client = PortalClient(settings, lambda _response: None)
            with pytest.raises(PortalBadResponse) as refused:
                getattr(client, fetch)(ENDPOINT, "p-1", AUGUST)
            refusals.append(str(refused.value))
    finally:
        server.shutdown()
        server.server_close()
    assert refusals[0] == refusals[1]
    assert "page 2 has no unit list" in refusals[0]
