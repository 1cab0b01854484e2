"""The outbox against python-telegram-bot and a fake Bot API: each outcome as the outbox
records it, every message part sent at most once, and only what was not delivered again."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.alerts.lines import alert_lines
from service.alerts.models import Alert, AlertEvent, EventKind
from service.channels.pacing import RateLimiter
from service.channels.registry import TELEGRAM_LIMITS
from service.channels.telegram import TelegramChannel
from service.clock import utcnow
from service.delivery import outcomes
from service.delivery.models import ChannelAddress, Delivery, DeliveryStatus, OutboxMessage
from service.delivery.outbox import Outbox, SendReport
from tests.fakes import FakeClock
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram, visible_text
from tests.waiting import PATIENCE

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
    channel: str = "telegram",
) -> list[int]:
    """Alerts with a fired event each, and their deliveries to one person (in three
    batches: an alert, event and delivery apiece, flushed a kind at a time)."""
    with sessions.begin() as session:
        alerts = [
            Alert(
                fingerprint=f"overdue|{person}|{number}|{digest}",
                rule_id="overdue",
                topic="overdue",
                severity="warning",
                state="firing",
                label=unit,
                magnitude=3 + number,
            )
            for number in range(count)
        ]
        session.add_all(alerts)
        session.flush()
        events = [
            AlertEvent(
                alert_id=alert.id,
                sequence=1,
                kind=EventKind.FIRED,
                magnitude=alert.magnitude,
                text_html=f"⚠️ {alert.magnitude} hồ sơ quá hạn.",
            )
            for alert in alerts
        ]
        session.add_all(events)
        session.flush()
        deliveries = [
            Delivery(
                idempotency_key=f"event:{event.id}:{person}:{channel}",
                event_id=event.id,
                alert_id=event.alert_id,
                person_id=person,
                channel=channel,
                address=address,
                unit_label=unit,
                text_html=event.text_html,
                digest_key=digest,
                not_before=NOW,
            )
            for event in events
        ]
        session.add_all(deliveries)
        session.flush()
        return [delivery.id for delivery in deliveries]


def send(
    sessions: sessionmaker[Session],
    telegram: FakeTelegram,
    clock: Clock,
    timeout: float = 5.0,
    pace: FakeClock | None = None,
    token: str = DEFAULT_TOKEN,
) -> SendReport:
    """One outbox pass; the channel's pacing runs on `pace` (a fake clock: no waiting)."""
    pace = pace or FakeClock()

    async def go() -> SendReport:
        channel = TelegramChannel(
            token,
            base_url=telegram.base_url,
            base_file_url=telegram.base_file_url,
            timeout_seconds=timeout,
            limiter=RateLimiter(TELEGRAM_LIMITS, pace, pace.sleep),
        )
        try:
            return await Outbox(
                sessions, {"telegram": channel}, "test", clock, describe=alert_lines
            ).send_due()
        finally:
            await channel.close()

    return asyncio.run(go())


