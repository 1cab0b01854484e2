"""An alert fires once, re-sends on change, repeats after working hours, resolves."""

from __future__ import annotations

import datetime as dt

from service.alerts.lifecycle import Known, transitions
from service.alerts.rules import Finding, Rule

RULE = Rule(id="overdue", kind="count_above", topic="overdue", count="overdue")
NOW = dt.datetime(2026, 9, 10, 3, 0)


def finding(magnitude: float, key: str = "overdue|H44.116") -> Finding:
    return Finding(key, RULE, "H44.116", "H44", magnitude, "2026-09")


def hours(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600


def known(magnitude: float, state: str = "firing", notified: dt.datetime = NOW) -> dict:
    return {"overdue|H44.116": Known("overdue|H44.116", state, magnitude, notified)}


def kinds(result) -> list[tuple[str, float | None]]:
    return [(str(t.kind), t.previous_magnitude) for t in result]


def test_a_new_finding_fires():
    result = transitions({}, [finding(3)], {"overdue|H44.116"}, NOW, hours, 24)
    assert kinds(result) == [("fired", None)]


def test_an_unchanged_alert_stays_quiet():
    result = transitions(known(3), [finding(3)], {"overdue|H44.116"}, NOW, hours, 24)
    assert result == []


def test_a_changed_magnitude_is_sent_again_with_the_previous_one():
    result = transitions(known(3), [finding(7)], {"overdue|H44.116"}, NOW, hours, 24)
    assert kinds(result) == [("changed", 3)]


def test_an_unchanged_alert_repeats_after_the_interval():
    earlier = NOW - dt.timedelta(hours=25)
    result = transitions(
        known(3, notified=earlier), [finding(3)], {"overdue|H44.116"}, NOW, hours, 24
    )
    assert kinds(result) == [("repeated", 3)]


def test_a_judged_alert_without_finding_resolves():
    result = transitions(known(7), [], {"overdue|H44.116"}, NOW, hours, 24)
    assert kinds(result) == [("resolved", 7)]


def test_no_data_never_resolves():
    assert transitions(known(7), [], set(), NOW, hours, 24) == []


def test_a_resolved_alert_that_comes_back_fires_again():
    result = transitions(
        known(7, state="resolved"), [finding(2)], {"overdue|H44.116"}, NOW, hours, 24
    )
    assert kinds(result) == [("fired", None)]
