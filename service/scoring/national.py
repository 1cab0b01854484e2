"""The national index (766) as officials read it: changes, ranks, averages, what it takes.

Pure: takes stored snapshots (`StoredUnit`), returns plain rows (dicts)
ready for JSON, CSV, XLSX or a table. The portal's figures are shown as
stored, never re-derived. A unit is ranked within its comparison set: the
units of the same group (communes, agencies) under the same parent.
Ties share a rank and the next rank is skipped (1, 2, 2, 4). A change is
only drawn between snapshots of the same source (series).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from service import indicators
from service.figures import AXES, COUNT_CODES
from service.indicators import NATIONAL, Count
from service.scoring.changes import score_change
from service.scoring.decimals import changes2, round2, to_decimal, whole_cents
from service.scoring.effort import what_it_takes
from service.scoring.ranks import (
    Rank,
    axes_below_average,
    competition_places,
    competition_ranks,
    rank_change,
)
from service.scoring.rows import identity
from service.snapshots import StoredUnit

_CHANGED = (*AXES, "TOTAL")  # the figures whose change a unit's analysis gives
_TOTAL = len(AXES)  # the total's place in `_CHANGED` (and in a unit's `_Period.cents`)
Cents = tuple[int, ...]  # a unit's `_CHANGED` figures in whole cents
RANK_NOTE = "ties share a rank and the next rank is skipped (1, 2, 2, 4)"
#: what-it-takes indicator → (figure holding numerator/denominator, figure holding the score).
EFFORT_FIGURES = {
    indicators.TDGQ.code: ("PROCESSED_ON_TIME", indicators.TDGQ.code),
    "ONLINE_PAYMENT": ("ONLINE_PAYMENT", None),
    "SO_HOA_GIAY_TO_GIAI_QUYET": ("SO_HOA_GIAY_TO_GIAI_QUYET", "SO_HOA_GIAY_TO_GIAI_QUYET"),
    "DOSSIER_SYNC": ("DOSSIER_SYNC", "DOSSIER_SYNC"),
}


@dataclass(frozen=True)
class NationalInput:
    """The snapshots one analysis needs: this period, the previous period of the
    same kind, and (for running figures) each unit's snapshot before its latest."""

    current: Sequence[StoredUnit]
    previous_period: Sequence[StoredUnit] = ()
    previous_snapshot: Mapping[int, StoredUnit] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitAnalysis:
    """The national index's answer for one unit and period, before any formatting:
    what alert rules judge and what `unit_row` shows.

    `previous` is the previous period's snapshot only when it is comparable
    (same source); every change is None otherwise. `total_delta_since_snapshot` is,
    for running figures, the total's change since the unit's snapshot before this one.
    """

    unit: StoredUnit
    previous: StoredUnit | None
    total_delta: float | None
    axis_deltas: dict[str, float | None]
    rank: Rank
    previous_rank: int | None
    rank_change: int | None
    below_average: tuple[str, ...]
    total_delta_since_snapshot: float | None = None

    @property
    def total(self) -> float | None:
        return self.unit.values.get("TOTAL")

    def count(self, count: Count) -> int | None:
        """The unit's number of `count` (None: no data)."""
        return _count(self.unit.values.get(count.code))


def analyse(data: NationalInput) -> list[UnitAnalysis]:
    """Changes, ranks and averages of every unit (provinces excluded), in rank order
    within each set (sets by parent and group); no formatting."""
    return _analyse(data, _Period(data.current), _Period(data.previous_period))


def analyse_periods(periods: Iterable[Sequence[StoredUnit]]) -> Iterator[list[UnitAnalysis]]:
    """`analyse` of each period against the one before it (the first against none): a
    history in one pass. Each period is ranked once: the ranks it got as the current period
    are the previous ranks of the next one. Only the period before is held."""
    before = _Period(())
    for units in periods:
        current = _Period(units)
        yield _analyse(NationalInput(units, before.units), current, before)
        before = current


