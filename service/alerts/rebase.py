"""After the clock went back: what a clock that ran ahead left behind, rebased on now.

Repeats and escalations are measured from times stored on the alert
(`last_notified_at`, `first_fired_at`), and queued messages wait for their
`not_before`. When the clock jumps ahead and is then corrected, those times lie
in the future: without a rebase, the alerts stay silent until the real clock
catches up and the messages queued meanwhile wait just as long, then go out
all at once. `rebase_on_clock` moves every such time back to the current
clock, so repeats and escalations fall due by the clock as it is now and
nothing stays queued for a time that will come weeks later.

A time counts as "in the future" only beyond `CLOCK_SKEW`, so that instances
whose clocks differ by seconds never rebase each other's work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.models import Alert
from service.calendar import WorkCalendar
from service.delivery.models import Delivery, DeliveryStatus, OutboxMessage

CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Rebased:
    """How many alerts and queued rows (deliveries, outbox messages) were rebased."""

    alerts: int = 0
    queued: int = 0


def rebase_on_clock(session: Session, calendar: WorkCalendar, now: dt.datetime) -> Rebased:
    """Move the alerts' times and the pending rows' times that lie beyond `now` (naive
    UTC) back to it. A pending row queued ahead of `now` becomes due when `now` allows:
    at once if it was due at once when queued (an urgent alert), else at the calendar's
    next delivery time. Writes in the caller's transaction."""
    ahead = now + CLOCK_SKEW
    alerts = 0
    for alert in session.scalars(
        select(Alert).where(
            (Alert.last_notified_at > ahead)
            | (Alert.first_fired_at > ahead)
            | (Alert.last_changed_at > ahead)
        )
    ):
        alert.last_notified_at = min(alert.last_notified_at, now)
        alert.first_fired_at = min(alert.first_fired_at, now)
        alert.last_changed_at = min(alert.last_changed_at, now)
        alerts += 1
    rows: list[Delivery | OutboxMessage] = [
        *session.scalars(
            select(Delivery).where(
                Delivery.status == DeliveryStatus.PENDING, Delivery.created_at > ahead
            )
        ),
        *session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.status == DeliveryStatus.PENDING, OutboxMessage.created_at > ahead
            )
        ),
    ]
    for row in rows:
        urgent = row.not_before <= row.created_at
        row.not_before = now if urgent else calendar.next_delivery_time(now)
        row.created_at = now
    session.flush()
    return Rebased(alerts, len(rows))
