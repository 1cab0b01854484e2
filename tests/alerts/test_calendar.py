"""Quiet hours, working time and holidays in Asia/Ho_Chi_Minh, on fixed dates.

November 2025: Thu 13, Fri 14, Sat 15, Sun 16, Mon 17. Tết 2026: the break
runs Sat 14/2 to Sun 22/2; Fri 13/2 and Mon 23/2 are working days.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.calendar import WorkCalendar, load_holidays
from service.clock import LOCAL_TZ
from service.config import ConfigError

HOLIDAYS_FILE = Path(__file__).resolve().parents[2] / "config" / "holidays.toml"
HOLIDAYS = load_holidays(HOLIDAYS_FILE)
CALENDAR = WorkCalendar(holidays=HOLIDAYS)


def local(day: str, clock: str) -> dt.datetime:
    """An aware Asia/Ho_Chi_Minh time, e.g. local("2025-11-14", "21:00")."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(clock), LOCAL_TZ)


def stored(day: str, clock: str) -> dt.datetime:
    """The naive-UTC value the database holds for a local time."""
    return local(day, clock).astimezone(dt.UTC).replace(tzinfo=None)


def test_the_defaults_are_office_hours_and_quiet_nights_and_weekends() -> None:
    calendar = WorkCalendar()
    assert (calendar.workday_start, calendar.workday_end) == (dt.time(7, 30), dt.time(17, 0))
    assert (calendar.quiet_start, calendar.quiet_end) == (dt.time(21, 0), dt.time(7, 0))
    assert calendar.working_weekdays == {0, 1, 2, 3, 4} and calendar.quiet_weekends
    assert calendar.holidays == frozenset()


@pytest.mark.parametrize(
    ("day", "clock", "quiet"),
    [
        ("2025-11-14", "20:59:59", False),  # Friday evening, before quiet hours
        ("2025-11-14", "21:00", True),  # quiet hours start exactly at 21:00
        ("2025-11-13", "23:59", True),
        ("2025-11-14", "00:00", True),
        ("2025-11-14", "06:59:59", True),
        ("2025-11-14", "07:00", False),  # and end exactly at 07:00
        ("2025-11-14", "12:00", False),
        ("2025-11-15", "12:00", True),  # Saturday
        ("2025-11-16", "12:00", True),  # Sunday
        ("2026-02-18", "10:00", True),  # Tết, a Wednesday
        ("2025-09-01", "10:00", True),  # Quốc khánh's adjacent day, a Monday
        ("2026-02-23", "07:00", False),  # the first morning after Tết
    ],
)
def test_quiet_hours_weekends_and_holidays(day: str, clock: str, quiet: bool) -> None:
    assert CALENDAR.is_quiet(local(day, clock)) is quiet
    assert CALENDAR.is_quiet(stored(day, clock)) is quiet


@pytest.mark.parametrize(
    ("moment", "delivery"),
    [
        (local("2025-11-15", "10:00"), local("2025-11-17", "07:00")),  # Saturday -> Monday
        (local("2025-11-13", "22:00"), local("2025-11-14", "07:00")),  # Thursday night
        (local("2025-11-14", "21:00"), local("2025-11-17", "07:00")),  # Friday night
        (local("2025-11-16", "23:30"), local("2025-11-17", "07:00")),  # Sunday night
        (local("2025-11-17", "03:00"), local("2025-11-17", "07:00")),  # before dawn
        (local("2026-02-20", "10:00"), local("2026-02-23", "07:00")),  # a holiday Friday
        (local("2026-02-13", "21:30"), local("2026-02-23", "07:00")),  # across Tết
        (local("2025-04-30", "09:00"), local("2025-05-05", "07:00")),  # 30/4 to 4/5/2025
    ],
)
def test_a_quiet_moment_waits_for_the_end_of_the_quiet_period(
    moment: dt.datetime, delivery: dt.datetime
) -> None:
    assert CALENDAR.next_delivery_time(moment) == delivery


def test_a_moment_that_is_not_quiet_is_delivered_at_once() -> None:
    moment = local("2025-11-14", "20:59")
    assert CALENDAR.next_delivery_time(moment) is moment


def test_naive_times_are_utc_and_come_back_naive_utc() -> None:
    saturday = dt.datetime(2025, 11, 15, 3, 0)  # 10:00 in Vietnam
    delivery = CALENDAR.next_delivery_time(saturday)
    assert delivery == dt.datetime(2025, 11, 17, 0, 0)  # Monday 07:00 in Vietnam
    assert delivery.tzinfo is None
    assert CALENDAR.add_working_hours(saturday, 1).tzinfo is None


