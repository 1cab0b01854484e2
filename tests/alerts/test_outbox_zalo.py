"""The outbox through the Zalo channel against the fake Zalo Bot API: the same
guarantees as Telegram's (sent once, permanent errors deactivate the address and tell
the operator, rates honoured, a long digest split by the core), and acknowledgement by
a reply "OK <id>" that only the recipient may give."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.alerts.engine import Policy, evaluate
from service.alerts.lines import alert_lines
from service.alerts.models import Alert
from service.alerts.rules import Rule
from service.bot_replies import (
    NOT_ASSIGNED,
    NOT_RECIPIENT,
    YOUR_CHAT,
    BotUnavailable,
    ReplyBot,
    answer_replies_until_stopped,
)
from service.calendar import WorkCalendar
from service.channels.zalo import ZALO_LIMITS, ZaloChannel
from service.delivery.directory_files import load_directory
from service.delivery.models import ChannelAddress, DeliveryStatus
from service.delivery.outbox import Outbox, SendReport
from tests.alerts.test_outbox import NOW, Clock, deliveries, messages, queue
from tests.fakes import FakeClock, PacingClock
from tests.fakes.zalo_server import DEFAULT_TOKEN, FakeZalo

LAN = "lan-zalo-1"
DIRECTORY = f"""
operators = ["minh"]
[[people]]
id = "lan"
name = "Nguyễn Thị Lan"
units = ["*"]
topics = ["*"]
channel = "zalo"
address = "{LAN}"
[[people]]
id = "minh"
name = "Vũ Đức Minh"
channel = "zalo"
address = "minh-zalo"
"""


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo(chats={LAN, "minh-zalo", *(f"c{n}" for n in range(12))}) as server:
        yield server


def send(
    sessions: sessionmaker[Session],
    zalo: FakeZalo,
    clock: Clock | None = None,
    pace: FakeClock | None = None,
) -> SendReport:
    """One outbox pass through a Zalo channel paced on `pace` (by default a fake clock)."""
    pace = pace or FakeClock()

    async def go() -> SendReport:
        async with ZaloChannel(
            DEFAULT_TOKEN,
            base_url=zalo.base_url,
            timeout_seconds=5,
            limiter=pace.limiter(ZALO_LIMITS),
        ) as channel:
            outbox = Outbox(
                sessions, {"zalo": channel}, "test", clock or Clock(), describe=alert_lines
            )
            return await outbox.send_due()

    return asyncio.run(go())


def zalo_queue(sessions: sessionmaker[Session], **kwargs: object) -> list[int]:
    return queue(sessions, channel="zalo", address=LAN, **kwargs)  # type: ignore[arg-type]


def test_an_alert_is_sent_once_as_text_with_the_reply_to_acknowledge(sessions, zalo):
    [delivery_id] = zalo_queue(sessions)
    assert send(sessions, zalo).sent == 1
    assert send(sessions, zalo).sent == 0
    [text] = zalo.sent_texts(LAN)
    alert_id = deliveries(sessions)[0].alert_id
    assert text.startswith("UBND xã <Bình Phú>\n⚠️ 3 hồ sơ quá hạn.")
    assert text.endswith(f"Trả lời «OK {alert_id}» để xác nhận đã tiếp nhận")
    assert "<b>" not in text and "&lt;" not in text
    assert deliveries(sessions)[0].status == DeliveryStatus.SENT


def test_a_digest_over_2000_characters_is_split_by_the_core_before_the_channel(sessions, zalo):
    zalo_queue(sessions, count=60, digest="lan:zalo:run1")
    parts = messages(sessions)
    assert not parts  # nothing queued yet
    report = send(sessions, zalo)
    parts = messages(sessions)
    texts = zalo.sent_texts(LAN)
    assert len(parts) > 1 and report.sent == len(parts) == len(texts)  # one request a part
    assert all(len(text) <= 2000 for text in texts)
    assert all(part.buttons_json == "[]" for part in parts)  # no keyboard ever
    for alert_id in {d.alert_id for d in deliveries(sessions)}:
        assert sum(f"«OK {alert_id}»" in text for text in texts) == 1


def test_a_blocked_bot_deactivates_the_address_and_the_operator_hears_of_it(
    app, sessions, zalo, tmp_path: Path
):
    zalo_queue(sessions, count=2)
    zalo.fail("sendMessage", "blocked", chat_id=LAN)
    assert send(sessions, zalo).failed == 1
    assert {d.status for d in deliveries(sessions)} == {DeliveryStatus.FAILED}
    with sessions() as session:
        [address] = session.scalars(select(ChannelAddress)).all()
    assert (address.channel, address.active, address.reason) == ("zalo", False, "blocked")
    (tmp_path / "directory.toml").write_text(DIRECTORY, encoding="utf-8")
    directory = load_directory(tmp_path / "directory.toml")
    rules = [Rule(id="delivery-failed", kind="delivery_failed", topic="operator")]
    with sessions.begin() as session:
        evaluate(session, app.schemes, rules, directory, Policy(WorkCalendar(), digest=False), NOW)
    assert send(sessions, zalo, Clock()).sent == 1
    [told] = zalo.sent_texts("minh-zalo")
    # an operator reads which address, why, in Vietnamese, under a heading that names
    # the directory (the alert is about no unit and no province: never "Dữ liệu None")
    assert told.startswith(
        "Danh bạ nhận cảnh báo\n"
        f"⚠️ Không gửi được tin tới «lan» trong danh bạ (địa chỉ {LAN}): người nhận đã chặn bot."
    )
    assert "None" not in told and "blocked" not in told


def test_sends_keep_zalos_declared_rates_and_get_no_429(sessions):
    """The sender and the server enforcing the limits share one clock the test controls,
    on which a request is answered as it leaves: the server sees each request at the
    moment the limiter let it go, whatever the machine's speed."""
    chats = {f"c{n}" for n in range(4)}
    clock = PacingClock()
    with FakeZalo(chats=chats, enforce_limits=True, slack=0.001, clock=clock) as zalo:
        for n in range(4):
            queue(sessions, count=2, channel="zalo", address=f"c{n}", person=f"p{n}")
        report = send(sessions, zalo, pace=clock)
        calls = zalo.calls("sendMessage")
    assert report.sent == 8 and [call.status for call in calls] == [200] * 8
    arrivals = [call.received_at for call in calls]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= 0.2 - 1e-9  # the overall gap: 5 a second
    for chat in chats:
        first, second = [call.received_at for call in calls if call.chat_id == chat]
        assert second - first >= 1.0 - 1e-9  # one a second per chat


