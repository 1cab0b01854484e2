"""A history analysed in one pass gives, month by month, exactly what the national index's
rules say (hypothesis).

`reference` below is those rules written plainly in decimals, with nothing shared with
`service.scoring.national` beyond the result types: changes of the written decimals rounded
half up, competition ranks of the totals rounded half up within each set (parent and
group), a reported rank kept where the set is not held, units below their set's average
on an axis, results in rank order within each set. The generated months mix what the fast
paths of the analysis must hand over to decimals or leave alone: scores with 3 decimals
(half cents), ties, missing figures, provinces, another source, reported ranks, a unit id
listed twice; and months as the portal publishes them, which the analysis reads in whole
cents: no id repeated, every figure with 2 decimals, here and there a unit that is not
(missing or half-cent figures), so that a set without it is read in cents and a set with it
in decimals. Results are compared by `repr`, so that a -0.0 for 0.0 or an int for a float
(which `==` would accept) fails too.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from service.figures import AXES, FigureValue
from service.scoring.decimals import change2, changes2
from service.scoring.national import NationalInput, UnitAnalysis, analyse, analyse_periods
from service.scoring.ranks import Rank
from service.snapshots import StoredUnit

CENT = Decimal("0.01")
PROPERTY = settings(max_examples=100, deadline=None)  # no wall-clock deadline


def written(value: float) -> Decimal:
    return Decimal(repr(value))


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else float(half_up(written(now) - written(before)))


def set_ranks(members: Sequence[StoredUnit]) -> dict[int, Rank]:
    totals = {u.unit_id: u.values.get("TOTAL") for u in members}  # a repeated id: its last
    shown = {i: half_up(written(t)) for i, t in totals.items() if t is not None}
    ranks = {}
    for i, total in totals.items():
        if total is None:
            ranks[i] = Rank(str(i), None, None, len(shown), False)
        else:
            higher = sum(1 for other in shown.values() if other > shown[i])
            tied = Counter(shown.values())[shown[i]] > 1
            ranks[i] = Rank(str(i), total, higher + 1, len(shown), tied)
    return ranks


def sets_of(units: Sequence[StoredUnit]) -> dict[tuple[int | None, str], list[StoredUnit]]:
    sets: dict[tuple[int | None, str], list[StoredUnit]] = {}
    for unit in units:
        sets.setdefault((unit.parent_id, unit.group), []).append(unit)
    return sets


def all_ranks(units: Sequence[StoredUnit]) -> dict[int, Rank]:
    ranks: dict[int, Rank] = {}
    for members in sets_of(units).values():
        ranks.update(set_ranks(members))
    for unit in units:
        figure = unit.figures.get("RANK")
        if figure is None or figure.kind != "reported" or figure.value is None:
            continue
        of = int(figure.max_value) if figure.max_value is not None else None
        held = ranks[unit.unit_id].rank_of or 0
        if held <= 1 or (of or 0) > held:
            total = unit.values.get("TOTAL")
            ranks[unit.unit_id] = Rank(str(unit.unit_id), total, int(figure.value), of, False)
    return ranks


def below_average(units: Sequence[StoredUnit]) -> dict[int, list[str]]:
    below: dict[int, list[str]] = {}
    for members in sets_of(units).values():
        for axis in AXES:
            scores = {u.unit_id: s for u in members if (s := u.values.get(axis)) is not None}
            if not scores:
                continue
            average = sum((written(s) for s in scores.values()), Decimal(0)) / len(scores)
            for unit_id, score in scores.items():
                if half_up(written(score)) < half_up(average):
                    below.setdefault(unit_id, []).append(axis)
    return below


def reference(current: Sequence[StoredUnit], previous: Sequence[StoredUnit]) -> list[UnitAnalysis]:
    units = [u for u in current if u.group != "PROVINCE"]
    before = {u.unit_id: u for u in previous}
    ranks, previous_ranks = all_ranks(units), all_ranks(list(before.values()))
    below = below_average(units)
    results = []
    for unit in units:
        old = before.get(unit.unit_id)
        if old is not None and old.source != unit.source:
            old = None
        rank = ranks[unit.unit_id]
        old_place = previous_ranks[unit.unit_id].rank if old is not None else None
        place_change = None if old_place is None or rank.rank is None else old_place - rank.rank
        values, old_values = unit.values, old.values if old is not None else {}
        results.append(
            UnitAnalysis(
                unit,
                old,
                change(values.get("TOTAL"), old_values.get("TOTAL")),
                {axis: change(values.get(axis), old_values.get(axis)) for axis in AXES},
                rank,
                old_place,
                place_change,
                tuple(below.get(unit.unit_id, ())),
                None,
            )
        )
    return sorted(
        results,
        key=lambda r: (r.unit.parent_code or "", r.unit.group, r.rank.rank or 10**9, r.unit.label),
    )


# Scores in cents, close enough to tie or to sit a cent from their set's average, and (in
# half of the histories) also in tenths of a cent, a tenth of them on a half cent.
cents = st.one_of(st.none(), st.integers(6000, 6004).map(lambda n: n / 100))
wide = st.integers(0, 2000).map(lambda n: n / 100)
thousandths = st.integers(0, 20_000).map(lambda n: n / 1000)
scores = st.one_of(cents, wide, thousandths)


# The portal's figures, whole cents, a few of them in every set close enough to tie.
published = st.one_of(st.integers(6000, 6003), st.integers(0, 10_000)).map(lambda n: n / 100)
repeated_ids = st.lists(st.integers(1, 12), max_size=14)


@st.composite
def unit_months(
    draw: st.DrawFn,
    month: int,
    scores: st.SearchStrategy,
    ids: st.SearchStrategy = repeated_ids,
    odd: int = 1,
) -> list[StoredUnit]:
    """A month of units; `odd` in 20 of them (all by default) take `scores`, the others
    only `published` figures."""
    units = []
    for unit_id in draw(ids):
        group = draw(st.sampled_from(["COMMUNE", "COMMUNE", "AGENCY", "PROVINCE"]))
        parent = draw(st.sampled_from([1, 2]))
        figure = scores if odd >= 20 or draw(st.integers(0, 19)) < odd else published
        figures = {"TOTAL": FigureValue("TOTAL", "total", draw(figure), 100.0)}
        for axis in AXES:
            figures[axis] = FigureValue(axis, "axis", draw(figure), None, axis=axis)
        if draw(st.integers(0, 9)) == 0:
            of = draw(st.sampled_from([None, 1.0, 40.0]))
            figures["RANK"] = FigureValue("RANK", "reported", float(draw(st.integers(1, 40))), of)
        units.append(
            StoredUnit(
                unit_id,
                f"H0{parent}.{unit_id:02d}",
                None,
                f"UBND xã {unit_id}",
                group,
                parent,
                f"H0{parent}",
                draw(st.sampled_from(["portal-766", "portal-766", "import"])),
                f"2026-{month:02d}",
                dt.date(2026, month, 28),
                1,
                "final",
                figures,
            )
        )
    return units


histories = st.tuples(st.integers(1, 5), st.sampled_from([st.one_of(cents, wide), scores])).flatmap(
    lambda drawn: st.tuples(
        *(unit_months(month, drawn[1], odd=20) for month in range(1, drawn[0] + 1))
    )
)
published_histories = st.tuples(st.integers(1, 5), st.integers(0, 2)).flatmap(
    lambda drawn: st.tuples(
        *(
            unit_months(
                month, scores, st.lists(st.integers(1, 40), max_size=30, unique=True), drawn[1]
            )
            for month in range(1, drawn[0] + 1)
        )
    )
)


@PROPERTY
@given(histories)
def test_a_history_in_one_pass_and_each_month_alone_give_what_the_rules_say(history) -> None:
    """One pass ranks each month once; alone, a month ranks itself and the month before."""
    pairs = [(units, history[i - 1] if i else ()) for i, units in enumerate(history)]
    expected = repr([reference(units, before) for units, before in pairs])
    assert repr(list(analyse_periods(history))) == expected
    assert repr([analyse(NationalInput(units, before)) for units, before in pairs]) == expected


@PROPERTY
@given(published_histories)
def test_a_history_as_the_portal_publishes_it_gives_what_the_rules_say(history) -> None:
    """Sets of published figures only are ranked, averaged and changed in whole cents."""
    pairs = [(units, history[i - 1] if i else ()) for i, units in enumerate(history)]
    expected = repr([reference(units, before) for units, before in pairs])
    assert repr(list(analyse_periods(history))) == expected
    assert repr([analyse(NationalInput(units, before)) for units, before in pairs]) == expected


@PROPERTY
@given(scores, scores)
def test_a_row_of_changes_gives_each_change_as_one_does(now: float | None, before: float | None):
    expected = None if now is None or before is None else change2(now, before)
    got = changes2({"A": now}, {"A": before}, ["A"])
    assert repr(got) == repr({"A": expected}) == repr({"A": change(now, before)})


def test_a_fall_under_half_a_cent_is_minus_zero_as_in_decimals() -> None:
    assert repr(change2(0.001, 0.002)) == repr(changes2({"A": 0.001}, {"A": 0.002}, "A")["A"])
    assert repr(change2(0.001, 0.002)) == "-0.0" == repr(float(half_up(Decimal("-0.001"))))
