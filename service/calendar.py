"""Working time and quiet hours in Asia/Ho_Chi_Minh: when to deliver, how long it has been.

Used by the alerts, their deliveries and the job planner. Alerts wait out
nights, weekends and public holidays (`next_delivery_time`), and their repeat
intervals and escalation delays are counted in working time
(`add_working_hours`, `add_working_days`), so an alert raised on a Friday
evening neither repeats on Saturday nor escalates during a Tết break.

Time conventions, for every method: a moment is either aware, or naive and
then read as UTC (how the database stores times). A result is expressed like
the moment it was computed from: naive UTC for a naive input, the input's own
time zone for an aware one. Clock times (`workday_start`, `quiet_end`, ...)
and dates (`holidays`) are local to Asia/Ho_Chi_Minh. Durations are measured
in UTC and local days are found through zoneinfo: no fixed offset is assumed.

The holiday list lives in `config/holidays.toml` (`load_holidays`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from service.clock import LOCAL_TZ
from service.config import ConfigError, Settings, read_toml

_ONE_DAY = dt.timedelta(days=1)
_NO_TIME = dt.timedelta(0)


@dataclass(frozen=True)
class WorkCalendar:
    """When people work, and when they must not be disturbed.

    A working day is a weekday in `working_weekdays` (Monday = 0) that is not
    in `holidays`; working time is [workday_start, workday_end) on a working
    day. Quiet time is all of a holiday, all of a non-working weekday when
    `quiet_weekends`, and every night from `quiet_start` (included) to
    `quiet_end` (excluded); the nightly span may wrap past midnight, and equal
    bounds mean no nightly quiet hours. Raises `ValueError` on an empty
    working day or week, or on clock times that carry a time zone.
    """

    workday_start: dt.time = dt.time(7, 30)
    workday_end: dt.time = dt.time(17, 0)
    working_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[dt.date] = frozenset()
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(7, 0)
    quiet_weekends: bool = True

    def __post_init__(self) -> None:
        clocks = (self.workday_start, self.workday_end, self.quiet_start, self.quiet_end)
        if any(clock.tzinfo is not None for clock in clocks):
            raise ValueError("clock times are local to Asia/Ho_Chi_Minh: give them no tzinfo")
        if not self.workday_start < self.workday_end:
            raise ValueError(
                f"workday_start ({self.workday_start}) must be before workday_end "
                f"({self.workday_end})"
            )
        # An empty week would make every search for working time endless.
        if not self.working_weekdays or not self.working_weekdays <= set(range(7)):
            raise ValueError(
                f"working_weekdays must be a non-empty subset of 0-6 (Monday = 0), "
                f"got {sorted(self.working_weekdays)}"
            )

    def is_working_day(self, day: dt.date) -> bool:
        """True for a local date on which people work (a working weekday, not a holiday)."""
        return day.weekday() in self.working_weekdays and day not in self.holidays

    def is_quiet(self, moment: dt.datetime) -> bool:
        """True when nobody should be disturbed at `moment` (quiet hours, weekend, holiday)."""
        local = _as_utc(moment).astimezone(LOCAL_TZ)
        return self._is_quiet_day(local.date()) or self._in_quiet_hours(local.time())

    def next_delivery_time(self, moment: dt.datetime) -> dt.datetime:
        """The first moment at or after `moment` that is not quiet.

        `moment` itself when it is not quiet; otherwise the end of the quiet
        period it falls in: Saturday 10:00 gives Monday 07:00, 22:00 on a
        Thursday gives Friday 07:00, a holiday Friday gives the next working
        day at 07:00 (with the default calendar).
        """
        if not self.is_quiet(moment):
            return moment
        local = _as_utc(moment).astimezone(LOCAL_TZ)
        while self.is_quiet(local):
            local = self._end_of_quiet_stretch(local)
        return _like(local, moment)

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Hours of working time in [start, end); negative when `end` is before `start`."""
        return self._working_time_between(start, end).total_seconds() / 3600

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The earliest moment with `hours` of working time since `start`.

        `start` itself for 0 hours. A span that uses up a working day exactly
        ends at `workday_end` of that day, not at the next morning: 9.5 hours
        from Monday 07:30 is Monday 17:00. Raises `ValueError` for negative hours.
        """
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        return self._add_working_time(start, dt.timedelta(hours=hours))

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Whole working days of working time in [start, end), truncated toward zero.

        A working day is one full workday of working time (9.5 hours with the
        defaults), wherever it falls: Monday 12:00 to Tuesday 12:00 is one day,
        Friday 12:00 to Monday 12:00 is one day, Monday 12:00 to Tuesday 08:00
        is none. Negative when `end` is before `start`.
        """
        elapsed = self._working_time_between(start, end)
        days = abs(elapsed) // self.workday_length
        return days if elapsed >= _NO_TIME else -days

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The earliest moment with `days` full working days of working time since `start`.

        The inverse of `working_days_between`: from inside working time it is
        the same local clock time `days` working days later (Friday 16:00 plus
        one day is Monday 16:00); from outside it, the end of the working day
        that completes the count (Saturday 10:00 plus one day is Monday 17:00).
        Raises `ValueError` for negative days.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        return self._add_working_time(start, days * self.workday_length)

    @property
    def workday_length(self) -> dt.timedelta:
        """One working day of working time (9.5 hours with the defaults). Never more
        than a day of wall time, so `days` working days take at least `days` times it."""
        today = dt.date(2000, 1, 1)  # any date: clock times only differ within one day
        return dt.datetime.combine(today, self.workday_end) - dt.datetime.combine(
            today, self.workday_start
        )

    def _is_quiet_day(self, day: dt.date) -> bool:
        weekend = self.quiet_weekends and day.weekday() not in self.working_weekdays
        return weekend or day in self.holidays

    def _in_quiet_hours(self, clock: dt.time) -> bool:
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= clock < self.quiet_end
        return clock >= self.quiet_start or clock < self.quiet_end

    def _end_of_quiet_stretch(self, local: dt.datetime) -> dt.datetime:
        """The next candidate after a quiet local moment: the next midnight or quiet_end."""
        day = local.date()
        if self._is_quiet_day(day):
            return _local(day + _ONE_DAY, dt.time(0))
        wraps = self.quiet_start > self.quiet_end
        if wraps and local.time() >= self.quiet_start:
            return _local(day + _ONE_DAY, self.quiet_end)
        return _local(day, self.quiet_end)

    def _working_window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """Working time of a local working day as an aware-UTC [open, close).

        In UTC so that differences are elapsed time, not wall-clock time.
        """
        opens = _local(day, self.workday_start).astimezone(dt.UTC)
        return opens, _local(day, self.workday_end).astimezone(dt.UTC)

    def _working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        low, high = _as_utc(start), _as_utc(end)
        if high < low:
            return -self._working_time_between(end, start)
        total = _NO_TIME
        day = low.astimezone(LOCAL_TZ).date()
        last = high.astimezone(LOCAL_TZ).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._working_window(day)
                overlap = min(high, closes) - max(low, opens)
                total += max(overlap, _NO_TIME)
            day += _ONE_DAY
        return total

    def _add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        if amount <= _NO_TIME:
            return start
        cursor = _as_utc(start)
        day = cursor.astimezone(LOCAL_TZ).date()
        # Terminates: the week has working days and the holidays are finite.
        while True:
            if self.is_working_day(day):
                opens, closes = self._working_window(day)
                begin = max(cursor, opens)
                available = closes - begin
                if amount <= available:
                    return _like(begin + amount, start)
                amount -= max(available, _NO_TIME)
            day += _ONE_DAY


