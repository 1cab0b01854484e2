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
from service.delivery.directory import OPERATOR_TOPIC
from service.delivery.models import Delivery

SUMMARY_NAME = "tóm tắt"  # a summary's button: "Đã tiếp nhận: tóm tắt quá hạn"
#: An operator's alert about neither a unit nor a province (a chat address delivery gave
#: up): its heading (`engine._describe` labels it so) and its button's name ("Đã tiếp
#: nhận: danh bạ").
DIRECTORY_LABEL, DIRECTORY_NAME = "Danh bạ nhận cảnh báo", "danh bạ"
ACKNOWLEDGEABLE = (EventKind.FIRED, EventKind.CHANGED, EventKind.REPEATED, EventKind.ESCALATED)


def alert_lines(session: Session, deliveries: Sequence[Delivery]) -> Mapping[int, Line]:
    """Delivery id → its line, for the deliveries about an alert (a notice's is plain)."""
    acks, placed = _acknowledgeable(
        session, [d.event_id for d in deliveries if d.event_id is not None]
    )
    acks = _told_apart(deliveries, acks, placed)
    alert_ids = {d.alert_id for d in deliveries if d.alert_id is not None}
    summaries = _summaries(session, alert_ids)
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


def _acknowledgeable(session: Session, event_ids: list[int]) -> tuple[dict[int, str], set[int]]:
    """Event id → the short name of its alert ("H44.116 quá hạn"), for the events whose
    alert awaits acknowledgement; and which of them name a unit, a province or the
    directory (an alert of none is only a test's)."""
    if not event_ids:
        return {}, set()
    rows = session.execute(
        select(
            AlertEvent.id,
            AlertEvent.kind,
            Alert.unit_code,
            Alert.province_code,
            Alert.topic,
            Alert.rule_id,
        )
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.id.in_(event_ids), Alert.acknowledged_at.is_(None))
    ).all()
    rows = [row for row in rows if row.kind in ACKNOWLEDGEABLE]
    names = {row.id: _short_name(*row[2:]) for row in rows}
    placed = {
        row.id for row in rows if row.unit_code or row.province_code or row.topic == OPERATOR_TOPIC
    }
    return names, placed


def _told_apart(
    deliveries: Sequence[Delivery], names: Mapping[int, str], placed: set[int]
) -> dict[int, str]:
    """`names` (event id → short name) where two alerts going to one person would read
    the same ("H44 dữ liệu" of a stale and of a blocked sync, "H44.116 điểm giảm" of two
    rules) numbered by their alert, as a Zalo reply names it: "H44 dữ liệu (số 651)".
    Only the `placed` events' names are numbered."""
    named = [
        (d.event_id, d.alert_id, d.person_id, names[d.event_id])
        for d in deliveries
        if d.event_id in placed and d.alert_id is not None
    ]
    alerts: dict[tuple[str, str], set[int]] = {}
    for _, alert_id, person, name in named:
        alerts.setdefault((person, name), set()).add(alert_id)
    told = dict(names)
    for event_id, alert_id, person, name in named:
        if len(alerts[(person, name)]) > 1:
            told[event_id] = f"{name} (số {alert_id})"
    return told


def _short_name(unit: str | None, province: str | None, topic: str, rule: str) -> str:
    """ "H44.116 quá hạn", "tóm tắt quá hạn", "H44 dữ liệu" (a province's syncs), "danh
    bạ" (an address given up)."""
    if rule == SUMMARY_RULE:
        return f"{SUMMARY_NAME} {TOPIC_NAMES.get(topic, topic)}"
    if unit is None and province is None and topic == OPERATOR_TOPIC:
        return DIRECTORY_NAME
    return f"{unit or province or ''} {TOPIC_NAMES.get(topic, topic)}".strip()


def _summaries(session: Session, alert_ids: set[int]) -> set[int]:
    """The ids among `alert_ids` that are summaries."""
    if not alert_ids:
        return set()
    found = select(Alert.id).where(Alert.id.in_(alert_ids), Alert.rule_id == SUMMARY_RULE)
    return set(session.scalars(found))
