"""The staff directory: who hears about which unit's alerts, and who is above them.

Changing staff is editing the directory (`config/directory.toml`, or a CSV
export of the same table), never the rules. Each person covers units (codes
such as `H44.116`, or `*` for every unit) and topics (the rules' topics such
as `overdue`, or `*` for every topic). Each unit may have a head and each
province an office; a fallback person takes what nobody else covers; operator
alerts (about the data, not a unit) go to the operators.

This module is the model and the routing; reading the files is
`directory_files.py`. A `Directory` checks itself when built, and routing
(`recipients`, `escalation_targets`, `find_by_address`) and who answers for
what (`coverage`, for the bot's doors) are pure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from service.channels.registry import KINDS
from service.config import ConfigError

OPERATOR_TOPIC = "operator"
EVERYTHING = "*"


class DirectoryError(ConfigError):
    """The staff directory is unusable; the message names the file, person and field."""


@dataclass(frozen=True)
class Person:
    """Someone who receives alerts at one channel address (a Telegram chat id, or console)."""

    id: str
    name: str
    role: str
    units: frozenset[str]
    topics: frozenset[str]
    channel: str
    address: str
    active: bool = True

    def covers(self, unit_code: str | None, topic: str) -> bool:
        """True when the unit (`*` covers any, even none) and the topic are this person's."""
        unit = EVERYTHING in self.units or (unit_code is not None and unit_code in self.units)
        return unit and (EVERYTHING in self.topics or topic in self.topics)


@dataclass(frozen=True)
class Directory:
    """People, in their listed order, and the roles that route around gaps.

    `heads` maps a unit code to the id of the person heading it, `offices` a
    province code to its office's person id (both kept read-only).
    Construction checks that ids are unique, that every reference names a
    listed person and that no two active people share a Telegram chat; it
    raises `DirectoryError` otherwise. Inactive people may be referenced:
    routing skips them.
    """

    people: tuple[Person, ...]
    heads: Mapping[str, str] = field(default_factory=dict)
    offices: Mapping[str, str] = field(default_factory=dict)
    fallback: str | None = None
    operators: tuple[str, ...] = ()
    _by_id: Mapping[str, Person] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Person] = {}
        for person in self.people:
            if person.id in by_id:
                raise DirectoryError(f"people: id {person.id!r} is listed twice")
            by_id[person.id] = person
        object.__setattr__(self, "heads", MappingProxyType(dict(self.heads)))
        object.__setattr__(self, "offices", MappingProxyType(dict(self.offices)))
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))
        references = [(f'heads."{unit}"', pid) for unit, pid in self.heads.items()]
        references += [(f'offices."{code}"', pid) for code, pid in self.offices.items()]
        references += [(f"operators[{n}]", pid) for n, pid in enumerate(self.operators)]
        references += [("fallback", self.fallback)] if self.fallback is not None else []
        for key, person_id in references:
            if person_id not in by_id:
                raise DirectoryError(f"{key}: no person has the id {person_id!r}")
        _check_chats(self.people)

    def person(self, person_id: str | None) -> Person | None:
        """The listed person with this id, active or not."""
        return self._by_id.get(person_id) if person_id is not None else None


def recipients(
    directory: Directory, unit_code: str | None, province_code: str | None, topic: str
) -> tuple[Person, ...]:
    """Who receives an alert on `topic` about a unit, in directory order, without duplicates.

    The active people covering the unit and the topic; when there are none,
    the unit's head, else the province's office, else the fallback, whatever
    their own units and topics. The operator topic goes to the active
    operators, else the fallback. An alert about no unit (`unit_code` None) is
    covered only by people with `*` units. Empty when nobody active is left.
    """
    if topic == OPERATOR_TOPIC:
        operators = tuple(dict.fromkeys(_active(directory, directory.operators)))
        return operators or tuple(_active(directory, [directory.fallback]))
    covering = tuple(p for p in directory.people if p.active and p.covers(unit_code, topic))
    if covering:
        return covering
    chain = [*_superiors(directory, unit_code, province_code), directory.fallback]
    return tuple(_active(directory, chain))[:1]


