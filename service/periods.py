"""Scored periods: `YYYY-MM`, `YYYY-Qn`, `YYYY`, with real calendar dates.

A period compares only with the previous period of the same kind (month with
month, quarter with quarter). A period is closed, and its figures final, only
after its last day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["month", "quarter", "year"]

_PATTERNS: tuple[tuple[PeriodKind, re.Pattern[str]], ...] = (
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("year", re.compile(r"^(\d{4})$")),
)

#: The years a period may name. The portal's index exists since 2022, its older API since
#: about 2019, and imported tt01 tables go back to 2021: nothing dvcwatch scores lies
#: outside these bounds, and a year outside them (0000, 2202) is a typing mistake. The
#: wide margin keeps an old archive or a far plan importable without a code change.
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True, order=True)
class Period:
    """A month, quarter or year; `number` is the month (1-12), quarter (1-4), or 0."""

    year: int
    kind: PeriodKind
    number: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2024-09`, `2021-Q1` or `2022`, of a year from FIRST_YEAR to LAST_YEAR; anything
        else is a ValueError naming the text (a year out of range also names the range: a
        date of year 0 does not exist, and would fail later as a traceback)."""
        for kind, pattern in _PATTERNS:
            match = pattern.match(text.strip())
            if match:
                number = int(match.group(2)) if kind != "year" else 0
                if kind == "month" and not 1 <= number <= 12:
                    break
                year = int(match.group(1))
                if not FIRST_YEAR <= year <= LAST_YEAR:
                    raise ValueError(
                        f"{text!r} is not a period: its year is not from {FIRST_YEAR} "
                        f"to {LAST_YEAR}"
                    )
                return cls(year, kind, number)
        raise ValueError(f"{text!r} is not a period: expected YYYY-MM, YYYY-Qn or YYYY")

    @classmethod
    def month_of(cls, day: dt.date) -> Period:
        return cls(day.year, "month", day.month)

    def __str__(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def first_day(self) -> dt.date:
        if self.kind == "month":
            return dt.date(self.year, self.number, 1)
        if self.kind == "quarter":
            return dt.date(self.year, 3 * self.number - 2, 1)
        return dt.date(self.year, 1, 1)

    @property
    def last_day(self) -> dt.date:
        last_month = {"month": self.number, "quarter": 3 * self.number, "year": 12}[self.kind]
        return dt.date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.kind == "year" or (self.number == 1):
            last = {"month": 12, "quarter": 4, "year": 0}[self.kind]
            return Period(self.year - 1, self.kind, last)
        return Period(self.year, self.kind, self.number - 1)

    def is_closed(self, today: dt.date) -> bool:
        """True once the period has ended: its figures are final from then on."""
        return today > self.last_day
