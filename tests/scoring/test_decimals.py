"""Reading, rounding and comparing officials' figures as decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.scoring.decimals import as_float, round2, round_half_up, to_decimal, within


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
