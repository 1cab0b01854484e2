"""Periods as text: the years a period may name."""

from __future__ import annotations

import pytest

from service.periods import FIRST_YEAR, LAST_YEAR, Period


@pytest.mark.parametrize(
    "text", [f"{FIRST_YEAR}-01", f"{FIRST_YEAR}-Q1", f"{LAST_YEAR}-12", f"{LAST_YEAR}"]
)
def test_the_first_and_last_years_are_periods(text):
    period = Period.parse(text)
    assert str(period) == text and period.first_day <= period.last_day


@pytest.mark.parametrize("text", ["0000", "0000-01", "0001-Q4", "1999-12", "2101", "9999-12"])
def test_a_year_outside_the_range_is_not_a_period(text):
    with pytest.raises(
        ValueError, match=rf"^'{text}' is not a period: its year is not from 2000 to 2100$"
    ):
        Period.parse(text)
