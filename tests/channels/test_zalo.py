"""The Zalo channel through httpx against the fake Zalo Bot API: plain text, reply
prompts instead of buttons, documents as text, and every error classified."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from service.channels.base import (
    Button,
    ChannelUnauthorized,
    Document,
    Message,
    PermanentDeliveryError,
    PermanentReason,
    Recipient,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from service.channels.pacing import RateLimiter
from service.channels.zalo import (
    ZALO_LIMITS,
    ZaloChannel,
    acknowledged_id,
    check_address,
    reply_prompt,
)
from tests.fakes import FakeClock
from tests.fakes.zalo_server import DEFAULT_TOKEN, FakeZalo

LAN = Recipient("c1", "lan")
T = TypeVar("T")


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo(chats={"c1", "c2"}) as server:
        yield server


def run(
    zalo: FakeZalo,
    act: Callable[[ZaloChannel], Awaitable[T]],
    token: str = DEFAULT_TOKEN,
    timeout: float = 5.0,
) -> T:
    async def go() -> T:
        pace = FakeClock()
        async with ZaloChannel(
            token,
            base_url=zalo.base_url,
            timeout_seconds=timeout,
            limiter=RateLimiter(ZALO_LIMITS, pace, pace.sleep),
        ) as channel:
            return await act(channel)

    return asyncio.run(go())


def test_a_message_goes_as_plain_text_with_bold_words_kept_and_entities_decoded(zalo):
    html = '<b>UBND xã &lt;Bình Phú&gt;</b>\n⚠️ 3 hồ sơ quá hạn. <a href="https://x.vn/a">Xem</a>'
    receipt = run(zalo, lambda c: c.send(LAN, Message(html)))
    assert zalo.sent_texts("c1") == ["UBND xã <Bình Phú>\n⚠️ 3 hồ sơ quá hạn. Xem (https://x.vn/a)"]
    assert receipt.channel == "zalo" and len(receipt.message_ids) == 1


def test_a_button_becomes_a_reply_prompt_under_the_message(zalo):
    message = Message("Cảnh báo", (Button("Đã tiếp nhận", "ack:123"),))
    run(zalo, lambda c: c.send(LAN, message))
    assert zalo.sent_texts("c1") == ["Cảnh báo\nTrả lời «OK 123» để xác nhận đã tiếp nhận"]
    assert acknowledged_id(" ok 123 ") == "123" and acknowledged_id("OK") is None
    assert reply_prompt(Button("x", "ack:7")).startswith("Trả lời «OK 7»")


def test_a_text_longer_than_2000_characters_is_split_by_the_channel_too(zalo):
    text = "\n".join(f"dòng {n} " + "x" * 90 for n in range(40))
    receipt = run(zalo, lambda c: c.send(LAN, Message(text)))
    sent = zalo.sent_texts("c1")
    assert len(sent) == len(receipt.message_ids) == 2
    assert all(len(part) <= 2000 for part in sent)


def test_a_document_goes_as_its_caption_with_a_line_naming_the_file(zalo):
    document = Document("cong-van.docx", b"PK\x03\x04", "<b>Công văn</b> tháng 8")
    run(zalo, lambda c: c.send_document(LAN, document))
    [text] = zalo.sent_texts("c1")
    assert text.startswith("Công văn tháng 8\n\n") and "cong-van.docx" in text


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("blocked", PermanentReason.BLOCKED), ("chat_not_found", PermanentReason.CHAT_NOT_FOUND)],
)
def test_refusals_that_name_the_address_are_permanent_and_address_gone(zalo, kind, reason):
    zalo.fail("sendMessage", kind)
    with pytest.raises(PermanentDeliveryError) as raised:
        run(zalo, lambda c: c.send(LAN, Message("x")))
    assert raised.value.reason is reason and raised.value.reason.address_gone
    assert raised.value.address == "c1"


def test_an_unknown_chat_is_chat_not_found(zalo):
    with pytest.raises(PermanentDeliveryError) as raised:
        run(zalo, lambda c: c.send(Recipient("nobody", "x"), Message("x")))
    assert raised.value.reason is PermanentReason.CHAT_NOT_FOUND


def test_429_and_the_apis_own_500_are_transient(zalo):
    zalo.fail("sendMessage", "retry_after", retry_after=7)
    with pytest.raises(TransientDeliveryError) as raised:
        run(zalo, lambda c: c.send(LAN, Message("x")))
    assert raised.value.retry_after == 7
    zalo.fail("sendMessage", "server_error")
    with pytest.raises(TransientDeliveryError):
        run(zalo, lambda c: c.send(LAN, Message("x")))


@pytest.mark.parametrize("kind", ["hold", "reset", "proxy_error"])
def test_an_unknown_outcome_is_uncertain(zalo, kind):
    zalo.fail("sendMessage", kind)
    with pytest.raises(UncertainDeliveryError) as raised:
        run(zalo, lambda c: c.send(LAN, Message("x")), timeout=0.5)
    assert "maybe delivered" in str(raised.value) and ": :" not in str(raised.value)
    if kind == "hold":  # httpx's timeout has no words of its own
        assert str(raised.value).endswith("ReadTimeout: no answer within 0.5 s: maybe delivered")


def test_a_refused_connection_is_transient():
    with FakeZalo() as zalo:
        base_url = zalo.base_url
    channel_zalo = type("Gone", (), {"base_url": base_url})()
    with pytest.raises(TransientDeliveryError):
        run(channel_zalo, lambda c: c.send(LAN, Message("x")))  # type: ignore[arg-type]


def test_a_rejected_token_is_unauthorized_and_never_shown(zalo, caplog):
    caplog.set_level(logging.DEBUG)
    token = "999:the-secret-token"
    with pytest.raises(ChannelUnauthorized) as raised:
        run(zalo, lambda c: c.send(LAN, Message("x")), token=token)
    assert "DVCWATCH_ZALO_TOKEN" in str(raised.value)
    assert token not in str(raised.value) and token not in caplog.text
    assert "<token>" in caplog.text  # httpx's request line, scrubbed


def test_replies_are_read_from_get_updates(zalo):
    zalo.push_text("c1", "OK 42")
    zalo.push_text("g1", "ok 43", user_id="u7", group=True, name="Hùng")
    zalo.push_text("c2", "xin chào")
    found = run(zalo, lambda c: c.updates(timeout=1))
    found += run(zalo, lambda c: c.updates(timeout=1))
    found += run(zalo, lambda c: c.updates(timeout=1))
    assert [(i.chat_id, i.user_id, i.ack_id) for i in found] == [
        ("c1", "c1", "42"),
        ("g1", "u7", "43"),
        ("c2", "c2", None),
    ]
    assert run(zalo, lambda c: c.updates(timeout=0)) == []


@pytest.mark.parametrize("address", ["", "có dấu", "a" * 65, "x;y"])
def test_a_zalo_address_is_a_chat_id(address):
    with pytest.raises(ValueError, match="not a Zalo chat id"):
        check_address(address)


def test_a_check_of_the_token_answered_by_no_api_is_not_ready_never_maybe_delivered(zalo):
    """getMe carries no message: an answer that is not the API's (a proxy's page) leaves
    the channel not ready to send (transient), not a message that may have arrived."""
    zalo.fail("getMe", "proxy_error")
    with pytest.raises(TransientDeliveryError) as raised:
        run(zalo, lambda c: c.send(LAN, Message("x")))
    said = str(raised.value)
    assert "no answer it could read to the check of its token: HTTP 502" in said
    assert "maybe delivered" not in said and zalo.calls("sendMessage") == []
