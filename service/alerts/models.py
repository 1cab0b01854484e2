"""The tables of alerting: alerts and their state changes.

An alert is unique by its fingerprint (rule, unit, what it is about). Each
state change is an `AlertEvent`, unique by (alert, sequence), so two
evaluators can never both record the same change. What an event tells people
is queued by `delivery.fanout.queue` (the `delivery` package's tables).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.clock import utcnow
from service.models import Base


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    FIRED = "fired"
    CHANGED = "changed"
    REPEATED = "repeated"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(255), unique=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    province_code: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(255), default="")
    context_json: Mapped[str] = mapped_column(Text, default="{}")  # the last finding's details
    state: Mapped[str] = mapped_column(String(16))
    magnitude: Mapped[float | None] = mapped_column(Float)
    period: Mapped[str | None] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    first_fired_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_notified_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)


class AlertEvent(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    magnitude: Mapped[float | None] = mapped_column(Float)
    previous_magnitude: Mapped[float | None] = mapped_column(Float)
    text_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("alert_id", "sequence", name="uq_alert_event_sequence"),)
