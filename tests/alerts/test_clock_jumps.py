"""The clock jumps 30 days ahead and is corrected: through the real engine, at most one
repeat per alert and one escalation level per evaluation, nothing left queued for the
future, and repeats falling due again by the corrected clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from service.alerts.engine import Policy, evaluate
from service.alerts.models import Alert, AlertEvent, EventKind
from service.alerts.rebase import CLOCK_SKEW
from service.calendar import WorkCalendar
from service.delivery.directory_files import load_directory
from service.delivery.models import Delivery, DeliveryStatus, OutboxMessage
from service.periods import Period
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.alerts.test_engine import DIRECTORY, NOW, RULES
from tests.conftest import FAST_PORTAL, PHU_THO

JUMPED = NOW + dt.timedelta(days=30)  # Saturday 10 October, 10:00 in Hà Nội: quiet
CORRECTED = NOW + dt.timedelta(hours=1)  # Thursday 10 September, 11:00: working time


@pytest.fixture
def evaluate_at(app, tmp_path: Path) -> Callable[[dt.datetime], None]:
    """Sync the Phú Thọ capture once; then each call is one evaluation at that clock."""
    with PortalSimulator(ReplaySource(PHU_THO)) as simulator:
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        sync_province(app.sessions(), portal, "H44", Period.parse("2026-08"), dt.date(2026, 9, 10))
    path = tmp_path / "directory.toml"
    path.write_text(DIRECTORY, encoding="utf-8")
    directory = load_directory(path)
    policy = Policy(WorkCalendar(), digest=False, escalate_after_days=(2, 4))

    def at(now: dt.datetime) -> None:
        with app.sessions().begin() as session:
            evaluate(session, app.schemes, RULES, directory, policy, now)

    return at


def delivered(app) -> None:
    """What is due has been sent (as the outbox would have done)."""
    with app.sessions().begin() as session:
        for table in (Delivery, OutboxMessage):
            session.execute(update(table).values(status=DeliveryStatus.SENT))


def events(app, kind: EventKind) -> dict[int, int]:
    """Per alert id, how many events of `kind` it has."""
    with app.sessions()() as session:
        rows = session.execute(
            select(AlertEvent.alert_id, func.count())
            .where(AlertEvent.kind == kind)
            .group_by(AlertEvent.alert_id)
        )
        return {alert_id: count for alert_id, count in rows}


def waiting_for_the_future(app, now: dt.datetime) -> int:
    """Pending rows (deliveries and outbox messages) not due by `now`."""
    with app.sessions()() as session:
        return sum(
            session.scalar(
                select(func.count())
                .select_from(table)
                .where(table.status == DeliveryStatus.PENDING, table.not_before > now)
            )
            or 0
            for table in (Delivery, OutboxMessage)
        )


def test_a_jump_ahead_repeats_each_alert_once_and_escalates_one_level_per_evaluation(
    app, evaluate_at
):
    evaluate_at(NOW)
    delivered(app)
    evaluate_at(JUMPED)
    with app.sessions()() as session:
        levels = set(session.scalars(select(Alert.escalation_level)))
    assert levels == {1}
    evaluate_at(JUMPED + dt.timedelta(minutes=1))
    evaluate_at(JUMPED + dt.timedelta(minutes=2))
    repeats = events(app, EventKind.REPEATED)
    assert len(repeats) == 3 and set(repeats.values()) == {1}
    with app.sessions()() as session:
        assert set(session.scalars(select(Alert.escalation_level))) == {2}


def test_a_clock_corrected_backwards_leaves_nothing_queued_for_the_future(app, evaluate_at):
    evaluate_at(NOW)
    delivered(app)
    evaluate_at(JUMPED)
    evaluate_at(JUMPED + dt.timedelta(minutes=1))
    assert waiting_for_the_future(app, CORRECTED) > 0  # queued for Monday 12 October
    evaluate_at(CORRECTED)
    assert waiting_for_the_future(app, CORRECTED) == 0
    with app.sessions()() as session:
        latest = session.scalar(select(func.max(Alert.last_notified_at)))
    assert latest is not None and latest <= CORRECTED


def test_after_the_correction_repeats_fall_due_by_the_corrected_clock(app, evaluate_at):
    evaluate_at(NOW)
    delivered(app)
    evaluate_at(JUMPED)
    evaluate_at(CORRECTED)
    delivered(app)
    before = events(app, EventKind.REPEATED)
    evaluate_at(CORRECTED + dt.timedelta(hours=2))  # too soon for a repeat
    assert events(app, EventKind.REPEATED) == before
    evaluate_at(NOW + dt.timedelta(days=7))  # 5 working days later: due again
    after = events(app, EventKind.REPEATED)
    assert {alert: after[alert] - before[alert] for alert in before} == dict.fromkeys(before, 1)


def test_clocks_a_few_seconds_apart_do_not_rebase_each_other(app, evaluate_at):
    evaluate_at(NOW + CLOCK_SKEW / 2)  # an instance whose clock is slightly ahead
    evaluate_at(NOW)
    with app.sessions()() as session:
        fired = set(session.scalars(select(Alert.first_fired_at)))
        queued = set(session.scalars(select(Delivery.created_at)))
    assert fired == queued == {NOW + CLOCK_SKEW / 2}
