"""The generated country's counts: dossiers, petitions and procedures per unit and month.

Each month draws a unit's counts around its habits (`service.simulator.country`)
from the seed, the unit and the month, so figures drift from month to month
(a quiet month repeats the one before), and a quarter or a year is the sum of
its months.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import reduce
from random import Random
from typing import ClassVar, TypeVar

from service.periods import Period
from service.simulator.country import Department, Habits, Province
from service.simulator.queries import months_of

QUIET_PERCENT = 15  # share of unit-months that repeat the month before


@dataclass(frozen=True)
class Tally:
    """A unit's dossiers, petitions and procedures over a period (see `plus`)."""

    LATEST: ClassVar[frozenset[str]] = frozenset(
        {"formalities", "citizen_formalities", "fee_formalities", "fee_integrated"}
    )
    PEAK: ClassVar[frozenset[str]] = frozenset({"fee_paid_formalities"})
    received: int = 0
    on_time: int = 0
    overdue: int = 0
    processing_days: float = 0.0
    online: int = 0
    postal: int = 0
    clgq_points: float = 0.0  # CLGQ score times dossiers, so periods average by volume
    fee_obligation: int = 0
    paid_online: int = 0
    synced: int = 0
    satisfied: int = 0
    e_result: int = 0
    digitised: int = 0
    reused: int = 0
    storage: int = 0
    citizen: int = 0
    petitions: int = 0
    petitions_on_time: int = 0
    petitions_satisfied: int = 0
    petitions_tthc: int = 0
    petitions_staff: int = 0
    formalities: int = 0
    citizen_formalities: int = 0
    fee_formalities: int = 0
    fee_integrated: int = 0
    fee_paid_formalities: int = 0


@dataclass(frozen=True)
class Catalogue:
    """A province's procedures: publication, online provision, fee procedures."""

    LATEST: ClassVar[frozenset[str]] = frozenset(
        {
            "content_full",
            "content_total",
            "authority",
            "full",
            "partial",
            "online_dossiers",
            "online_services",
            "formalities",
            "citizen_formalities",
            "fee_formalities",
            "fee_integrated",
            "fee_paid_formalities",
        }
    )
    PEAK: ClassVar[frozenset[str]] = frozenset()
    publish_done: int
    publish_due: int
    update_done: int
    update_due: int
    content_full: int
    content_total: int
    authority: int
    full: int
    partial: int
    online_dossiers: int
    online_services: int
    formalities: int
    citizen_formalities: int
    fee_formalities: int
    fee_integrated: int
    fee_paid_formalities: int


Counts = TypeVar("Counts", Tally, Catalogue)


def plus(earlier: Counts, later: Counts) -> Counts:
    """Counts of two successive spans: flows add, LATEST fields are the later, PEAK the larger."""
    values = {}
    for name, before in vars(earlier).items():
        after = getattr(later, name)
        values[name] = (
            after
            if name in later.LATEST
            else max(before, after)
            if name in later.PEAK
            else before + after
        )
    return replace(later, **values)


def _part(rng: Random, whole: int, share: float) -> int:
    """About `share` of `whole`; a perfect share stays perfect, so some figures hold still."""
    if share >= 1.0:
        return whole
    return round(whole * min(1.0, max(0.0, share + rng.uniform(-0.03, 0.03))))


def _month_rng(seed: int, code: str, year: int, month: int) -> Random:
    index = year * 12 + month - 1
    while zlib.crc32(f"{seed}:{code}:{index}".encode()) % 100 < QUIET_PERCENT:
        index -= 1
    return Random(f"{seed}:{code}:{index}")


