"""What an alert's delivery carries into a message besides its text: the alert it is
about, the short name its "Đã tiếp nhận" button shows while it awaits acknowledgement,
and whether it is a summary. Queueing (`delivery.queueing`) asks this of the alerts
(`alert_lines` is its `Describe`); the delivery package itself knows no alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.messages import TOPIC_NAMES
from service.alerts.models import Alert, AlertEvent, EventKind
from service.alerts.summaries import SUMMARY_RULE
from service.delivery.compose import Line
from service.delivery.models import Delivery

SUMMARY_NAME = "tóm tắt"  # a summary's button: "Đã tiếp nhận: tóm tắt quá hạn"
ACKNOWLEDGEABLE = (EventKind.FIRED, EventKind.CHANGED, EventKind.REPEATED, EventKind.ESCALATED)


def alert_lines(session: Session, deliveries: Sequence[Delivery]) -> Mapping[int, Line]:
    """Delivery id → its line, for the deliveries about an alert (a notice's is plain)."""
    acks = _acknowledgeable(session, [d.event_id for d in deliveries if d.event_id is not None])
    summaries = _summaries(session, {d.alert_id for d in deliveries if d.alert_id is not None})
    return {
        d.id: Line(
            d.unit_label,
            d.text_html,
            d.alert_id,
            acks.get(d.event_id) if d.event_id is not None else None,
            d.alert_id in summaries,
        )
        for d in deliveries
        if d.alert_id is not None
    }


def _acknowledgeable(session: Session, event_ids: list[int]) -> dict[int, str]:
    """Event id → the short name of its alert ("H44.116 quá hạn"), for the events whose
    alert awaits acknowledgement."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(AlertEvent.id, AlertEvent.kind, Alert.unit_code, Alert.topic, Alert.rule_id)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.id.in_(event_ids), Alert.acknowledged_at.is_(None))
    ).all()
    return {
        event_id: f"{unit or (SUMMARY_NAME if rule == SUMMARY_RULE else '')} "
        f"{TOPIC_NAMES.get(topic, topic)}".strip()
        for event_id, kind, unit, topic, rule in rows
        if kind in ACKNOWLEDGEABLE
    }


def _summaries(session: Session, alert_ids: set[int]) -> set[int]:
    """The ids among `alert_ids` that are summaries."""
    if not alert_ids:
        return set()
    found = select(Alert.id).where(Alert.id.in_(alert_ids), Alert.rule_id == SUMMARY_RULE)
    return set(session.scalars(found))
