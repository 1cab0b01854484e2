"""Queueing what people must be told: the one way a line becomes `Delivery` rows.

Alerts (an event: a fired, changed, repeated, resolved or escalated alert, or a
summary) and notices (a written document) both call `queue`, which for each person
takes the address delivery last learnt (`current_address`: an address delivery gave
up, blocked or gone, gets nothing: the operator alert `delivery_failed` covers it),
keys the row by one scheme (`delivery_key`) and adds it once: a key already stored is
not queued again, so a re-run of the same evaluation or notice adds nothing.

The key is `<subject>:<person>:<channel>`, the subject naming what is told:
`event:<event id>` for an alert's event, `notice:<kind>:<unit>:<period>:v<version>`
for a notice. These are the strings the deliveries of earlier versions carry, byte
for byte, so a database written before this module existed is re-run without a
second message.

Who is told is the directory's to say (`directory.recipients`); a notice's unit finds
its province through its parent in the units table (`province_of`), as an alert's
finding does, never by cutting its code.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.delivery.directory import Directory, Person, recipients
from service.delivery.models import ChannelAddress, Delivery
from service.models import Unit
from service.shared_rows import chunks

log = logging.getLogger(__name__)


class Addressee(Protocol):
    """Whom a delivery goes to: a directory `Person`, or a summary's recipient."""

    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def address(self) -> str: ...


@dataclass(frozen=True)
class Told:
    """What one `queue` call tells every recipient: its key's `subject` (see module doc),
    the line, the unit it is about, and the alert's event or the notice's file."""

    subject: str
    text_html: str
    unit_label: str = ""
    event_id: int | None = None
    alert_id: int | None = None
    document_path: str | None = None


def event_subject(event_id: int) -> str:
    return f"event:{event_id}"


def notice_subject(scope: str, period: str, version: int) -> str:
    """`scope` is the notice job's (`jobs.plan.notice_scope`: "congvan:H44.116")."""
    return f"notice:{scope}:{period}:v{version}"


def delivery_key(subject: str, person_id: str, channel: str) -> str:
    """The one idempotency key of a delivery: what is told × person × channel."""
    return f"{subject}:{person_id}:{channel}"


def digest_key(person: str, channel: str, now: dt.datetime) -> str:
    """What groups a person's deliveries of one evaluation into one message."""
    return f"{person}:{channel}:{now.isoformat()}"


def queue(
    session: Session,
    people: Iterable[Addressee],
    told: Told,
    not_before: dt.datetime,
    now: dt.datetime,
    digest: bool = False,
) -> list[Delivery]:
    """One `Delivery` of `told` per person (see module doc): none to an address delivery
    gave up, none whose key is already stored. `digest` groups each person's lines of
    this `now` into one message. Returns the rows added."""
    return queue_all(session, [(tuple(people), told, not_before)], now, digest)


Telling = tuple[Sequence[Addressee], Told, dt.datetime]  # whom, what, not before when


def queue_all(
    session: Session, batch: Sequence[Telling], now: dt.datetime, digest: bool = False
) -> list[Delivery]:
    """`queue` of each (people, told, not_before) of `batch`, in a few statements
    whatever its size: the addresses and the stored keys are read at once, the rows
    flushed at once. Returns the rows added, in the batch's order."""
    everyone = [person for people, _, _ in batch for person in people]
    addresses = _current_addresses(session, everyone)
    keyed = [
        (delivery_key(told.subject, person.id, person.channel), person, told, not_before)
        for people, told, not_before in batch
        for person in people
    ]
    taken = _stored(session, [key for key, _, _, _ in keyed])
    added: list[Delivery] = []
    for key, person, told, not_before in keyed:
        address = addresses[(person.id, person.channel, person.address)]
        if address is None:  # the delivery_failed operator alert covers it
            log.info("%s not queued to %s: the address is deactivated", told.subject, person.id)
            continue
        if key in taken:
            continue
        taken.add(key)
        added.append(_delivery(key, told, person, address, not_before, now, digest))
    session.add_all(added)
    session.flush()
    return added


def _delivery(
    key: str,
    told: Told,
    person: Addressee,
    address: str,
    not_before: dt.datetime,
    now: dt.datetime,
    digest: bool,
) -> Delivery:
    return Delivery(
        idempotency_key=key,
        event_id=told.event_id,
        alert_id=told.alert_id,
        person_id=person.id,
        channel=person.channel,
        address=address,
        unit_label=told.unit_label,
        text_html=told.text_html,
        document_path=told.document_path,
        digest_key=digest_key(person.id, person.channel, now) if digest else None,
        not_before=not_before,
        created_at=now,
    )


def current_address(session: Session, person: Addressee) -> str | None:
    """The person's address as delivery last learnt it (migrated, or None if dead)."""
    return _current_addresses(session, [person])[(person.id, person.channel, person.address)]


def _current_addresses(
    session: Session, people: Sequence[Addressee]
) -> dict[tuple[str, str, str], str | None]:
    """`current_address` of each person, keyed by (id, channel, directory address)."""
    learnt: dict[tuple[str, str], ChannelAddress] = {}
    for ids in chunks(sorted({person.id for person in people})):
        rows = session.scalars(select(ChannelAddress).where(ChannelAddress.person_id.in_(ids)))
        learnt.update({(row.person_id, row.channel): row for row in rows})
    found: dict[tuple[str, str, str], str | None] = {}
    for person in people:
        row = learnt.get((person.id, person.channel))
        if row is None or row.from_address != person.address:
            found[(person.id, person.channel, person.address)] = person.address
        else:
            found[(person.id, person.channel, person.address)] = row.address if row.active else None
    return found


def unit_recipients(
    session: Session, directory: Directory, unit_code: str, topic: str
) -> tuple[Person, ...]:
    """Who hears about `unit_code` on `topic`: the directory's recipients, the unit's
    province found through its parent (`province_of`)."""
    return recipients(directory, unit_code, province_of(session, unit_code), topic)


def province_of(session: Session, unit_code: str) -> str | None:
    """The code of the set `unit_code` belongs to, as stored: its parent's code (the
    province of a portal unit, the district of an imported tt01 office), or its own
    code when it has no parent (a province, a set's head); None for an unknown unit.
    The unit seen last wins where two rows share a code."""
    parent = aliased(Unit)
    row = session.execute(
        select(Unit.parent_id, parent.code)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(Unit.code == unit_code)
        .order_by(Unit.last_seen.desc(), Unit.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    parent_id, parent_code = row
    return parent_code if parent_id is not None else unit_code


def _stored(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of `keys` a stored delivery already has."""
    found: set[str] = set()
    for chunk in chunks(sorted(set(keys))):
        query = select(Delivery.idempotency_key).where(Delivery.idempotency_key.in_(chunk))
        found.update(session.scalars(query))
    return found
