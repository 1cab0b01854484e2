"""The portal's endpoints, one table: each axis's endpoint, its period form, its keys."""

from __future__ import annotations

import pytest

from service import indicators
from service.periods import Period
from service.portal import api
from service.portal.api import Endpoint, PeriodForm, _by_axis
from service.portal.parse import FIGURE_READERS


def test_every_axis_of_the_registry_has_one_endpoint_in_its_order():
    assert list(api.BY_AXIS) == list(indicators.AXES)
    assert [e.axis for e in api.BY_AXIS.values()] == list(indicators.AXES.values())
    assert api.PROVINCE_ENDPOINTS[0] == api.SERVICE_RESULTS.name
    assert len(set(api.PROVINCE_ENDPOINTS)) == 7


def test_an_axis_without_an_endpoint_or_with_two_is_refused():
    listed = list(api.BY_AXIS.values())
    with pytest.raises(ValueError, match="one endpoint per axis"):
        _by_axis(*listed[:-1])
    twice = Endpoint("again", indicators.CKMB, PeriodForm.TIME_TYPE, "overview", "evaluation", None)
    with pytest.raises(ValueError, match="one endpoint per axis"):
        _by_axis(*listed, twice)


def test_the_parser_reads_every_endpoint_of_the_table():
    assert set(FIGURE_READERS) == set(api.ENDPOINTS)


@pytest.mark.parametrize(
    ("period", "time_type", "dates"),
    [
        (
            "2026-08",
            {"timeType": "month", "year": 2026, "month": 8},
            {"fromDate": "2026-08-01", "toDate": "2026-08-31"},
        ),
        (
            "2026-Q3",
            {"timeType": "quarter", "year": 2026, "quarter": 3},
            {"fromDate": "2026-07-01", "toDate": "2026-09-30"},
        ),
        (
            "2024",
            {"timeType": "year", "year": 2024},
            {"fromDate": "2024-01-01", "toDate": "2024-12-31"},
        ),
    ],
)
def test_a_period_is_asked_in_the_endpoint_s_form(period, time_type, dates):
    asked = {name: api.period_fields(name, Period.parse(period)) for name in api.ENDPOINTS}
    by_dates = {e.name for e in api.ENDPOINTS.values() if e.period_form is PeriodForm.DATES}
    assert by_dates == {api.HANDLING_SATISFACTION.name}
    assert asked == {name: dates if name in by_dates else time_type for name in api.ENDPOINTS}


def test_only_the_progress_tree_s_units_keep_their_points_under_short_keys():
    short = {
        (e.name, is_root)
        for e in api.ENDPOINTS.values()
        for is_root in (True, False)
        if e.scores(is_root) != api.TOTAL_SCORES
    }
    assert short == {(api.DVC_PROGRESS_TREE.name, False)}
    assert api.DVC_PROGRESS_TREE.scores(is_root=False) == api.Scores("score", "maxScore")
