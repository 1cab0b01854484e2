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
from service.scoring.decimals import changes2, round2, to_decimal
from service.scoring.effort import what_it_takes
from service.scoring.ranks import Rank, axis_average, competition_ranks, rank_change
from service.scoring.rows import identity
from service.snapshots import StoredUnit

_CHANGED = (*AXES, "TOTAL")  # the figures whose change a unit's analysis gives
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
    units by id (the last snapshot of an id counts, as the previous period) and the ranks."""

    def __init__(self, units: Sequence[StoredUnit]) -> None:
        self.units = units

    @cached_property
    def by_id(self) -> dict[int, StoredUnit]:
        return {u.unit_id: u for u in self.units}

    @cached_property
    def previous_ranks(self) -> dict[int, Rank]:
        """The ranks the next period compares with: of every unit (by id)."""
        return _ranks(list(self.by_id.values()))

    @cached_property
    def ranks(self) -> dict[int, Rank]:
        """The ranks of the units other than provinces. Sets never mix groups, so when no
        id repeats these are `previous_ranks` (provinces aside), computed once."""
        if len(self.by_id) == len(self.units):
            return self.previous_ranks
        return _ranks([u for u in self.units if u.group != "PROVINCE"])


def _analyse(data: NationalInput, period: _Period, before_period: _Period) -> list[UnitAnalysis]:
    units = [u for u in data.current if u.group != "PROVINCE"]
    before = before_period.by_id
    ranks, previous_ranks = period.ranks, before_period.previous_ranks
    below = _below_average(units)
    earlier, results = data.previous_snapshot, []
    for unit in units:
        previous = before.get(unit.unit_id)
        if previous is not None and previous.source != unit.source:
            previous = None
        rank = ranks[unit.unit_id]
        values = unit.values
        if previous is None:
            old_place = None
            total_delta = None
            axis_deltas = dict.fromkeys(AXES)
        else:
            old_rank = previous_ranks.get(unit.unit_id)
            old_place = old_rank.rank if old_rank else None
            old = previous.values
            axis_deltas = changes2(values, old, _CHANGED)
            total_delta = axis_deltas.pop("TOTAL")
        results.append(
            UnitAnalysis(
                unit=unit,
                previous=previous,
                total_delta=total_delta,
                axis_deltas=axis_deltas,
                rank=rank,
                previous_rank=old_place,
                rank_change=rank_change(old_place, rank.rank),
                below_average=tuple(below.get(unit.unit_id, ())),
                total_delta_since_snapshot=_since_snapshot(unit, earlier) if earlier else None,
            )
        )
    return sorted(results, key=_set_order)


def _set_order(result: UnitAnalysis) -> tuple[str, str, int, str]:
    unit = result.unit
    return (unit.parent_code or "", unit.group, result.rank.rank or 10**9, unit.label)


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


def _ranks(units: Sequence[StoredUnit]) -> dict[int, Rank]:
    """Ranks computed within each set; a unit whose set dvcwatch does not hold (an imported
    table with its own RANK and set size) keeps the rank it reported."""
    ranks: dict[int, Rank] = {}
    for members in _sets(units).values():
        totals = {str(u.unit_id): u.values.get("TOTAL") for u in members}
        ranks.update({int(key): rank for key, rank in competition_ranks(totals).items()})
    for unit in units:
        reported = _reported_rank(unit)
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


def _below_average(units: Sequence[StoredUnit]) -> dict[int, list[str]]:
    below: dict[int, list[str]] = defaultdict(list)
    for members in _sets(units).values():
        for axis in AXES:
            scores = {u.unit_id: v for u in members if (v := u.values.get(axis)) is not None}
            for unit_id in _below(axis, scores):
                below[unit_id].append(axis)
    return below


def _below(axis: str, scores: dict[int, float]) -> Iterable[int]:
    """The units of `axis_average(axis, scores).below`. Scores as the portal publishes them
    (floats of whole cents) are compared in cents: the average, rounded half up to a cent,
    is (2 x sum + n) // 2n of the integer sum (the decimal average, to its 28 digits, could
    round otherwise only for a set of over 10^20 units). Any other score: as decimals."""
    cents = {}
    for unit_id, score in scores.items():
        whole = round(score * 100) if type(score) is float and -1e13 < score < 1e13 else None
        if whole is None or whole / 100 != score:
            return axis_average(axis, scores).below
        cents[unit_id] = whole
    if not cents:
        return ()
    total, count = sum(cents.values()), len(cents)
    shown = (2 * abs(total) + count) // (2 * count) * (1 if total >= 0 else -1)
    return [unit_id for unit_id, whole in cents.items() if whole < shown]


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
