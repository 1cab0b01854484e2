"""Value types shared by every input and the snapshot store: a unit and its figures.

These are plain values, independent of where they came from (the portal's API,
an imported table) and of the database. Codes follow `domain.md`: the axes and
counts of `service.indicators`, the portal's sub-indicators (DOSSIER_SYNC, ...)
and TOTAL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from operator import attrgetter

from service import indicators

#: The six axes (trục) of the national index and their maxima (100 in all).
AXES: dict[str, float] = {code: axis.maximum for code, axis in indicators.AXES.items()}

#: The counts people act on (alert topics): output key → figure code.
COUNT_CODES: dict[str, str] = {key: count.code for key, count in indicators.IN_ROWS.items()}


@dataclass(frozen=True)
class FigureValue:
    """One number about a unit; `value` None means "no data", never 0."""

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


FIGURE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(FigureValue))


#: A figure's fields as one tuple, in `FIGURE_FIELDS` order (a row of `figures`).
fields_of = attrgetter(*FIGURE_FIELDS)


def content_sha256(figures: tuple[FigureValue, ...]) -> str:
    """A fingerprint of a unit's figures, independent of their order."""
    return fingerprint(list(map(fields_of, figures)))


def fingerprint(rows: list[tuple[object, ...]]) -> str:
    """The fingerprint of figures given as `fields_of` rows: the JSON array of those
    rows sorted by code (stored fingerprints stay comparable). ValueError if a number
    is NaN or infinite."""
    canonical = json.dumps(
        sorted(rows, key=_by_code), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_code(row: tuple[object, ...]) -> str:
    return str(row[0])
