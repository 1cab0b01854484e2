"""What the outbox records when a message's request is answered (or is not).

Each function takes the session of one short transaction and the claimed message,
and settles it; the deliveries whose line the message holds follow its status, so
the bot, `status` and the metrics read one truth. Outcomes update by id, not by
claim: if a message was declared uncertain while its sender was in fact still
alive, the answer that finally came is the better record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.delivery.models import ChannelAddress, Delivery, DeliveryStatus, OutboxMessage
from service.runs import Owner, alive

if TYPE_CHECKING:  # `dvcwatch status` settles stopped senders without the channels' models
    from service.channels.base import PermanentDeliveryError, Receipt

MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Claimed:
    """A message this worker claimed, detached from any session."""

    id: int
    unit_key: str
    part: int
    parts: int
    person_id: str
    channel: str
    address: str
    text_html: str
    buttons_json: str
    document_path: str | None
    attempts: int

    @classmethod
    def of(cls, row: OutboxMessage) -> Claimed:
        return cls(
            row.id,
            row.unit_key,
            row.part,
            row.parts,
            row.person_id,
            row.channel,
            row.address,
            row.text_html,
            row.buttons_json,
            row.document_path,
            row.attempts,
        )


def sent(session: Session, message: Claimed, receipt: Receipt) -> None:
    ids = ",".join(receipt.message_ids)
    _settle(session, message, DeliveryStatus.SENT, None, sent_at=receipt.sent_at, message_id=ids)
    session.execute(
        _deliveries_of(message).values(message_ids=ids, sent_at=receipt.sent_at, last_error=None)
    )


def uncertain(session: Session, message: Claimed, error: str) -> None:
    """Maybe delivered: never sent again, and listed by `dvcwatch status`."""
    _settle(session, message, DeliveryStatus.UNCERTAIN, error)


STOPPED_SENDER = "the sender stopped during the request: maybe delivered"
#: How long a sender may hold a message `sending` before it is taken as stopped.
SEND_LEASE = dt.timedelta(minutes=2)


def stopped_senders(session: Session, stale: dt.datetime) -> int:
    """Messages left `sending` by a stopped sender become `uncertain` (never re-sent): at
    once when it was a process of this host that no longer runs, else once claimed
    before `stale` (its lease passed). Returns how many. The outbox does this before each
    pass, and `dvcwatch status` before it reports (a `deliver` killed, stopped by SIGTERM
    or Ctrl-C leaves its requests in flight, and they may have arrived)."""
    in_flight = OutboxMessage.status == DeliveryStatus.SENDING
    owners = session.scalars(select(OutboxMessage.claimed_by).where(in_flight).distinct())
    dead = [owner for owner in owners if owner and _dead_here(owner)]
    rows = session.scalars(
        select(OutboxMessage).where(
            in_flight, (OutboxMessage.claimed_at < stale) | OutboxMessage.claimed_by.in_(dead)
        )
    ).all()
    settled = 0
    for row in rows:  # only if still `sending`: a live sender's answer may have come since
        settled += _settle(
            session, Claimed.of(row), DeliveryStatus.UNCERTAIN, STOPPED_SENDER, still_sending=True
        )
    return settled


def _dead_here(worker: str) -> bool:
    """True when `worker` ("host:pid") names a process of this host that has ended."""
    host, _, pid = worker.rpartition(":")
    return pid.isdigit() and alive(Owner(host, int(pid), None)) is False


def waiting(session: Session, channel: str, reason: str, now: dt.datetime) -> None:
    """Say on `channel`'s messages due at `now` why they wait (its token was rejected, it
    could not be reached): `dvcwatch status` shows it until they go. Those not due yet
    (quiet hours, a retry's time) keep their own reason."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.not_before <= now,
        )
        .values(last_error=reason)
    )


def retry_later(
    session: Session,
    message: Claimed,
    error: str,
    retry_after: float | None,
    now: dt.datetime,
    count_attempt: bool = True,
) -> None:
    """Nothing was delivered: pending again, after `retry_after` when the service named
    it (a 429), else after a backoff doubling from 30 s to an hour."""
    attempts = message.attempts + (1 if count_attempt else 0)
    backoff = min(dt.timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    if retry_after is not None:
        wait = dt.timedelta(seconds=retry_after)
    else:
        wait = backoff if count_attempt else dt.timedelta(0)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(
            status=DeliveryStatus.PENDING,
            not_before=now + wait,
            last_error=error,
            attempts=attempts,
        )
    )


def failed(session: Session, message: Claimed, error: PermanentDeliveryError) -> None:
    """Never deliverable. When the address is gone it is deactivated and everything
    still waiting for it fails with it (the delivery_failed operator alert says so)."""
    _settle(session, message, DeliveryStatus.FAILED, str(error))
    if not error.reason.address_gone:
        return
    remember_address(
        session,
        message.person_id,
        message.channel,
        message.address,
        message.address,
        active=False,
        reason=str(error.reason),
    )
    mine = (OutboxMessage.person_id == message.person_id, OutboxMessage.channel == message.channel)
    waiting = OutboxMessage.status == DeliveryStatus.PENDING
    session.execute(
        update(OutboxMessage)
        .where(*mine, waiting)
        .values(status=DeliveryStatus.FAILED, last_error=str(error))
    )
    session.execute(
        update(Delivery)
        .where(
            Delivery.person_id == message.person_id,
            Delivery.channel == message.channel,
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, last_error=str(error))
    )


def migrated(session: Session, message: Claimed, new_address: str, now: dt.datetime) -> None:
    """The chat moved: remember it, and send what waits for the old one there."""
    remember_address(
        session,
        message.person_id,
        message.channel,
        message.address,
        new_address,
        active=True,
        reason=f"migrated from {message.address}",
    )
    for table in (OutboxMessage, Delivery):
        session.execute(
            update(table)
            .where(
                table.person_id == message.person_id,
                table.channel == message.channel,
                table.address == message.address,
                table.status == DeliveryStatus.PENDING,
            )
            .values(address=new_address)
        )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(status=DeliveryStatus.PENDING, address=new_address, not_before=now)
    )
    session.execute(_deliveries_of(message).values(address=new_address))


def _settle(
    session: Session,
    message: Claimed,
    status: DeliveryStatus,
    error: str | None,
    still_sending: bool = False,
    **values: object,
) -> int:
    """Settle `message` (only if it is still `sending`, when asked); 1 if it was, else 0."""
    row = update(OutboxMessage).where(OutboxMessage.id == message.id)
    if still_sending:
        row = row.where(OutboxMessage.status == DeliveryStatus.SENDING)
    changed = session.execute(
        row.values(status=status, last_error=error, attempts=message.attempts + 1, **values)
    )
    if not cast(CursorResult[Any], changed).rowcount:
        return 0
    session.execute(_deliveries_of(message).values(status=status, last_error=error))
    return 1


def _deliveries_of(message: Claimed) -> Update:
    return update(Delivery).where(
        Delivery.message_unit == message.unit_key, Delivery.part == message.part
    )


def remember_address(
    session: Session,
    person_id: str,
    channel: str,
    from_address: str,
    address: str,
    active: bool,
    reason: str,
) -> None:
    known = session.scalars(
        select(ChannelAddress).where(
            ChannelAddress.person_id == person_id, ChannelAddress.channel == channel
        )
    ).first()
    if known is None:
        known = ChannelAddress(person_id=person_id, channel=channel, from_address=from_address)
        session.add(known)
    known.address, known.active, known.reason, known.updated_at = address, active, reason, utcnow()