def deliveries(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def messages(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


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
    assert send(sessions, telegram, Clock()).sent == 1
    [text] = telegram.sent_texts(CHAT)
    assert "dvcwatch: 3 cảnh báo" in text and text.count("hồ sơ quá hạn") == 3
    assert {d.status for d in deliveries(sessions)} == {DeliveryStatus.SENT}


def test_429_waits_for_retry_after_then_sends(sessions, telegram):
    queue(sessions)
    telegram.fail("sendMessage", "retry_after", retry_after=40)
    clock = Clock()
    report = send(sessions, telegram, clock)
    [row] = messages(sessions)
    assert report.retried == 1 and row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.not_before >= NOW + dt.timedelta(seconds=40)
    assert send(sessions, telegram, clock).sent == 0  # not before its time
    clock.now = NOW + dt.timedelta(seconds=41)
    assert send(sessions, telegram, clock).sent == 1
    assert len(telegram.sent_texts(CHAT)) == 1


@pytest.mark.parametrize("kind", ["server_error", "bad_gateway"])
def test_the_apis_own_server_errors_are_retried_later(sessions, telegram, kind):
    queue(sessions)
    telegram.fail("sendMessage", kind)
    clock = Clock()
    report = send(sessions, telegram, clock)
    [row] = messages(sessions)
    assert report.retried == 1 and row.status == DeliveryStatus.PENDING and row.last_error
    clock.now = NOW + dt.timedelta(minutes=5)
    assert send(sessions, telegram, clock).sent == 1
    assert len(telegram.sent_texts(CHAT)) == 1


@pytest.mark.parametrize("kind", ["hold", "reset", "proxy_error"])
def test_a_send_whose_outcome_is_unknown_is_uncertain_at_once_and_never_resent(
    sessions, telegram, kind
):
    queue(sessions)
    telegram.fail("sendMessage", kind)
    clock = Clock()
    report = send(sessions, telegram, clock, timeout=0.5)
    [row] = messages(sessions)
    assert report.uncertain == 1 and report.retried == 0
    assert row.status == DeliveryStatus.UNCERTAIN and "maybe delivered" in str(row.last_error)
    assert deliveries(sessions)[0].status == DeliveryStatus.UNCERTAIN
    clock.now = NOW + dt.timedelta(hours=2)
    assert send(sessions, telegram, clock) == SendReport()
    assert len(telegram.calls("sendMessage")) == 1


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


def claimed_by(sessions: sessionmaker[Session], worker: str) -> None:
    """Every message queued, then claimed by `worker` as if its request were in flight."""
    Outbox(sessions, {}, "queuer", Clock(), describe=alert_lines).queue()
    with sessions.begin() as session:
        for row in session.scalars(select(OutboxMessage)):
            row.status, row.claimed_by, row.claimed_at = DeliveryStatus.SENDING, worker, NOW


def test_rows_left_in_flight_by_a_dead_sender_become_uncertain_not_resent(sessions, telegram):
    queue(sessions)
    claimed_by(sessions, "elsewhere:1")
    clock = Clock()
    clock.now = NOW + dt.timedelta(minutes=5)
    report = send(sessions, telegram, clock)
    assert report.uncertain == 1 and report.sent == 0
    assert deliveries(sessions)[0].status == DeliveryStatus.UNCERTAIN
    assert telegram.calls("sendMessage") == []


def test_a_dead_sender_of_this_host_is_recovered_at_once_not_after_the_lease(sessions):
    import socket
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    queue(sessions)
    claimed_by(sessions, f"{socket.gethostname()}:{ended.stdout.strip()}")
    assert Outbox(sessions, {}, "me", Clock(), describe=alert_lines).recover() == 1
    assert messages(sessions)[0].status == DeliveryStatus.UNCERTAIN


def test_a_message_answered_while_stopped_senders_looks_stays_sent(app, sessions):
    """`stopped_senders` finds a message `sending` past its lease, but its sender was only
    slow: its answer is committed between that read and the settling. The message and its
    delivery stay `sent`, not `uncertain` (the settling is only of a message still
    `sending`)."""
    queue(sessions)
    claimed_by(sessions, "elsewhere:1")
    answered = []

    def answer_meanwhile(_conn, _cursor, statement: str, *_args) -> None:
        if "outbox_messages.claimed_at <" in statement and not answered:
            answered.append(statement)
            with sessions.begin() as sender:  # the slow sender's answer arrives
                sender.execute(update(OutboxMessage).values(status=DeliveryStatus.SENT))
                sender.execute(update(Delivery).values(status=DeliveryStatus.SENT))

    event.listen(app.engine, "after_cursor_execute", answer_meanwhile)
    try:
        with sessions.begin() as session:
            settled = outcomes.stopped_senders(session, NOW + outcomes.SEND_LEASE * 2)
    finally:
        event.remove(app.engine, "after_cursor_execute", answer_meanwhile)
    assert answered, "stopped_senders read the messages past their lease"
    assert settled == 0
    assert [m.status for m in messages(sessions)] == [DeliveryStatus.SENT]
    assert [d.status for d in deliveries(sessions)] == [DeliveryStatus.SENT]


def long_digest(sessions: sessionmaker[Session], count: int = 391) -> None:
    units = [f"UBND xã Thử {n:02d}" for n in range(40)]
    with sessions.begin() as session:
        for number in range(count):
            alert = Alert(
                fingerprint=f"overdue|H44.{number}",
                rule_id="overdue",
                topic="overdue",
                severity="warning",
                state="firing",
                unit_code=f"H44.{number:03d}",
                label=units[number % 40],
            )
            session.add(alert)
            session.flush()
            text = f"⚠️ <b>{number + 3}</b> hồ sơ quá hạn &amp; chưa xử lý (tháng 8/2026)."
            event = AlertEvent(alert_id=alert.id, sequence=1, kind=EventKind.FIRED, text_html=text)
            session.add(event)
            session.flush()
            session.add(
                Delivery(
                    idempotency_key=f"event:{event.id}:lan:telegram",
                    event_id=event.id,
                    alert_id=alert.id,
                    person_id="lan",
                    channel="telegram",
                    address=CHAT,
                    unit_label=units[number % 40],
                    text_html=text,
                    digest_key="lan:telegram:run1",
                    not_before=NOW,
                )
            )


def test_a_long_digest_is_queued_as_parts_each_within_telegrams_limits(sessions, telegram):
    long_digest(sessions)
    clock = Clock()
    pace = FakeClock()
    with FakeTelegram(enforce_limits=True, slack=0.001, clock=pace) as strict:
        report = send(sessions, strict, clock, pace=pace)
        calls = strict.calls("sendMessage")
    assert report.sent == len(calls) >= 4 and {c.status for c in calls} == {200}
    buttons = [
        b["callback_data"] for c in calls for [b] in c.params["reply_markup"]["inline_keyboard"]
    ]
    assert len(buttons) == len(set(buttons)) == 391  # one acknowledge button per alert, once
    assert all(len(visible_text(c.params["text"])) <= 4096 for c in calls)
    assert [c.params["text"].count("hồ sơ quá hạn") for c in calls] == [
        len(c.params["reply_markup"]["inline_keyboard"]) for c in calls
    ]
    assert all(len(json.dumps(c.params["reply_markup"])) <= 10 * 1024 for c in calls)
    assert {d.status for d in deliveries(sessions)} == {DeliveryStatus.SENT}


def test_a_failure_on_part_4_resends_only_what_was_not_delivered(sessions, telegram):
    long_digest(sessions)
    telegram.fail("sendMessage", "server_error", after=3)
    clock = Clock()
    first = send(sessions, telegram, clock)
    parts = messages(sessions)
    assert first.sent == 3 and first.retried == 1 and len(parts) >= 5
    assert [p.status for p in parts[:4]] == [DeliveryStatus.SENT] * 3 + [DeliveryStatus.PENDING]
    clock.now = NOW + dt.timedelta(minutes=5)
    second = send(sessions, telegram, clock)
    assert second.sent == len(parts) - 3
    texts = telegram.sent_texts(CHAT)
    assert len(texts) == len(set(texts)) == len(parts)  # every part once, none again
    assert [t.split("(phần ")[1].split("/")[0] for t in texts] == [
        str(n) for n in range(1, len(parts) + 1)
    ]  # in order


def test_a_rejected_token_stops_the_channel_with_one_line_and_no_token(sessions, telegram, caplog):
    for number in range(3):
        queue(sessions, person=f"p{number}", address=str(100000010 + number))
    wrong = "999:a-revoked-token-that-must-stay-secret"
    caplog.set_level(logging.INFO)
    clock = Clock()
    for _ in range(2):
        report = send(sessions, telegram, clock, token=wrong)
        assert report.sent == 0 and report.uncertain == 0 and report.failed == 0
    lines = [r.getMessage() for r in caplog.records if "rejected the bot token" in r.getMessage()]
    assert len(lines) <= 2 and all("DVCWATCH_TELEGRAM_TOKEN" in line for line in lines)
    assert wrong not in caplog.text
    assert {m.status for m in messages(sessions)} == {DeliveryStatus.PENDING}
    assert telegram.calls("sendMessage") == []
    assert Counter(m.attempts for m in messages(sessions)) == Counter({0: 3})


def test_status_lists_every_uncertain_message_with_its_recipient_and_alert(sessions, telegram):
    from service.status import Reader, collect, render_report

    [delivery_id] = queue(sessions)
    telegram.fail("sendMessage", "reset")
    assert send(sessions, telegram, Clock()).uncertain == 1
    with sessions() as session:
        report = collect(Reader.of_session(session))
        alert_id = session.get_one(Delivery, delivery_id).alert_id
    [row] = report["uncertain"]
    assert (row["person"], row["address"], row["part"]) == ("lan", CHAT, "1/1")
    assert row["alerts"] == [f"#{alert_id} UBND xã <Bình Phú>"] and "maybe" in row["reason"]
    text = render_report(report, "table")
    assert "Uncertain messages (maybe delivered, never re-sent): 1" in text
    assert f"to lan (telegram {CHAT}), part 1/1" in text


def test_status_says_why_due_messages_wait_and_not_of_those_not_due_yet(sessions, telegram):
    """A rejected token is noted on the channel's pending messages. One of them not due
    yet (quiet hours) keeps a note that may be stale when it is due: it is not counted
    until then (the pass that finds it due says again, or sends it)."""
    from service.status import Reader, collect

    queue(sessions, person="lan", address=CHAT)
    queue(sessions, person="hoa", address="100000002")
    send(sessions, telegram, Clock(), token="999:a-revoked-token")
    assert all("rejected the bot token" in str(m.last_error) for m in messages(sessions))
    with sessions.begin() as session:
        later = session.get_one(OutboxMessage, messages(sessions)[1].id)
        later.not_before = utcnow() + dt.timedelta(hours=8)
    with sessions() as session:
        [waiting] = collect(Reader.of_session(session))["waiting"]
    assert waiting["channel"] == "telegram" and waiting["messages"] == 1
    assert waiting["reason"].startswith("Telegram rejected the bot token")


@pytest.mark.parametrize(
    ("failure", "token"),
    [
        ("chat_not_found", DEFAULT_TOKEN),  # failed
        ("server_error", DEFAULT_TOKEN),  # retried later
        ("migrated", DEFAULT_TOKEN),  # the new chat id learnt
        ("reset", DEFAULT_TOKEN),  # uncertain
        (None, "999:a-revoked-token"),  # the channel stopped, its messages noted waiting
    ],
)
def test_recording_an_outcome_never_holds_up_the_other_addresses(
    sessions, telegram, monkeypatch, failure, token
):
    """Every outcome of a request is written to the database from a worker thread, never
    from the loop that carries the other addresses' requests: a write that waits (SQLite's
    lock held by another process, up to 30 s) would stop them all meanwhile, their
    answers unread while their timeouts run. Here each write waits until the loop has
    shown it runs meanwhile."""
    queue(sessions)
    if failure is not None:
        telegram.fail("sendMessage", failure)
    loop: list[asyncio.AbstractEventLoop] = []
    ran_meanwhile: list[bool] = []
    record, send_due = Outbox._record, Outbox.send_due

    async def noting_the_loop(outbox: Outbox) -> SendReport:
        loop.append(asyncio.get_running_loop())
        return await send_due(outbox)

    def waiting_write(outbox: Outbox, *args: object) -> None:
        ran = threading.Event()
        loop[0].call_soon_threadsafe(ran.set)
        ran_meanwhile.append(ran.wait(PATIENCE))  # never, while this blocks the loop
        record(outbox, *args)

    monkeypatch.setattr(Outbox, "send_due", noting_the_loop)
    monkeypatch.setattr(Outbox, "_record", waiting_write)
    send(sessions, telegram, Clock(), token=token)
    assert ran_meanwhile and all(ran_meanwhile)
    [row] = messages(sessions)
    assert row.status != DeliveryStatus.SENDING  # the outcome was written all the same
