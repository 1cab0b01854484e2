"""Value types shared by every input and the snapshot store: a unit and its figures.

These are plain values, independent of where they came from (the portal's API,
an imported table) and of the database. Codes follow `domain.md`: the axes and
counts of `service.indicators`, the portal's sub-indicators (DOSSIER_SYNC, ...)
and TOTAL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from service import indicators

#: The six axes (trục) of the national index and their maxima (100 in all).
AXES: dict[str, float] = {code: axis.maximum for code, axis in indicators.AXES.items()}

#: The counts people act on (alert topics): output key → figure code.
COUNT_CODES: dict[str, str] = {key: count.code for key, count in indicators.IN_ROWS.items()}


class FigureValue(NamedTuple):
    """One number about a unit; `value` None means "no data", never 0.

    A named tuple (not a frozen dataclass): a national sync makes 140,000 of them,
    at a quarter of the cost, and the tuple is already the row a figure set stores.
    """

    code: str
    kind: str
    value: float | None
    max_value: float | None = None
    axis: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    ratio: float | None = None
    text_value: str | None = None
    quality_status: str | None = None
    quality_message: str | None = None


@dataclass(frozen=True)
class UnitRecord:
    """A unit as an input describes it, with all of its figures for one period."""

    department_id: str | None
    code: str | None
    name: str
    group: str
    figures: tuple[FigureValue, ...] = field(default=())

    def figure(self, code: str) -> FigureValue | None:
        return next((f for f in self.figures if f.code == code), None)


FIGURE_FIELDS: tuple[str, ...] = FigureValue._fields


def fields_of(figure: FigureValue) -> tuple[object, ...]:
    """A figure's fields as a plain tuple, in `FIGURE_FIELDS` order (a figure set's row)."""
    return tuple(figure)


def content_sha256(figures: tuple[FigureValue, ...]) -> str:
    """A fingerprint of a unit's figures, independent of their order."""
    return fingerprint(list(map(fields_of, figures)))


def fingerprint(rows: list[tuple[object, ...]]) -> str:
    """The fingerprint of figures given as `fields_of` rows: the SHA-256 of their
    `canonical_figures` (stored fingerprints stay comparable). ValueError if a number
    is NaN or infinite."""
    return figure_set(rows)[0]


def figure_set(rows: list[tuple[object, ...]]) -> tuple[str, str]:
    """The fingerprint and the `canonical_figures` of `fields_of` rows."""
    canonical = _canonical_bytes(sorted(rows, key=_by_code))
    return hashlib.sha256(canonical).hexdigest(), canonical.decode()


def canonical_figures(rows: list[tuple[object, ...]]) -> str:
    """The rows as one JSON array sorted by code: how a figure set is stored and
    fingerprinted (`json.dumps`, compact, UTF-8 as it is). ValueError if a number is NaN
    or infinite."""
    return _canonical_bytes(sorted(rows, key=_by_code)).decode()


#: orjson writes a float below 10^-4 as "0.00001" or "1e-7", where `json` writes "1e-05"
#: and "1e-07"; every other float, int, string (UTF-8 as it is, the same escapes), null
#: and nesting of lists it writes as `json` does, six times quicker.
_NOT_AS_JSON_WRITES = (b"e-", b"0.0000")
_ORJSON_REFUSES = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _canonical_bytes(ordered: list[tuple[object, ...]]) -> bytes:
    """`ordered` as `json.dumps` writes it (compact, UTF-8), in bytes. orjson writes it
    where the answer is certainly the same; otherwise (a float below 10^-4, an integer
    past 64 bits, a NaN or infinity, which orjson writes as null, or a text holding one
    of these spellings or "null") `json` does, raising what it raises."""
    try:
        written = orjson.dumps(ordered, option=_ORJSON_REFUSES)
    except orjson.JSONEncodeError:
        written = b"e-"
    if not any(spelling in written for spelling in _NOT_AS_JSON_WRITES) and written.count(
        b"null"
    ) == sum(row.count(None) for row in ordered):
        return written  # each null a None: no NaN or infinity became one
    text = json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode()


_NUMBER_FIELDS = tuple(
    index
    for index, name in enumerate(FIGURE_FIELDS)
    if name in ("value", "max_value", "numerator", "denominator", "ratio")
)


def figures_of_set(canonical: str) -> dict[str, FigureValue]:
    """Code → figure of a stored figure set (`canonical_figures`); numbers are floats,
    as the input gave them to the fingerprint or a float column returned them."""
    figures = {}
    for row in json.loads(canonical):
        for index in _NUMBER_FIELDS:
            if row[index] is not None:
                row[index] = float(row[index])
        figures[row[0]] = FigureValue(*row)
    return figures


def _by_code(row: tuple[object, ...]) -> str:
    return str(row[0])
