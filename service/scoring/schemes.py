"""Provincial index schemes, read from configuration, and scoring one unit.

A province scores its own units with its own index (e.g. Điện Biên's
Quyết định 459/QĐ-UBND): indicators in groups, each with a maximum; an
indicator that does not apply to a unit leaves both its points and its
maximum. The converted score (tổng điểm quy đổi) is
points ÷ applicable maximum × scale (100, or 10 in some provinces), and a
classification band is chosen on it. Points, sums, the conversion and the
bands are decimals (`decimals`): a score exactly on a band's minimum earns
that band, on either scale. The shape of each scheme is
configuration (`config/schemes/*.toml`, `kind = "provincial"`): adding a
province takes a new file, not code. Much of it is inferred from reports,
which is why none of it is written here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from service.config import ConfigError, parse_toml_file
from service.scoring.decimals import Number, round_half_up, to_decimal

SUPPORTED_SCALES = (10, 100)
BANDS_SCALE = 100  # bands are written on the 100-point scale and divided for the 10-point one
PROVINCIAL_KIND = "provincial"


def provincial_id(scheme: str) -> str | None:
    """The id of a province's own index from its interchange name
    ("provincial:dienbien-459" → "dienbien-459"); None for the national index and tt01."""
    kind, colon, name = scheme.partition(":")
    return name if colon and kind == PROVINCIAL_KIND else None


class SchemeError(ValueError):
    """A scheme file is unreadable or invalid; the message names file and key."""


class ScoringError(ValueError):
    """The points given for a unit do not fit its scheme; one problem a line,
    each naming the indicator code."""


@dataclass(frozen=True)
class Band:
    """A class and the lowest score that earns it (a score equal to `min` is in
    the band: "Xuất sắc ≥ 90"); `min` None on the last band means "everything
    below the band before"."""

    name: str
    min: Decimal | None


def classify(value: Number, bands: Sequence[Band]) -> str:
    """The first band (bands run from the highest) whose `min` the unrounded
    `value` reaches, compared as decimals: 90 is Xuất sắc, 89.996 (shown
    90.00) is below 90, whatever the table shows rounded."""
    exact = to_decimal(value)
    for band in bands:
        if band.min is None or band.min <= exact:
            return band.name
    raise ValueError(f"no band takes {value}: the last band must have no minimum")


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    max: float


@dataclass(frozen=True)
class Group:
    """A group of indicators (e.g. CKMB, Công khai, minh bạch)."""

    code: str
    name: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Scheme:
    """A provincial scheme; `bands` are on the 100-point scale."""

    id: str
    title: str
    legal_basis: str
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    default_scale: int
    bands: tuple[Band, ...]

    @property
    def interchange_name(self) -> str:
        """The scheme's name in the interchange table: `provincial:<id>`."""
        return f"{PROVINCIAL_KIND}:{self.id}"

    def indicator(self, code: str) -> Indicator | None:
        return next((item for item in self.indicators if item.code == code), None)

    def bands_for(self, scale: int) -> tuple[Band, ...]:
        """The bands with their minimums moved to `scale`, exactly (÷ 10 on the
        10 scale: 85.23 → 8.523, never the float 8.523000000000001)."""
        return tuple(
            Band(band.name, None if band.min is None else band.min * scale / BANDS_SCALE)
            for band in self.bands
        )


@dataclass(frozen=True)
class ScoredUnit:
    """One unit scored with one scheme.

    `points` is the exact sum over applicable indicators (điểm đạt được),
    `applicable_max` the sum of their maximums, `converted` the unrounded
    points × scale ÷ applicable_max (exact when it terminates, else to 28
    digits), None (and no class) when nothing applies.
    """

    scheme_id: str
    points: Decimal
    applicable_max: Decimal
    scale: int
    converted: Decimal | None
    class_name: str | None
    not_applicable: tuple[str, ...]

    @property
    def converted_rounded(self) -> Decimal | None:
        """The converted score as reports print it: 2 decimals, half up."""
        return None if self.converted is None else round_half_up(self.converted)


