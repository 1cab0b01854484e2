"""The simulator's daily mode: running figures drift for exactly the units drawn to change."""

from __future__ import annotations

import datetime as dt
import json

from service.periods import Period
from service.portal.api import PROVINCE_ENDPOINTS
from service.portal.parse import parse_province
from service.simulator.daily import DailySource, changes_on
from service.simulator.queries import PortalQuery

OCTOBER = Period.parse("2026-10")


def readings(source: DailySource, day: dt.date, period: Period = OCTOBER) -> dict[str, object]:
    """Each unit's parsed figures (by code) as dvcwatch reads them on `day`."""
    source.set_day(day)
    province = source.provinces[0].department.department_id
    queries = [PortalQuery(e, period, province, page_size=300) for e in PROVINCE_ENDPOINTS]
    datasets = {q.endpoint: json.loads(source.answer(q).body)["data"] for q in queries}
    parsed = parse_province(province, datasets)
    return {r.code: r.figures for r in (parsed.province, *parsed.units)}


def test_a_day_moves_the_figures_of_the_units_drawn_to_change_and_only_theirs():
    source = DailySource(5, 1, 40, 6, day=dt.date(2026, 10, 1), share=0.2)
    codes = [unit.department.code for unit in source.provinces[0].units]
    before = readings(source, dt.date(2026, 10, 13))
    moved_days = 0
    for number in range(14, 18):
        day = dt.date(2026, 10, number)
        after = readings(source, day)
        moved = {code for code in codes if after[code] != before[code]}
        assert moved == {code for code in codes if changes_on(5, code, day, 0.2)}
        assert (after["H01"] != before["H01"]) == bool(moved or source.changed("H01", day))
        moved_days += bool(moved)
        before = after
    assert moved_days  # a fifth of 46 units: some move on every day drawn here


def test_the_same_seed_and_day_give_the_same_bytes_and_a_closed_month_reads_as_its_last_day():
    first = DailySource(9, 1, 10, 2, day=dt.date(2026, 10, 20))
    second = DailySource(9, 1, 10, 2, day=dt.date(2026, 10, 31))
    second.set_day(dt.date(2026, 10, 20))
    assert readings(first, dt.date(2026, 10, 20)) == readings(second, dt.date(2026, 10, 20))
    closed = readings(first, dt.date(2026, 11, 3))
    assert closed == readings(second, dt.date(2026, 10, 31))
    assert closed != readings(first, dt.date(2026, 10, 2))
