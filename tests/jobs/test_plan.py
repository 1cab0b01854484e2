"""The runs a schedule expects: one sync per missed day, finals, notices on their day."""

from __future__ import annotations

import datetime as dt

from jobs.plan import (
    expected_finals,
    expected_notices,
    expected_reports,
    expected_syncs,
    notice_day,
)
from service.calendar import WorkCalendar
from service.clock import LOCAL_TZ

CRON = "30 7,16 * * mon-fri"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def test_a_week_down_expects_one_sync_per_missed_working_day_and_todays_slots():
    due = expected_syncs(CRON, ["H44"], local(2026, 9, 3, 17, 0), local(2026, 9, 10, 17, 0))
    assert [d.period for d in due] == [
        "2026-09-04T07:30",
        "2026-09-07T07:30",
        "2026-09-08T07:30",
        "2026-09-09T07:30",
        "2026-09-10T07:30",
        "2026-09-10T16:30",
    ]


def test_final_figures_are_expected_once_in_the_first_days_of_the_month():
    due = expected_finals(["H44", "H21"], local(2026, 8, 28), local(2026, 9, 10))
    assert sorted((d.scope, d.period) for d in due) == [("H21", "2026-08"), ("H44", "2026-08")]


def test_notices_are_due_on_the_third_working_day_skipping_holidays():
    calendar = WorkCalendar(holidays=frozenset({dt.date(2026, 9, 1), dt.date(2026, 9, 2)}))
    assert notice_day(calendar, 2026, 9, 3) == dt.date(2026, 9, 7)
    due = expected_notices(calendar, 3, ["congvan:H44.116"], local(2026, 9, 1), local(2026, 9, 30))
    assert [(d.scope, d.period, d.at.date()) for d in due] == [
        ("congvan:H44.116", "2026-08", dt.date(2026, 9, 7))
    ]


def test_nine_criteria_reports_are_due_after_each_quarter_and_after_each_year():
    calendar = WorkCalendar(holidays=frozenset({dt.date(2027, 1, 1)}))
    due = expected_reports(calendar, 3, ["baocao:DBD"], local(2026, 9, 1), local(2027, 4, 30))
    assert [(d.scope, d.period, d.at.date()) for d in due] == [
        ("baocao:DBD", "2026-Q3", dt.date(2026, 10, 5)),
        ("baocao:DBD", "2026-Q4", dt.date(2027, 1, 6)),
        ("baocao:DBD", "2026", dt.date(2027, 1, 6)),
        ("baocao:DBD", "2027-Q1", dt.date(2027, 4, 5)),
    ]
    assert all(d.job == "notices" for d in due)


def test_no_quarterly_report_falls_due_in_a_month_that_ends_no_quarter():
    calendar = WorkCalendar(holidays=frozenset())
    assert (
        expected_reports(calendar, 3, ["baocao:DBD"], local(2026, 8, 1), local(2026, 9, 30)) == []
    )
