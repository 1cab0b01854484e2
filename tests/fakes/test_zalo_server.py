"""The fake Zalo Bot API holds a client to what dvcwatch declares for Zalo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes import FakeClock
from tests.fakes.zalo_server import DEFAULT_TOKEN, FakeZalo


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def zalo(clock: FakeClock) -> Iterator[FakeZalo]:
    with FakeZalo(chats={"c1", "c2", "c3"}, enforce_limits=True, clock=clock) as server:
        yield server


def post(zalo: FakeZalo, method: str, token: str = DEFAULT_TOKEN, **body: Any) -> dict[str, Any]:
    url = zalo.base_url.removesuffix("/bot") + f"/bot{token}/{method}"
    answer = httpx.post(url, json=body, timeout=10).json()
    assert isinstance(answer, dict)
    return answer


def test_a_text_of_2000_characters_goes_and_one_of_2001_is_refused(zalo, clock):
    assert post(zalo, "sendMessage", chat_id="c1", text="a" * 2000)["ok"]
    clock.now += 1
    refused = post(zalo, "sendMessage", chat_id="c1", text="a" * 2001)
    assert (refused["ok"], refused["error_code"]) == (False, 400)
    assert zalo.sent_texts("c1") == ["a" * 2000]


def test_one_message_a_second_per_chat_on_the_tests_clock(zalo, clock):
    assert post(zalo, "sendMessage", chat_id="c1", text="một")["ok"]
    again = post(zalo, "sendMessage", chat_id="c1", text="hai")
    assert again["error_code"] == 429 and again["parameters"]["retry_after"] == 1
    assert post(zalo, "sendMessage", chat_id="c2", text="hai")["ok"]  # another chat goes
    clock.now += 1.0
    assert post(zalo, "sendMessage", chat_id="c1", text="hai")["ok"]


def test_the_overall_rate_is_held_across_chats(clock):
    chats = {f"c{n}" for n in range(10)}
    with FakeZalo(chats=chats, enforce_limits=True, clock=clock) as zalo:
        answers = [post(zalo, "sendMessage", chat_id=f"c{n}", text="x") for n in range(6)]
    assert [a["ok"] for a in answers] == [True] * 5 + [False]
    assert answers[-1]["error_code"] == 429


def test_an_unknown_chat_and_a_wrong_token_get_the_platforms_errors(zalo):
    unknown = post(zalo, "sendMessage", chat_id="nobody", text="x")
    assert unknown["error_code"] == 400 and "chat not found" in unknown["description"]
    assert post(zalo, "getMe", token="123:wrong")["error_code"] == 401


def test_get_updates_answers_queued_messages_one_at_a_time_then_408(zalo):
    zalo.push_text("c1", "OK 12")
    zalo.push_text("g1", "OK 13", user_id="u7", group=True)
    first = post(zalo, "getUpdates", timeout="1")["result"]
    second = post(zalo, "getUpdates", timeout="1")["result"]
    assert (first["message"]["text"], first["message"]["chat"]["id"]) == ("OK 12", "c1")
    assert second["message"]["from"]["id"] == "u7"
    assert second["message"]["chat"]["chat_type"] == "GROUP"
    assert post(zalo, "getUpdates", timeout="0")["error_code"] == 408