def test_aware_times_come_back_in_their_own_zone() -> None:
    saturday = local("2025-11-15", "10:00").astimezone(dt.UTC)
    delivery = CALENDAR.next_delivery_time(saturday)
    assert delivery.tzinfo is dt.UTC
    assert delivery == local("2025-11-17", "07:00")


def test_the_local_day_follows_the_zone_not_the_utc_date() -> None:
    # Friday 23:30 UTC is already Saturday 06:30 in Vietnam: a weekend morning.
    assert CALENDAR.is_quiet(dt.datetime(2025, 11, 14, 23, 30))
    assert CALENDAR.is_quiet(dt.datetime(2025, 11, 14, 14, 0))  # 21:00 local
    assert not CALENDAR.is_quiet(dt.datetime(2025, 11, 14, 13, 59))


def test_quiet_hours_are_configurable() -> None:
    lunch = WorkCalendar(quiet_start=dt.time(11, 30), quiet_end=dt.time(13, 30))
    assert lunch.is_quiet(local("2025-11-14", "12:00"))
    assert not lunch.is_quiet(local("2025-11-14", "22:00"))
    assert lunch.next_delivery_time(local("2025-11-14", "12:00")) == local("2025-11-14", "13:30")
    never = WorkCalendar(quiet_start=dt.time(0), quiet_end=dt.time(0), quiet_weekends=False)
    assert not never.is_quiet(local("2025-11-15", "03:00"))
    assert never.is_quiet(local("2025-09-02", "12:00")) is False  # no holidays given


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (local("2025-11-14", "08:00"), local("2025-11-14", "12:00"), 4.0),
        (local("2025-11-14", "06:00"), local("2025-11-14", "20:00"), 9.5),  # one full day
        (local("2025-11-14", "16:00"), local("2025-11-17", "08:30"), 2.0),  # across a weekend
        (local("2025-11-15", "00:00"), local("2025-11-17", "00:00"), 0.0),  # only the weekend
        (local("2026-02-13", "16:00"), local("2026-02-23", "08:30"), 2.0),  # across Tết
        (local("2025-11-17", "08:30"), local("2025-11-14", "16:00"), -2.0),  # reversed
        (local("2025-11-14", "12:00"), local("2025-11-14", "12:00"), 0.0),
    ],
)
def test_working_hours_count_only_working_time(
    start: dt.datetime, end: dt.datetime, hours: float
) -> None:
    assert CALENDAR.working_hours_between(start, end) == pytest.approx(hours)
    naive = start.astimezone(dt.UTC).replace(tzinfo=None)
    assert CALENDAR.working_hours_between(naive, end) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        (local("2025-11-17", "10:00"), 24, local("2025-11-19", "15:00")),  # the repeat interval
        (local("2025-11-14", "20:00"), 1, local("2025-11-17", "08:30")),  # Friday evening
        (local("2025-11-14", "16:00"), 2, local("2025-11-17", "08:30")),
        (local("2025-11-17", "07:30"), 9.5, local("2025-11-17", "17:00")),  # ends at closing
        (local("2026-02-13", "16:00"), 24, local("2026-02-25", "11:30")),  # across Tết
        (local("2025-11-15", "10:00"), 0, local("2025-11-15", "10:00")),  # nothing to add
    ],
)
def test_adding_working_hours_skips_nights_weekends_and_holidays(
    start: dt.datetime, hours: float, end: dt.datetime
) -> None:
    assert CALENDAR.add_working_hours(start, hours) == end
    assert CALENDAR.working_hours_between(start, end) == pytest.approx(hours)