class _Period:
    """One period's snapshots as an analysis reads them, each part computed once: the
    units by id (the last snapshot of an id counts, as the previous period), their sets,
    their figures in whole cents and the ranks. A period is analysed as the current one,
    then read again as the previous one of the next."""

    def __init__(self, units: Sequence[StoredUnit]) -> None:
        self.units = units

    @cached_property
    def by_id(self) -> dict[int, StoredUnit]:
        return {u.unit_id: u for u in self.units}

    @cached_property
    def unique(self) -> bool:
        """No id repeats: `by_id`, `sets` and `cents` hold every unit."""
        return len(self.by_id) == len(self.units)

    @cached_property
    def sets(self) -> dict[tuple[int | None, str], list[StoredUnit]]:
        """The comparison sets of the units by id (provinces in sets of their own)."""
        return _sets(list(self.by_id.values()))

    @cached_property
    def cents(self) -> dict[int, Cents | None]:
        """Each unit's (by id) `_CHANGED` figures in whole cents, None where one is not a
        published figure (`whole_cents`): the integers ranks, averages and changes take
        where every figure they read has them, and decimals take otherwise."""
        return {unit_id: whole_cents(u.values, _CHANGED) for unit_id, u in self.by_id.items()}

    @cached_property
    def previous_ranks(self) -> dict[int, Rank]:
        """The ranks the next period compares with: of every unit (by id)."""
        return _ranks(list(self.by_id.values()), self.sets.values(), self.cents)

    @cached_property
    def ranks(self) -> dict[int, Rank]:
        """The ranks of the units other than provinces. Sets never mix groups, so when no
        id repeats these are `previous_ranks` (provinces aside), computed once."""
        if self.unique:
            return self.previous_ranks
        units = [u for u in self.units if u.group != "PROVINCE"]
        return _ranks(units, _sets(units).values(), {})


def _analyse(data: NationalInput, period: _Period, before_period: _Period) -> list[UnitAnalysis]:
    units = [u for u in data.current if u.group != "PROVINCE"]
    before, before_cents = before_period.by_id, before_period.cents
    ranks, previous_ranks = period.ranks, before_period.previous_ranks
    if period.unique:  # the period's sets and cents are those of `units` (and provinces)
        cents = period.cents
        sets = [members for (_, group), members in period.sets.items() if group != "PROVINCE"]
    else:
        cents, sets = {}, list(_sets(units).values())
    below = axes_below_average(sets, cents)
    earlier, results, order = data.previous_snapshot, [], []
    for unit in units:
        unit_id = unit.unit_id
        previous = before.get(unit_id)
        if previous is not None and previous.source != unit.source:
            previous = None
        rank = ranks[unit_id]
        axis_deltas: dict[str, float | None]
        if previous is None:
            old_place = None
            total_delta = None
            axis_deltas = dict.fromkeys(AXES)
        else:
            old_rank = previous_ranks.get(unit_id)
            old_place = old_rank.rank if old_rank else None
            now, old = cents.get(unit_id), before_cents.get(unit_id)
            if now and old:  # whole cents: a change needs no rounding (`whole_cents`)
                total_delta = (now[_TOTAL] - old[_TOTAL]) / 100
                axis_deltas = {  # the axes: `now` and `old` end with the total
                    axis: (a - b) / 100 for axis, a, b in zip(AXES, now, old, strict=False)
                }
            else:
                axis_deltas = changes2(unit.values, previous.values, _CHANGED)
                total_delta = axis_deltas.pop("TOTAL")
        order.append((unit.parent_code or "", unit.group, rank.rank or 10**9, unit.label))
        results.append(
            UnitAnalysis(
                unit=unit,
                previous=previous,
                total_delta=total_delta,
                axis_deltas=axis_deltas,
                rank=rank,
                previous_rank=old_place,
                rank_change=rank_change(old_place, rank.rank),
                below_average=tuple(below.get(unit_id, ())),
                total_delta_since_snapshot=_since_snapshot(unit, earlier) if earlier else None,
            )
        )
    # in rank order within each set: parent, group, rank (unranked last), label
    return [results[i] for i in sorted(range(len(results)), key=order.__getitem__)]


def national_rows(data: NationalInput, scale: int = 100) -> list[dict[str, Any]]:
    """One row per unit (provinces excluded), in rank order within each set."""
    rows = []
    for result in analyse(data):
        row = unit_row(result.unit, result, scale)
        row["total_delta_since_snapshot"] = result.total_delta_since_snapshot
        row["what_it_takes"] = what_it_takes_rows(result.unit)
        rows.append(row)
    return rows


