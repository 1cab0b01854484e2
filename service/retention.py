"""What is kept for how long: running readings of a closed period.

While a period runs, a sync stores a snapshot for every change of a unit's
figures (`snapshots.py`). Once the period is closed and its final snapshot is
stored, those running readings are history nobody scores or alerts on: after
`schedules.running_retention_days` past the period's last day, housekeeping drops
them, keeping for each unit the final snapshot (every revision of it) and the
running period's closing reading (its newest running snapshot). A unit whose
final snapshot never came keeps every reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, and_, delete, exists, select
from sqlalchemy.orm import Session, aliased

from service.models import FigureSet, Snapshot
from service.periods import Period
from service.shared_rows import chunks, delete_unheld
from service.snapshots import reading_order

_FIGURE_SETS = cast(Table, FigureSet.__table__)

RUNNING, FINAL = "running", "final"


def drop_intermediate_readings(session: Session, ended_before: dt.date) -> int:
    """Drop the intermediate running snapshots of periods that ended before
    `ended_before` (see module doc); returns how many went."""
    final = aliased(Snapshot)
    has_final = exists().where(
        and_(
            final.unit_id == Snapshot.unit_id,
            final.source == Snapshot.source,
            final.scheme == Snapshot.scheme,
            final.period == Snapshot.period,
            final.completeness == FINAL,
        )
    )
    periods = session.scalars(
        select(Snapshot.period).where(Snapshot.completeness == RUNNING).distinct()
    ).all()
    dropped = 0
    for period in periods:
        if Period.parse(period).last_day >= ended_before:
            continue
        readings = session.execute(
            select(
                Snapshot.id,
                Snapshot.unit_id,
                Snapshot.source,
                Snapshot.scheme,
                Snapshot.last_seen,
                Snapshot.as_of,
                Snapshot.revision,
            ).where(Snapshot.period == period, Snapshot.completeness == RUNNING, has_final)
        ).all()
        closing: dict[tuple[int, str, str], tuple[tuple[dt.date, int], int]] = {}
        for id_, unit_id, source, scheme, last_seen, as_of, revision in readings:
            order = (reading_order(as_of, last_seen, revision), id_)
            key = (unit_id, source, scheme)
            closing[key] = max(closing.get(key, order), order)
        kept = {id_ for _, id_ in closing.values()}
        dropped += _delete(session, [row.id for row in readings if row.id not in kept])
    return dropped


def _delete(session: Session, snapshot_ids: Iterable[int]) -> int:
    """Snapshots, and the figure sets no other snapshot holds."""
    dropped = 0
    for chunk in chunks(snapshot_ids):
        sets = set(session.scalars(select(Snapshot.content_sha256).where(Snapshot.id.in_(chunk))))
        session.execute(delete(Snapshot).where(Snapshot.id.in_(chunk)))
        pointed_at = exists().where(Snapshot.content_sha256 == FigureSet.sha256)
        for names in chunks(sorted(sets)):
            # a set a concurrent sync holds is passed by, for a later pass (`shared_rows`)
            delete_unheld(session, _FIGURE_SETS, FigureSet.sha256.in_(names) & ~pointed_at)
        dropped += len(chunk)
    return dropped