def test_working_hours_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_working_hours(local("2025-11-14", "10:00"), -1)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (local("2025-11-17", "12:00"), local("2025-11-18", "12:00"), 1),
        (local("2025-11-17", "12:00"), local("2025-11-18", "08:00"), 0),  # not a full day yet
        (local("2025-11-14", "12:00"), local("2025-11-17", "12:00"), 1),  # over the weekend
        (local("2026-02-13", "10:00"), local("2026-02-24", "10:00"), 2),  # over Tết
        (local("2026-02-13", "10:00"), local("2026-02-24", "09:59"), 1),
        (local("2025-11-18", "12:00"), local("2025-11-17", "12:00"), -1),  # reversed
    ],
)
def test_working_days_are_whole_workdays_of_working_time(
    start: dt.datetime, end: dt.datetime, days: int
) -> None:
    assert CALENDAR.working_days_between(start, end) == days


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (local("2025-11-14", "16:00"), 1, local("2025-11-17", "16:00")),  # same clock time
        (local("2025-11-15", "10:00"), 1, local("2025-11-17", "17:00")),  # from a Saturday
        (local("2026-02-13", "10:00"), 2, local("2026-02-24", "10:00")),  # escalation over Tết
        (local("2025-11-14", "16:00"), 0, local("2025-11-14", "16:00")),
    ],
)
def test_adding_working_days_is_the_inverse_of_counting_them(
    start: dt.datetime, days: int, end: dt.datetime
) -> None:
    assert CALENDAR.add_working_days(start, days) == end
    assert CALENDAR.working_days_between(start, end) == days


def test_working_days_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_working_days(local("2025-11-14", "10:00"), -1)


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"workday_start": dt.time(17), "workday_end": dt.time(8)}, "before workday_end"),
        ({"working_weekdays": frozenset()}, "non-empty"),
        ({"working_weekdays": frozenset({7})}, "0-6"),
        ({"quiet_start": dt.time(21, tzinfo=dt.UTC)}, "no tzinfo"),
    ],
)
def test_an_impossible_calendar_is_refused(settings: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        WorkCalendar(**settings)  # type: ignore[arg-type]


def test_the_holiday_file_covers_2025_to_2027() -> None:
    tet_2026 = {dt.date(2026, 2, day) for day in range(14, 23)}
    assert tet_2026 <= HOLIDAYS
    assert {dt.date(2025, 1, 29), dt.date(2027, 2, 6)} <= HOLIDAYS  # mùng 1 Tết
    assert {dt.date(2025, 4, 7), dt.date(2026, 4, 26), dt.date(2027, 4, 16)} <= HOLIDAYS
    for year in (2025, 2026, 2027):
        assert {dt.date(year, 1, 1), dt.date(year, 4, 30), dt.date(year, 5, 1)} <= HOLIDAYS
        assert dt.date(year, 9, 2) in HOLIDAYS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_holiday_may_be_written_as_an_iso_string(tmp_path: Path) -> None:
    path = write(tmp_path, '[[holidays]]\ndate = "2026-09-02"\nname = "Quốc khánh"\n')
    assert load_holidays(path) == {dt.date(2026, 9, 2)}


ENTRY = '[[holidays]]\ndate = 2026-01-01\nname = "Tết Dương lịch"\n'


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (ENTRY + '[[holidays]]\ndate = "2026-02-30"\nname = "Tết"\n', "entry 2 (Tết): date"),
        (ENTRY + "[[holidays]]\ndate = 2026-02-17\n", "entry 2: name"),
        (ENTRY + '[[holidays]]\ndate = 2026-02-17\nname = "Tết"\nnote = 1\n', "note: unknown"),
        (ENTRY + '[[holidays]]\ndate = 2026-01-01\nname = "Năm mới"\n', "already listed"),
        (ENTRY + "[[holidays]]\ndate = 2026-02-17T00:00:00\nname = 'x'\n", "entry 2 (x): date"),
        ('[[holiday]]\ndate = 2026-01-01\nname = "x"\n', "holiday: unknown key"),
        ("holidays = [", "not valid TOML"),
    ],
)
def test_a_bad_holiday_file_names_the_file_and_the_entry(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_holidays(path)
    assert str(path) in str(error.value)
    assert complaint in str(error.value)


def test_a_missing_holiday_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_holidays(tmp_path / "missing.toml")


_MOMENTS = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31))


@given(start=_MOMENTS, end=_MOMENTS, days=st.integers(min_value=0, max_value=10))
def test_working_days_never_outrun_the_wall_clock(
    start: dt.datetime, end: dt.datetime, days: int
) -> None:
    """What alerts.fanout.escalate relies on to load only the alerts that may be due:
    `days` working days take at least `days` workdays of wall time."""
    calendar = WorkCalendar(holidays=frozenset({dt.date(2025, 1, 1), dt.date(2026, 4, 30)}))
    if calendar.working_days_between(start, end) >= days:
        assert end - start >= calendar.workday_length * days
    assert calendar.add_working_days(start, days) - start >= calendar.workday_length * days
