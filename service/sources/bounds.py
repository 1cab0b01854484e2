"""What each indicator of each scheme may hold in an imported table.

A `Bound` says the range of an indicator's value: points lie within 0 and
their maximum, counts are whole and at least 0, reported figures within
what their scheme allows (a 766 TOTAL within 100, a tt01 DTB within 10).
An indicator without a Bound in its scheme is unknown to it, and refused.

The 766 indicators are the ones the portal's answers hold (`figures.py`
and `indicators.METRICS` for the axes, counts and sub-indicators), so
an imported 766 table and a synced one speak of the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from service import indicators
from service.figures import AXES
from service.indicators import NATIONAL
from service.scoring.book import SchemeBook
from service.scoring.tt01 import CRITERIA, CRITERION_MAX, TT01_KIND

DOSSIERS = "DOSSIERS"  # tt01: how many dossiers were scored; 0 = "Không phát sinh TTHC"
RANK = "RANK"


@dataclass(frozen=True)
class Bound:
    """An indicator's range. `maximum` None: no upper bound. `exact`: a `max`
    cell, when given, must be this maximum (an indicator's own); otherwise the
    `max` cell may be lower (a total over the applicable indicators only) and
    the value must not exceed it. `whole`: a count."""

    maximum: float | None
    exact: bool = True
    whole: bool = False


COUNT = Bound(None, exact=False, whole=True)
_TEXT = Bound(None, exact=False)  # CLASS: text, checked as text
_RANK = Bound(None, exact=False, whole=True)
_NATIONAL_METRICS = {
    code: Bound(float(metric.maximum) if metric.maximum else None, exact=bool(metric.maximum))
    for code, metric in indicators.METRICS.items()
}
NATIONAL_BOUNDS: Mapping[str, Bound] = {
    **{axis: Bound(float(maximum)) for axis, maximum in AXES.items()},
    **_NATIONAL_METRICS,
    "PROCESSED_ON_TIME": Bound(AXES[indicators.TDGQ.code]),
    "ONLINE_PAYMENT": Bound(6.0),
    "FEE_FORMALITY_INTEGRATED": Bound(2.0),
    "FEE_FORMALITY_PAID_ONLINE": Bound(2.0),
    **{code: COUNT for code in indicators.COUNTS},
    "TOTAL": Bound(100.0, exact=False),
    RANK: _RANK,
}


def scheme_bounds(book: SchemeBook, scheme: str) -> Mapping[str, Bound] | None:
    """Indicator → Bound for every indicator `scheme` knows; None for an unknown scheme."""
    if scheme == NATIONAL:
        return NATIONAL_BOUNDS
    if scheme == TT01_KIND:
        criteria = {code: Bound(float(CRITERION_MAX)) for code in CRITERIA}
        total = Bound(float(CRITERION_MAX * len(CRITERIA)), exact=False)
        desk = Bound(10.0, exact=False)
        reported = {"TOTAL": total, "DTB": desk, "CLASS": _TEXT, RANK: _RANK}
        return {**criteria, **reported, DOSSIERS: COUNT}
    maxima = book.indicator_max(scheme)
    if maxima is None:
        return None
    indicators = {code: Bound(float(maximum)) for code, maximum in maxima.items()}
    total = Bound(float(sum(maxima.values())), exact=False)
    converted = Bound(100.0, exact=False)  # the 100-point scale; a 10-point one stays within
    return {**indicators, "TOTAL": total, "CONVERTED": converted, "CLASS": _TEXT, RANK: _RANK}
