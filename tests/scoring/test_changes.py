"""Changes between periods, and the Period values they are drawn between."""

from __future__ import annotations

from datetime import date

import pytest

from service.scoring.changes import (
    Period,
    SeriesFigure,
    figure_change,
    previous_period,
    round2,
    score_change,
)


def test_change_is_signed_and_rounded_to_two_decimals() -> None:
    assert score_change(17.5, 13.7) == 3.8  # "tăng 3,8 điểm", not 3.8000000000000007
    assert score_change(13.7, 17.5) == -3.8
    assert score_change(18.0, 18.0) == 0.0  # "giữ nguyên"
    assert score_change(93.814, 91.0) == 2.81


def test_no_change_when_either_figure_is_missing() -> None:
    assert score_change(None, 17.5) is None
    assert score_change(17.5, None) is None


def test_no_change_across_a_change_of_source_or_method() -> None:
    assert score_change(52.1, 88.4, comparable=False) is None
    before = SeriesFigure(88.4, "portal-766:2025")
    assert figure_change(SeriesFigure(52.1, "portal-766:2026"), before) is None
    assert figure_change(SeriesFigure(90.0, "portal-766:2025"), before) == 1.6


def test_rounding_is_half_up_on_the_figure_as_written() -> None:
    assert round2(2.675) == 2.68  # round() gives 2.67: the float is 2.67499…
    assert round2(-2.675) == -2.68
    assert round2(0.125) == 0.13  # round() gives 0.12: halves to even
    assert round2(95.34444) == 95.34


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2024-03", "2024-02"),
        ("2024-01", "2023-12"),
        ("2021-Q1", "2020-Q4"),
        ("2021-Q3", "2021-Q2"),
        ("2022", "2021"),
    ],
)
def test_previous_period_is_of_the_same_kind(text: str, previous: str) -> None:
    assert str(previous_period(text)) == previous
    assert previous_period(Period.parse(text)) == Period.parse(previous)
    assert previous_period(text).kind == Period.parse(text).kind


@pytest.mark.parametrize("text", ["2024-09", "2021-Q1", "2022"])
def test_period_text_reads_back_as_written(text: str) -> None:
    assert str(Period.parse(text)) == text


def test_period_parse_gives_kind_and_number() -> None:
    assert Period.parse("2024-09") == Period(2024, "month", 9)
    assert Period.parse("2021-Q1") == Period(2021, "quarter", 1)
    assert Period.parse(" 2022 ") == Period(2022, "year", 0)


@pytest.mark.parametrize("text", ["2024-13", "2024-00", "2024-9", "2021-Q5", "24", "2024/03", ""])
def test_bad_period_is_an_error_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        Period.parse(text)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2024-09", date(2024, 9, 1), date(2024, 9, 30)),  # not "31/9/2024"
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-12", date(2024, 12, 1), date(2024, 12, 31)),
        ("2021-Q1", date(2021, 1, 1), date(2021, 3, 31)),
        ("2024-Q3", date(2024, 7, 1), date(2024, 9, 30)),
        ("2022", date(2022, 1, 1), date(2022, 12, 31)),
    ],
)
def test_first_and_last_day_are_real_calendar_days(text: str, first: date, last: date) -> None:
    period = Period.parse(text)
    assert (period.first_day, period.last_day) == (first, last)
