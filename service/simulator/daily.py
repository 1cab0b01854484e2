"""The generated country read day by day: running figures that drift within a month.

`DailySource` is `GeneratedSource` with a day it stands on (`set_day`). A month
that contains the day answers its figures as read that day; a month before it
answers as read on its last day (closed); quarters and years are the generated
sums as before. Within a month, each unit's figures change on a day with
probability `share`, drawn from the seed, the unit and the day alone
(`changes_on`), so a run is reproducible and a checker can tell, for any unit and
day, whether its figures moved. A change adds dossiers received, settled on time
and synchronised, results issued electronically and documents digitised, so the
unit's counts always differ from the day before; a province's own figures (the
sum of its units and its office) move whenever one of them does.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import replace

from service.periods import Period
from service.simulator.country import Province
from service.simulator.counts import (
    Figures,
    Tally,
    _month_rng,
    month_catalogue,
    month_tally,
    total_of,
)
from service.simulator.generated import AXIS_ANSWERS, GeneratedSource, _Memo
from service.simulator.queries import JSON

SHARE = 0.05  # of units whose figures change on a given day


def changes_on(seed: int, code: str, day: dt.date, share: float) -> bool:
    """Whether unit `code`'s running figures change on `day` (never on a month's first
    day: that is the month's first reading)."""
    if day.day == 1:
        return False
    draw = zlib.crc32(f"daily:{seed}:{code}:{day.isoformat()}".encode())
    return draw < share * 2**32


def changes_until(seed: int, code: str, day: dt.date, share: float) -> int:
    """How many times `code`'s figures of `day`'s month have changed by `day`."""
    return sum(
        changes_on(seed, code, day.replace(day=number), share) for number in range(2, day.day + 1)
    )


def drift(tally: Tally, steps: int) -> Tally:
    """`tally` after `steps` days of change (each adds a few dossiers, all consistent)."""
    if steps == 0:
        return tally
    return replace(
        tally,
        received=tally.received + 3 * steps,
        on_time=tally.on_time + 2 * steps,
        processing_days=tally.processing_days + 4.5 * steps,
        synced=tally.synced + 3 * steps,
        satisfied=tally.satisfied + 2 * steps,
        e_result=tally.e_result + steps,
        digitised=tally.digitised + steps,
    )


def figures_as_of(
    seed: int, province: Province, period: Period, day: dt.date, share: float
) -> Figures:
    """A month's counts of every unit of `province` as read on `day` (in or after it)."""
    read = min(day, period.last_day)
    members = [(unit.department.code, unit.habits) for unit in province.units]
    members.append((province.department.code, province.office))
    tallies = [
        drift(
            month_tally(habits, _month_rng(seed, code, period.year, period.number)),
            changes_until(seed, code, read, share),
        )
        for code, habits in members
    ]
    catalogue = month_catalogue(seed, province, period.year, period.number)
    total = total_of(tallies)
    return Figures(
        province, tuple(tallies[:-1]), total, catalogue, ((period.number, total, catalogue),)
    )


class DailySource(GeneratedSource):
    """A `GeneratedSource` whose months drift day by day (see module doc)."""

    def __init__(
        self,
        seed: int = 1,
        provinces: int = 1,
        communes: int = 20,
        agencies: int = 5,
        *,
        day: dt.date,
        share: float = SHARE,
    ) -> None:
        super().__init__(seed, provinces, communes, agencies)
        self.share = share
        self.day = day

    def set_day(self, day: dt.date) -> None:
        """Stand on `day`: the answers of its month are what that day reads."""
        with self._lock:
            if day != self.day:
                self.day = day
                self._answers = _Memo(2 * len(self.provinces) + 8)
                self._bodies = _Memo(512)

    def changed(self, code: str, day: dt.date) -> bool:
        """Whether unit `code`'s figures (a province's: its own) differ from the day before's
        reading of the same month."""
        return changes_on(self.seed, code, day, self.share)

    def _axes(self, province: Province, period: Period) -> dict[str, JSON]:
        if period.kind != "month" or period.first_day > self.day:
            return super()._axes(province, period)

        def make() -> dict[str, JSON]:
            figures = figures_as_of(self.seed, province, period, self.day, self.share)
            return {code: build(figures) for code, build in AXIS_ANSWERS.items()}

        return self._answers.get((province.department.code, period), make)
