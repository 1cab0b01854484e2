"""The Telegram channel drives the real python-telegram-bot against the fake Bot API on
127.0.0.1: HTML, buttons, splitting, files, edits, every error classified, the token
kept secret, and Telegram's limits honoured (on a fake clock: no test really sleeps)."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from service.channels.base import (
    Button,
    ChannelLimits,
    ChannelUnauthorized,
    ChatMigrated,
    DeliveryError,
    Document,
    Message,
    PermanentDeliveryError,
    PermanentReason,
    Receipt,
    Recipient,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from service.channels.messages import escape_html, utf16_length
from service.channels.pacing import RateLimiter
from service.channels.registry import TELEGRAM_LIMITS
from service.channels.telegram import TelegramChannel
from tests.fakes import FakeClock, PacingClock
from tests.fakes.telegram_server import FakeTelegram

# PTB 22 warns from inside RetryAfter() itself; the channel silences it, pytest resets that.
pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after` will be of type")

LAN = Recipient("4242", "Nguyễn Thị Lan")
GROUP = Recipient("-987", "Nhóm một cửa xã Bình Thành")
ACK = Button("Đã tiếp nhận", "ack:H21.227:overdue")


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def channel_on(fake: FakeTelegram, clock: FakeClock | None = None, **options: Any):
    clock = clock or FakeClock()
    settings: dict[str, Any] = {
        "timeout_seconds": 2.0,
        "limiter": clock.limiter(TELEGRAM_LIMITS),
        **options,
    }
    return TelegramChannel(
        fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url, **settings
    )


def deliver(
    fake: FakeTelegram, action: Callable[[TelegramChannel], Awaitable[Any]], **options: Any
) -> Any:
    """`action(channel)` on a fresh channel to `fake`, in an event loop of its own."""

    async def scenario() -> Any:
        async with channel_on(fake, **options) as channel:
            return await action(channel)

    return asyncio.run(scenario())


def refusal(
    fake: FakeTelegram, kind: str, recipient: Recipient = LAN, timeout: float = 2.0, **failure: Any
) -> DeliveryError:
    """The error a send to `recipient` raises when the fake answers with `kind`."""
    fake.fail("sendMessage", kind, chat_id=recipient.address, **failure)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as caught:
        send = lambda channel: channel.send(recipient, Message("Kiểm tra"))  # noqa: E731
        deliver(fake, send, timeout_seconds=timeout)
    return caught.value


def test_it_sends_html_with_user_text_escaped(telegram):
    unit = 'UBND xã <Bình Thành> & "Hạ Hòa"'
    html = f"<b>{escape_html(unit)}</b>: 3 hồ sơ quá hạn"
    receipt = deliver(telegram, lambda channel: channel.send(LAN, Message(html)))
    (call,) = telegram.calls("sendMessage")
    assert call.params["text"] == html and call.params["parse_mode"] == "HTML"
    shown = telegram.message(LAN.address, receipt.last_message_id)
    assert shown is not None and shown["text"] == f"{unit}: 3 hồ sơ quá hạn"
    assert receipt.channel == "telegram" and receipt.message_ids == (str(shown["message_id"]),)


def test_unescaped_user_text_is_refused_as_telegram_would(telegram):
    with pytest.raises(PermanentDeliveryError) as caught:
        deliver(telegram, lambda channel: channel.send(LAN, Message("xã <Bình Thành>")))
    assert caught.value.reason is PermanentReason.BAD_REQUEST
    assert not caught.value.reason.address_gone


def test_buttons_arrive_as_an_inline_keyboard(telegram):
    second = Button("Xem chi tiết", "detail:H21.227")
    deliver(telegram, lambda channel: channel.send(LAN, Message("Cảnh báo", (ACK, second))))
    (call,) = telegram.calls("sendMessage")
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Đã tiếp nhận", "callback_data": "ack:H21.227:overdue"}],
            [{"text": "Xem chi tiết", "callback_data": "detail:H21.227"}],
        ]
    }


def test_a_long_vietnamese_message_is_split_in_order_with_every_id_in_the_receipt(telegram):
    lines = [f"Xã Bình Thành: hồ sơ <code>H21.{n:05d}</code> quá hạn {n} ngày" for n in range(300)]
    clock = FakeClock()
    message = Message("\n".join(lines), (ACK,))
    receipt = deliver(telegram, lambda channel: channel.send(LAN, message), clock=clock)
    calls = telegram.calls("sendMessage")
    parts = [call.params["text"] for call in calls]
    assert len(parts) == len(receipt.message_ids) >= 3
    assert all(utf16_length(part) <= 4096 for part in parts)
    assert "\n".join(parts).split("\n") == lines
    assert [int(i) for i in receipt.message_ids] == sorted(int(i) for i in receipt.message_ids)
    assert ["reply_markup" in call.params for call in calls] == [False] * (len(calls) - 1) + [True]
    assert clock.sleeps == [1.0] * (len(parts) - 1)  # one message a second to one chat


def test_parts_already_delivered_are_named_when_a_later_part_fails(telegram):
    text = "\n".join(["Dòng dài về hồ sơ quá hạn của xã Bình Thành"] * 200)
    telegram.fail("sendMessage", "server_error", after=1)
    with pytest.raises(TransientDeliveryError) as caught:
        deliver(telegram, lambda channel: channel.send(LAN, Message(text)))
    assert [call.status for call in telegram.calls("sendMessage")] == [200, 500]
    assert caught.value.delivered_ids == ("1",)


def test_documents_arrive_as_multipart_with_their_name_and_bytes(telegram):
    content = b"PK\x03\x04\x00\r\n--boundary-like\r\n\xff" * 100
    document = Document("Công văn 08-2026.docx", content, "<b>Công văn</b> tháng 08/2026")
    receipt = deliver(telegram, lambda channel: channel.send_document(LAN, document))
    (call,) = telegram.calls("sendDocument")
    upload = call.files["document"]
    assert upload.filename == "Công văn 08-2026.docx" and upload.content == content
    assert call.params["caption"] == "<b>Công văn</b> tháng 08/2026"
    assert len(receipt.message_ids) == 1


def test_a_caption_too_long_for_one_goes_first_as_a_message(telegram):
    caption = "Báo cáo chỉ số phục vụ. " * 60  # over Telegram's 1,024 for captions
    document = Document("bao-cao.pdf", b"%PDF-1.7", caption)
    receipt = deliver(telegram, lambda channel: channel.send_document(LAN, document))
    assert [call.method for call in telegram.calls()][1:] == ["sendMessage", "sendDocument"]
    assert "caption" not in telegram.calls("sendDocument")[0].params
    assert len(receipt.message_ids) == 2


def test_an_edit_replaces_the_text_and_removes_the_buttons(telegram):
    async def acknowledge(channel: TelegramChannel) -> Receipt:
        sent = await channel.send(LAN, Message("Quá hạn 3 hồ sơ", (ACK,)))
        return await channel.edit(LAN, sent, Message("Quá hạn 3 hồ sơ\n<i>Lan đã tiếp nhận</i>"))

    receipt = deliver(telegram, acknowledge)
    shown = telegram.message(LAN.address, receipt.last_message_id)
    assert shown is not None and "reply_markup" not in shown
    assert shown["text"] == "Quá hạn 3 hồ sơ\nLan đã tiếp nhận"


def test_editing_to_the_same_content_succeeds_so_a_second_press_is_harmless(telegram):
    async def twice(channel: TelegramChannel) -> Receipt:
        sent = await channel.send(LAN, Message("Quá hạn", (ACK,)))
        await channel.edit(LAN, sent, Message("Đã tiếp nhận"))
        return await channel.edit(LAN, sent.last_message_id, Message("Đã tiếp nhận"))

    receipt = deliver(telegram, twice)
    assert [call.status for call in telegram.calls("editMessageText")] == [200, 400]
    assert receipt.message_ids == ("1",)


def test_an_edit_longer_than_one_message_is_refused_before_sending(telegram):
    with pytest.raises(PermanentDeliveryError) as caught:
        deliver(telegram, lambda channel: channel.edit(LAN, "1", Message("x\n" * 3000)))
    assert caught.value.reason is PermanentReason.BAD_REQUEST
    assert telegram.calls("editMessageText") == []


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("blocked", PermanentReason.BLOCKED),
        ("kicked", PermanentReason.KICKED),
        ("deactivated", PermanentReason.USER_DEACTIVATED),
        ("chat_not_found", PermanentReason.CHAT_NOT_FOUND),
        ("bad_request", PermanentReason.BAD_REQUEST),
    ],
)
def test_refusals_that_never_pass_are_permanent_with_their_reason(telegram, kind, reason):
    error = refusal(telegram, kind)
    assert isinstance(error, PermanentDeliveryError) and error.reason is reason
    assert error.address == LAN.address
    assert error.reason.address_gone == (reason is not PermanentReason.BAD_REQUEST)


def test_429_is_transient_with_telegrams_retry_after(telegram):
    error = refusal(telegram, "retry_after", retry_after=17)
    assert isinstance(error, TransientDeliveryError) and error.retry_after == 17.0


@pytest.mark.parametrize("kind", ["server_error", "bad_gateway"])
def test_the_apis_own_5xx_answers_are_transient_without_a_delay(telegram, kind):
    error = refusal(telegram, kind)
    assert type(error) is TransientDeliveryError and error.retry_after is None


@pytest.mark.parametrize("kind", ["reset", "proxy_error"])
def test_a_reset_or_a_proxys_page_leaves_the_outcome_uncertain(telegram, kind):
    error = refusal(telegram, kind)
    assert isinstance(error, UncertainDeliveryError) and "maybe delivered" in str(error)


def test_a_group_that_became_a_supergroup_names_its_new_address(telegram):
    error = refusal(telegram, "migrated", recipient=GROUP)
    assert isinstance(error, ChatMigrated) and error.new_address == "-100987"


def test_a_timeout_after_the_request_left_is_uncertain_not_transient(telegram):
    error = refusal(telegram, "hold", timeout=0.2)  # answered only when the fake stops
    assert isinstance(error, UncertainDeliveryError)
    assert not isinstance(error, TransientDeliveryError)


def test_the_answer_timeout_is_the_configured_one_for_every_phase(telegram):
    default = TelegramChannel(telegram.token, base_url=telegram.base_url)
    configured = TelegramChannel(telegram.token, base_url=telegram.base_url, timeout_seconds=45)
    for channel, seconds in ((default, 30.0), (configured, 45.0)):
        timeout = channel._bot.request._client.timeout  # type: ignore[attr-defined]
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (seconds,) * 4


def test_a_slow_but_successful_answer_within_the_timeout_is_sent(telegram):
    telegram.fail("sendMessage", "delay", seconds=0.5)
    receipt = deliver(telegram, lambda c: c.send(LAN, Message("chậm")), timeout_seconds=20)
    assert receipt.message_ids and telegram.sent_texts(LAN.address) == ["chậm"]


def test_an_unreachable_server_is_transient():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    channel = TelegramChannel("1:x", base_url=f"http://127.0.0.1:{port}/bot", timeout_seconds=1)

    async def send() -> Receipt:
        async with channel:
            return await channel.send(LAN, Message("x"))

    with pytest.raises(TransientDeliveryError):
        asyncio.run(send())


def test_a_rejected_token_is_unauthorized_and_no_address_is_blamed(telegram):
    wrong = "555:wrong-token-for-the-fake"
    channel = TelegramChannel(wrong, base_url=telegram.base_url)

    async def send() -> Receipt:
        async with channel:
            return await channel.send(LAN, Message("x"))

    with pytest.raises(ChannelUnauthorized) as caught:
        asyncio.run(send())
    assert str(caught.value) == (  # a server of our own: it may not be the Bot API at all
        "Telegram rejected the bot token: set a new one in DVCWATCH_TELEGRAM_TOKEN "
        f"(or {telegram.base_url}, channels.telegram.base_url, is not a Bot API server)"
    )
    assert wrong not in "".join(traceback.format_exception(caught.value))


def test_the_token_never_shows_in_reprs_errors_tracebacks_or_logs(telegram, caplog):
    caplog.set_level(logging.DEBUG)
    channel = channel_on(telegram)
    errors: list[BaseException] = []
    for kind in ("blocked", "retry_after", "server_error"):
        telegram.fail("sendMessage", kind, chat_id=LAN.address)  # type: ignore[arg-type]
        try:
            deliver(telegram, lambda channel: channel.send(LAN, Message("x")))
        except DeliveryError as error:
            errors.append(error)
            logging.getLogger("dvcwatch.test").exception("delivery failed")
    deliver(telegram, lambda channel: channel.send(LAN, Message("<b>ok</b>")))
    texts = [repr(channel), str(channel), caplog.text]
    texts += [str(e) + "".join(traceback.format_exception(e)) for e in errors]
    assert len(errors) == 3 and "/bot<token>/sendMessage" in caplog.text
    assert not [text for text in texts if telegram.token in text]


# Pacing: the rate limiter on a fake clock.


def departures(limiter: RateLimiter, clock: FakeClock, chats: list[str], answer: float = 0.0):
    """When each request (one per chat in `chats`, all started at once) left, each
    answered `answer` seconds after it left."""
    left: list[float] = []

    async def one(chat: str) -> None:
        async with limiter.turn(chat, group=chat.startswith("-")):
            left.append(clock.now)
            clock.now += answer

    async def every() -> None:
        await asyncio.gather(*(one(chat) for chat in chats))

    asyncio.run(every())
    return [round(t - 1000.0, 6) for t in left]


def test_messages_to_one_chat_are_a_second_apart():
    clock = FakeClock()
    limiter = RateLimiter(TELEGRAM_LIMITS, clock, clock.sleep)
    assert departures(limiter, clock, ["4242"] * 3) == [0.0, 1.0, 2.0]


def test_the_gap_to_a_chat_counts_from_the_answer_not_from_a_reserved_slot():
    clock = FakeClock()
    limiter = RateLimiter(TELEGRAM_LIMITS, clock, clock.sleep)
    # Each answer takes 0.4 s: the next request leaves 1 s after it, never 0.6 s.
    assert departures(limiter, clock, ["4242"] * 3, answer=0.4) == [0.0, 1.4, 2.8]


def test_messages_to_one_group_are_three_seconds_apart():
    clock = FakeClock()
    limiter = RateLimiter(TELEGRAM_LIMITS, clock, clock.sleep)
    assert departures(limiter, clock, ["-987"] * 3) == [0.0, 3.0, 6.0]


def test_messages_to_many_chats_go_thirty_a_second():
    clock = FakeClock()
    limiter = RateLimiter(TELEGRAM_LIMITS, clock, clock.sleep)
    left = departures(limiter, clock, [str(chat) for chat in range(61)])
    assert left == pytest.approx([n / 30 for n in range(61)], abs=1e-5)


def test_a_chat_that_must_wait_does_not_hold_up_the_others():
    clock = FakeClock()
    limiter = RateLimiter(TELEGRAM_LIMITS, clock, clock.sleep)
    left = departures(limiter, clock, ["4242", "777", "4242"])
    assert left == pytest.approx([0.0, 1 / 30, 1.0], abs=1e-5)  # 777 did not wait a second


def test_a_channel_without_rates_never_waits():
    clock = FakeClock()
    limiter = RateLimiter(ChannelLimits(), clock, clock.sleep)
    assert set(departures(limiter, clock, ["4242"] * 100)) == {0.0} and clock.sleeps == []


def test_paced_sends_get_no_429_from_a_server_enforcing_the_limits_on_the_same_clock():
    """The sender and the server share one clock the test controls, on which a request
    is answered as it leaves: what the server sees is what the limiter decided, whatever
    the machine's speed."""
    recipients = [Recipient(str(1000 + n % 18), "cán bộ") for n in range(36)]
    recipients += [Recipient("-555", "Nhóm")] * 3
    clock = PacingClock()

    async def burst(fake: FakeTelegram) -> None:
        async with channel_on(fake, clock) as channel:
            await asyncio.gather(*(channel.send(r, Message("Nhắc việc")) for r in recipients))

    with FakeTelegram(enforce_limits=True, slack=0.001, clock=clock) as fake:
        asyncio.run(burst(fake))
        statuses = [call.status for call in fake.calls("sendMessage")]
    assert statuses == [200] * 39


# The values the interface takes.


@pytest.mark.parametrize("data", ["", "đã tiếp nhận " * 5, "x" * 65])
def test_callback_data_must_be_1_to_64_bytes(data):
    with pytest.raises(ValueError, match="callback_data"):
        Button("Đã tiếp nhận", data)


def test_a_message_needs_a_text_and_a_document_needs_content():
    with pytest.raises(ValueError):
        Message("  \n")
    with pytest.raises(ValueError):
        Document("trong.docx", b"")
    assert Message("x", [ACK]).buttons == (ACK,)  # type: ignore[arg-type]
