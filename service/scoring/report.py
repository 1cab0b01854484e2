"""Scores of one scheme and period, read from the database: the edge of the scoring layer.

Reads the snapshots a scheme needs and hands them to the pure modules
(`national` for 766, `appraisal` for tt01 and provincial schemes); returns
rows ready for output.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.indicators import NATIONAL
from service.models import FetchRun, Snapshot, Unit
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
    if scheme == NATIONAL and parent is not None:  # a set's rows: scored once per data
        return _SET_ROWS.rows(
            (_data_version(session, period), period, parent, scale),
            lambda: national_rows(_national_input(session, period, {parent}), scale or 100),
        )
    if scheme == NATIONAL:
        rows = national_rows(_national_input(session, period), scale or 100)
    else:
        current = latest_units(session, scheme, str(period))
        previous = latest_units(session, scheme, str(period.previous()))
        rows = appraisal_rows(scheme, _scorer(book, scheme, scale), current, previous, tolerance)
    return [row for row in rows if parent is None or row["parent_code"] == parent]


class _KeptRows:
    """The score rows of the last few sets scored, as bytes (every caller gets its own
    copy to change as it likes), by the data they were scored from. A month's notices
    of a province score its set for each notice, its previous month and its caption:
    three national analyses of the same rows per commune, two thirds of a notice's
    time. Thread-safe: the service writes notices from worker threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def rows(
        self, key: Hashable, score: Callable[[], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None:
                self.kept.move_to_end(key)
        if kept is None:
            rows = score()
            kept = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
            with self.lock:
                self.kept[key] = kept
                while len(self.kept) > self.size:
                    self.kept.popitem(last=False)
            return rows
        return pickle.loads(kept)  # bytes this process made


_SET_ROWS = _KeptRows(8)


def _data_version(session: Session, period: Period) -> tuple[Hashable, ...]:
    """What the national rows of `period` are read from, in a few index reads: the
    database, the newest fetch run (a sync that moved a reading or a unit's name made
    one), the snapshots of the period and the one before (an import or a revision adds
    one, housekeeping deletes some), and the units (an import renames one). The same
    version is the same rows."""
    engine = session.get_bind().engine
    periods = [str(period), str(period.previous())]
    version = session.execute(
        select(
            select(func.max(FetchRun.id)).scalar_subquery(),
            select(func.count())
            .select_from(Snapshot)
            .where(Snapshot.scheme == NATIONAL, Snapshot.period.in_(periods))
            .scalar_subquery(),
            select(func.max(Snapshot.id)).scalar_subquery(),
            select(func.count()).select_from(Unit).scalar_subquery(),
            select(func.max(Unit.last_seen)).scalar_subquery(),
        )
    ).one()
    return (id(engine), engine.url.render_as_string(hide_password=True), *version)


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
