"""What an alert's change becomes: its event, the deliveries it fans out to, and the
escalation of what nobody acknowledged.

Each event is rendered once (`alert_line`) and queued (`delivery.fanout.queue`, the
path notices take too) as one `Delivery` per person and channel, keyed by event ×
person × channel. A summary (`summaries`) escalates like
an alert: unacknowledged after the configured working days, it goes to the office of
its province, unless that office is its recipient.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.lifecycle import Transition
from service.alerts.messages import alert_line
from service.alerts.models import Alert, AlertEvent, AlertState, EventKind
from service.alerts.rules import Rule
from service.alerts.summaries import SUMMARY_RULE, escalated_summary, summary_recipient
from service.delivery.directory import Directory, Person, escalation_targets
from service.delivery.fanout import Telling, Told, event_subject, queue_all
from service.delivery.models import Delivery

if TYPE_CHECKING:
    from service.alerts.engine import Policy


def record_event(
    session: Session,
    alert: Alert,
    change: Transition,
    rule: Rule | None,
    now: dt.datetime,
    text: str = "",
    told: Mapping[str, Any] | None = None,
) -> AlertEvent:
    """The alert's next event, its text rendered by `rule` (with what the finding says and
    `told`: an escalation's "unacknowledged_by") or given (a summary's); added to the
    session, not flushed (the caller flushes its events at once)."""
    if rule is not None:
        context = change.finding.context if change.finding else json.loads(alert.context_json)
        context = {**context, **(told or {})}
        text = alert_line(
            change.kind, rule, alert.magnitude, change.previous_magnitude, alert.period, context
        )
    alert.sequence += 1
    event = AlertEvent(
        alert_id=alert.id,
        sequence=alert.sequence,
        kind=change.kind,
        magnitude=alert.magnitude,
        previous_magnitude=change.previous_magnitude,
        text_html=text,
        created_at=now,
    )
    session.add(event)
    return event


def fan_out(
    session: Session,
    alert: Alert,
    event: AlertEvent,
    rule: Rule | None,
    people: Sequence[Person],
    policy: Policy,
    now: dt.datetime,
) -> list[Delivery]:
    """The event's deliveries (`delivery.fanout.queue`), deferred past quiet hours
    unless the rule is critical and bypasses them."""
    return fan_out_all(session, [Fanning(alert, event, rule, people)], policy, now)


@dataclass(frozen=True)
class Fanning:
    """One flushed event to fan out, with the rule that rendered it and its people."""

    alert: Alert
    event: AlertEvent
    rule: Rule | None
    people: Sequence[Person]


def fan_out_all(
    session: Session, events: Sequence[Fanning], policy: Policy, now: dt.datetime
) -> list[Delivery]:
    """`fan_out` of every event, queued in one batch (`delivery.fanout.queue_all`)."""
    batch: list[Telling] = []
    for item in events:
        rule = item.rule
        urgent = rule is not None and rule.severity == "critical" and rule.bypass_quiet_hours
        not_before = now if urgent else policy.calendar.next_delivery_time(now)
        event, alert = item.event, item.alert
        told = Told(event_subject(event.id), event.text_html, alert.label, event.id, alert.id)
        batch.append((item.people, told, not_before))
    return queue_all(session, batch, now, digest=policy.digest)


def escalate(
    session: Session,
    directory: Directory,
    policy: Policy,
    rules: dict[str, Rule],
    now: dt.datetime,
    readings: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Delivery]:
    """Unacknowledged alerts go up a level after each configured number of working days,
    counted by the current clock: first, times a clock that ran ahead left in the future
    are moved back to `now` (`rebase.rebase_on_clock`). At most one level per call.
    `readings` (fingerprint → what this evaluation's finding says) dates an escalation by
    the latest reading, not by the one its alert last changed on."""
    from service.alerts.rebase import rebase_on_clock

    rebase_on_clock(session, policy.calendar, now)
    waits = policy.escalate_after_days
    if not waits:
        return []
    escalated: list[Fanning] = []
    # Only alerts that may be due are loaded: n working days are at least n workdays of
    # wall time, so one fired later than the shortest wait ago cannot have waited enough.
    latest = now - policy.calendar.workday_length * min(waits)
    firing = session.scalars(
        select(Alert).where(
            Alert.state == AlertState.FIRING,
            Alert.acknowledged_at.is_(None),
            Alert.escalation_level < len(waits),
            Alert.first_fired_at <= latest,
        )
    )
    for alert in firing.all():
        level = alert.escalation_level
        rule = rules.get(alert.rule_id)
        summary = alert.rule_id == SUMMARY_RULE
        if rule is None and not summary:
            continue
        waited = policy.calendar.working_days_between(alert.first_fired_at, now)
        if waited < waits[level]:
            continue
        people = escalation_targets(directory, alert.unit_code, alert.province_code, level + 1)
        if summary:  # a summary has no unit: its province's office, if not its recipient
            people = tuple(p for p in people if p.id != summary_recipient(alert))
        alert.escalation_level = level + 1
        change = Transition(EventKind.ESCALATED, alert.fingerprint, None, alert.magnitude)
        text = escalated_summary(session, alert, directory) if summary else ""
        told = {
            **(readings or {}).get(alert.fingerprint, {}),
            "unacknowledged_by": _recipients(session, alert, directory),
        }
        event = record_event(session, alert, change, rule, now, text, told)
        escalated.append(Fanning(alert, event, rule, people))
    session.flush()  # the events' ids, for their deliveries' keys
    return fan_out_all(session, escalated, policy, now)


def _recipients(session: Session, alert: Alert, directory: Directory) -> str:
    """Who was sent the alert and did not acknowledge it ("Nguyễn Thị Lan, Lê Văn Hùng"),
    by their names in the directory, in the order they were first told."""
    people = session.scalars(
        select(Delivery.person_id).where(Delivery.alert_id == alert.id).order_by(Delivery.id)
    )
    named = (directory.person(person_id) for person_id in dict.fromkeys(people))
    return ", ".join(person.name for person in named if person is not None)
