"""The life of an alert: fire once, stay quiet while unchanged, re-send on change,
repeat after an interval of working hours, resolve when the problem is gone.

Pure: takes what is known (the alerts' last states), what the rules found,
which fingerprints they could judge, and the time; returns the transitions.
Only a judged fingerprint can resolve: no data is not "no problem".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from service.alerts.models import AlertState, EventKind
from service.alerts.rules import Finding


@dataclass(frozen=True)
class Known:
    """An alert as stored: its state, last magnitude and when it was last sent."""

    fingerprint: str
    state: str
    magnitude: float | None
    last_notified_at: dt.datetime


@dataclass(frozen=True)
class Transition:
    kind: EventKind
    fingerprint: str
    finding: Finding | None
    previous_magnitude: float | None


WorkingHours = Callable[[dt.datetime, dt.datetime], float]


def transitions(
    known: Mapping[str, Known],
    findings: Sequence[Finding],
    judged: set[str],
    now: dt.datetime,
    working_hours_between: WorkingHours,
    repeat_hours: float,
) -> list[Transition]:
    """What changed since the last evaluation (see module doc)."""
    result = []
    found = {finding.fingerprint for finding in findings}
    for finding in findings:
        before = known.get(finding.fingerprint)
        if before is None or before.state == AlertState.RESOLVED:
            result.append(Transition(EventKind.FIRED, finding.fingerprint, finding, None))
        elif before.magnitude != finding.magnitude:
            result.append(
                Transition(EventKind.CHANGED, finding.fingerprint, finding, before.magnitude)
            )
        elif working_hours_between(before.last_notified_at, now) >= repeat_hours:
            result.append(
                Transition(EventKind.REPEATED, finding.fingerprint, finding, before.magnitude)
            )
    for key, before in known.items():
        if before.state == AlertState.FIRING and key in judged and key not in found:
            result.append(Transition(EventKind.RESOLVED, key, None, before.magnitude))
    return result