def reply_bot(sessions, app, directory_text: str, tmp_path: Path, zalo: FakeZalo):  # type: ignore[no-untyped-def]
    (tmp_path / "directory.toml").write_text(directory_text, encoding="utf-8")
    directory = load_directory(tmp_path / "directory.toml")

    async def go() -> None:
        async with ZaloChannel(DEFAULT_TOKEN, base_url=zalo.base_url) as channel:
            bot = ReplyBot(channel, sessions, directory, app.schemes)
            while await bot.poll(timeout=0):
                pass

    asyncio.run(go())


def test_a_reply_ok_acknowledges_and_a_strangers_does_not(app, sessions, zalo, tmp_path):
    zalo_queue(sessions)
    send(sessions, zalo)
    alert_id = deliveries(sessions)[0].alert_id
    zalo.push_text("minh-zalo", f"OK {alert_id}")  # not a recipient of it
    reply_bot(sessions, app, DIRECTORY, tmp_path, zalo)
    assert zalo.sent_texts("minh-zalo") == [NOT_RECIPIENT]
    with sessions() as session:
        assert session.get(Alert, alert_id).acknowledged_at is None  # type: ignore[union-attr]
    zalo.push_text(LAN, f"ok {alert_id}")
    reply_bot(sessions, app, DIRECTORY, tmp_path, zalo)
    [answer] = zalo.sent_texts(LAN)[1:]
    # a reply of its own: it names the alert it took, who took it and when
    assert answer.startswith(f"Đã ghi nhận cảnh báo số {alert_id}: UBND xã <Bình Phú>, quá hạn.")
    assert "\n\n✅ Đã tiếp nhận bởi Nguyễn Thị Lan lúc " in answer
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.acknowledged_by == "Nguyễn Thị Lan"


