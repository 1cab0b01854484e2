"""Summaries: what a person who covers many units reads instead of a line per unit.

After an evaluation has fanned out its deliveries, a person's deliveries on one topic
(overdue, band, …) that span more than `SUMMARY_AFTER_UNITS` units, or more than one
unit when every one of them is a condition present when its unit was first seen (the
baseline of a province's first evaluation; a person of one unit then gets its lines in
one message), are not sent line by line: they are *summarised*. The
person gets one summary per topic: how many units, the worst ones ranked by magnitude,
then by the lowest score, per level (at most `SHOWN_PER_LEVEL` agencies and communes),
"và N đơn vị khác", and how to see the rest (`/status <mã>`, the spreadsheet).

A summary is an alert of its own (rule `summary`, fingerprint
`summary|<person>|<channel>|<topic>`, no unit), so its message carries the usual
"Đã tiếp nhận" button and the bot records its acknowledgement for its recipient. It
is about the firing alerts of its topic that reached the person (directly or by
escalation), not only about this evaluation's; it is sent again, as a new message,
only when its text changes. Once the person has acknowledged it, escalations of the
alerts it lists are not sent to them again line by line. The units' own alerts keep
their lifecycle: they repeat, escalate and are acknowledged as before.

The summarised deliveries get the status `summarised`; when a new summary is sent they
are linked to its message (`link_summarised`, after queueing) and so take its outcome.
A person's summaries of one evaluation share one digest: one message (or its parts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.models import Alert, AlertEvent, AlertState, EventKind
from service.alerts.rules import Rule
from service.alerts.summary_text import figures_of, rank, summary_label, summary_text
from service.channels.messages import escape_html
from service.delivery.directory import Directory
from service.delivery.fanout import Told, event_subject, queue
from service.delivery.models import Delivery, DeliveryStatus

SUMMARY_RULE = "summary"
#: A person whose deliveries of one topic in one evaluation span more units than this
#: gets a summary (config key to add: alerts.summary_after_units).
SUMMARY_AFTER_UNITS = 3
BASELINE_NOTE = "Tình hình khi dvcwatch bắt đầu theo dõi các đơn vị này:"


def summarise(
    session: Session,
    deliveries: Sequence[Delivery],
    first_seen: set[str],
    rules: Mapping[str, Rule],
    digest_key: str,
    now: dt.datetime,
) -> list[Delivery]:
    """Replace the deliveries that a summary covers (see module doc); returns the
    deliveries that go out: the lines kept and the new summaries. `first_seen` are the
    units seen for the first time (the engine: no alert was ever about them or their
    province), whose conditions are a baseline; `digest_key` is formatted
    with `person` and `channel` to group a person's summaries in one message."""
    alerts = _alerts_of(session, deliveries)
    kinds = _event_kinds(session, deliveries)
    groups: dict[tuple[str, str, str], list[Delivery]] = {}
    kept: list[Delivery] = []
    for delivery in deliveries:
        alert = alerts.get(delivery.alert_id or 0)
        if alert is None or alert.rule_id == SUMMARY_RULE or alert.unit_code is None:
            kept.append(delivery)
            continue
        groups.setdefault((delivery.person_id, delivery.channel, alert.topic), []).append(delivery)
    for (person, channel, topic), group in groups.items():
        summary = _summary_alert(session, person, channel, topic)
        group = _without_acknowledged_escalations(group, summary, kinds)
        units = {alerts[d.alert_id or 0].unit_code for d in group}
        baseline = all(
            kinds.get(d.event_id or 0) == EventKind.FIRED
            and alerts[d.alert_id or 0].unit_code in first_seen
            for d in group
        )
        key = digest_key.format(person=person, channel=channel)
        many = len(units) > (1 if baseline else SUMMARY_AFTER_UNITS)
        if not many:
            for delivery in group:
                if baseline and delivery.digest_key is None:
                    delivery.digest_key = key  # a first notice is one message per person
            kept += group
        if not group or (not many and summary is None):
            continue
        resolved = many and sum(kinds.get(d.event_id or 0) == EventKind.RESOLVED for d in group)
        sent = _refresh(
            session,
            (person, channel, group[0].address, topic),
            summary,
            rules,
            resolved,
            now,
            baseline,
        )
        if sent is not None:
            sent.digest_key = key
            sent.not_before = min(d.not_before for d in group)
            kept.append(sent)
        if many:
            for delivery in group:
                delivery.status = DeliveryStatus.SUMMARISED
                delivery.message_unit = f"summary:{sent.id}" if sent is not None else None
    session.flush()
    return kept


def link_summarised(session: Session) -> None:
    """Summarised deliveries take the message and part of the summary that covers them
    (queued by now), so that its outcome becomes theirs."""
    waiting = session.scalars(
        select(Delivery).where(
            Delivery.status == DeliveryStatus.SUMMARISED, Delivery.message_unit.like("summary:%")
        )
    ).all()
    for delivery in waiting:
        summary = session.get(Delivery, int(str(delivery.message_unit).split(":", 1)[1]))
        delivery.message_unit = summary.message_unit if summary else None
        delivery.part = summary.part if summary else None
    session.flush()


def _alerts_of(session: Session, deliveries: Sequence[Delivery]) -> dict[int, Alert]:
    ids = {d.alert_id for d in deliveries if d.alert_id is not None}
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(ids)))}


