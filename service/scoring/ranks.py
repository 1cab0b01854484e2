"""Ranks within a comparison set, rank changes, and the set's averages.

A comparison set is the units ranked together: a province's communes, or
(before the 2025 reform) one district's communes ("xếp hạng 03/23").
Ranking is competition ranking ("1, 2, 2, 4"): tied units share a rank and
the ranks they would have taken are skipped.

Totals are compared after rounding half up to 2 decimals, as decimals:
the portal and the provincial reports publish 2 decimals, so two units
shown as 88.89 are tied for the people reading the table even if the
unrounded values differ in the fourth decimal; ranking them apart would
contradict the published page. Computed totals come as exact decimal sums
(`schemes`, `tt01`), so totals equal as decimals tie whatever order their
points were added in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, NamedTuple, TypeVar

from service.figures import AXES
from service.scoring.decimals import Number, round_half_up, to_decimal
from service.snapshots import StoredUnit


class Rank(NamedTuple):
    """A unit's place in its comparison set.

    `rank` is None for a unit without a total (it is not ranked and is not
    counted in `rank_of`, the number of ranked units). `tied` is True when
    at least one other unit shares the rank. (A named tuple: one is made for
    every unit of every month a history analyses, and it is cheap to build.)
    """

    unit: str
    total: Number | None
    rank: int | None
    rank_of: int | None  # None: a reported rank whose set size is unknown
    tied: bool


def competition_ranks(totals: Mapping[str, Number | None]) -> dict[str, Rank]:
    """Rank every unit of `totals` (unit → total, None = no data).

    Returns unit → Rank in rank order, tied units in the order `totals`
    lists them, unranked units last.
    """
    published = {unit: round_half_up(total) for unit, total in totals.items() if total is not None}
    # highest first; a stable sort, so tied units keep their order even reversed
    ranked_units = sorted(published, key=published.__getitem__, reverse=True)
    sharing = Counter(published.values())
    first_position: dict[Decimal, int] = {}
    for position, unit in enumerate(ranked_units, start=1):
        first_position.setdefault(published[unit], position)
    ranks = {
        unit: Rank(
            unit,
            totals[unit],
            first_position[published[unit]],
            len(published),
            sharing[published[unit]] > 1,
        )
        for unit in ranked_units
    }
    for unit, total in totals.items():
        if total is None:
            ranks[unit] = Rank(unit, None, None, len(published), False)
    return ranks


def competition_places(cents: Sequence[int]) -> list[tuple[int, bool]]:
    """Each total's place and whether another total shares it, in the order given, for
    totals already rounded to whole cents: `competition_ranks` without decimals, for the
    totals of a set that are all published figures (`decimals.whole_cents`)."""
    first_position: dict[int, int] = {}
    for position, total in enumerate(sorted(cents, reverse=True), start=1):
        first_position.setdefault(total, position)
    sharing = Counter(cents)
    return [(first_position[total], sharing[total] > 1) for total in cents]


def rank_change(previous_rank: int | None, current_rank: int | None) -> int | None:
    """Places gained since the previous period: positive when the unit moved
    up (21st → 3rd is +18, "tăng 18 bậc"), negative when it fell, None when
    either rank is missing."""
    if previous_rank is None or current_rank is None:
        return None
    return previous_rank - current_rank


K = TypeVar("K")  # how units are named: a code, an id


@dataclass(frozen=True)
class AxisAverage(Generic[K]):
    """The comparison set's average on one axis, over the units that have a
    score on it, and the units below it (in the order they were given)."""

    axis: str
    average: Decimal | None  # exact (to 28 digits): the sum of the decimals over the count
    units_counted: int
    below: tuple[K, ...]


def province_averages(
    scores: Mapping[str, Mapping[str, Number | None]],
) -> dict[str, AxisAverage[str]]:
    """Average of each axis over a comparison set, and who is below it.

    `scores` maps unit → axis → score (None or absent = no data; such a unit
    neither counts in the average nor is listed below it). A unit is below
    when its score, rounded to 2 decimals, is under the average rounded to 2
    decimals (both half up, as decimals): the comparison people can check
    on the published figures.
    """
    axes = list(dict.fromkeys(axis for unit_scores in scores.values() for axis in unit_scores))
    averages: dict[str, AxisAverage[str]] = {}
    for axis in axes:
        values = {
            unit: value
            for unit, unit_scores in scores.items()
            if (value := unit_scores.get(axis)) is not None
        }
        averages[axis] = axis_average(axis, values)
    return averages


def axis_average(axis: str, values: Mapping[K, Number]) -> AxisAverage[K]:
    """`province_averages` of one axis: `values` holds the units that have a score."""
    if not values:
        return AxisAverage(axis, None, 0, ())
    average = sum(map(to_decimal, values.values()), Decimal(0)) / len(values)
    shown_average = round_half_up(average)
    # round_half_up reads a float as its decimal: the same as rounding the decimal
    below = tuple(unit for unit, value in values.items() if round_half_up(value) < shown_average)
    return AxisAverage(axis, average, len(values), below)


def axes_below_average(
    sets: Iterable[Sequence[StoredUnit]], cents: Mapping[int, tuple[int, ...] | None]
) -> dict[int, list[str]]:
    """Each unit's axes below its set's average (`_below`), in the order of `AXES`. `cents`
    holds units' figures in whole cents (`decimals.whole_cents`) by id, the axes first in
    the order of `AXES` (any figure after them, such as the total, is not compared). A set
    whose ids are all in `cents` (none repeats) is read at once, in whole cents."""
    below: dict[int, list[str]] = defaultdict(list)
    for members in sets:
        rows = [row for u in members if (row := cents.get(u.unit_id))]
        if len(rows) == len(members):
            shown = [_shown_average(sum(column), len(rows)) for column in zip(*rows, strict=True)]
            for unit, row in zip(members, rows, strict=True):  # the total (last) left out
                below_axes = zip(AXES, row, shown, strict=False)
                axes = [axis for axis, whole, average in below_axes if whole < average]
                if axes:
                    below[unit.unit_id] = axes
            continue
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
    shown = _shown_average(sum(cents.values()), len(cents))
    return [unit_id for unit_id, whole in cents.items() if whole < shown]


def _shown_average(total: int, count: int) -> int:
    """The average of `count` scores summing to `total` cents, rounded half up to a cent."""
    return (2 * abs(total) + count) // (2 * count) * (1 if total >= 0 else -1)
