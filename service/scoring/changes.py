"""The change of a score from one period to the previous. (The rounding of
published figures lives in `decimals`; `round2` is re-exported here.)

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

from service.periods import Period
from service.scoring.decimals import Number, change2, round2, to_decimal

__all__ = [
    "Period",
    "SeriesFigure",
    "figure_change",
    "previous_period",
    "round2",
    "score_change",
    "to_decimal",
]


def previous_period(period: Period | str) -> Period:
    """The previous period of the same kind: `2024-01` → `2023-12`,
    `2021-Q1` → `2020-Q4`, `2022` → `2021`. Text is parsed with `Period.parse`."""
    parsed = Period.parse(period) if isinstance(period, str) else period
    return parsed.previous()


def score_change(
    current: Number | None, previous: Number | None, *, comparable: bool = True
) -> float | None:
    """Signed change `current − previous` of the decimals as written, rounded
    half up to 2 decimals (0.3 − 0.165 is 0.135 → 0.14, not the float 0.13).

    None when either figure is missing (None means no data, not 0) or when
    the caller says the two are not `comparable` (another source or method).
    """
    if current is None or previous is None or not comparable:
        return None
    return change2(current, previous)


@dataclass(frozen=True)
class SeriesFigure:
    """A score and the series it belongs to: one source read with one method
    (e.g. `portal-766:2025`). Figures of different series never compare."""

    value: Number | None
    series: str


def figure_change(current: SeriesFigure, previous: SeriesFigure) -> float | None:
    """`score_change` of two figures, None when their series differ."""
    return score_change(current.value, previous.value, comparable=current.series == previous.series)
