"""The outbox worker: send each queued message exactly as recorded, at most once.

Pending deliveries are first composed into messages (`queueing`), one row per part.
Then, per address, its messages go one at a time, parts of one unit in order. Claim,
then act, one message at a time: inside the channel's turn for that address (its rate
limits have let the request go), the message is claimed by a conditional update
(`pending` → `sending`, committed), its one request is made, and its outcome is
committed as soon as the channel answers:

- sent: `sent`, with the channel's message id;
- transient (nothing was delivered: 429 with `retry_after`, the Bot API's own 5xx,
  a refused connection): back to `pending`, later; the unit's later parts wait;
- uncertain (a timeout after the request left, a reset, an answer not the API's):
  `uncertain` at once, never re-sent, listed by `dvcwatch status`;
- permanent (blocked, chat not found, a refused message): `failed`; when the address
  is gone it is deactivated (`channel_addresses`), which raises an operator alert;
- chat migrated: the new address is stored and the message goes back to `pending`;
- token rejected: the message goes back to `pending`, the channel is not used again
  in this pass, and one error line says where to set a new token;
- the channel could not start (its API unreachable or answering what is not the API,
  before any message was claimed): its messages stay `pending`, the channel is not used
  again in this pass, and the report counts them (`SendReport.unreached`).

So a SIGKILL can only leave in doubt the messages whose requests were in flight: they
stay `sending`, and `recover` makes them `uncertain` (at the next pass when their
sender is a dead process of this host, after the lease otherwise). They are never
re-sent: an official mutes a bot that repeats itself, and the alert's own repeat
interval notifies again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from service.channels.base import (
    Channel,
    ChannelLimits,
    ChannelUnauthorized,
    ChatMigrated,
    DeliveryError,
    Document,
    PermanentDeliveryError,
    PermanentReason,
    Receipt,
    Recipient,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from service.channels.registry import LIMITS
from service.clock import utcnow
from service.delivery import outcomes
from service.delivery.models import DeliveryStatus, OutboxMessage
from service.delivery.outcomes import Claimed
from service.delivery.queueing import Describe, message_of, queue_messages

log = logging.getLogger(__name__)
_REJECTED: weakref.WeakSet[Channel] = weakref.WeakSet()  # channels whose refusal was logged


@dataclass(frozen=True)
class Due:
    """A pending message, not yet claimed."""

    id: int
    unit_key: str
    channel: str
    address: str
    person_id: str


@dataclass
class SendReport:
    """Messages (parts) by what happened to them in one pass."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    migrated: int = 0
    uncertain: int = 0
    rejected: tuple[str, ...] = ()  # channels that rejected their token: nothing went
    #: Due parts by a channel this instance does not have (not enabled here): left for an
    #: instance that has it, and never sent if there is none.
    waiting: dict[str, int] = field(default_factory=dict)
    later: int = 0  # parts not due yet (quiet hours, a retry's wait)
    next_due: dt.datetime | None = None  # the first of them (naive UTC)
    #: Due parts left pending because their channel could not be reached in this pass
    #: (its API down, a wrong base_url), by channel, and why.
    unreached: dict[str, int] = field(default_factory=dict)
    unreached_why: dict[str, str] = field(default_factory=dict)

    def waiting_note(self) -> str | None:
        """The due parts no channel of this instance can send, or None."""
        if not self.waiting:
            return None
        counts = ", ".join(f"{n} for {name}" for name, n in sorted(self.waiting.items()))
        names = " and ".join(f"[channels.{name}]" for name in sorted(self.waiting))
        return f"message part(s) wait for a channel not enabled here: {counts} (enable {names})"

    def trouble(self) -> str | None:
        """What an operator must look at after this pass (parts that failed or may not
        have arrived, a channel whose token was rejected), or None."""
        said = [f"{self.failed} message part(s) failed"] if self.failed else []
        if self.uncertain:
            said.append(f"{self.uncertain} may not have arrived (uncertain)")
        said += [
            f"{name} rejected its bot token, nothing went through it" for name in self.rejected
        ]
        said += [
            f"{count} message part(s) not sent: {name} could not be reached "
            f"({self.unreached_why.get(name, '?')}); they stay pending"
            for name, count in sorted(self.unreached.items())
        ]
        return f"{'; '.join(said)} (see dvcwatch status)" if said else None


def _count(counts: dict[str, int], name: str, more: int) -> None:
    counts[name] = counts.get(name, 0) + more


