"""Alerts from the real Phú Thọ captures reach exactly the configured people, once."""

from __future__ import annotations

import datetime as dt
import gc
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.alerts import engine
from service.alerts.engine import Policy, evaluate
from service.alerts.models import Alert
from service.alerts.rules import Rule, UnitFacts
from service.calendar import WorkCalendar
from service.delivery.directory_files import load_directory
from service.delivery.models import Delivery
from service.periods import Period
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO

NOW = dt.datetime(2026, 9, 10, 3, 0)  # Thursday 10:00 in Hà Nội: not quiet
BÌNH_PHÚ = "H44.116"
RULES = [
    Rule(id="overdue", kind="count_above", topic="overdue", count="overdue", units=(BÌNH_PHÚ,)),
    Rule(
        id="not-paid-online",
        kind="count_above",
        topic="not_paid_online",
        count="not_paid_online",
        units=(BÌNH_PHÚ,),
    ),
    Rule(
        id="not-digitised",
        kind="count_above",
        topic="not_digitised",
        count="not_digitised",
        units=(BÌNH_PHÚ,),
    ),
]
DIRECTORY = f"""
fallback = "vp"
[heads]
"{BÌNH_PHÚ}" = "chu-tich"
[offices]
H44 = "vp"
[[people]]
id = "ho-tich"
name = "Nguyễn Thị Lan"
role = "Tư pháp - Hộ tịch"
units = ["{BÌNH_PHÚ}"]
topics = ["overdue", "not_digitised"]
channel = "console"
address = "1001"
[[people]]
id = "ke-toan"
name = "Trần Thu Hoà"
role = "Kế toán"
units = ["{BÌNH_PHÚ}"]
topics = ["not_paid_online"]
channel = "console"
address = "1002"
[[people]]
id = "chu-tich"
name = "Lê Văn Hùng"
role = "Chủ tịch"
units = ["{BÌNH_PHÚ}"]
topics = ["rank"]
channel = "console"
address = "1003"
[[people]]
id = "vp"
name = "Văn phòng UBND tỉnh"
role = "Văn phòng"
units = []
topics = []
channel = "console"
address = "1004"
"""


@pytest.fixture
def captures(tmp_path: Path) -> Path:
    """A writable copy of the Phú Thọ captures, to change one commune's counts."""
    folder = tmp_path / "captures"
    shutil.copytree(PHU_THO, folder)
    for path in folder.rglob("*.json"):
        path.chmod(0o644)
    return folder


def set_overdue(folder: Path, overdue: int) -> None:
    path = folder / "dvc-progress-tree" / "month-all.json"
    body = json.loads(path.read_bytes())
    unit = next(u for u in body["data"]["children"] if u["departmentCode"] == BÌNH_PHÚ)
    unit["totalReceived"] = max(unit["totalReceived"], overdue + 1)
    unit["totalOnTime"] = unit["totalReceived"] - overdue
    unit["totalOverdue"] = overdue
    unit["ratio"] = round(100 * unit["totalOnTime"] / unit["totalReceived"], 2)
    path.write_text(json.dumps(body, ensure_ascii=False))


@pytest.fixture
def run(app, captures, tmp_path) -> Callable[..., list[Delivery]]:
    """Sync the captures, evaluate the rules; returns the deliveries queued."""
    directory_file = tmp_path / "directory.toml"
    directory_file.write_text(DIRECTORY, encoding="utf-8")
    directory = load_directory(directory_file)
    policy = Policy(WorkCalendar(), digest=False)

    def once(today: dt.date = dt.date(2026, 9, 10)) -> list[Delivery]:
        with PortalSimulator(ReplaySource(captures)) as simulator:
            portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
            outcome = sync_province(app.sessions(), portal, "H44", Period.parse("2026-08"), today)
        assert outcome.status == "ok", outcome.error
        with app.sessions().begin() as session:
            result = evaluate(session, app.schemes, RULES, directory, policy, NOW)
            return [_detached(d) for d in result.deliveries]

    return once


def _detached(delivery: Delivery) -> dict[str, Any]:
    return {
        "person": delivery.person_id,
        "text": delivery.text_html,
        "unit": delivery.unit_label,
        "key": delivery.idempotency_key,
    }


