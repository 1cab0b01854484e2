"""Scores of one scheme and period, read from the database: the edge of the scoring layer.

Reads the snapshots a scheme needs and hands them to the pure modules
(`national` for 766, `appraisal` for tt01 and provincial schemes); returns
rows ready for output.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from service.indicators import NATIONAL
from service.periods import Period
from service.scoring.appraisal import (
    DEFAULT_TOLERANCE,
    Scorer,
    appraisal_rows,
    provincial_scorer,
    tt01_scorer,
)
from service.scoring.book import SchemeBook
from service.scoring.decimals import Number
from service.scoring.national import NationalInput, UnitAnalysis, analyse, national_rows
from service.scoring.tt01 import TT01_KIND
from service.snapshots import latest_units, previous_snapshots


class UnknownScheme(ValueError):
    """A scheme name that is neither 766, tt01 nor a configured provincial scheme."""


def score_rows(
    session: Session,
    book: SchemeBook,
    scheme: str,
    period: Period,
    parent: str | None = None,
    scale: int | None = None,
    tolerance: Number = DEFAULT_TOLERANCE,
) -> list[dict[str, Any]]:
    """The rows of `dvcwatch scores` for one scheme, period and (optionally) comparison set.
    `tolerance` (float or Decimal) is the largest reported/computed difference that agrees."""
    if scheme == NATIONAL:  # sets never cross parents: one parent's units are read alone
        provinces = None if parent is None else {parent}
        rows = national_rows(_national_input(session, period, provinces), scale or 100)
    else:
        current = latest_units(session, scheme, str(period))
        previous = latest_units(session, scheme, str(period.previous()))
        rows = appraisal_rows(scheme, _scorer(book, scheme, scale), current, previous, tolerance)
    return [row for row in rows if parent is None or row["parent_code"] == parent]


def national_analysis(
    session: Session, period: Period, provinces: Collection[str] | None = None
) -> list[UnitAnalysis]:
    """The national index's typed analysis of every unit of `period` (what alerts judge),
    or of the units of `provinces` only: a unit is ranked and averaged within its own
    province's sets, so the others need not be read."""
    return analyse(_national_input(session, period, provinces))


def _national_input(
    session: Session, period: Period, provinces: Collection[str] | None = None
) -> NationalInput:
    return NationalInput(
        latest_units(session, NATIONAL, str(period), parents=provinces),
        latest_units(session, NATIONAL, str(period.previous()), parents=provinces),
        previous_snapshots(session, NATIONAL, str(period), parents=provinces),
    )


def _scorer(book: SchemeBook, scheme: str, scale: int | None) -> Scorer:
    if scheme == TT01_KIND:
        return tt01_scorer(book.tt01_bands)
    if scheme in book.provincial:
        return provincial_scorer(book.provincial[scheme], scale)
    raise UnknownScheme(f"--scheme: {book.unknown(scheme)}")
