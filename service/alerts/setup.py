"""Alerting built from the settings: rules, directory, policy, channels.

The one place that turns `Settings.alerts` and `Settings.channels` into the
objects the engine, the outbox and the bot are given.
"""

from __future__ import annotations

from typing import TextIO

from service.alerts.engine import Policy
from service.alerts.rules import Rule, load_rules
from service.calendar import WorkCalendar, load_holidays
from service.channels.base import Channel
from service.channels.registry import KINDS
from service.config import ConfigError, Settings
from service.delivery.directory import Directory
from service.delivery.directory_files import load_directory, load_directory_csv


def rules(settings: Settings) -> tuple[Rule, ...]:
    return load_rules(settings.alerts.rules_file)


def directory(settings: Settings) -> Directory:
    """The staff directory: `directory_file` is TOML, or CSV when it ends in .csv."""
    path = settings.alerts.directory_file
    if path.suffix.lower() == ".csv":
        return load_directory_csv(path)
    return load_directory(path)


def policy(settings: Settings) -> Policy:
    alerts = settings.alerts
    holidays = load_holidays(alerts.holidays_file) if alerts.holidays_file else frozenset()
    calendar = WorkCalendar(
        holidays=holidays,
        quiet_start=alerts.quiet_start,
        quiet_end=alerts.quiet_end,
        quiet_weekends=alerts.quiet_weekends,
    )
    return Policy(calendar, alerts.repeat_hours, alerts.digest, alerts.escalate_after_days)


def channels(settings: Settings, stream: TextIO | None = None) -> dict[str, Channel]:
    """The configured channels, each built by its registry row: the console when
    switched on, a bot kind when enabled and its token is set."""
    found: dict[str, Channel] = {}
    bots = settings.channels.bots()
    for name, kind in KINDS.items():
        if kind.local is not None and getattr(settings.channels, name, False) is True:
            found[name] = kind.local(stream)
        section = bots.get(name)
        if kind.build is None or section is None or not section.enabled:
            continue
        token = settings.secret(section.token_env)
        if token is None:
            raise ConfigError(
                f"channels.{name}.enabled is true but the environment variable "
                f"{section.token_env} (the bot token) is not set"
            )
        found[name] = kind.build(section, token)
    return found
