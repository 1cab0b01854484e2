"""The outbox worker: send due deliveries exactly as recorded, once.

Claim, then act: a group of due deliveries (one digest, or one delivery) is
claimed by a conditional update (`pending` → `sending`, committed) before
anything is sent, so several workers never send the same row. The outcome
is committed right after the channel answers:

- sent: `sent`, with the channel's message ids;
- transient (timeout, 5xx, 429 with `retry_after`): back to `pending`, later;
- permanent (blocked, chat not found): `failed`; when the address is gone it
  is deactivated (`channel_addresses`), which raises an operator alert;
- chat migrated: the new address is stored and the rows go back to `pending`.

A group is claimed only once the channel's rate limiter has given it its turn
(`Channel.take_turn`), so what is claimed is what is about to be sent.

A worker killed during a request leaves its rows `sending`. After the lease
they become `uncertain`: maybe delivered, never re-sent (an official mutes
a bot that repeats itself; the alert's own repeat interval notifies again),
and `dvcwatch status` lists them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.alerts.compose import ACKNOWLEDGEABLE, TOPIC_NAMES, compose
from service.alerts.models import (
    Alert,
    AlertEvent,
    ChannelAddress,
    Delivery,
    DeliveryStatus,
)
from service.channels.base import (
    Channel,
    ChatMigrated,
    Document,
    PermanentDeliveryError,
    Receipt,
    Recipient,
    TransientDeliveryError,
)
from service.clock import utcnow

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=1)
PARALLEL_SENDS = 4  # groups in flight at once; the channel's limiter spaces them


@dataclass
class Due:
    """A group of due deliveries to one address, not yet claimed."""

    ids: list[int]
    channel: str
    address: str
    person_id: str


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    migrated: int = 0
    uncertain: int = 0


class Outbox:
    """Sends the due deliveries through their channels (see module doc)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
        worker: str,
        clock: Callable[[], dt.datetime] = utcnow,
        lease: dt.timedelta = dt.timedelta(minutes=2),
        batch: int = 500,
        parallel: int = PARALLEL_SENDS,
    ) -> None:
        self.sessions, self.channels, self.worker = sessions, channels, worker
        self.clock, self.lease, self.batch, self.parallel = clock, lease, batch, parallel

    def recover(self) -> int:
        """Rows left `sending` by a dead worker become `uncertain` (never re-sent)."""
        stale = self.clock() - self.lease
        with self.sessions.begin() as session:
            result = session.execute(
                update(Delivery)
                .where(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < stale)
                .values(
                    status=DeliveryStatus.UNCERTAIN,
                    last_error="the sender stopped during the request: maybe delivered",
                )
            )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            log.warning("%d deliveries left in flight by a dead sender are now uncertain", count)
        return count

    async def send_due(self) -> SendReport:
        """Send every delivery due now, group by group; returns what happened.

        Up to `parallel` groups are in flight at once (the channel's rate limiter
        spaces them), so the time spent on the database between two sends does not
        eat into Telegram's 30 messages a second. Each group is claimed only when its
        turn comes: a killed worker leaves at most `parallel` groups in doubt.
        """
        report = SendReport(uncertain=self.recover())
        in_flight = asyncio.Semaphore(self.parallel)

        async def one_address(groups: list[Due]) -> None:
            for due in groups:  # one address's groups in order, one at a time
                async with in_flight:
                    channel = self.channels.get(due.channel)
                    if channel is not None:
                        await channel.take_turn(Recipient(due.address, due.person_id))
                    claimed = self._claim(due.ids)
                    if claimed:
                        await self._send_group(claimed, report)

        await asyncio.gather(*(one_address(groups) for groups in self._due().values()))
        return report

    def _due(self) -> dict[tuple[str, str], list[Due]]:
        """Due groups (a digest, or one delivery) by (channel, address), oldest first.

        At most `batch` deliveries start the list, and every digest they touch comes
        whole: a digest cut in two would reach its person as two messages.
        """
        columns = (
            Delivery.id,
            Delivery.digest_key,
            Delivery.channel,
            Delivery.address,
            Delivery.person_id,
        )
        due = (Delivery.status == DeliveryStatus.PENDING, Delivery.not_before <= self.clock())
        with self.sessions() as session:
            rows = list(
                session.execute(
                    select(*columns).where(*due).order_by(Delivery.id).limit(self.batch)
                )
            )
            digests = {row.digest_key for row in rows if row.digest_key}
            if rows and digests:
                rest = select(*columns).where(
                    *due, Delivery.digest_key.in_(digests), Delivery.id > rows[-1].id
                )
                rows += session.execute(rest.order_by(Delivery.id)).all()
        groups: dict[str, Due] = {}
        for delivery_id, digest_key, channel, address, person_id in rows:
            key = digest_key or f"single:{delivery_id}"
            groups.setdefault(key, Due([], channel, address, person_id)).ids.append(delivery_id)
        by_address: dict[tuple[str, str], list[Due]] = {}
        for group in groups.values():
            by_address.setdefault((group.channel, group.address), []).append(group)
        return by_address

    def _claim(self, ids: list[int]) -> list[Delivery]:
        """Take the rows still pending (another worker may have taken some)."""
        now = self.clock()
        with self.sessions.begin() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.SENDING, claimed_by=self.worker, claimed_at=now)
            )
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Delivery)
                    .where(
                        Delivery.id.in_(ids),
                        Delivery.status == DeliveryStatus.SENDING,
                        Delivery.claimed_by == self.worker,
                        Delivery.claimed_at == now,
                    )
                    .order_by(Delivery.id)
                )
            )

    async def _send_group(self, group: list[Delivery], report: SendReport) -> None:
        first = group[0]
        channel = self.channels.get(first.channel)
        recipient = Recipient(first.address, first.person_id)
        try:
            if channel is None:
                raise TransientDeliveryError(f"no channel {first.channel!r} is configured")
            receipt = await self._send(channel, recipient, group)
        except ChatMigrated as moved:
            self._migrated(group, moved.new_address)
            report.migrated += 1
        except PermanentDeliveryError as error:
            self._failed(group, error)
            report.failed += len(group)
        except TransientDeliveryError as error:
            self._retry_later(group, str(error), error.retry_after)
            report.retried += len(group)
        except Exception as error:  # a bug must not leave rows `sending` forever
            log.exception("unexpected error sending deliveries %s", [d.id for d in group])
            self._retry_later(group, f"unexpected: {error!r}", None)
            report.retried += len(group)
        else:
            self._sent(group, receipt)
            report.sent += len(group)

    async def _send(self, channel: Channel, recipient: Recipient, group: list[Delivery]) -> Receipt:
        document = next((d for d in group if d.document_path), None)
        if document is not None:
            path = Path(str(document.document_path))
            return await channel.send_document(
                recipient, Document(path.name, path.read_bytes(), document.text_html)
            )
        return await channel.send(recipient, compose(group, self._acknowledgeable(group)))

    def _acknowledgeable(self, group: Sequence[Delivery]) -> dict[int, str]:
        """Alert id → a short name ("H44.116 quá hạn"), for the alerts in `group` that
        still await acknowledgement."""
        event_ids = [d.event_id for d in group if d.event_id is not None]
        with self.sessions() as session:
            rows = session.execute(
                select(AlertEvent.alert_id, AlertEvent.kind, Alert.unit_code, Alert.topic)
                .join(Alert, Alert.id == AlertEvent.alert_id)
                .where(AlertEvent.id.in_(event_ids), Alert.acknowledged_at.is_(None))
            ).all()
        return {
            alert_id: f"{unit or ''} {TOPIC_NAMES.get(topic, topic)}".strip()
            for alert_id, kind, unit, topic in rows
            if kind in ACKNOWLEDGEABLE
        }

    def _sent(self, group: list[Delivery], receipt: Receipt) -> None:
        self._update(
            group,
            status=DeliveryStatus.SENT,
            sent_at=receipt.sent_at,
            message_ids=",".join(receipt.message_ids),
            last_error=None,
        )

    def _retry_later(self, group: list[Delivery], error: str, retry_after: float | None) -> None:
        attempts = group[0].attempts + 1
        backoff = min(dt.timedelta(seconds=30 * 2 ** (attempts - 1)), MAX_BACKOFF)
        wait = max(backoff, dt.timedelta(seconds=retry_after or 0))
        self._update(
            group,
            status=DeliveryStatus.PENDING,
            not_before=self.clock() + wait,
            last_error=error,
            attempts=attempts,
        )

    def _failed(self, group: list[Delivery], error: PermanentDeliveryError) -> None:
        first = group[0]
        with self.sessions.begin() as session:
            if error.reason.address_gone:
                _remember_address(
                    session,
                    first.person_id,
                    first.channel,
                    first.address,
                    first.address,
                    active=False,
                    reason=str(error.reason),
                )
                session.execute(
                    update(Delivery)
                    .where(
                        Delivery.person_id == first.person_id,
                        Delivery.channel == first.channel,
                        Delivery.status == DeliveryStatus.PENDING,
                    )
                    .values(status=DeliveryStatus.FAILED, last_error=str(error))
                )
            _set(
                session,
                group,
                status=DeliveryStatus.FAILED,
                last_error=str(error),
                attempts=first.attempts + 1,
            )

    def _migrated(self, group: list[Delivery], new_address: str) -> None:
        first = group[0]
        with self.sessions.begin() as session:
            _remember_address(
                session,
                first.person_id,
                first.channel,
                first.address,
                new_address,
                active=True,
                reason=f"migrated from {first.address}",
            )
            session.execute(
                update(Delivery)
                .where(
                    Delivery.person_id == first.person_id,
                    Delivery.channel == first.channel,
                    Delivery.address == first.address,
                    Delivery.status == DeliveryStatus.PENDING,
                )
                .values(address=new_address)
            )
            _set(
                session,
                group,
                status=DeliveryStatus.PENDING,
                address=new_address,
                not_before=self.clock(),
            )

    def _update(self, group: list[Delivery], **values: object) -> None:
        with self.sessions.begin() as session:
            _set(session, group, **values)


def _set(session: Session, group: list[Delivery], **values: object) -> None:
    session.execute(update(Delivery).where(Delivery.id.in_([d.id for d in group])).values(**values))


def _remember_address(
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
