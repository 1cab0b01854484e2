"""Reading the staff directory from its TOML file or a CSV export of the same table.

A directory is validated once, when loaded; every error names the file, the
person (its id, and its line in a CSV file) and the field. The TOML file and
the CSV rows share one validated shape per person entry.

CSV columns (UTF-8, comma-separated, one header row; a BOM is accepted):
`id`, `name`, `channel`, `address` are required; `role`, `units`, `topics`,
`active`, `head_of`, `office_of`, `fallback`, `operator` are optional.
`units`, `topics`, `head_of` (the unit codes this person heads) and
`office_of` (the province codes whose office this person is) are
`;`-separated lists. `active` (default true), `fallback` and `operator`
(default false) are booleans: true/false, yes/no or 1/0. An empty cell takes
the default. One row at most is the fallback; a unit has one head at most, a
province one office.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.channels import registry
from service.config import ConfigError, read_toml
from service.delivery.directory import (
    EVERYTHING,
    OPERATOR_TOPIC,
    Directory,
    DirectoryError,
    Person,
)

_CODE = re.compile(r"[^\s;,]+")
_TOPIC = re.compile(r"[a-z][a-z0-9_]*")


def load_directory(path: Path, known_topics: Collection[str] | None = None) -> Directory:
    """The directory in a TOML file (see `config/directory.example.toml`).

    With `known_topics` (the rules' topics), any other topic is an error.
    Raises `DirectoryError` naming the file, the person or key, and the field.
    """
    try:
        raw = read_toml(path, required=True)
    except ConfigError as exc:  # a missing file or bad TOML: still the directory's error
        raise DirectoryError(str(exc)) from None
    try:
        entries = _DirectoryFile.model_validate(raw, context={"known_topics": known_topics})
    except ValidationError as exc:
        raise DirectoryError(_describe(str(path), exc, lambda loc: _toml_key(raw, loc))) from None
    people = tuple(entry.person() for entry in entries.people)
    roles = (entries.heads, entries.offices, entries.fallback, entries.operators)
    return _directory(path, people, *roles)


def load_directory_csv(path: Path, known_topics: Collection[str] | None = None) -> Directory:
    """The directory in a CSV file (the columns are in this module's docstring).

    With `known_topics` (the rules' topics), any other topic is an error.
    Raises `DirectoryError` naming the file, the line, the person and the column.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            _check_columns(path, reader.fieldnames)
            rows = []
            for cells in reader:
                line = reader.line_num  # the row's last physical line, as an editor shows it
                rows.append((line, _csv_row(path, line, cells, known_topics)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DirectoryError(f"{path}: cannot read the CSV file: {exc}") from None
    people = tuple(row.person() for _, row in rows)
    operators = tuple(row.id for _, row in rows if row.operator)
    return _directory(path, people, *_csv_roles(path, rows), operators)


def _code_list(value: object) -> object:
    """A `;`-separated string (a CSV cell, or a short TOML form) as a list of codes."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def _quoted_codes(value: object) -> object:
    # TOML reads `H44.116 = "x"` as a table H44 holding 116: the dot must be quoted.
    if isinstance(value, dict) and any(isinstance(item, dict) for item in value.values()):
        raise ValueError('quote unit codes that contain a dot: "H44.116" = "person-id"')
    return value


_Codes = Annotated[frozenset[str], BeforeValidator(_code_list)]
_Text = Annotated[str, Field(min_length=1)]
#: An id or an address is stored with each delivery, in columns of 64 characters.
_Key = Annotated[str, Field(min_length=1, max_length=64)]
_PERSON_FIELDS = {person_field.name for person_field in fields(Person)}


class _Entry(BaseModel):
    """A person as written in the TOML file or a CSV row, before it becomes a `Person`."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, str_strip_whitespace=True
    )

    id: _Key
    name: _Text
    role: str = ""
    units: _Codes = frozenset()
    topics: _Codes = frozenset()
    channel: str
    address: _Key
    active: bool = True

    @field_validator("id", "units")
    @classmethod
    def _codes(cls, value: str | frozenset[str]) -> str | frozenset[str]:
        for code in [value] if isinstance(value, str) else sorted(value):
            if not _CODE.fullmatch(code):
                raise ValueError(f"{code!r} holds a space, comma or semicolon")
        return value

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: frozenset[str], info: ValidationInfo) -> frozenset[str]:
        known = (info.context or {}).get("known_topics")
        for topic in sorted(value - {EVERYTHING}):
            if topic == OPERATOR_TOPIC:
                raise ValueError("operator alerts go to the operators, not by topic")
            if not _TOPIC.fullmatch(topic):
                raise ValueError(f"{topic!r} is not a topic name (a-z, 0-9, _)")
            if known is not None and topic not in known:
                raise ValueError(f"{topic!r} is not a topic of the rules: {sorted(known)}")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        registry.kind(value)  # ValueError naming the known kinds
        return value

    @model_validator(mode="after")
    def _address(self) -> _Entry:
        registry.kind(self.channel).check_address(self.address)
        return self

    def person(self) -> Person:
        return Person(**self.model_dump(include=_PERSON_FIELDS))


class _CsvRow(_Entry):
    """A CSV row: a person, and the roles that the TOML file keeps in its own tables."""

    head_of: _Codes = frozenset()
    office_of: _Codes = frozenset()
    fallback: bool = False
    operator: bool = False


class _DirectoryFile(BaseModel):
    """The TOML file: roles first (TOML wants plain keys before tables), then people."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    fallback: str | None = None
    operators: tuple[str, ...] = ()
    heads: Annotated[dict[str, str], BeforeValidator(_quoted_codes)] = {}
    offices: Annotated[dict[str, str], BeforeValidator(_quoted_codes)] = {}
    people: tuple[_Entry, ...] = ()


def _directory(
    path: Path,
    people: tuple[Person, ...],
    heads: Mapping[str, str],
    offices: Mapping[str, str],
    fallback: str | None,
    operators: tuple[str, ...],
) -> Directory:
    try:
        return Directory(people, heads, offices, fallback, operators)
    except DirectoryError as exc:
        raise DirectoryError(f"{path}: {exc}") from None


def _check_columns(path: Path, columns: Sequence[str] | None) -> None:
    known = list(_CsvRow.model_fields)
    if not columns:
        raise DirectoryError(f"{path}: empty file: expected the header row {','.join(known)}")
    for column in columns:
        if column not in known:
            raise DirectoryError(f"{path}, line 1: unknown column {column!r}; known: {known}")
        if columns.count(column) > 1:
            raise DirectoryError(f"{path}, line 1: the column {column!r} appears twice")
    for column, spec in _CsvRow.model_fields.items():
        if spec.is_required() and column not in columns:
            raise DirectoryError(f"{path}, line 1: the required column {column!r} is missing")


def _csv_row(
    path: Path, line: int, cells: dict[Any, Any], known_topics: Collection[str] | None
) -> _CsvRow:
    where = f"{path}, line {line} (id {cells.get('id') or '?'!r})"
    if None in cells:  # DictReader's key for the cells beyond the header
        raise DirectoryError(f"{where}: more cells than columns")
    filled = {column: value for column, value in cells.items() if value not in (None, "")}
    try:
        return _CsvRow.model_validate(filled, context={"known_topics": known_topics})
    except ValidationError as exc:
        raise DirectoryError(_describe(where, exc, lambda loc: ".".join(map(str, loc)))) from None


def _csv_roles(
    path: Path, rows: list[tuple[int, _CsvRow]]
) -> tuple[dict[str, str], dict[str, str], str | None]:
    """Heads, offices and the fallback as the rows claim them; a second claim is an error."""
    line_of: dict[str, int] = {}
    heads: dict[str, str] = {}
    offices: dict[str, str] = {}
    fallback: str | None = None
    for line, row in rows:
        where = f"{path}, line {line} (id {row.id!r})"
        if row.id in line_of:
            raise DirectoryError(f"{where}: id: already used on line {line_of[row.id]}")
        line_of[row.id] = line
        for column, codes, holders in (
            ("head_of", row.head_of, heads),
            ("office_of", row.office_of, offices),
        ):
            for code in sorted(codes):
                if code in holders:
                    holder = f"{holders[code]!r} (line {line_of[holders[code]]})"
                    raise DirectoryError(f"{where}: {column}: {code!r} is already {holder}'s")
                holders[code] = row.id
        if row.fallback and fallback is not None:
            holder = f"{fallback!r} (line {line_of[fallback]})"
            raise DirectoryError(f"{where}: fallback: {holder} already is the fallback")
        fallback = row.id if row.fallback else fallback
    return heads, offices, fallback


def _toml_key(raw: Mapping[str, object], loc: tuple[Any, ...]) -> str:
    """A pydantic error location as the TOML key a person looks for."""
    if len(loc) < 2 or loc[0] != "people" or not isinstance(loc[1], int):
        return ".".join(map(str, loc))
    entries = raw.get("people")
    entry = entries[loc[1]] if isinstance(entries, list) else None
    person = entry.get("id") if isinstance(entry, dict) else None
    where = f"[[people]] entry {loc[1] + 1} (id {person!r})"
    return ": ".join([where, ".".join(map(str, loc[2:]))]) if loc[2:] else where


def _describe(where: str, exc: ValidationError, key: Callable[[tuple[Any, ...]], str]) -> str:
    """One line per problem under `where`, each naming its key or column."""
    lines = [f"{where}: invalid staff directory"]
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] not in ("value_error", "missing"):
            message = f"{message} (got {error.get('input')!r})"
        place = key(error["loc"])
        lines.append(f"  {place}: {message}" if place else f"  {message}")
    return "\n".join(lines)
