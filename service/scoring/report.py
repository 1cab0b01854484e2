"""Scores of one scheme and period, read from the database: the edge of the scoring layer.

Reads the snapshots a scheme needs and hands them to the pure modules
(`national`, `provincial`, `tt01`); returns rows ready for output.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.periods import Period
from service.scoring.national import SCHEME as NATIONAL
from service.scoring.national import NationalInput, national_rows
from service.snapshots import latest_units, previous_snapshots


class UnknownScheme(ValueError):
    """A scheme name that is neither 766, tt01 nor a configured provincial scheme."""


def score_rows(
    session: Session,
    scheme: str,
    period: Period,
    parent: str | None = None,
    scale: int | None = None,
) -> list[dict[str, Any]]:
    """The rows of `dvcwatch scores` for one scheme, period and (optionally) comparison set."""
    if scheme != NATIONAL:
        raise UnknownScheme(f"--scheme {scheme!r}: expected 766")
    data = NationalInput(
        current=latest_units(session, scheme, str(period)),
        previous_period=latest_units(session, scheme, str(period.previous())),
        previous_snapshot=previous_snapshots(session, scheme, str(period)),
    )
    rows = national_rows(data, scale or 100)
    return [row for row in rows if parent is None or row["parent_code"] == parent]
