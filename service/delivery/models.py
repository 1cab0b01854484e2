"""The tables of delivery: what a person must be told, the messages that go out, and
what delivery learnt about addresses.

A `Delivery` is one line for one person at one channel address, unique by its
idempotency key (`fanout.delivery_key`: what is told × person × channel); an
alert's event or a notice. When queued, deliveries are composed into
`OutboxMessage` rows, one per message that goes out (a digest long enough to be
split is several), each with its own key and outcome: claimed by a conditional
update right before its request, its outcome committed right after.

A delivery about an alert names its event and alert (`alert_events`, `alerts`,
the alerts package's tables) by foreign key only: this package imports nothing of
the alerts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.clock import utcnow
from service.models import Base
from service.states import DeliveryStatus


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("alert_events.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    person_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    unit_label: Mapped[str] = mapped_column(String(255), default="")
    text_html: Mapped[str] = mapped_column(Text)
    document_path: Mapped[str | None] = mapped_column(Text)
    digest_key: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    not_before: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_ids: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The message unit its line was composed into, and the part that holds it.
    message_unit: Mapped[str | None] = mapped_column(String(64))
    part: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_deliveries_status_not_before", "status", "not_before"),
        Index("ix_deliveries_message_unit", "message_unit"),
    )


class OutboxMessage(Base):
    """One message to send: a part of a composed unit (`unit_key`, `part` of `parts`).

    Unique by `idempotency_key` (`<unit>:p<part>`, the unit named after its first
    delivery), so a unit composed twice is stored once. Part n of a unit is sent only
    when part n-1 is settled (sent, failed or uncertain): parts arrive in order.
    `buttons_json` is a JSON list of [text, callback data]; `document_path` makes the
    part a file with `text_html` as its caption.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    unit_key: Mapped[str] = mapped_column(String(64))
    part: Mapped[int] = mapped_column(Integer)
    parts: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    text_html: Mapped[str] = mapped_column(Text)
    buttons_json: Mapped[str] = mapped_column(Text, default="[]")
    document_path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    not_before: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_outbox_messages_status_not_before", "status", "not_before"),
        Index("ix_outbox_messages_unit", "unit_key", "part"),
    )


class ChannelAddress(Base):
    """What delivery learnt about a person's address: migrated, or dead (deactivated).

    It holds only while the directory still gives `from_address`: an operator who
    edits the directory (a new chat id) overrides what was learnt.
    """

    __tablename__ = "channel_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    from_address: Mapped[str] = mapped_column(String(64))  # the directory's, when learnt
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("person_id", "channel", name="uq_channel_address_person"),)
