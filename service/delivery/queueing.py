"""Queueing: pending deliveries composed, once, into the messages that go out.

A person's deliveries of one evaluation (one digest key and time) become one unit;
any other delivery is a unit of its own. Each unit is composed by `compose` within
its channel's declared limits and stored as `OutboxMessage` rows, one per part, in
the same transaction that marks its deliveries composed. The engine queues what it
fans out in its own transaction; the outbox queues, at the start of each pass, what
was written elsewhere (notices) or before this table existed. Two processes queueing
the same unit collide on the parts' unique keys, and the later one rolls back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.models import Alert, AlertEvent, Delivery, DeliveryStatus, OutboxMessage
from service.alerts.summaries import SUMMARY_RULE
from service.channels.base import Button, ChannelLimits, Message
from service.channels.messages import escape_html, split_message, utf16_length
from service.channels.registry import KINDS, LIMITS
from service.delivery.compose import (
    ACK_PREFIX,
    ACK_TEXT,
    ACKNOWLEDGEABLE,
    TOPIC_NAMES,
    Line,
    compose,
)

SUMMARY_NAME = "tóm tắt"  # a summary's button: "Đã tiếp nhận: tóm tắt quá hạn"

LimitsOf = Callable[[str], ChannelLimits | None]


def queue_messages(session: Session, limits_of: LimitsOf = LIMITS.get) -> int:
    """Compose every pending delivery that is in no message yet; returns the parts
    added. A delivery whose channel has no known limits waits (nothing is guessed)."""
    waiting = session.scalars(
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.message_unit.is_(None))
        .order_by(Delivery.id)
    ).all()
    acks = _acknowledgeable(session, [d.event_id for d in waiting if d.event_id is not None])
    summaries = _summaries(session, {d.alert_id for d in waiting if d.alert_id is not None})
    added = 0
    for unit in _units(waiting):
        limits = limits_of(unit[0].channel)
        if limits is not None:
            added += _queue_unit(session, unit, limits, acks, summaries)
    session.flush()
    return added


def _units(deliveries: Sequence[Delivery]) -> list[list[Delivery]]:
    """Deliveries grouped into units: a digest (one key and time), or one delivery."""
    units: dict[tuple[str, dt.datetime] | int, list[Delivery]] = {}
    for delivery in deliveries:
        digest = delivery.digest_key and not delivery.document_path
        key = (str(delivery.digest_key), delivery.not_before) if digest else delivery.id
        units.setdefault(key, []).append(delivery)
    return list(units.values())


def _queue_unit(
    session: Session,
    unit: list[Delivery],
    limits: ChannelLimits,
    acks: dict[int, str],
    summaries: set[int],
) -> int:
    first = unit[0]
    key = f"u{first.id}"
    parts: list[tuple[str, tuple[Button, ...], list[int]]]
    if first.document_path:
        texts = _document_parts(first.text_html, limits)
        parts = [(text, (), [0] if n == len(texts) else []) for n, text in enumerate(texts, 1)]
    else:
        lines = [
            Line(
                d.unit_label,
                d.text_html,
                d.alert_id,
                acks.get(d.event_id) if d.event_id is not None else None,
                d.alert_id in summaries,
            )
            for d in unit
        ]
        if limits.max_buttons == 0:
            lines = [_without_button(line, first.channel) for line in lines]
        parts = [
            (p.message.text_html, p.message.buttons, list(p.lines)) for p in compose(lines, limits)
        ]
    for number, (text, buttons, line_indices) in enumerate(parts, 1):
        is_document = first.document_path is not None and number == len(parts)
        session.add(
            OutboxMessage(
                idempotency_key=f"{key}:p{number}",
                unit_key=key,
                part=number,
                parts=len(parts),
                person_id=first.person_id,
                channel=first.channel,
                address=first.address,
                text_html=text,
                buttons_json=json.dumps([[b.text, b.callback_data] for b in buttons]),
                document_path=first.document_path if is_document else None,
                status=DeliveryStatus.PENDING,
                not_before=first.not_before,
                attempts=0,
                created_at=first.created_at,
            )
        )
        for index in line_indices:  # a line cut in pieces belongs to its last piece
            unit[index].message_unit, unit[index].part = key, number
    return len(parts)


def _without_button(line: Line, channel: str) -> Line:
    """`line` for a channel without buttons: its acknowledge button becomes the kind's
    reply prompt written under the line ("Trả lời «OK 123» …"), so the prompt is
    measured with the text it belongs to; without a prompt, no acknowledgement."""
    if line.ack_name is None or line.alert_id is None:
        return line
    kind = KINDS.get(channel)
    prompt = kind.reply_prompt if kind is not None else None
    text = line.text_html
    if prompt is not None:
        button = Button(ACK_TEXT, f"{ACK_PREFIX}{line.alert_id}")
        text = f"{text}\n{escape_html(prompt(button))}"
    return replace(line, text_html=text, ack_name=None)


def _document_parts(caption: str, limits: ChannelLimits) -> list[str]:
    """A document's parts: the file with its caption, or, when the caption is longer
    than a caption may be, the caption as messages first and the file without one."""
    most = limits.max_caption_chars
    if not caption.strip() or most is None or utf16_length(caption) <= most:
        return [caption]
    if limits.max_message_chars is None:
        return [caption, ""]
    return [*split_message(caption, limits.max_message_chars), ""]


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


def message_of(text_html: str, buttons_json: str) -> Message:
    """The message a queued part carries, from its stored text and buttons."""
    buttons = tuple(Button(text, data) for text, data in json.loads(buttons_json))
    return Message(text_html, buttons)
