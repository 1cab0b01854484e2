"""Delivery built from the settings: the staff directory and the channels.

The one place that turns `Settings.alerts.directory_file` and `Settings.channels`
into the objects the engine, the notices, the outbox and the bot are given.
"""

from __future__ import annotations

from typing import TextIO

from service.channels.base import Channel
from service.channels.registry import KINDS
from service.config import ConfigError, Settings
from service.delivery.directory import Directory, DirectoryError
from service.delivery.directory_files import load_directory, load_directory_csv


def directory(settings: Settings) -> Directory:
    """The staff directory: `directory_file` is TOML, or CSV when it ends in .csv."""
    path = settings.alerts.directory_file
    if not path.exists():
        raise DirectoryError(
            f"{path}: no staff directory there (alerts.directory_file): copy "
            "config/directory.example.toml to it and list who is alerted"
        )
    if path.suffix.lower() == ".csv":
        return load_directory_csv(path)
    return load_directory(path)


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