def escalation_targets(
    directory: Directory, unit_code: str | None, province_code: str | None, level: int
) -> tuple[Person, ...]:
    """Who an unacknowledged alert goes to at escalation `level` (1, 2, ...).

    The chain is the unit's head, then the province's office, leaving out
    missing and inactive people and anyone already in the chain: with no
    active head, level 1 is the office; when head and office are one person,
    there is no level 2. Empty past the end of the chain (the fallback is not
    in it). Raises `ValueError` for a level below 1.
    """
    if level < 1:
        raise ValueError(f"escalation levels start at 1, got {level}")
    chain = list(dict.fromkeys(_active(directory, _superiors(directory, unit_code, province_code))))
    return (chain[level - 1],) if level <= len(chain) else ()


def find_by_address(directory: Directory, channel: str, address: str) -> Person | None:
    """The active person reached at this channel address (for the bot), or None."""
    for person in directory.people:
        if person.active and person.channel == channel and person.address == address:
            return person
    return None


@dataclass(frozen=True)
class Coverage:
    """What one person answers for: units by code (`*`: every unit), whole provinces
    (every unit whose province, or own code, is one of them), and, for operators, the
    alerts about the data itself."""

    units: frozenset[str] = frozenset()
    provinces: frozenset[str] = frozenset()
    operator: bool = False

    def includes(self, unit_code: str | None, province_code: str | None) -> bool:
        """True when the unit (of that province) is this person's to see and to answer
        for; an alert about no unit is an operator's (or a `*` person's)."""
        if EVERYTHING in self.units:
            return True
        if unit_code is None:
            return self.operator or (province_code is not None and province_code in self.provinces)
        return (
            unit_code in self.units
            or unit_code in self.provinces
            or (province_code is not None and province_code in self.provinces)
        )


def coverage(directory: Directory, person: Person, watched: Collection[str] = ()) -> Coverage:
    """Who covers what: a unit's people their units, a head the units they head, a
    province's office its province, an operator and the fallback the `watched` provinces
    (the ones this dvcwatch syncs: the fallback may hear about any of their units, and
    its summaries point to `/status <mã>`). An inactive person covers nothing."""
    if not person.active:
        return Coverage()
    headed = {unit for unit, head in directory.heads.items() if head == person.id}
    provinces = {code for code, office in directory.offices.items() if office == person.id}
    operator = person.id in directory.operators
    if operator or person.id == directory.fallback:
        provinces |= set(watched)
    return Coverage(frozenset(person.units | headed), frozenset(provinces), operator)


def _superiors(
    directory: Directory, unit_code: str | None, province_code: str | None
) -> list[str | None]:
    """The ids of the unit's head and the province's office (None where there is none)."""
    head = directory.heads.get(unit_code) if unit_code else None
    return [head, directory.offices.get(province_code) if province_code else None]


def _active(directory: Directory, person_ids: Iterable[str | None]) -> Iterator[Person]:
    """The active people among these ids, in order, skipping missing ones."""
    for person_id in person_ids:
        person = directory.person(person_id)
        if person is not None and person.active:
            yield person


def _check_chats(people: Iterable[Person]) -> None:
    owners: dict[tuple[str, str], str] = {}
    for person in people:
        # A console address is only a label, but a chat must lead back to one person.
        kind = KINDS.get(person.channel)
        if not person.active or kind is None or not kind.chats:
            continue
        key = (person.channel, person.address)
        if key in owners:
            raise DirectoryError(
                f"people: {owners[key]!r} and {person.id!r} share the {kind.title} "
                f"chat {person.address!r}: give a shared chat a single entry"
            )
        owners[key] = person.id