class _Stop(Exception):
    """Nothing more goes to this address in this pass."""


class Outbox:
    """Sends the due messages through their channels (see module doc)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
        worker: str,
        clock: Callable[[], dt.datetime] = utcnow,
        lease: dt.timedelta = outcomes.SEND_LEASE,
        batch: int = 1000,
        *,
        describe: Describe,
    ) -> None:
        """`describe`: `alerts.lines.alert_lines` wherever alerts go (`queueing.Describe`)."""
        self.sessions, self.channels, self.worker = sessions, channels, worker
        self.clock, self.lease, self.batch = clock, lease, batch
        self.describe = describe
        self._stopped: set[str] = set()  # channels not used again in this pass
        self._rejected: set[str] = set()  # of them, those that rejected the token

    def recover(self) -> int:
        """Messages left `sending` by a dead sender become `uncertain` (never re-sent):
        at once when it was a process of this host that no longer runs, else once the
        lease has passed (`outcomes.stopped_senders`). Returns how many."""
        with self.sessions.begin() as session:
            recovered = outcomes.stopped_senders(session, self.clock() - self.lease)
        if recovered:
            log.warning(
                "%d messages left in flight by a stopped sender are now uncertain", recovered
            )
        return recovered

    def queue(self) -> int:
        """Compose the pending deliveries that are in no message yet (see `queueing`)."""

        def limits_of(channel: str) -> ChannelLimits | None:
            known = self.channels.get(channel)
            return known.limits if known is not None else LIMITS.get(channel)

        try:
            with self.sessions.begin() as session:
                return queue_messages(session, self.describe, limits_of)
        except IntegrityError:  # another worker queued them first
            return 0

    async def send_due(self) -> SendReport:
        """Send every message due now; returns what happened. Addresses go in parallel
        (the channels' rate limiters space them); one address's messages in order."""
        report = SendReport(uncertain=self.recover())
        self.queue()
        self._stopped.clear()
        self._rejected.clear()
        await asyncio.gather(*(self._send_to(due, report) for due in self._due().values()))
        report.rejected = tuple(sorted(self._rejected))
        report.later, report.next_due = self._later()
        return report

    def _later(self) -> tuple[int, dt.datetime | None]:
        """How many pending parts are not due yet, and when the first is."""
        with self.sessions() as session:
            count, first = session.execute(
                select(func.count(), func.min(OutboxMessage.not_before)).where(
                    OutboxMessage.status == DeliveryStatus.PENDING,
                    OutboxMessage.not_before > self.clock(),
                )
            ).one()
        return int(count), first

    def _due(self) -> dict[tuple[str, str], list[Due]]:
        """Due messages by (channel, address), oldest first, at most `batch` in all."""
        columns = (
            OutboxMessage.id,
            OutboxMessage.unit_key,
            OutboxMessage.channel,
            OutboxMessage.address,
            OutboxMessage.person_id,
        )
        with self.sessions() as session:
            rows = session.execute(
                select(*columns)
                .where(
                    OutboxMessage.status == DeliveryStatus.PENDING,
                    OutboxMessage.not_before <= self.clock(),
                )
                .order_by(OutboxMessage.id)
                .limit(self.batch)
            ).all()
        by_address: dict[tuple[str, str], list[Due]] = {}
        for row in rows:
            by_address.setdefault((row.channel, row.address), []).append(Due(*row))
        return by_address

    async def _send_to(self, messages: list[Due], report: SendReport) -> None:
        """One address's messages, one at a time; a unit whose part did not go holds
        its later parts back."""
        held_back: set[str] = set()
        for index, due in enumerate(messages):
            channel = self.channels.get(due.channel)
            if channel is None:  # not enabled here: another instance may send it
                _count(report.waiting, due.channel, len(messages))
                return
            if due.channel in self._stopped:
                if due.channel not in self._rejected:
                    _count(report.unreached, due.channel, len(messages) - index)
                return
            if due.unit_key in held_back:
                continue
            try:
                async with channel.turn(Recipient(due.address, due.person_id)):
                    message = await asyncio.to_thread(self._claim, due.id)
                    if message is None:
                        held_back.add(due.unit_key)
                        continue
                    try:
                        receipt = await _send(channel, message)
                    except Exception as error:  # noqa: BLE001 - every outcome is recorded
                        settled, stop = await self._record_failure(channel, message, error, report)
                    else:
                        settled, stop = True, False
                        await self._settle(outcomes.sent, message, receipt)
                        report.sent += 1
            except DeliveryError as error:  # the channel could not start: nothing claimed
                if not isinstance(error, ChannelUnauthorized):
                    _count(report.unreached, due.channel, len(messages) - index)
                    report.unreached_why.setdefault(due.channel, error.detail)
                await self._not_ready(channel, due.channel, error)
                return
            if not settled:
                held_back.add(due.unit_key)
            if stop:
                return

    def _claim(self, message_id: int) -> Claimed | None:
        """Take the message if it is still pending and every earlier part of its unit is
        settled (another worker may hold it, or an earlier part may be waiting)."""
        now = self.clock()
        earlier = aliased(OutboxMessage)
        unsettled = exists().where(
            earlier.unit_key == OutboxMessage.unit_key,
            earlier.part < OutboxMessage.part,
            earlier.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
        )
        with self.sessions.begin() as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == DeliveryStatus.PENDING,
                    OutboxMessage.not_before <= now,
                    ~unsettled,
                )
                .values(status=DeliveryStatus.SENDING, claimed_by=self.worker, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            return Claimed.of(session.get_one(OutboxMessage, message_id))

    async def _record_failure(
        self, channel: Channel, message: Claimed, error: Exception, report: SendReport
    ) -> tuple[bool, bool]:
        """Records a failed request; returns (settled, stop this address)."""
        now = self.clock()
        if isinstance(error, ChatMigrated):
            await self._settle(outcomes.migrated, message, error.new_address, now)
            report.migrated += 1
            return False, True
        if isinstance(error, ChannelUnauthorized):
            await self._settle(outcomes.retry_later, message, str(error), None, now, False)
            await self._not_ready(channel, message.channel, error)
            report.retried += 1
            return False, True
        if isinstance(error, PermanentDeliveryError):
            await self._settle(outcomes.failed, message, error)
            report.failed += 1
            return True, error.reason.address_gone
        if isinstance(error, TransientDeliveryError):
            await self._settle(outcomes.retry_later, message, str(error), error.retry_after, now)
            report.retried += 1
            return False, True
        if not isinstance(error, UncertainDeliveryError):  # a bug: the request may have left
            log.error("unexpected error sending message %s", message.id, exc_info=error)
        await self._settle(outcomes.uncertain, message, str(error) or repr(error))
        log.warning("message %s to %s is uncertain: %s", message.id, message.person_id, error)
        report.uncertain += 1
        return True, False

    async def _not_ready(self, channel: Channel, name: str, error: DeliveryError) -> None:
        """A channel that could not start or rejected our token is not used again in
        this pass; each is said once per channel, in one line."""
        if name in self._stopped:
            return
        self._stopped.add(name)  # before the write: the other addresses see it at once
        # for `dvcwatch status`: the channel's reason, no address's
        await self._settle(outcomes.waiting, name, error.detail, self.clock())
        if not isinstance(error, ChannelUnauthorized):
            log.warning("%s is unavailable in this pass: %s", name, error)
            return
        self._rejected.add(name)
        if channel not in _REJECTED:
            _REJECTED.add(channel)
            log.error("%s; nothing goes through %s until then", error, name)

    def _record(self, outcome: Callable[..., None], *args: object) -> None:
        with self.sessions.begin() as session:
            outcome(session, *args)

    async def _settle(self, outcome: Callable[..., None], *args: object) -> None:
        """Records an outcome in a worker thread: other addresses go on meanwhile, and the
        answers to their requests in flight are read, however long the database makes
        the write wait (SQLite's write lock, held by another process, for up to 30 s)."""
        await asyncio.to_thread(self._record, outcome, *args)


async def _send(channel: Channel, message: Claimed) -> Receipt:
    """The one request of `message` (its turn is held by the caller)."""
    recipient = Recipient(message.address, message.person_id)
    if message.document_path is None:
        return await channel.send(recipient, message_of(message.text_html, message.buttons_json))
    path = Path(message.document_path)
    try:
        content = path.read_bytes()
    except OSError as error:
        detail = f"cannot read {path}: {error.strerror or error}"
        raise PermanentDeliveryError(PermanentReason.BAD_REQUEST, detail) from None
    # "congvan-H44.116-2026-08-v1.docx", not "v1.docx": the name a person sees and saves
    name = f"{path.parent.name}-{path.name}" if path.parent.name else path.name
    return await channel.send_document(recipient, Document(name, content, message.text_html))
