"""Which job runs are due: the (job, scope, period) keys a schedule expects.

Pure: from the settings' schedule, the working calendar and a time window,
list the runs that should exist. The catch-up pass runs every expected key
that has no successful claim, so after a week of downtime each missed
working day's sync runs once, the month's final figures are fetched, and
the monthly notices are written.

Keys (times in Asia/Ho_Chi_Minh):
- `sync`, province, `2026-09-10T07:30` (a schedule slot; a day missed while
  down is caught up by its first slot only: the portal shows only today's
  running figures, so one run per missed day is all there is to fetch);
- `sync-final`, province, `2026-08` (on days 1-5 after the month ends);
- `notices`, `congvan:H44.116`, `2026-08` (on the Nth working day); a notice of a
  province's own index names it (`baocao:TUACHUA@provincial:dienbien-459`), as the
  national Báo cáo of the same set and month is another notice (`notice_scope`);
- `notices`, `baocao:DBD`, `2021-Q1` and `2021` for a nine-criteria (tt01)
  report: the quarter's on the Nth working day of the month after it, the
  year's on the same day of January (with the fourth quarter's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger

from service.calendar import WorkCalendar
from service.clock import LOCAL_TZ
from service.periods import Period
from service.scoring.schemes import provincial_id

FINAL_DAYS = range(1, 6)  # a closed month's figures settle in the first days after it


@dataclass(frozen=True, order=True)
class Due:
    job: str
    scope: str
    period: str
    at: dt.datetime  # aware, when it was due


def sync_slots(cron: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Fire times of `cron` (local time) in (start, end], aware."""
    trigger = CronTrigger.from_crontab(cron, timezone=LOCAL_TZ)
    slots: list[dt.datetime] = []
    moment = trigger.get_next_fire_time(None, start.astimezone(LOCAL_TZ))
    while moment is not None and moment <= end:
        if moment > start:
            slots.append(moment)
        following = trigger.get_next_fire_time(moment, moment + dt.timedelta(seconds=1))
        if following == moment:
            break
        moment = following
    return slots


def slot_key(moment: dt.datetime, seconds: bool = False) -> str:
    """A slot's key: its local minute, or second for sub-minute schedules (tests, demos)."""
    return moment.astimezone(LOCAL_TZ).strftime(
        "%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M"
    )


def expected_syncs(
    cron: str, provinces: Sequence[str], start: dt.datetime, end: dt.datetime
) -> list[Due]:
    """One sync per missed day (its first slot), and every slot of the last day."""
    slots = sync_slots(cron, start, end)
    last_day = end.astimezone(LOCAL_TZ).date()
    kept: dict[dt.date, list[dt.datetime]] = {}
    for moment in slots:
        day = moment.astimezone(LOCAL_TZ).date()
        if day == last_day or day not in kept:
            kept.setdefault(day, []).append(moment)
    return [
        Due("sync", province, slot_key(moment), moment)
        for moments in kept.values()
        for moment in moments
        for province in provinces
    ]


def expected_finals(provinces: Sequence[str], start: dt.datetime, end: dt.datetime) -> list[Due]:
    """The final figures of each month whose first days after it fall in the window."""
    due: dict[tuple[str, str], Due] = {}
    for day in _days(start, end):
        moment = dt.datetime.combine(day, dt.time(6, 0), LOCAL_TZ)
        if day.day in FINAL_DAYS and start < moment <= end:
            month = str(Period.month_of(day).previous())
            for province in provinces:
                due.setdefault((province, month), Due("sync-final", province, month, moment))
    return list(due.values())


def notice_day(calendar: WorkCalendar, year: int, month: int, working_day: int) -> dt.date:
    """The `working_day`-th working day of a month (default config: the third)."""
    day, count = dt.date(year, month, 1), 0
    while True:
        if calendar.is_working_day(day):
            count += 1
            if count == working_day:
                return day
        day += dt.timedelta(days=1)


def notice_scope(kind: str, unit: str, scheme: str) -> str:
    """The scope of a configured notice's runs, and of its deliveries' keys: `kind:unit`,
    and `@scheme` after it for a province's own index. The national index and the
    nine-criteria scheme, whose periods (months; quarters and years) never meet, keep
    the scope they always had."""
    scope = f"{kind}:{unit}"
    return scope if provincial_id(scheme) is None else f"{scope}@{scheme}"


def expected_notices(
    calendar: WorkCalendar,
    working_day: int,
    notices: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
) -> list[Due]:
    """Each configured notice (`kind:unit`) of the previous month, on its day."""
    due = []
    for day in _days(start, end):
        if day == notice_day(calendar, day.year, day.month, working_day):
            month = Period.month_of(day).previous()
            moment = dt.datetime.combine(day, dt.time(8, 0), LOCAL_TZ)
            if start < moment <= end:
                due += [Due("notices", notice, str(month), moment) for notice in notices]
    return due


def expected_reports(
    calendar: WorkCalendar,
    working_day: int,
    notices: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
) -> list[Due]:
    """Each configured quarterly report (`kind:unit`) of the quarter just ended, on the
    `working_day`-th working day of January, April, July and October; in January the
    report of the year just ended too."""
    due = []
    for day in _days(start, end):
        if day.month % 3 != 1 or day != notice_day(calendar, day.year, day.month, working_day):
            continue
        moment = dt.datetime.combine(day, dt.time(8, 0), LOCAL_TZ)
        if not start < moment <= end:
            continue
        month = Period.month_of(day).previous()
        periods = [Period.parse(f"{month.year}-Q{(month.number - 1) // 3 + 1}")]
        if day.month == 1:
            periods.append(Period.parse(str(month.year)))
        due += [Due("notices", notice, str(p), moment) for p in periods for notice in notices]
    return due


def _days(start: dt.datetime, end: dt.datetime) -> Iterator[dt.date]:
    day = start.astimezone(LOCAL_TZ).date()
    last = end.astimezone(LOCAL_TZ).date()
    while day <= last:
        yield day
        day += dt.timedelta(days=1)