def load_holidays(path: Path) -> frozenset[dt.date]:
    """The public holidays listed in a TOML file (see `config/holidays.toml`).

    The file holds `[[holidays]]` tables, each with a `date` (a TOML date or
    an ISO `YYYY-MM-DD` string) and a non-empty `name`, nothing else. Raises
    `ConfigError` naming the file and the entry for a missing file, bad TOML,
    an unknown key, a bad date or name, or a date listed twice.
    """
    raw = read_toml(path, required=True)
    unknown = sorted(set(raw) - {"holidays"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (expected [[holidays]] tables)")
    entries = raw.get("holidays", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: holidays: expected [[holidays]] tables")
    seen: dict[dt.date, str] = {}
    for number, entry in enumerate(entries, start=1):
        label = f"{path}: [[holidays]] entry {number}"
        day, name = _holiday(entry, label)
        if day in seen:
            raise ConfigError(f"{label} ({name}): date {day} is already listed as {seen[day]!r}")
        seen[day] = name
    return frozenset(seen)


def _holiday(entry: object, label: str) -> tuple[dt.date, str]:
    """One validated `[[holidays]]` entry; `label` says where it is for the error."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{label}: expected a table with date and name")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{label}: name: expected a non-empty string, got {name!r}")
    label = f"{label} ({name})"
    unknown = sorted(set(entry) - {"date", "name"})
    if unknown:
        raise ConfigError(f"{label}: {unknown[0]}: unknown key")
    value = entry.get("date")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value, name
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()), name
        except ValueError:
            pass
    raise ConfigError(f"{label}: date: expected a date like 2026-02-17, got {value!r}")


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one is read as UTC (as the database stores it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _like(result: dt.datetime, original: dt.datetime) -> dt.datetime:
    """`result` expressed like `original`: naive UTC, or in the original's time zone."""
    if original.tzinfo is None:
        return result.astimezone(dt.UTC).replace(tzinfo=None)
    return result.astimezone(original.tzinfo)


def _local(day: dt.date, clock: dt.time) -> dt.datetime:
    """A local clock time on a local date, as an aware datetime (zoneinfo finds the offset)."""
    return dt.datetime.combine(day, clock, tzinfo=LOCAL_TZ)


def work_calendar(settings: Settings) -> WorkCalendar:
    """The calendar `[alerts]` configures: its holidays file and quiet hours."""
    alerts = settings.alerts
    holidays = load_holidays(alerts.holidays_file) if alerts.holidays_file else frozenset()
    return WorkCalendar(
        holidays=holidays,
        quiet_start=alerts.quiet_start,
        quiet_end=alerts.quiet_end,
        quiet_weekends=alerts.quiet_weekends,
    )
