"""The change of a score from one period to the previous, and the rounding
of published figures.

A period is a month (`2024-09`), a quarter (`2021-Q1`) or a year (`2022`):
`service.periods.Period`, the project's one period type, re-exported here.
Periods compare only with periods of the same kind: the previous period of
a quarter is a quarter, never the month before it.

A change is drawn only between two figures of the same series (the same
source and method): the portal's method changed between 2025 and 2026 and
the same provinces dropped from 80–92 to 52–68 without doing worse, so a
change across series would report a fall that never happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from service.periods import Period

__all__ = [
    "Period",
    "SeriesFigure",
    "figure_change",
    "previous_period",
    "round2",
    "score_change",
    "to_decimal",
]


_CENT = Decimal("0.01")


def to_decimal(value: float | Decimal) -> Decimal:
    """The decimal a figure was written as: the shortest form of the float
    (5.81 → Decimal("5.81"), not the binary 5.80999…), so sums of published
    figures are exact and a class or tie never turns on a float error."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


@lru_cache(maxsize=1 << 16)  # published figures repeat: most calls are a lookup
def round2(value: float | Decimal) -> float:
    """`value` rounded to 2 decimals, half away from zero, as published.

    Rounds the written decimal form (`2.675` → 2.68), which is what a person
    reading the figure, and Excel, would do; plain `round()` rounds the
    binary value (2.67) and rounds halves to even.
    """
    if isinstance(value, Decimal):
        return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))
    written = repr(float(value))
    if len(written.partition(".")[2]) <= 2 and "e" not in written and "n" not in written:
        return float(value)  # already as published: nothing to round
    return float(Decimal(written).quantize(_CENT, rounding=ROUND_HALF_UP))


def previous_period(period: Period | str) -> Period:
    """The previous period of the same kind: `2024-01` → `2023-12`,
    `2021-Q1` → `2020-Q4`, `2022` → `2021`. Text is parsed with `Period.parse`."""
    parsed = Period.parse(period) if isinstance(period, str) else period
    return parsed.previous()


def score_change(
    current: float | None, previous: float | None, *, comparable: bool = True
) -> float | None:
    """Signed change `current − previous`, rounded to 2 decimals.

    None when either figure is missing (None means no data, not 0) or when
    the caller says the two are not `comparable` (another source or method).
    """
    if current is None or previous is None or not comparable:
        return None
    return round2(current - previous)


@dataclass(frozen=True)
class SeriesFigure:
    """A score and the series it belongs to: one source read with one method
    (e.g. `portal-766:2025`). Figures of different series never compare."""

    value: float | None
    series: str


def figure_change(current: SeriesFigure, previous: SeriesFigure) -> float | None:
    """`score_change` of two figures, None when their series differ."""
    return score_change(current.value, previous.value, comparable=current.series == previous.series)