def month_tally(habits: Habits, rng: Random) -> Tally:
    """One month of a unit's counts, drawn around its habits."""
    received = round(habits.volume * rng.uniform(0.8, 1.2))
    on_time = _part(rng, received, habits.on_time)
    late = received - on_time
    online = _part(rng, received, habits.online)
    obligation = _part(rng, received, habits.fee_share)
    petitions = round(habits.petitions * rng.uniform(0.0, 2.0))
    tthc = _part(rng, petitions, 0.7)
    fee_formalities = habits.fee_formalities
    return Tally(
        received=received,
        on_time=on_time,
        overdue=late - round(late * habits.pending),
        processing_days=received * habits.days * rng.uniform(0.85, 1.15),
        online=online,
        postal=min(received - online, _part(rng, received, 0.005)),
        clgq_points=received * min(12.0, max(0.0, habits.clgq + rng.uniform(-0.4, 0.4))),
        fee_obligation=obligation,
        paid_online=_part(rng, obligation, habits.pays_online),
        synced=_part(rng, received, habits.syncs),
        satisfied=_part(rng, received, habits.satisfied),
        e_result=_part(rng, received, habits.e_result),
        digitised=_part(rng, received, habits.digitised),
        reused=_part(rng, received, habits.reused),
        storage=_part(rng, received, habits.storage),
        citizen=_part(rng, received, habits.citizen),
        petitions=petitions,
        petitions_on_time=_part(rng, petitions, 0.9),
        petitions_satisfied=_part(rng, petitions, 0.85),
        petitions_tthc=tthc,
        petitions_staff=petitions - tthc,
        formalities=habits.formalities,
        citizen_formalities=round(habits.formalities * habits.citizen_formalities),
        fee_formalities=fee_formalities,
        fee_integrated=round(fee_formalities * habits.fee_integrated),
        fee_paid_formalities=_part(rng, fee_formalities, habits.fee_paid),
    )


def month_catalogue(seed: int, province: Province, year: int, month: int) -> Catalogue:
    """One month of a province's procedure figures."""
    usual = Random(f"{seed}:{province.department.code}:catalogue")
    rng = Random(f"{seed}:{province.department.code}:catalogue:{year}-{month}")
    authority, services, formalities = (
        usual.randint(40, 120),
        usual.randint(1500, 2200),
        usual.randint(1100, 1500),
    )
    full = _part(rng, authority, usual.uniform(0.2, 0.5))
    fees = usual.randint(250, 350)
    # Some months publish nothing new: the portal shows no ratio and no points then.
    publish_due, update_due = (0 if rng.random() < 0.08 else rng.randint(3, 40) for _ in "ab")
    content_total = usual.randint(80, 120)
    return Catalogue(
        publish_done=_part(rng, publish_due, usual.uniform(0.75, 1.0)),
        publish_due=publish_due,
        update_done=_part(rng, update_due, usual.uniform(0.75, 1.0)),
        update_due=update_due,
        content_full=_part(rng, content_total, 0.97),
        content_total=content_total,
        authority=authority,
        full=full,
        partial=_part(rng, authority - full, usual.uniform(0.6, 0.9)),
        online_dossiers=_part(rng, services, usual.uniform(0.15, 0.4)),
        online_services=services,
        formalities=formalities,
        citizen_formalities=_part(rng, formalities, 0.25),
        fee_formalities=fees,
        fee_integrated=_part(rng, fees, usual.uniform(0.1, 0.6)),
        fee_paid_formalities=_part(rng, fees, usual.uniform(0.2, 0.5)),
    )


def total_of(tallies: Sequence[Tally]) -> Tally:
    """Every count summed over several units (procedure counts too: a total has no LATEST)."""
    return Tally(*map(sum, zip(*(vars(tally).values() for tally in tallies), strict=True)))


@dataclass(frozen=True)
class Figures:
    """One province's counts over one period, and per month for the charts."""

    province: Province
    units: tuple[Tally, ...]  # aligned with province.units
    total: Tally  # all units plus the province's own petitions
    catalogue: Catalogue
    months: tuple[tuple[int, Tally, Catalogue], ...]  # (month, total, catalogue)

    def members(self) -> list[tuple[int, Department, Tally]]:
        """(row number `stt` from 1, unit, its counts) for every unit, in the portal's order."""
        return [
            (stt, unit.department, tally)
            for stt, (unit, tally) in enumerate(
                zip(self.province.units, self.units, strict=True), start=1
            )
        ]


def province_figures(seed: int, province: Province, period: Period) -> Figures:
    """Counts of every unit of `province` over `period`: the sum of its months."""
    members = [(unit.department.code, unit.habits) for unit in province.units]
    members.append((province.department.code, province.office))
    months = months_of(period)
    columns = [
        [
            month_tally(habits, _month_rng(seed, code, period.year, month))
            for code, habits in members
        ]
        for month in months
    ]
    catalogues = [month_catalogue(seed, province, period.year, month) for month in months]
    units = tuple(reduce(plus, row) for row in zip(*columns, strict=True))
    monthly = zip(months, map(total_of, columns), catalogues, strict=True)
    return Figures(province, units[:-1], total_of(units), reduce(plus, catalogues), tuple(monthly))
