"""Delivery is built from the settings: the directory from TOML or CSV, the channels."""

from __future__ import annotations

import pytest

from service.config import ConfigError, Settings
from service.delivery import setup
from tests.conftest import PROJECT


def settings_with(**alerts: object) -> Settings:
    return Settings.model_validate({"alerts": alerts})


def test_the_directory_may_be_the_toml_file_or_its_csv_export():
    from_toml = setup.directory(
        settings_with(directory_file=str(PROJECT / "config" / "directory.example.toml"))
    )
    from_csv = setup.directory(
        settings_with(directory_file=str(PROJECT / "tests" / "data" / "directory.csv"))
    )
    assert from_toml == from_csv


def test_telegram_without_its_token_is_a_clear_configuration_error():
    settings = Settings.model_validate({"channels": {"telegram": {"enabled": True}}})
    with pytest.raises(ConfigError, match="DVCWATCH_TELEGRAM_TOKEN"):
        setup.channels(settings)


def test_zalo_without_its_token_is_a_clear_configuration_error():
    settings = Settings.model_validate({"channels": {"zalo": {"enabled": True}}})
    with pytest.raises(ConfigError, match="channels.zalo.enabled .* DVCWATCH_ZALO_TOKEN"):
        setup.channels(settings)


def test_each_enabled_channel_is_built_by_its_registry_row():
    settings = Settings.model_validate(
        {"channels": {"console": False, "zalo": {"enabled": True, "token_env": "Z"}}}
    ).model_copy(update={"secrets": {"Z": "1:z"}})
    built = setup.channels(settings)
    assert {name: type(channel).__name__ for name, channel in built.items()} == {
        "zalo": "ZaloChannel"
    }
    assert built["zalo"].limits.max_message_chars == 2000
    assert built["zalo"].limits.max_buttons == 0
    assert set(setup.channels(Settings())) == {"console"}