def _event_kinds(session: Session, deliveries: Sequence[Delivery]) -> dict[int, str]:
    ids = {d.event_id for d in deliveries if d.event_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(AlertEvent.id, AlertEvent.kind).where(AlertEvent.id.in_(ids)))
    return {event_id: kind for event_id, kind in rows}


def _fingerprint(person: str, channel: str, topic: str) -> str:
    return f"{SUMMARY_RULE}|{person}|{channel}|{topic}"


def _summary_alert(session: Session, person: str, channel: str, topic: str) -> Alert | None:
    return session.scalars(
        select(Alert).where(Alert.fingerprint == _fingerprint(person, channel, topic))
    ).first()


def _without_acknowledged_escalations(
    group: list[Delivery], summary: Alert | None, kinds: Mapping[int, str]
) -> list[Delivery]:
    """The group less the escalations of alerts that an acknowledged summary of the
    person lists: those are summarised at once, with no message."""
    if summary is None or summary.acknowledged_at is None:
        return group
    listed = set(json.loads(summary.context_json).get("alert_ids", []))
    kept = []
    for delivery in group:
        if kinds.get(delivery.event_id or 0) == EventKind.ESCALATED and delivery.alert_id in listed:
            delivery.status = DeliveryStatus.SUMMARISED
        else:
            kept.append(delivery)
    return kept


def _refresh(
    session: Session,
    key: tuple[str, str, str, str],
    summary: Alert | None,
    rules: Mapping[str, Rule],
    resolved: int,
    now: dt.datetime,
    baseline: bool = False,
) -> Delivery | None:
    """Rewrite the person's summary of the topic from the firing alerts that reached
    them; a delivery of it when its text changed (or it is new), else None."""
    person, channel, address, topic = key
    ranked = rank(_reached(session, person, channel, topic), rules)
    body = summary_text(topic, ranked)
    digest = hashlib.sha256(body.encode()).hexdigest()
    known = json.loads(summary.context_json) if summary is not None else {}
    if summary is not None and summary.state == AlertState.FIRING and known.get("digest") == digest:
        return None
    if summary is None:
        summary = Alert(
            fingerprint=_fingerprint(person, channel, topic),
            rule_id=SUMMARY_RULE,
            sequence=0,
            first_fired_at=now,
            escalation_level=0,
        )
        session.add(summary)
    provinces = {r.alert.province_code for r in ranked}
    summary.topic, summary.severity, summary.unit_code = topic, "info", None
    summary.province_code = provinces.pop() if len(provinces) == 1 else None
    summary.period = ranked[0].alert.period if ranked else None
    summary.label = summary_label(topic, len(ranked), summary.period, figures_of(ranked))
    summary.context_json = json.dumps(
        {"digest": digest, "alert_ids": [r.alert.id for r in ranked], "units": len(ranked)}
    )
    summary.magnitude = float(len(ranked))
    summary.last_changed_at = summary.last_notified_at = now
    # a new text is a new message: it awaits a new press, and escalates from now
    summary.acknowledged_at = summary.acknowledged_by = None
    summary.first_fired_at, summary.escalation_level = now, 0
    summary.state = AlertState.FIRING if ranked else AlertState.RESOLVED
    summary.resolved_at = None if ranked else now
    if not ranked and not resolved:
        session.flush()
        return None
    notes = [BASELINE_NOTE] if baseline else []
    notes += [f"✅ Đã khắc phục ở {resolved} đơn vị."] if resolved else []
    text = "\n".join([*notes[:1], body, *notes[1:]])
    return _deliver(session, summary, _Recipient(person, channel, address), text, now)


def _deliver(
    session: Session, summary: Alert, to: _Recipient, text: str, now: dt.datetime
) -> Delivery | None:
    session.flush()
    summary.sequence += 1
    event = AlertEvent(
        alert_id=summary.id,
        sequence=summary.sequence,
        kind=EventKind.FIRED if summary.sequence == 1 else EventKind.CHANGED,
        magnitude=summary.magnitude,
        text_html=text,
        created_at=now,
    )
    session.add(event)
    session.flush()
    told = Told(event_subject(event.id), text, summary.label, event.id, summary.id)
    added = queue(session, [to], told, now, now)
    return added[0] if added else None


@dataclass(frozen=True)
class _Recipient:
    """A summary's recipient, as the deliveries it replaces name them."""

    id: str
    channel: str
    address: str


def _reached(session: Session, person: str, channel: str, topic: str) -> list[Alert]:
    """The firing alerts of `topic` that reached the person (directly or escalated)."""
    reached = select(Delivery.alert_id).where(
        Delivery.person_id == person, Delivery.channel == channel
    )
    return list(
        session.scalars(
            select(Alert).where(
                Alert.topic == topic,
                Alert.state == AlertState.FIRING,
                Alert.rule_id != SUMMARY_RULE,
                Alert.unit_code.is_not(None),
                Alert.id.in_(reached),
            )
        )
    )


def summary_recipient(summary: Alert) -> str:
    """The id of the person a summary is for."""
    return summary.fingerprint.split("|")[1]


def escalated_summary(session: Session, summary: Alert, directory: Directory) -> str:
    """The text of a summary nobody acknowledged, as its escalation carries it."""
    latest = session.scalars(
        select(AlertEvent.text_html)
        .where(AlertEvent.alert_id == summary.id)
        .order_by(AlertEvent.sequence.desc())
        .limit(1)
    ).first()
    person = directory.person(summary_recipient(summary))
    who = escape_html(person.name if person else summary_recipient(summary))
    return f"⏫ Chưa được tiếp nhận ({who}), chuyển cấp trên:\n{latest or ''}"