def score_unit(
    scheme: Scheme, points: Mapping[str, Number | None], scale: int | None = None
) -> ScoredUnit:
    """Score one unit from its points per indicator code.

    Every indicator of the scheme must be given; None means "not
    applicable" (the report's "-"). A missing or unknown code, a negative
    value or one above the indicator's maximum raises ScoringError naming
    every such code. `scale` defaults to the scheme's and must be 10 or 100.
    Sums are exact decimal sums of the figures as written, so a class never
    flips on a float rounding error.
    """
    scale = scheme.default_scale if scale is None else scale
    problems = _point_problems(scheme, points)
    if scale not in SUPPORTED_SCALES:
        problems.append(f"scale {scale} is not one of {SUPPORTED_SCALES}")
    if problems:
        raise ScoringError("\n".join(problems))
    applicable = {
        item.code: (to_decimal(value), to_decimal(item.max))
        for item in scheme.indicators
        if (value := points[item.code]) is not None
    }
    total = sum((value for value, _ in applicable.values()), Decimal(0))
    maximum = sum((item_max for _, item_max in applicable.values()), Decimal(0))
    converted = total * scale / maximum if maximum else None
    return ScoredUnit(
        scheme_id=scheme.id,
        points=total,
        applicable_max=maximum,
        scale=scale,
        converted=converted,
        class_name=None if converted is None else classify(converted, scheme.bands_for(scale)),
        not_applicable=tuple(
            item.code for item in scheme.indicators if item.code not in applicable
        ),
    )


def _point_problems(scheme: Scheme, points: Mapping[str, Number | None]) -> list[str]:
    problems = [
        f"{code}: not an indicator of scheme {scheme.id}"
        for code in points
        if scheme.indicator(code) is None
    ]
    for item in scheme.indicators:
        if item.code not in points:
            problems.append(f"{item.code}: no points given (give None if not applicable)")
            continue
        value = points[item.code]
        if value is not None and not 0 <= to_decimal(value) <= to_decimal(item.max):
            problems.append(f"{item.code}: {value} is outside 0–{item.max:g}")
    return problems


def load_schemes(folder: str | Path) -> dict[str, Scheme]:
    """Every provincial scheme in `folder/*.toml`, by id.

    Files of another kind (e.g. `kind = "tt01"`) are skipped; a missing
    folder, a file without `kind`, an invalid scheme or an id used twice
    raises SchemeError.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SchemeError(f"{folder}: not a folder of scheme files")
    schemes: dict[str, Scheme] = {}
    origins: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        table = read_config(path)
        if table.get("kind") != PROVINCIAL_KIND:
            continue
        scheme = _scheme(table, path)
        if scheme.id in origins:
            raise SchemeError(f"{path}: id: {scheme.id!r} is also defined in {origins[scheme.id]}")
        schemes[scheme.id], origins[scheme.id] = scheme, path
    return schemes


def load_scheme(path: str | Path) -> Scheme:
    """Read and validate one provincial scheme file (`kind = "provincial"`)."""
    path = Path(path)
    table = read_config(path)
    if table.get("kind") != PROVINCIAL_KIND:
        raise SchemeError(f"{path}: kind: expected {PROVINCIAL_KIND!r}, got {table.get('kind')!r}")
    return _scheme(table, path)


def read_config(path: Path) -> dict[str, object]:
    """A scheme folder's TOML file as a table; it must say its `kind`."""
    try:
        table = parse_toml_file(path)
    except OSError as error:
        raise SchemeError(f"{path}: cannot read: {error.strerror}") from error
    except ConfigError as error:  # not UTF-8, not TOML: the message names the file
        raise SchemeError(str(error)) from None
    if not isinstance(table.get("kind"), str):
        raise SchemeError(f'{path}: kind: missing (e.g. kind = "{PROVINCIAL_KIND}")')
    return table


