"""Reading, rounding and comparing officials' figures as decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.scoring.decimals import (
    as_float,
    change2,
    round2,
    round_half_up,
    to_decimal,
    whole_cents,
    within,
)


@pytest.mark.parametrize(
    ("value", "written"),
    [(5.81, "5.81"), (68.11, "68.11"), (0.1 + 0.2, "0.30000000000000004"), (7, "7"),
     (Decimal("1.665"), "1.665")],
)  # fmt: skip
def test_a_float_reads_as_the_decimal_it_was_written_as(value: float, written: str) -> None:
    assert to_decimal(value) == Decimal(written)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(2.675, "2.68"), (-2.675, "-2.68"), (0.125, "0.13"), (1.665, "1.67"), (95.34444, "95.34"),
     (Decimal("88.885"), "88.89"), (Decimal("88.8849999999999"), "88.88"), (3, "3.00")],
)  # fmt: skip
def test_rounding_is_half_up_on_the_written_decimal(value: float, rounded: str) -> None:
    assert round_half_up(value) == Decimal(rounded)
    assert round2(value) == float(rounded)


def test_a_float_and_the_decimal_of_its_binary_value_round_apart() -> None:
    # Decimal(2.675) is 2.67499999999999982236431605997495353221893310546875: equal to
    # the float 2.675 and hashed alike, yet it rounds down; the cache must not mix them.
    assert round_half_up(Decimal(2.675)) == Decimal("2.67")
    assert round_half_up(2.675) == Decimal("2.68")


@pytest.mark.parametrize(
    ("reported", "computed", "tolerance", "agrees"),
    [
        (68.11, 68.1, 0.01, True),  # float: 0.010000000000005116 > 0.01
        (68.1, 68.11, 0.01, True),
        (68.12, 68.1, 0.01, False),
        (68.2, 68.1, 0.1, True),  # float: 0.10000000000000853 > 0.1
        (68.11, Decimal("68.10"), Decimal("0.01"), True),
        (68.1, 68.1, 0, True),
        (68.11, 68.1, 0, False),
    ],
)
def test_a_difference_equal_to_the_tolerance_is_within_it(
    reported: float, computed: float, tolerance: float, agrees: bool
) -> None:
    assert within(reported, computed, tolerance) is agrees


def test_rows_carry_floats_of_the_decimals() -> None:
    assert as_float(Decimal("75.67")) == 75.67
    assert as_float(None) is None


# Whole cents up to and beyond the 15 digits `whole_cents` takes, and any float at all.
cents_written = st.integers(-(10**16), 10**16).map(lambda n: n / 100)
any_float = st.one_of(
    cents_written, st.floats(), st.integers(-(10**6), 10**6).map(lambda n: n / 1000)
)


@settings(max_examples=300, deadline=None)
@given(any_float)
def test_whole_cents_are_the_written_decimal_or_nothing(value: float) -> None:
    cents = whole_cents({"A": value}, ["A"])
    if cents is not None:
        assert Decimal(cents[0]) / 100 == to_decimal(value) == round_half_up(value)
    elif abs(value) < 1e13:  # a finite figure of whole cents is never left out
        assert to_decimal(value) != round_half_up(value)


@settings(max_examples=300, deadline=None)
@given(cents_written, cents_written)
def test_a_change_of_whole_cents_is_their_difference(now: float, before: float) -> None:
    """What the analysis of a history takes for `change2` where both figures have cents."""
    (a, b) = (whole_cents({"A": now}, "A"), whole_cents({"A": before}, "A"))
    if a is not None and b is not None:
        assert repr((a[0] - b[0]) / 100) == repr(change2(now, before))


def test_whole_cents_need_every_figure_a_float() -> None:
    assert whole_cents({"A": 68.11, "B": 7.0}, ["A", "B"]) == (6811, 700)
    assert whole_cents({"A": 68.11}, ["A", "B"]) is None
    assert whole_cents({"A": 68.11, "B": None}, ["A", "B"]) is None
    assert whole_cents({"A": 68.11, "B": 7}, ["A", "B"]) is None
    assert whole_cents({"A": 68.115}, ["A"]) is None