def unit_row(
    unit: StoredUnit, result: UnitAnalysis | None = None, scale: int = 100
) -> dict[str, Any]:
    """Identity, the portal's total, the six axes with changes, ranks and counts."""
    values = unit.values
    total = values.get("TOTAL")
    axes = {}
    for code, maximum in AXES.items():
        figure = unit.figures.get(code)
        axes[code] = {
            "score": values.get(code),
            "max": figure.max_value if figure and figure.max_value is not None else maximum,
            "delta": result.axis_deltas[code] if result else None,
        }
    rank = result.rank if result else None
    return identity(unit, NATIONAL) | {
        "total": total,
        "max": scale,
        "converted": round2(to_decimal(total) * scale / 100) if total is not None else None,
        "class": None,
        "total_delta": result.total_delta if result else None,
        "rank": rank.rank if rank else None,
        "rank_of": rank.rank_of if rank else None,
        "rank_tied": rank.tied if rank else False,
        "rank_note": RANK_NOTE,
        "previous_rank": result.previous_rank if result else None,
        "rank_change": result.rank_change if result else None,
        "axes": axes,
        "counts": {key: _count(values.get(code)) for key, code in COUNT_CODES.items()},
        "below_average": list(result.below_average) if result else [],
        "mismatches": [],
        "not_applicable": [],
    }


def what_it_takes_rows(unit: StoredUnit) -> list[dict[str, Any]]:
    """More dossiers for the next 0.1 point and for the full mark (an estimate)."""
    rows = []
    for indicator, (counts_code, score_code) in EFFORT_FIGURES.items():
        figure = unit.figures.get(counts_code)
        if figure is None or not figure.denominator:
            continue
        effort = what_it_takes(
            indicator,
            int(figure.numerator) if figure.numerator is not None else None,
            int(figure.denominator),
            unit.values.get(score_code) if score_code else None,
        )
        if effort.for_step:
            rows.append(
                {
                    "indicator": indicator,
                    "more_dossiers_for_next_step": effort.for_step,
                    "step": effort.step,
                    "more_dossiers_for_full_mark": effort.for_full_mark,
                    "counts": effort.counts,
                    "formula": effort.formula,
                    "estimate": True,
                }
            )
    return rows


def _ranks(
    units: Sequence[StoredUnit],
    sets: Iterable[Sequence[StoredUnit]],
    cents: Mapping[int, Cents | None],
) -> dict[int, Rank]:
    """Ranks computed within each set of `units` (`sets`); a unit whose set dvcwatch does
    not hold (an imported table with its own RANK and set size) keeps the rank it reported.
    A set whose ids are all in `cents` (none repeats) is ranked on the integers."""
    ranks: dict[int, Rank] = {}
    for members in sets:
        totals = [row[_TOTAL] for u in members if (row := cents.get(u.unit_id))]
        if len(totals) == len(members):
            places = competition_places(totals)
            ranks.update(
                {
                    u.unit_id: Rank(str(u.unit_id), u.values["TOTAL"], place, len(totals), tied)
                    for u, (place, tied) in zip(members, places, strict=True)
                }
            )
            continue
        named = {str(u.unit_id): u.values.get("TOTAL") for u in members}
        ranks.update({int(key): rank for key, rank in competition_ranks(named).items()})
    for unit in units:
        reported = _reported_rank(unit) if "RANK" in unit.figures else None
        if reported is None:
            continue
        held = ranks[unit.unit_id].rank_of or 0
        if held <= 1 or (reported.rank_of or 0) > held:
            ranks[unit.unit_id] = reported
    return ranks


def _reported_rank(unit: StoredUnit) -> Rank | None:
    figure = unit.figures.get("RANK")
    if figure is None or figure.kind != "reported" or figure.value is None:
        return None
    of = int(figure.max_value) if figure.max_value is not None else None
    return Rank(str(unit.unit_id), unit.values.get("TOTAL"), int(figure.value), of, False)


def _sets(units: Sequence[StoredUnit]) -> dict[tuple[int | None, str], list[StoredUnit]]:
    sets: dict[tuple[int | None, str], list[StoredUnit]] = defaultdict(list)
    for unit in units:
        sets[(unit.parent_id, unit.group)].append(unit)
    return sets


def _since_snapshot(unit: StoredUnit, earlier: Mapping[int, StoredUnit]) -> float | None:
    """For running figures: the total's change since the snapshot before this one."""
    before = earlier.get(unit.unit_id)
    if unit.completeness != "running" or before is None or before.source != unit.source:
        return None
    return score_change(unit.values.get("TOTAL"), before.values.get("TOTAL"))


def _count(value: float | None) -> int | None:
    return int(value) if value is not None else None
