"""Queueing: pending deliveries composed, once, into the messages that go out.

A person's deliveries of one evaluation (one digest key and time) become one unit;
any other delivery is a unit of its own. Each unit is composed by `compose` within
its channel's declared limits and stored as `OutboxMessage` rows, one per part, in
the same transaction that marks its deliveries composed. The engine queues what it
fans out in its own transaction; the outbox queues, at the start of each pass, what
was written elsewhere (notices) or before this table existed. Two processes queueing
the same unit collide on the parts' unique keys, and the later one rolls back.

What a delivery's line carries besides its text (the alert it is about, whether that
alert still awaits acknowledgement, whether it is a summary) is the alerts' to say:
the caller passes a `Describe` (`alerts.lines.alert_lines`; `plain_lines` where no
alert is delivered), and this package imports nothing of alerts. A delivery the
`Describe` leaves out is a plain line: its unit's name and its text (a notice).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.channels.base import Button, ChannelLimits, Message
from service.channels.messages import escape_html, split_message, utf16_length
from service.channels.registry import KINDS, LIMITS
from service.delivery.compose import (
    ACK_PREFIX,
    ACK_TEXT,
    Line,
    compose,
)
from service.delivery.models import Delivery, DeliveryStatus, OutboxMessage

LimitsOf = Callable[[str], ChannelLimits | None]
#: The lines of these deliveries, by delivery id (one left out: `plain_line`).
Describe = Callable[[Session, Sequence[Delivery]], Mapping[int, Line]]


def plain_line(delivery: Delivery) -> Line:
    """A delivery's line as it is stored: its unit's name and its text, no button."""
    return Line(delivery.unit_label, delivery.text_html, delivery.alert_id)


def plain_lines(_session: Session, _deliveries: Sequence[Delivery]) -> Mapping[int, Line]:
    """Every line plain (`plain_line`): what a caller that knows no alerts passes."""
    return {}


def queue_messages(session: Session, describe: Describe, limits_of: LimitsOf = LIMITS.get) -> int:
    """Compose every pending delivery that is in no message yet, its line as `describe`
    says; returns the parts added. A delivery whose channel has no known limits waits
    (nothing is guessed)."""
    waiting = session.scalars(
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.message_unit.is_(None))
        .order_by(Delivery.id)
    ).all()
    described = describe(session, waiting)
    added = 0
    for unit in _units(waiting):
        limits = limits_of(unit[0].channel)
        if limits is not None:
            lines = [described.get(d.id) or plain_line(d) for d in unit]
            added += _queue_unit(session, unit, lines, limits)
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
    session: Session, unit: list[Delivery], lines: list[Line], limits: ChannelLimits
) -> int:
    first = unit[0]
    key = f"u{first.id}"
    parts: list[tuple[str, tuple[Button, ...], list[int]]]
    if first.document_path:
        texts = _document_parts(first.text_html, limits)
        parts = [(text, (), [0] if n == len(texts) else []) for n, text in enumerate(texts, 1)]
    else:
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


def message_of(text_html: str, buttons_json: str) -> Message:
    """The message a queued part carries, from its stored text and buttons."""
    buttons = tuple(Button(text, data) for text, data in json.loads(buttons_json))
    return Message(text_html, buttons)
