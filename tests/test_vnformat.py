"""Vietnamese numbers, changes, ranks, dates and periods, as the notices write them."""

from __future__ import annotations

from datetime import date

import pytest

from service.vnformat import (
    BLANK,
    blank_compact_date,
    blank_long_date,
    change_words,
    compact_date,
    last_day_of_month,
    long_date,
    number,
    percent,
    period_long,
    period_short,
    points,
    rank,
    rank_change_words,
    roman,
    signed,
    two_digits,
)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (93.81, 2, "93,81"),
        (4642, 2, "4.642"),  # thousands dot, never "4,642"
        (984851, 0, "984.851"),  # seed 004 wrote it both "984,851" and "984.851"
        (1234567.891, 2, "1.234.567,89"),
        (10.0, 2, "10"),
        (17.5, 2, "17,5"),
        (2.675, 2, "2,68"),  # half up on the written number, as Excel would
        (-0.1, 2, "-0,1"),
        (-0.001, 2, "0"),  # never "-0"
        (0.2026, 4, "0,2026"),
    ],
)
def test_numbers_take_a_decimal_comma_and_a_thousands_dot(
    value: float, decimals: int, expected: str
) -> None:
    assert number(value, decimals) == expected


def test_missing_numbers_are_a_dash_and_totals_may_keep_their_zeros() -> None:
    assert number(None) == "-"
    assert number(None, missing="") == ""
    assert number(80, keep_zeros=True) == "80,00"
    assert number(92.2, keep_zeros=True) == "92,20"


def test_percentages() -> None:
    assert percent(96.55) == "96,55 %"  # the long-standing default
    assert percent(96.55, space=False) == "96,55%"  # as the notices write it
    assert percent(100.0, space=False) == "100%"
    assert percent(None) == "-"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3.8, "+ 3,8"), (-0.1, "- 0,1"), (0.0, "0"), (0.001, "0"), (232, "+ 232"), (None, "-")],
)
def test_signed_changes_for_tables(value: float | None, expected: str) -> None:
    assert signed(value) == expected


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (3.8, "tăng 3,8 điểm"),
        (-0.1, "giảm 0,1 điểm"),
        (6.84, "tăng 6,84 điểm"),
        (0.0, "giữ nguyên"),
    ],
)
def test_changes_in_words_say_their_direction(delta: float, expected: str) -> None:
    assert change_words(delta) == expected


def test_an_unchanged_score_can_be_worded_by_the_caller() -> None:
    assert change_words(0.0, same="giữ nguyên điểm") == "giữ nguyên điểm"
    assert change_words(0.004) == "giữ nguyên"  # rounds to nothing: no "tăng 0 điểm"


def test_rank_changes_and_ranks() -> None:
    assert rank_change_words(18) == "tăng 18 bậc"
    assert rank_change_words(-2) == "giảm 2 bậc"
    assert rank_change_words(0) == "giữ nguyên thứ hạng"
    assert rank(3, 23) == "03/23"
    assert rank(12, 12) == "12/12"
    assert rank(3) == "03"
    assert two_digits(6) == "06"
    assert two_digits(4642) == "4.642"


@pytest.mark.parametrize(
    ("day", "long", "compact"),
    [
        (date(2024, 10, 5), "ngày 05 tháng 10 năm 2024", "05/10/2024"),
        (date(2024, 9, 30), "ngày 30 tháng 9 năm 2024", "30/9/2024"),
        (date(2025, 1, 31), "ngày 31 tháng 01 năm 2025", "31/01/2025"),
        (date(2024, 2, 9), "ngày 09 tháng 02 năm 2024", "09/02/2024"),
        (date(2024, 12, 1), "ngày 01 tháng 12 năm 2024", "01/12/2024"),
    ],
)
def test_dates_in_the_nghi_dinh_30_form(day: date, long: str, compact: str) -> None:
    assert long_date(day) == long
    assert compact_date(day) == compact


def test_blank_days() -> None:
    assert blank_long_date(2024, 10) == f"ngày {BLANK} tháng 10 năm 2024"
    assert blank_long_date(2025, 2) == f"ngày {BLANK} tháng 02 năm 2025"
    assert blank_compact_date(2024, 10) == f"{BLANK}/10/2024"


@pytest.mark.parametrize(
    ("year", "month", "last"),
    [(2024, 9, 30), (2024, 8, 31), (2024, 2, 29), (2025, 2, 28), (2024, 12, 31)],
)
def test_the_last_day_of_a_month_comes_from_the_calendar(year: int, month: int, last: int) -> None:
    assert last_day_of_month(year, month) == date(year, month, last)


@pytest.mark.parametrize(
    ("period", "long", "short"),
    [
        ("2024-09", "tháng 9 năm 2024", "tháng 9/2024"),
        ("2024-01", "tháng 1 năm 2024", "tháng 1/2024"),
        ("2021-Q1", "Quý I năm 2021", "Quý I/2021"),
        ("2024-Q4", "Quý IV năm 2024", "Quý IV/2024"),
        ("2022", "năm 2022", "năm 2022"),
    ],
)
def test_periods_read_as_officials_write_them(period: str, long: str, short: str) -> None:
    assert period_long(period) == long
    assert period_short(period) == short


def test_roman_numerals() -> None:
    assert [roman(n) for n in (1, 2, 3, 4, 6, 9, 14)] == ["I", "II", "III", "IV", "VI", "IX", "XIV"]
    with pytest.raises(ValueError):
        roman(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(10, "10"), (30.0, "30"), (1.3, "1,30"), (18.5, "18,50"), (5.81, "5,81"), (0, "0"),
     (2.675, "2,68"), (1234.5, "1.234,50"), (None, "-")],
)  # fmt: skip
def test_points_in_a_column_are_whole_or_carry_two_decimals(value, expected):
    assert points(value) == expected
