"""Alerting built from the settings: rules, directory, policy, channels.

The one place that turns `Settings.alerts` and `Settings.channels` into the
objects the engine, the outbox and the bot are given.
"""

from __future__ import annotations

import sys
from typing import TextIO

from service.alerts.calendar import WorkCalendar, load_holidays
from service.alerts.directory import Directory
from service.alerts.directory_files import load_directory, load_directory_csv
from service.alerts.engine import Policy
from service.alerts.rules import Rule, load_rules
from service.channels.base import Channel
from service.channels.console import ConsoleChannel
from service.channels.telegram import TelegramChannel
from service.config import ConfigError, Settings


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
    """The configured channels; Telegram only when enabled and its token is set."""
    found: dict[str, Channel] = {}
    if settings.channels.console:
        found["console"] = ConsoleChannel(stream or sys.stdout)
    telegram = settings.channels.telegram
    if telegram.enabled:
        token = settings.secret(telegram.token_env)
        if token is None:
            raise ConfigError(
                f"channels.telegram.enabled is true but the environment variable "
                f"{telegram.token_env} (the bot token) is not set"
            )
        found["telegram"] = TelegramChannel(
            token,
            base_url=telegram.base_url,
            timeout_seconds=telegram.timeout_seconds,
            token_env=telegram.token_env,
        )
    return found
