"""`config/dvcwatch.example.toml` documents every key the settings read, and is valid.

The example's header promises that it shows every key; an operator reads it, not
`service/config.py`. A key may be written (with its default or an example) or, when
writing it would change behaviour (an optional path, an override), shown commented
out (`# key = ...`).
"""

from __future__ import annotations

import re
import tomllib
import typing
from pathlib import Path

from pydantic import BaseModel

from service.config import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "dvcwatch.example.toml"


def keys_of(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key a settings model reads, as dotted paths ("notices.units.issuer.place")."""
    keys = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue  # secrets come from the environment, never the file
        path = f"{prefix}{name}"
        keys.add(path)
        for kind in (field.annotation, *typing.get_args(field.annotation)):
            for inner in (kind, *typing.get_args(kind)):  # tuple[Model, ...]
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    keys |= keys_of(inner, f"{path}.")
    return keys


def keys_in(value: object, prefix: str = "") -> set[str]:
    """Every key written in a parsed TOML document, as dotted paths (arrays merged)."""
    if isinstance(value, list):
        return set().union(*(keys_in(item, prefix) for item in value))
    if not isinstance(value, dict):
        return set()
    keys = set()
    for name, item in value.items():
        keys |= {f"{prefix}{name}"} | keys_in(item, f"{prefix}{name}.")
    return keys


def example() -> dict[str, typing.Any]:
    with EXAMPLE.open("rb") as handle:
        return tomllib.load(handle)


def test_every_settings_field_is_in_the_example_file() -> None:
    written = keys_in(example())
    text = EXAMPLE.read_text(encoding="utf-8")
    commented = set(re.findall(r"^# ?([a-z_]+) =", text, re.M))
    missing = {k for k in keys_of(Settings) - written if k.rsplit(".", 1)[-1] not in commented}
    assert not missing, f"add to {EXAMPLE.name}: {sorted(missing)}"


def test_the_example_file_has_no_key_the_settings_do_not_read() -> None:
    assert keys_in(example()) - keys_of(Settings) == set()


def test_the_example_file_is_valid_settings() -> None:
    Settings.model_validate(example())


def test_the_walk_finds_keys_inside_lists_of_sections() -> None:
    """The check above would pass vacuously if the walk missed nested sections."""
    keys = keys_of(Settings)
    assert {"notices.units.issuer.signer_name", "schedules.catch_up_days", "watch.province"} <= keys
