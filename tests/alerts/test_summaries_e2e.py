"""Issue 12, done means: the project's example directory and rules, the real Phú Thọ
2026-08 captures, one evaluation delivered through python-telegram-bot to a fake Bot API
that refuses what Telegram refuses (its rates on a clock the test drives): accepted
whole, nobody over 10 messages, the fallback reading a ranked summary; a second
evaluation with nothing changed sends nothing; a change in one unit sends that unit's
line and updates the summary, without repeating the rest."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from service.alerts.engine import Policy, evaluate
from service.alerts.lines import alert_lines
from service.alerts.models import Alert
from service.alerts.rules import load_rules
from service.alerts.summaries import SUMMARY_RULE
from service.app import App
from service.calendar import WorkCalendar
from service.channels.console import ConsoleChannel
from service.channels.pacing import RateLimiter
from service.channels.registry import TELEGRAM_LIMITS
from service.channels.telegram import TelegramChannel
from service.delivery.directory_files import load_directory
from service.delivery.models import Delivery, DeliveryStatus, OutboxMessage
from service.delivery.outbox import Outbox, SendReport
from service.periods import Period
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.alerts.test_engine import captures, set_overdue
from tests.conftest import FAST_PORTAL
from tests.fakes import FakeClock
from tests.fakes.telegram_server import FakeTelegram, visible_text
from tests.test_bot import dispatch

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 9, 10, 3, 0)  # Thursday 10:00 in Hà Nội: working time
FALLBACK_CHAT = "100000007"  # vp-ubnd-tinh in config/directory.example.toml


class Round:
    """One sync, one evaluation at `now`, one outbox pass to the fake Telegram."""

    def __init__(self, app: App, captures: Path, telegram: FakeTelegram, pace: FakeClock):
        self.app, self.captures, self.telegram, self.pace = app, captures, telegram, pace
        self.rules = load_rules(ROOT / "config" / "rules.toml")
        self.directory = load_directory(ROOT / "config" / "directory.example.toml")
        self.policy = Policy(WorkCalendar())
        self.console = io.StringIO()

    def __call__(self, now: dt.datetime) -> SendReport:
        self.pace.now += 3600.0  # the evaluations are an hour apart, for the rates too
        with PortalSimulator(ReplaySource(self.captures)) as simulator:
            portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
            outcome = sync_province(
                self.app.sessions(), portal, "H44", Period.parse("2026-08"), now.date()
            )
        assert outcome.status == "ok", outcome.error
        with self.app.sessions().begin() as session:
            evaluate(session, self.app.schemes, self.rules, self.directory, self.policy, now)
        return asyncio.run(self._send(now))

    async def _send(self, now: dt.datetime) -> SendReport:
        channel = TelegramChannel(
            self.telegram.token,
            base_url=self.telegram.base_url,
            base_file_url=self.telegram.base_file_url,
            limiter=RateLimiter(TELEGRAM_LIMITS, self.pace, self.pace.sleep),
        )
        channels = {"telegram": channel, "console": ConsoleChannel(self.console)}
        try:
            return await Outbox(
                self.app.sessions(), channels, "e2e", lambda: now, describe=alert_lines
            ).send_due()
        finally:
            await channel.close()


@pytest.fixture
def pace() -> FakeClock:
    """The clock of the sender's pacing and of the fake server's rates alike."""
    return FakeClock()


@pytest.fixture
def telegram(pace: FakeClock) -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=True, clock=pace) as server:
        yield server


@pytest.fixture
def round_(app, captures, telegram, pace) -> Round:
    return Round(app, captures, telegram, pace)


def sends(telegram: FakeTelegram, since: int = 0) -> list:
    return [c for c in telegram.calls()[since:] if c.method.lower().startswith("send")]


__all__ = ["captures"]  # the fixture, from test_engine


def test_the_first_evaluation_is_accepted_whole_and_the_fallback_reads_a_ranked_summary(
    round_, telegram, sessions
):
    report = round_(NOW)
    calls = sends(telegram)
    assert calls and {c.status for c in calls} == {200}, Counter(c.status for c in calls)
    assert report.failed == report.uncertain == report.retried == 0
    for call in calls:
        assert len(call.params["text"].encode("utf-16-le")) // 2 <= 4096
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        assert sum(map(len, rows)) <= 100 and all(len(r) <= 8 for r in rows)
        assert len(json.dumps(call.params.get("reply_markup") or {})) < 10 * 1024
    per_chat = Counter(c.chat_id for c in calls)
    assert max(per_chat.values()) <= 10, per_chat
    fallback = [visible_text(t) for t in telegram.sent_texts(FALLBACK_CHAT)]
    overdue = next(t for t in fallback if "đơn vị có hồ sơ quá hạn" in t)
    assert "nặng nhất" in overdue and "1. " in overdue and "đơn vị khác" in overdue
    assert "/status" in overdue and "- Tỉnh Phú Thọ" not in overdue
    assert fallback[0].startswith("dvcwatch: 4 bản tóm tắt (phần 1/2)")
    with sessions() as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
        summaries = session.scalars(select(Alert).where(Alert.rule_id == SUMMARY_RULE)).all()
    assert statuses[DeliveryStatus.SENT] >= 1 and statuses[DeliveryStatus.PENDING] == 0
    assert summaries and all(s.state == "firing" for s in summaries)


def test_nothing_changed_sends_nothing_and_one_change_sends_its_line_and_the_summary(
    round_, telegram, captures
):
    round_(NOW)
    first = len(telegram.calls())
    round_(NOW + dt.timedelta(hours=1))
    assert sends(telegram, first) == []
    set_overdue(captures, 50_000)  # Bình Phú becomes the worst commune by far
    round_(NOW + dt.timedelta(hours=2))
    calls = sends(telegram, first)
    assert {c.status for c in calls} == {200}
    assert {c.chat_id for c in calls} == {FALLBACK_CHAT}  # nobody lists Bình Phú's overdue
    texts = [visible_text(c.params["text"]) for c in calls]
    assert any("UBND xã Bình Phú (H44.116)" in t and "50.000 hồ sơ quá hạn" in t for t in texts)
    text = "\n".join(texts)
    assert "1. UBND xã Bình Phú (H44.116): 50.000 hồ sơ quá hạn" in text  # the summary
    assert "đơn vị có hồ sơ chưa số hóa" not in text  # the other summaries are not repeated


def test_the_fallback_acknowledges_its_summary_through_the_real_bot(
    app, round_, telegram, pace, sessions
):
    round_(NOW)
    with sessions() as session:
        part = next(
            m
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.address == FALLBACK_CHAT)
            )
            if "tóm tắt quá hạn" in str(json.loads(m.buttons_json))
        )
    data = next(d for text, d in json.loads(part.buttons_json) if "tóm tắt quá hạn" in text)
    pace.now += 60.0  # the edit comes a minute after the message
    press = telegram.push_callback_query(int(FALLBACK_CHAT), int(str(part.message_id)), data)
    dispatch(app, telegram, press, round_.directory, ("H44",))
    with sessions() as session:
        summary = session.get_one(Alert, int(data.removeprefix("ack:")))
        units = session.scalars(select(Alert).where(Alert.rule_id == "overdue")).all()
    assert summary.rule_id == SUMMARY_RULE and summary.acknowledged_at is not None
    assert summary.acknowledged_by == "Văn phòng UBND tỉnh Phú Thọ"
    assert all(alert.acknowledged_at is None for alert in units)
    edited = telegram.message(FALLBACK_CHAT, str(part.message_id))
    assert edited is not None and "Đã tiếp nhận bởi Văn phòng UBND tỉnh Phú Thọ" in edited["text"]
