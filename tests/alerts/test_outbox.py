"""The outbox against python-telegram-bot and a fake Bot API: each outcome as the outbox
records it, sent exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.alerts.models import (
    Alert,
    AlertEvent,
    ChannelAddress,
    Delivery,
    DeliveryStatus,
    EventKind,
)
from service.alerts.outbox import Outbox, SendReport
from service.channels.telegram import TelegramChannel
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

NOW = dt.datetime(2026, 9, 10, 3, 0)
CHAT = "100000001"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def queue(
    sessions: sessionmaker[Session],
    count: int = 1,
    digest: str | None = None,
    person: str = "lan",
    address: str = CHAT,
    unit: str = "UBND xã <Bình Phú>",
) -> list[int]:
    """Alerts with a fired event each, and their deliveries to one person."""
    ids = []
    with sessions.begin() as session:
        for number in range(count):
            alert = Alert(
                fingerprint=f"overdue|{person}|{number}|{digest}",
                rule_id="overdue",
                topic="overdue",
                severity="warning",
                state="firing",
                label=unit,
                magnitude=3 + number,
            )
            session.add(alert)
            session.flush()
            event = AlertEvent(
                alert_id=alert.id,
                sequence=1,
                kind=EventKind.FIRED,
                magnitude=3 + number,
                text_html=f"⚠️ {3 + number} hồ sơ quá hạn.",
            )
            session.add(event)
            session.flush()
            delivery = Delivery(
                idempotency_key=f"event:{event.id}:{person}:telegram",
                event_id=event.id,
                alert_id=alert.id,
                person_id=person,
                channel="telegram",
                address=address,
                unit_label=unit,
                text_html=event.text_html,
                digest_key=digest,
                not_before=NOW,
            )
            session.add(delivery)
            session.flush()
            ids.append(delivery.id)
    return ids


def send(
    sessions: sessionmaker[Session], telegram: FakeTelegram, clock: Clock, timeout: float = 5.0
) -> SendReport:
    async def go() -> SendReport:
        channel = TelegramChannel(
            DEFAULT_TOKEN,
            base_url=telegram.base_url,
            base_file_url=telegram.base_file_url,
            timeout_seconds=timeout,
        )
        try:
            return await Outbox(sessions, {"telegram": channel}, "test", clock).send_due()
        finally:
            await channel.close()

    return asyncio.run(go())


def deliveries(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_a_delivery_is_sent_once_with_its_acknowledge_button(sessions, telegram):
    queue(sessions)
    clock = Clock()
    assert send(sessions, telegram, clock).sent == 1
    assert send(sessions, telegram, clock).sent == 0
    [call] = telegram.calls("sendMessage")
    assert "<b>UBND xã &lt;Bình Phú&gt;</b>" in call.params["text"]
    keyboard = str(call.params["reply_markup"])
    assert "Đã tiếp nhận" in keyboard and "ack:" in keyboard
    [row] = deliveries(sessions)
    assert row.status == DeliveryStatus.SENT and row.message_ids


def test_a_digest_groups_a_persons_alerts_in_one_message(sessions, telegram):
    queue(sessions, count=3, digest="lan:telegram:run1")
    assert send(sessions, telegram, Clock()).sent == 3
    [text] = telegram.sent_texts(CHAT)
    assert "dvcwatch: 3 cảnh báo" in text and text.count("hồ sơ quá hạn") == 3


def test_429_waits_for_retry_after_then_sends(sessions, telegram):
    queue(sessions)
    telegram.fail("sendMessage", "retry_after", retry_after=40)
    clock = Clock()
    report = send(sessions, telegram, clock)
    [row] = deliveries(sessions)
    assert report.retried == 1 and row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.not_before >= NOW + dt.timedelta(seconds=40)
    assert send(sessions, telegram, clock).sent == 0  # not before its time
    clock.now = NOW + dt.timedelta(seconds=41)
    assert send(sessions, telegram, clock).sent == 1
    assert len(telegram.sent_texts(CHAT)) == 1


@pytest.mark.parametrize("kind", ["server_error", "delay"])
def test_server_errors_and_slow_replies_are_retried_later(sessions, telegram, kind):
    queue(sessions)
    telegram.fail("sendMessage", kind, seconds=3.0)
    report = send(sessions, telegram, Clock(), timeout=1.0)
    [row] = deliveries(sessions)
    assert report.retried == 1 and row.status == DeliveryStatus.PENDING and row.last_error


def test_a_blocked_bot_fails_the_delivery_and_deactivates_the_address(sessions, telegram):
    queue(sessions, count=2)
    telegram.fail("sendMessage", "blocked")
    report = send(sessions, telegram, Clock())
    assert report.failed == 1
    rows = deliveries(sessions)
    assert [r.status for r in rows] == [DeliveryStatus.FAILED, DeliveryStatus.FAILED]
    with sessions() as session:
        [address] = session.scalars(select(ChannelAddress)).all()
    assert (address.person_id, address.active, address.reason) == ("lan", False, "blocked")


def test_chat_not_found_is_permanent(sessions, telegram):
    queue(sessions)
    telegram.fail("sendMessage", "chat_not_found")
    assert send(sessions, telegram, Clock()).failed == 1
    assert deliveries(sessions)[0].status == DeliveryStatus.FAILED


def test_a_migrated_group_gets_its_new_id_and_the_message(sessions, telegram):
    queue(sessions, address="-4001")
    telegram.fail("sendMessage", "migrated", chat_id="-4001", migrate_to=-1004001)
    clock = Clock()
    assert send(sessions, telegram, clock).migrated == 1
    assert send(sessions, telegram, clock).sent == 1
    [row] = deliveries(sessions)
    assert row.address == "-1004001" and row.status == DeliveryStatus.SENT
    assert len(telegram.sent_texts("-1004001")) == 1


def test_rows_left_in_flight_by_a_dead_sender_become_uncertain_not_resent(sessions, telegram):
    [delivery_id] = queue(sessions)
    with sessions.begin() as session:
        row = session.get_one(Delivery, delivery_id)
        row.status, row.claimed_by, row.claimed_at = DeliveryStatus.SENDING, "dead", NOW
    clock = Clock()
    clock.now = NOW + dt.timedelta(minutes=5)
    report = send(sessions, telegram, clock)
    assert report.uncertain == 1 and report.sent == 0
    assert deliveries(sessions)[0].status == DeliveryStatus.UNCERTAIN
    assert telegram.calls("sendMessage") == []


def test_a_digest_is_never_cut_by_the_batch_size(sessions, telegram):
    queue(sessions, count=3, digest="lan:telegram:run1")

    async def go() -> SendReport:
        channel = TelegramChannel(DEFAULT_TOKEN, base_url=telegram.base_url)
        try:
            return await Outbox(
                sessions, {"telegram": channel}, "test", Clock(), batch=2
            ).send_due()
        finally:
            await channel.close()

    assert asyncio.run(go()).sent == 3
    assert len(telegram.sent_texts(CHAT)) == 1
