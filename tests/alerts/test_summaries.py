"""Summaries through the real engine on the Phú Thọ captures: one unit keeps its lines,
many units (or a baseline of several) get one summary per topic, ranked; a summary is
sent again only when its text changes; acknowledging it is its recipient's and stops its
escalation, while the units' alerts keep their own."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.engine import Policy, evaluate
from service.alerts.lines import alert_lines
from service.alerts.models import Alert
from service.alerts.rules import Rule
from service.alerts.summaries import SUMMARY_RULE
from service.alerts.summary_text import rank, summary_text
from service.bot_replies import NOT_RECIPIENT, Press, acknowledge
from service.calendar import WorkCalendar
from service.channels.console import ConsoleChannel
from service.delivery.directory import Directory
from service.delivery.directory_files import load_directory
from service.delivery.models import Delivery, DeliveryStatus, OutboxMessage
from service.delivery.outbox import Outbox
from service.models import FetchRun
from service.periods import Period
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO

NOW = dt.datetime(2026, 9, 10, 3, 0)  # Thursday 10:00 in Hà Nội
LATER = NOW + dt.timedelta(days=6)  # Wednesday: four working days on
RULES = [Rule(id="overdue", kind="count_above", topic="overdue", count="overdue")]
DIRECTORY = """
fallback = "vp"
[offices]
H44 = "vp"
[[people]]
id = "lan"
name = "Nguyễn Thị Lan"
role = "Một cửa Bình Phú"
units = ["H44.116"]
topics = ["overdue"]
channel = "console"
address = "lan"
[[people]]
id = "ho"
name = "Trần Văn Hổ"
role = "Phụ trách hai xã"
units = ["H44.116", "H44.100"]
topics = ["overdue"]
channel = "console"
address = "ho"
[[people]]
id = "vp"
name = "Văn phòng UBND tỉnh"
role = "Văn phòng"
channel = "console"
address = "vp"
"""


@pytest.fixture
def directory(tmp_path: Path) -> Directory:
    path = tmp_path / "directory.toml"
    path.write_text(DIRECTORY, encoding="utf-8")
    return load_directory(path)


@pytest.fixture
def evaluate_at(app, directory) -> Callable[..., None]:
    """Sync the captures once; each call is one evaluation at that clock."""
    with PortalSimulator(ReplaySource(PHU_THO)) as simulator:
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        outcome = sync_province(
            app.sessions(), portal, "H44", Period.parse("2026-08"), dt.date(2026, 9, 10)
        )
    assert outcome.status == "ok", outcome.error

    def once(
        now: dt.datetime, escalate_after_days: tuple[int, ...] = (), rules: list[Rule] = RULES
    ) -> None:
        policy = Policy(WorkCalendar(), digest=False, escalate_after_days=escalate_after_days)
        with app.sessions().begin() as session:
            evaluate(session, app.schemes, rules, directory, policy, now)

    return once


def to(session: Session, person: str, since: dt.datetime = NOW) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.person_id == person, Delivery.created_at >= since)
            .order_by(Delivery.id)
        )
    )


def summaries(session: Session) -> dict[str, Alert]:
    found = session.scalars(select(Alert).where(Alert.rule_id == SUMMARY_RULE))
    return {alert.fingerprint.split("|")[1]: alert for alert in found}


def deliver(sessions, now: dt.datetime) -> str:
    """One real outbox pass to the console; what it printed."""
    stream = io.StringIO()
    outbox = Outbox(
        sessions, {"console": ConsoleChannel(stream)}, "test", lambda: now, describe=alert_lines
    )
    asyncio.run(outbox.send_due())
    return stream.getvalue()


def test_one_unit_keeps_its_line_and_many_units_get_one_ranked_summary(evaluate_at, sessions):
    evaluate_at(NOW)
    with sessions() as session:
        [line] = to(session, "lan")
        assert "95 hồ sơ quá hạn" in line.text_html and line.status == DeliveryStatus.PENDING
        [two] = [d for d in to(session, "ho") if d.status == DeliveryStatus.PENDING]
        assert two.unit_label == "Tóm tắt: 2 đơn vị có hồ sơ quá hạn (tháng 8/2026)"
        office = to(session, "vp")
        [summary] = [d for d in office if d.status == DeliveryStatus.PENDING]
        lines = [d for d in office if d.status == DeliveryStatus.SUMMARISED]
        assert len(lines) > 100 and summary.unit_label.startswith(f"Tóm tắt: {len(lines)} đơn vị")
        assert "1. <b>Sở Nông nghiệp và Môi trường</b> (H44.45): 13.928 hồ sơ quá hạn" in (
            summary.text_html
        )
        assert f"và {len(lines) - 13} đơn vị khác." in summary.text_html
        assert "/status H44.45" in summary.text_html
        # a first evaluation is one message per person, even with digests off
        for person in ("lan", "ho", "vp"):
            units = session.scalars(
                select(OutboxMessage.unit_key).where(OutboxMessage.person_id == person)
            ).all()
            assert len(set(units)) == 1, person
    printed = deliver(sessions, NOW)
    assert "Tóm tắt" in printed
    with sessions() as session:  # the summarised lines take the summary's outcome
        assert {d.status for d in to(session, "vp")} == {DeliveryStatus.SENT}


def test_ranked_by_magnitude_then_by_the_lowest_score_with_a_few_per_level():
    def alert(code: str, magnitude: float, total: float, group: str) -> Alert:
        name = f"UBND xã {code} - Tỉnh Phú Thọ"
        context = json.dumps({"unit_name": name, "total": total, "group": group})
        return Alert(
            id=sum(map(ord, code)),
            unit_code=code,
            rule_id="overdue",
            magnitude=magnitude,
            period="2026-08",
            context_json=context,
        )

    communes = [alert(f"C{n:02d}", 10 + n % 3, 50 + n, "COMMUNE") for n in range(14)]
    agencies = [alert(f"A{n}", 100 - n, 60, "AGENCY") for n in range(5)]
    text = summary_text("overdue", rank([*communes, *agencies], {r.id: r for r in RULES}))
    lines = text.splitlines()
    assert lines[0] == "<i>Cơ quan, đơn vị: 5 đơn vị, nặng nhất</i>"
    assert lines[1].startswith("1. <b>UBND xã A0</b> (A0): 100 hồ sơ quá hạn; 60,00 điểm")
    assert lines[4] == "<i>Xã, phường: 14 đơn vị, nặng nhất</i>"
    # magnitude 12 for n = 2, 5, 8, 11: the lowest score (50 + n) first
    assert [line.split("</b>")[0][-3:] for line in lines[5:9]] == ["C02", "C05", "C08", "C11"]
    assert len([line for line in lines if line[:1].isdigit()]) == 3 + 10
    assert "và 6 đơn vị khác." in text
    # only what the chat itself offers: no spreadsheet reaches the person through it
    assert lines[-1] == "Xem từng đơn vị: gửi /status kèm mã, ví dụ /status A0."


def test_a_summary_is_sent_again_only_when_its_text_changes(evaluate_at, sessions):
    evaluate_at(NOW)
    deliver(sessions, NOW)
    evaluate_at(LATER)  # past the repeat interval: every alert repeats
    with sessions() as session:
        assert [d.status for d in to(session, "lan", LATER)] == [DeliveryStatus.PENDING]
        repeated = to(session, "vp", LATER)
        assert repeated and {d.status for d in repeated} == {DeliveryStatus.SUMMARISED}
        assert not session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.person_id == "vp", OutboxMessage.created_at >= LATER
            )
        ).all()


def test_acknowledging_a_summary_is_its_recipients_and_stops_its_escalation(
    evaluate_at, sessions, directory
):
    evaluate_at(NOW, (2,))
    deliver(sessions, NOW)
    with sessions.begin() as session:
        summary = summaries(session)["ho"]
        stranger = Press(summary.id, "vp", "vp", "Văn phòng")
        assert acknowledge(session, directory, ["H44"], stranger, NOW).answer == NOT_RECIPIENT
        press = Press(summary.id, "ho", "ho", "Trần Văn Hổ")
        assert acknowledge(session, directory, ["H44"], press, NOW).accepted
    with sessions() as session:
        assert summaries(session)["ho"].acknowledged_at == NOW
        units = session.scalars(select(Alert).where(Alert.rule_id == "overdue")).all()
        assert all(alert.acknowledged_at is None for alert in units)  # their own lifecycle
    evaluate_at(LATER, (2,))
    with sessions() as session:
        summary = summaries(session)["ho"]
        escalated = [d for d in to(session, "vp", LATER) if "Chưa được tiếp nhận" in d.text_html]
        assert not [d for d in escalated if d.alert_id == summary.id]
        # its units' alerts go on: each names who was told of it
        assert any("Chưa được tiếp nhận (Trần Văn Hổ)" in d.text_html for d in escalated)
        assert summaries(session)["ho"].escalation_level == 0


def test_an_unacknowledged_summary_escalates_to_its_provinces_office(evaluate_at, sessions):
    evaluate_at(NOW, (2,))
    deliver(sessions, NOW)
    evaluate_at(LATER, (2,))
    with sessions() as session:
        mark, summary = "Chưa được tiếp nhận (Trần Văn Hổ)", summaries(session)["ho"]
        escalations = [d for d in to(session, "vp", LATER) if mark in d.text_html]
        [escalated] = [d for d in escalations if d.alert_id == summary.id]
        assert "Tóm tắt" not in escalated.text_html.splitlines()[0]
        assert escalated.status == DeliveryStatus.PENDING
        assert summaries(session)["ho"].escalation_level == 1


def test_units_going_wrong_in_a_watched_province_are_not_a_baseline(evaluate_at, sessions):
    hy_cuong = Rule(id="overdue", kind="count_above", topic="overdue", units=("H44.104",))
    evaluate_at(NOW, rules=[hy_cuong.model_copy(update={"count": "overdue"})])
    evaluate_at(NOW + dt.timedelta(hours=1))  # H44.116 and H44.100 go wrong, in H44
    with sessions() as session:
        lines = to(session, "ho")
    assert len(lines) == 2 and {d.status for d in lines} == {DeliveryStatus.PENDING}
    assert all("hồ sơ quá hạn" in d.text_html and d.alert_id for d in lines)
    assert not [d for d in lines if d.unit_label.startswith("Tóm tắt")]


def test_a_province_whose_first_sync_failed_still_gets_its_baseline(app, evaluate_at, sessions):
    """A new province's first sync was blocked: the operators were alerted about the
    province, but no alert was ever about its units. Its first evaluation of them is
    still a baseline (one summary per person), not a line per unit going wrong."""
    blocked = Rule(id="sync-blocked", kind="run_blocked", topic="operator")
    with sessions.begin() as session:
        session.add(FetchRun(job="sync", scope="H44", period="2026-08", status="blocked",
                             finished_at=NOW, error="the portal's firewall page"))  # fmt: skip
    evaluate_at(NOW, rules=[blocked])
    with sessions() as session:
        [operators] = session.scalars(select(Alert).where(Alert.rule_id == "sync-blocked"))
        assert (operators.unit_code, operators.province_code) == (None, "H44")
    evaluate_at(NOW + dt.timedelta(hours=1), rules=[blocked, *RULES])
    with sessions() as session:
        pending = [d for d in to(session, "ho") if d.status == DeliveryStatus.PENDING]
    assert [d.unit_label for d in pending] == ["Tóm tắt: 2 đơn vị có hồ sơ quá hạn (tháng 8/2026)"]
