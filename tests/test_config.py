"""Settings are validated once; an error names the file, the key and what was expected."""

from __future__ import annotations

import re
import tomllib
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from service.config import DEFAULT_DB_URL, ConfigError, Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "dvcwatch.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dvcwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_is_valid():
    settings = load_settings(EXAMPLE, {})
    assert settings.watch[0].province == "H44"
    assert settings.portal.pause_seconds == (2.0, 5.0)


def test_no_file_at_the_default_place_means_defaults():
    settings = load_settings(None, {"DVCWATCH_CONFIG_UNUSED": "x"})
    assert settings.database.url == DEFAULT_DB_URL


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "missing.toml", {})


def test_a_wrong_value_names_the_key_and_the_expectation(tmp_path):
    path = write(tmp_path, '[portal]\ntimeout_seconds = "soon"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path, {})
    assert str(path) in str(error.value)
    assert "portal.timeout_seconds" in str(error.value) and "valid number" in str(error.value)


def test_an_unknown_key_is_named(tmp_path):
    path = write(tmp_path, "[portal]\npause = 3\n")
    with pytest.raises(ConfigError, match="portal.pause: unknown key"):
        load_settings(path, {})


def test_a_reversed_pause_range_is_refused(tmp_path):
    path = write(tmp_path, "[portal]\npause_seconds = [5, 1]\n")
    with pytest.raises(ConfigError, match="pause_seconds"):
        load_settings(path, {})


def test_a_notice_listed_twice_is_refused_and_one_per_scheme_is_not(tmp_path):
    """A set reported on the national index and on the province's own has two entries
    (two documents); the same entry twice would be one notice claimed twice."""
    entry = '[[notices.units]]\nunit = "TUACHUA"\nkind = "baocao"\n'
    own = entry + 'scheme = "provincial:dienbien-459"\n'
    assert len(load_settings(write(tmp_path, entry + own), {}).notices.units) == 2
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, entry + own + own), {})
    assert str(error.value).endswith(
        "notices: units: the baocao of TUACHUA under scheme provincial:dienbien-459 is listed twice"
    )


def test_invalid_toml_says_so(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[portal\n"), {})


def test_the_database_url_comes_from_the_flag_then_the_environment_then_the_file(tmp_path):
    path = write(tmp_path, '[database]\nurl = "sqlite:///file.db"\n')
    env = {"DVCWATCH_DB_URL": "sqlite:///env.db"}
    assert load_settings(path, {}).database.url == "sqlite:///file.db"
    assert load_settings(path, env).database.url == "sqlite:///env.db"
    assert load_settings(path, env, "sqlite:///flag.db").database.url == "sqlite:///flag.db"


def test_the_bot_token_comes_only_from_the_environment(tmp_path):
    path = write(tmp_path, '[channels.telegram]\ntoken_env = "MY_TOKEN"\n')
    settings = load_settings(path, {"MY_TOKEN": "123:abc"})
    assert settings.secret("MY_TOKEN") == "123:abc"
    assert "123:abc" not in repr(settings) and "123:abc" not in settings.model_dump_json()


@pytest.mark.parametrize("written", ["123:abc\r", " 123:abc \n", "\t123:abc"])
def test_a_token_from_an_environment_file_saved_on_windows_is_read_without_its_spaces(
    tmp_path, written
):
    """No bot token holds a space or a carriage return: one there came from the editor."""
    path = write(tmp_path, '[channels.telegram]\ntoken_env = "MY_TOKEN"\n')
    assert load_settings(path, {"MY_TOKEN": written}).secret("MY_TOKEN") == "123:abc"
    assert load_settings(path, {"MY_TOKEN": " \r\n"}).secret("MY_TOKEN") is None


def _keys_of(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key a settings model reads, as dotted paths ("notices.units.issuer.place")."""
    keys = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue  # secrets come from the environment, never the file
        path = f"{prefix}{name}"
        keys.add(path)
        kinds = [field.annotation, *typing.get_args(field.annotation)]
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                keys |= _keys_of(kind, f"{path}.")
    return keys


def _keys_in(value: object, prefix: str = "") -> set[str]:
    """Every key written in a parsed TOML document, as dotted paths (arrays merged)."""
    if isinstance(value, list):
        return set().union(*(_keys_in(item, prefix) for item in value))
    if not isinstance(value, dict):
        return set()
    keys = set()
    for name, item in value.items():
        keys |= {f"{prefix}{name}"} | _keys_in(item, f"{prefix}{name}.")
    return keys


def test_every_notice_setting_is_in_the_example_file():
    with EXAMPLE.open("rb") as handle:
        written = _keys_in(tomllib.load(handle))
    commented = set(re.findall(r"^# ?([a-z_]+) =", EXAMPLE.read_text(encoding="utf-8"), re.M))
    expected = {key for key in _keys_of(Settings) if key.startswith("notices")}
    missing = {key for key in expected - written if key.rsplit(".", 1)[-1] not in commented}
    assert not missing


def test_each_bot_channels_token_is_looked_up_from_its_own_section(tmp_path):
    path = write(
        tmp_path,
        '[channels.telegram]\ntoken_env = "TG"\n[channels.zalo]\ntoken_env = "ZL"\n',
    )
    settings = load_settings(path, {"TG": "1:tg", "ZL": "2:zl", "OTHER": "x"})
    assert (settings.secret("TG"), settings.secret("ZL"), settings.secret("OTHER")) == (
        "1:tg",
        "2:zl",
        None,
    )
    assert "2:zl" not in repr(settings) and "2:zl" not in settings.model_dump_json()


def test_a_bot_channels_address_must_be_a_web_address(tmp_path):
    path = write(tmp_path, '[channels.zalo]\nbase_url = "bot-api.zaloplatforms.com"\n')
    with pytest.raises(ConfigError, match="channels.zalo.base_url: not a web address"):
        load_settings(path, {})