def by_person(deliveries: list[Any]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for delivery in deliveries:
        result.setdefault(delivery["person"], []).append(delivery["text"])
    return result


def test_the_real_counts_reach_exactly_the_configured_people(run):
    sent = by_person(run())
    # Bình Phú in the real capture: 95 overdue, 613 - 513 = 100 not paid online,
    # 796 - 24 = 772 dossiers not digitised.
    assert set(sent) == {"ho-tich", "ke-toan"}
    assert any("95 hồ sơ quá hạn (tháng 8/2026)" in text for text in sent["ho-tich"])
    assert any("772 hồ sơ chưa số hóa" in text for text in sent["ho-tich"])
    assert sent["ke-toan"] == [
        next(t for t in sent["ke-toan"] if "100 hồ sơ chưa thanh toán trực tuyến" in t)
    ]
    assert "Cần thêm" in sent["ke-toan"][0] and "ước tính" in sent["ke-toan"][0]


def test_a_running_month_is_said_to_be_provisional_as_of_the_day_it_was_read(run):
    """Figures read on 20 August are August's so far, not its result: every alert says so."""
    texts = [delivery["text"] for delivery in run(dt.date(2026, 8, 20))]
    assert len(texts) == 3
    assert all("(tháng 8/2026, tạm tính đến ngày 20/8/2026)" in text for text in texts)


def test_evaluating_again_sends_nothing(run):
    first = run()
    assert len(first) == 3
    assert run() == []


def test_a_changed_count_is_sent_again_with_the_change(run, captures):
    run()
    set_overdue(captures, 120)
    again = by_person(run())
    assert list(again) == ["ho-tich"]
    assert "120 hồ sơ quá hạn" in again["ho-tich"][0] and "tăng từ 95 hồ sơ" in again["ho-tich"][0]


def test_a_count_reaching_zero_sends_resolved(run, captures, app):
    run()
    set_overdue(captures, 0)
    resolved = by_person(run())
    assert resolved == {"ho-tich": ["✅ Đã khắc phục: không còn hồ sơ quá hạn (tháng 8/2026)."]}
    with app.sessions()() as session:
        states = dict(session.execute(select(Alert.rule_id, Alert.state)).all())
    assert states == {"overdue": "resolved", "not-paid-online": "firing", "not-digitised": "firing"}


def test_unacknowledged_alerts_escalate_to_the_unit_head_after_working_days(app, run, tmp_path):
    run()
    directory_file = tmp_path / "directory.toml"
    directory = load_directory(directory_file)
    policy = Policy(WorkCalendar(), digest=False, escalate_after_days=(2, 4))
    later = NOW + dt.timedelta(days=7)  # Thursday → the next Thursday: 5 working days
    with app.sessions().begin() as session:
        result = evaluate(session, app.schemes, RULES, directory, policy, later)
        sent = [(d.person_id, d.text_html) for d in result.deliveries]
    escalated = {person for person, text in sent if text.startswith("⏫")}
    repeated = {person for person, text in sent if not text.startswith("⏫")}
    assert escalated == {"chu-tich"}  # level 1: the unit's head
    # the head reads who was told and did not acknowledge
    assert all(
        text.startswith("⏫ Chưa được tiếp nhận (Nguyễn Thị Lan), chuyển cấp trên: ")
        or text.startswith("⏫ Chưa được tiếp nhận (Trần Thu Hoà), chuyển cấp trên: ")
        for person, text in sent
        if person == "chu-tich"
    )
    assert repeated == {"ho-tich", "ke-toan"}  # unchanged for 24 working hours: repeated
    with app.sessions().begin() as session:
        again = evaluate(session, app.schemes, RULES, directory, policy, later)
    assert {d.person_id for d in again.deliveries} == {"vp"}  # level 2: the province office


def test_an_escalation_is_dated_by_the_latest_reading_of_a_running_month(app, run, tmp_path):
    """Fired on figures read on 20 August, unchanged when read again on 27 August: the
    superior reads "tạm tính đến ngày 27/8/2026", not the week-old day of the first alert."""
    assert run(dt.date(2026, 8, 20))
    assert run(dt.date(2026, 8, 27)) == []  # the same figures: nothing to send
    directory = load_directory(tmp_path / "directory.toml")
    # no reminder in between (it would refresh the alert with the day read)
    policy = Policy(WorkCalendar(), digest=False, escalate_after_days=(2,), repeat_hours=1000)
    with app.sessions().begin() as session:
        result = evaluate(session, app.schemes, RULES, directory, policy, NOW + dt.timedelta(7))
    escalated = [d.text_html for d in result.deliveries if d.text_html.startswith("⏫")]
    assert escalated
    assert all("(tháng 8/2026, tạm tính đến ngày 27/8/2026)" in text for text in escalated)


def test_an_alert_escalates_the_moment_its_working_days_are_complete(app, captures, tmp_path):
    """Fired Monday 07:30, two working days are complete at Tuesday 17:00: 33.5 hours of
    wall time, less than two calendar days (a prefilter counting 24 hours a day misses it)."""
    directory_file = tmp_path / "directory.toml"
    directory_file.write_text(DIRECTORY, encoding="utf-8")
    directory = load_directory(directory_file)
    policy = Policy(WorkCalendar(), digest=False, escalate_after_days=(2, 4))
    with PortalSimulator(ReplaySource(captures)) as simulator:
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        sync_province(app.sessions(), portal, "H44", Period.parse("2026-08"), dt.date(2026, 9, 10))
    monday_0730 = dt.datetime(2026, 9, 14, 0, 30)  # UTC; 07:30 in Hà Nội
    tuesday_1700 = dt.datetime(2026, 9, 15, 10, 0)

    def escalated_at(now: dt.datetime) -> set[str]:
        with app.sessions().begin() as session:
            result = evaluate(session, app.schemes, RULES, directory, policy, now)
            return {d.person_id for d in result.deliveries if d.text_html.startswith("⏫")}

    assert escalated_at(monday_0730) == set()
    assert escalated_at(tuesday_1700 - dt.timedelta(minutes=1)) == set()
    assert escalated_at(tuesday_1700) == {"chu-tich"}


def test_the_analysis_is_freed_before_the_alerts_are_written(app, run, monkeypatch) -> None:
    """A first national evaluation writes ~15,000 alerts: the analysis they came from (a
    UnitFacts per unit, with its snapshot's figures) must not be held while they are."""

    def facts_alive() -> int:
        gc.collect()
        return sum(isinstance(o, UnitFacts) for o in gc.get_objects())

    alive: list[int] = []
    record = engine._record

    def counting(*args: Any, **kwargs: Any) -> list[Delivery]:
        alive.append(facts_alive())
        return record(*args, **kwargs)

    monkeypatch.setattr(engine, "_record", counting)
    before = facts_alive()  # whatever an earlier test in this process still holds
    assert run()  # the Phú Thọ captures: alerts fire, so their findings were judged
    assert alive == [before]


def test_quiet_hours_defer_delivery_to_the_next_working_morning(app, captures, tmp_path):
    directory_file = tmp_path / "directory.toml"
    directory_file.write_text(DIRECTORY, encoding="utf-8")
    with PortalSimulator(ReplaySource(captures)) as simulator:
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        sync_province(app.sessions(), portal, "H44", Period.parse("2026-08"), dt.date(2026, 9, 12))
    saturday = dt.datetime(2026, 9, 12, 3, 0)  # 10:00 in Hà Nội, a Saturday
    with app.sessions().begin() as session:
        result = evaluate(
            session,
            app.schemes,
            RULES,
            load_directory(directory_file),
            Policy(WorkCalendar(), digest=False),
            saturday,
        )
        times = {d.not_before for d in result.deliveries}
    assert times == {dt.datetime(2026, 9, 14, 0, 0)}  # Monday 07:00 in Hà Nội


def test_a_dead_chat_raises_an_operator_alert_and_gets_nothing_more(app, run, tmp_path):
    from service.delivery.models import ChannelAddress

    run()
    with app.sessions().begin() as session:
        session.add(
            ChannelAddress(
                person_id="ho-tich",
                channel="console",
                address="1001",
                from_address="1001",
                active=False,
                reason="blocked",
            )
        )
    rules = [*RULES, Rule(id="delivery-failed", kind="delivery_failed", topic="operator")]
    directory = load_directory(tmp_path / "directory.toml")
    with app.sessions().begin() as session:
        result = evaluate(
            session, app.schemes, rules, directory, Policy(WorkCalendar(), digest=False), NOW
        )
        sent = [(d.person_id, d.text_html) for d in result.deliveries]
    [(person, text)] = sent
    assert person == "vp"  # no operators configured: the fallback hears it
    assert (
        "Không gửi được tin tới «ho-tich» trong danh bạ (địa chỉ 1001): người nhận đã chặn bot"
        in text
    )