def test_every_message_to_the_bot_is_answered(app, sessions, zalo, tmp_path):
    zalo.push_text("stranger", "xin chào")
    zalo.push_text("stranger", "/start")
    zalo.push_text(LAN, "xin chào")
    zalo.chats = None  # any chat may be answered
    reply_bot(sessions, app, DIRECTORY, tmp_path, zalo)
    hello, start = zalo.sent_texts("stranger")
    assert "chưa có trong danh bạ" in hello and "Mã chat của bạn: stranger" in start
    assert "«OK <số>»" in zalo.sent_texts(LAN)[0]


def test_the_reply_bot_is_idle_when_nothing_came(app, sessions, zalo, tmp_path):
    reply_bot(sessions, app, DIRECTORY, tmp_path, zalo)
    assert zalo.calls("sendMessage") == []
    assert dt.datetime(2026, 1, 1) < NOW  # the shared clock of these tests


def test_the_bot_command_answers_replies_until_stopped_and_stops_on_a_rejected_token(
    app, sessions, zalo, tmp_path
):
    (tmp_path / "directory.toml").write_text(DIRECTORY, encoding="utf-8")
    directory = load_directory(tmp_path / "directory.toml")
    zalo.push_text("minh-zalo", "/start")

    async def answer(token: str) -> None:
        stopping = asyncio.Event()
        channel = ZaloChannel(token, base_url=zalo.base_url)
        original = channel.reply

        async def reply_then_stop(chat_id: str, text_html: str) -> None:
            await original(chat_id, text_html)
            stopping.set()

        channel.reply = reply_then_stop  # type: ignore[method-assign]
        bot = ReplyBot(channel, sessions, directory, app.schemes)
        await answer_replies_until_stopped(bot, stopping, timeout=5)

    asyncio.run(answer(DEFAULT_TOKEN))
    assert zalo.sent_texts("minh-zalo") == [YOUR_CHAT.format(chat_id="minh-zalo")]
    with pytest.raises(BotUnavailable, match="Zalo rejected the bot token"):
        asyncio.run(answer("1:rejected"))


def test_in_a_group_a_listed_member_acknowledges_and_a_message_naming_nobody_does_not(
    app, sessions, zalo, tmp_path
):
    [_] = queue(sessions, channel="zalo", address="g1", person="team")
    zalo.chats = None
    send(sessions, zalo)
    alert_id = deliveries(sessions)[0].alert_id
    group = {"id": "g1", "chat_type": "GROUP"}
    nobody = {"message_id": "x", "chat": group, "text": f"OK {alert_id}"}
    zalo.push_update({"event_name": "message.text.received", "message": nobody})
    team = DIRECTORY + '[[people]]\nid = "team"\nname = "Nhóm"\nchannel = "zalo"\naddress = "g1"\n'
    reply_bot(sessions, app, team, tmp_path, zalo)
    assert zalo.sent_texts("g1")[1:] == [NOT_ASSIGNED]
    zalo.push_text("g1", f"OK {alert_id}", user_id=LAN, group=True)
    reply_bot(sessions, app, team, tmp_path, zalo)
    assert zalo.sent_texts("g1")[2].startswith("Đã ghi nhận cảnh báo số ")
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.acknowledged_by == "Nguyễn Thị Lan"
