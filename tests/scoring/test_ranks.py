"""Competition ranks, rank changes and the comparison set's averages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.scoring.ranks import (
    Rank,
    competition_places,
    competition_ranks,
    province_averages,
    rank_change,
)


def test_ties_share_a_rank_and_skip_the_next() -> None:
    ranks = competition_ranks({"A": 95.0, "B": 90.0, "C": 90.0, "D": 80.0})
    assert [ranks[unit].rank for unit in "ABCD"] == [1, 2, 2, 4]
    assert [ranks[unit].tied for unit in "ABCD"] == [False, True, True, False]
    assert {rank.rank_of for rank in ranks.values()} == {4}


def test_ties_are_judged_on_the_two_decimals_published() -> None:
    same_on_paper = competition_ranks({"A": 88.8889, "B": 88.8911})
    assert [rank.rank for rank in same_on_paper.values()] == [1, 1]
    apart_on_paper = competition_ranks({"A": 88.884, "B": 88.886})  # 88.88 and 88.89
    assert apart_on_paper["B"].rank == 1
    assert apart_on_paper["A"].rank == 2
    assert not apart_on_paper["A"].tied


def test_units_without_a_total_are_unranked_and_not_counted() -> None:
    ranks = competition_ranks({"A": None, "B": 70.0, "C": 75.0})
    assert ranks["A"] == Rank("A", None, None, 2, False)
    assert ranks["C"] == Rank("C", 75.0, 1, 2, False)
    assert ranks["B"] == Rank("B", 70.0, 2, 2, False)


def test_ranks_come_in_rank_order_ties_as_given_unranked_last() -> None:
    ranks = competition_ranks({"X": None, "A": 80.0, "B": 90.0, "C": 80.0})
    assert list(ranks) == ["B", "A", "C", "X"]


def test_an_empty_set_has_no_ranks() -> None:
    assert competition_ranks({}) == {}


def test_rank_change_is_positive_when_the_unit_moved_up() -> None:
    assert rank_change(21, 3) == 18  # "tăng 18 bậc"
    assert rank_change(3, 5) == -2
    assert rank_change(4, 4) == 0


def test_rank_change_needs_both_ranks() -> None:
    assert rank_change(None, 3) is None
    assert rank_change(3, None) is None


def test_province_averages_per_axis_name_the_units_below() -> None:
    averages = province_averages(
        {
            "A": {"CKMB": 18.0, "TDGQ": 20.0},
            "B": {"CKMB": 16.0, "TDGQ": 14.0},
            "C": {"CKMB": 17.0, "TDGQ": 17.0},
        }
    )
    assert averages["CKMB"].average == 17.0
    assert averages["CKMB"].below == ("B",)  # C sits on the average, not below it
    assert averages["TDGQ"].average == 17.0
    assert averages["TDGQ"].below == ("B",)


def test_units_without_a_score_neither_count_nor_fall_below() -> None:
    averages = province_averages({"A": {"TTTT": 10.0}, "B": {"TTTT": None}, "C": {"TTTT": 6.0}})
    assert averages["TTTT"].average == 8.0
    assert averages["TTTT"].units_counted == 2
    assert averages["TTTT"].below == ("C",)


def test_an_axis_nobody_has_has_no_average() -> None:
    averages = province_averages({"A": {"MDSH": None}})
    assert averages["MDSH"].average is None
    assert averages["MDSH"].below == ()


def test_a_unit_at_the_average_is_not_below_it_despite_float_sums() -> None:
    # (0.1 + 0.2 + 0.3) / 3 is 0.20000000000000004 in floats
    averages = province_averages({"A": {"X": 0.1}, "B": {"X": 0.2}, "C": {"X": 0.3}})
    assert averages["X"].below == ("A",)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(8000, 8004), st.integers(-(10**6), 10**6)), max_size=30))
def test_places_in_whole_cents_are_the_competition_ranks_of_their_decimals(cents) -> None:
    ranks = competition_ranks({str(i): whole / 100 for i, whole in enumerate(cents)})
    expected = [(ranks[str(i)].rank, ranks[str(i)].tied) for i in range(len(cents))]
    assert competition_places(cents) == expected