def _scheme(table: Mapping[str, object], path: Path) -> Scheme:
    groups, indicators = _read_groups(table.get("groups"), path)
    scale = table.get("default_scale")
    if not isinstance(scale, int) or isinstance(scale, bool) or scale not in SUPPORTED_SCALES:
        raise SchemeError(
            f"{path}: default_scale: expected one of {SUPPORTED_SCALES}, got {scale!r}"
        )
    return Scheme(
        id=_text(table, "id", path),
        title=_text(table, "title", path),
        legal_basis=_text(table, "legal_basis", path),
        groups=groups,
        indicators=indicators,
        default_scale=scale,
        bands=parse_bands(table.get("bands"), path),
    )


def parse_bands(raw: object, path: Path) -> tuple[Band, ...]:
    """Validate a `[[bands]]` array: names, minimums strictly falling, and a
    last band without `min` that takes everything below. Minimums are read
    as the decimals written in the file."""
    if not isinstance(raw, list) or len(raw) < 2:
        raise SchemeError(f"{path}: bands: expected at least two [[bands]] tables")
    bands: list[Band] = []
    for index, entry in enumerate(raw):
        where = f"bands[{index}]"
        entry = _table(entry, path, where)
        last = index == len(raw) - 1
        if last != ("min" not in entry):
            rule = "must not have" if last else "needs"
            raise SchemeError(f"{path}: {where}.min: this band {rule} a minimum")
        minimum = None if last else to_decimal(_number(entry, "min", path, where))
        above = bands[-1].min if bands else None
        if minimum is not None and above is not None and minimum >= above:
            raise SchemeError(
                f"{path}: {where}.min: must be below the band before ({float(above):g})"
            )
        name = _text(entry, "name", path, where)
        if any(band.name == name for band in bands):
            raise SchemeError(f"{path}: {where}.name: {name!r} is used by another band")
        bands.append(Band(name, minimum))
    return tuple(bands)


def _read_groups(raw: object, path: Path) -> tuple[tuple[Group, ...], tuple[Indicator, ...]]:
    if not isinstance(raw, list) or not raw:
        raise SchemeError(f"{path}: groups: expected at least one [[groups]] table")
    groups: list[Group] = []
    indicators: list[Indicator] = []
    for index, entry in enumerate(raw):
        where = f"groups[{index}]"
        entry = _table(entry, path, where)
        items = entry.get("indicators")
        if not isinstance(items, list) or not items:
            raise SchemeError(f"{path}: {where}.indicators: expected [[{where}.indicators]] tables")
        members = [
            _read_indicator(item, path, f"{where}.indicators[{n}]") for n, item in enumerate(items)
        ]
        for member in members:
            if any(known.code == member.code for known in indicators):
                raise SchemeError(f"{path}: {where}: indicator {member.code} appears twice")
            indicators.append(member)
        code, name = _text(entry, "code", path, where), _text(entry, "name", path, where)
        groups.append(Group(code, name, tuple(member.code for member in members)))
    return tuple(groups), tuple(indicators)


def _read_indicator(raw: object, path: Path, where: str) -> Indicator:
    entry = _table(raw, path, where)
    maximum = _number(entry, "max", path, where)
    if maximum <= 0:
        raise SchemeError(f"{path}: {where}.max: must be positive, got {maximum:g}")
    return Indicator(_text(entry, "code", path, where), _text(entry, "label", path, where), maximum)


def _table(raw: object, path: Path, where: str) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise SchemeError(f"{path}: {where}: expected a table")
    return raw


def _text(table: Mapping[str, object], key: str, path: Path, where: str = "") -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SchemeError(f"{path}: {_key(where, key)}: expected non-empty text, got {value!r}")
    return value.strip()


def _number(table: Mapping[str, object], key: str, path: Path, where: str = "") -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemeError(f"{path}: {_key(where, key)}: expected a number, got {value!r}")
    return float(value)


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
