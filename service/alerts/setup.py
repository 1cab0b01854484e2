"""Alerting built from the settings: the rules and the policy. The directory and the
channels, which notices use too, are `delivery.setup`'s; the working calendar is
`calendar.work_calendar`'s.
"""

from __future__ import annotations

from service.alerts.engine import Policy
from service.alerts.rules import Rule, load_rules
from service.calendar import work_calendar
from service.config import Settings


def rules(settings: Settings) -> tuple[Rule, ...]:
    return load_rules(settings.alerts.rules_file)


def policy(settings: Settings) -> Policy:
    alerts = settings.alerts
    calendar = work_calendar(settings)
    return Policy(calendar, alerts.repeat_hours, alerts.digest, alerts.escalate_after_days)
