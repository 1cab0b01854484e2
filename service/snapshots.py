"""Write and read snapshots: idempotent, all-or-nothing, revisions never overwritten.

`store_snapshots` writes the units and figures of one input (a province-period
from the portal, an imported table) inside the caller's transaction: the
caller commits once, so a failure or a killed process leaves nothing half
written. A snapshot covers the days from `as_of` to `last_seen` on which the
figures read were the same: storing the same figures again on a day already
covered writes nothing, on a later day (same completeness) only moves the
newest snapshot's `last_seen` and `seen_at` forward; figures that differ from
it, or the same figures read as final where they were running, become a new
snapshot of that day, the next revision if that day already has one.

Readers see what they saw when every day was a copy: a unit's latest snapshot
(newest `last_seen`, then revision) carries its `last_seen` as `as_of`, and the
reading "before the latest" of an interval longer than a day is that same
reading (the day before it had the same figures).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, aliased

from service.clock import utcnow
from service.figures import FigureValue, UnitRecord, fields_of, figure_set, figures_of_set
from service.models import FigureSet, Snapshot, Unit, UnitGroup
from service.shared_rows import (
    KEYS,
    chunks,
    insert_and_hold,
    insert_rows,
    on_postgresql,
    tuples_insert,
    unnest_insert,
)

_NUMBERS = ("value", "max_value", "numerator", "denominator", "ratio")


class NonFiniteFigure(ValueError):
    """A figure holding NaN or an infinity, refused before anything is written: a
    PostgreSQL column keeps NaN, SQLite turns it into NULL, and either would print
    in a document as a figure."""

    kind = "parse"


@dataclass(frozen=True)
class SnapshotKey:
    """What a batch of snapshots is: which series, index, period and reading day."""

    source: str
    scheme: str
    period: str
    as_of: dt.date
    completeness: str


@dataclass(frozen=True)
class StoreResult:
    written: int
    unchanged: int
    revised: int

    def __add__(self, other: StoreResult) -> StoreResult:
        return StoreResult(
            self.written + other.written,
            self.unchanged + other.unchanged,
            self.revised + other.revised,
        )


@dataclass(frozen=True)
class StoredUnit:
    """The latest snapshot of one unit for one scheme and period, with its figures."""

    unit_id: int
    code: str | None
    department_id: str | None
    name: str
    group: str
    parent_id: int | None
    parent_code: str | None
    source: str
    period: str
    as_of: dt.date
    revision: int
    completeness: str
    figures: dict[str, FigureValue]
    snapshot_id: int | None = None

    @property
    def label(self) -> str:
        return self.code or self.department_id or str(self.unit_id)

    @cached_property
    def values(self) -> dict[str, float | None]:
        """Figure code → value (None = no data), for the analyses' hot loops."""
        return {code: figure.value for code, figure in self.figures.items()}


def store_snapshots(
    session: Session,
    key: SnapshotKey,
    records: Sequence[UnitRecord],
    parent: UnitRecord | None = None,
    fetch_run_id: int | None = None,
    sets: Sequence[tuple[str, str]] | None = None,
) -> StoreResult:
    """Write the snapshots of `records` (children of `parent`, if given); see module doc.

    `sets`: the records' `figure_sets`, where the caller made them (a sync, in its
    second process, with the parent's); else they are made here. Raises
    `NonFiniteFigure` (having written nothing) if a figure is NaN or infinite.
    """
    if sets is None:
        if parent is not None:
            _figure_set(parent)  # refuses a parent's NaN before anything is written
        sets = figure_sets(records)
    parent_id = upsert_units(session, [parent], None)[0] if parent else None
    unit_ids = upsert_units(session, records, parent_id)
    stored = _stored_intervals(session, key, unit_ids)
    rows, new_sets, revised, seen_again = [], {}, 0, []
    for unit_id, (digest, canonical) in zip(unit_ids, sets, strict=True):
        intervals = stored.get(unit_id, [])
        newest = _newest_by(key.as_of, intervals)
        if (
            newest
            and newest.digest == digest
            and key.completeness in (newest.completeness, "running")
        ):
            if key.as_of > newest.last_seen and newest.completeness == key.completeness:
                seen_again.append(newest.id)
            continue  # else this day is already read with these figures
        # Figures that changed, or the same figures now final (a month whose last day's
        # running reading already had them is closed by a snapshot of its own).
        revision = _last_revision_of_the_day(key.as_of, intervals)
        revised += revision > 0
        rows.append(_snapshot_row(key, unit_id, revision + 1, digest))
        rows[-1]["fetch_run_id"] = fetch_run_id
        new_sets[digest] = canonical
    for chunk in chunks(seen_again):
        session.execute(  # Core, as every statement here: no Snapshot object is refreshed
            update(_SNAPSHOTS)
            .where(_SNAPSHOTS.c.id.in_(KEYS))
            .values(last_seen=key.as_of, seen_at=utcnow()),
            {"keys": chunk},
        )
    if rows:
        _insert_figure_sets(session, new_sets)
        insert_rows(session, _table(Snapshot), rows)
    return StoreResult(written=len(rows), unchanged=len(records) - len(rows), revised=revised)


def figure_sets(records: Sequence[UnitRecord]) -> list[tuple[str, str]]:
    """Each record's fingerprint and canonical figures (`figures.figure_set`), as stored;
    `NonFiniteFigure` naming the first NaN or infinity."""
    return [_figure_set(record) for record in records]


def _insert_figure_sets(session: Session, sets: dict[str, str]) -> None:
    """The figure sets not stored yet, in the session's transaction, each held until it
    ends (`shared_rows`: a housekeeping pass cannot take one away under the snapshots)."""
    rows = {digest: {"sha256": digest, "figures": figures} for digest, figures in sets.items()}
    insert_and_hold(session, _table(FigureSet), rows)


def _figure_set(record: UnitRecord) -> tuple[str, str]:
    """The record's fingerprint and canonical figures; `NonFiniteFigure` naming the
    first NaN or infinity."""
    try:
        return figure_set(list(map(fields_of, record.figures)))
    except ValueError:
        for figure in record.figures:
            for name in _NUMBERS:
                number = getattr(figure, name)
                if isinstance(number, float) and not math.isfinite(number):
                    raise NonFiniteFigure(
                        f"unit {record.code or record.department_id}: figure {figure.code}: "
                        f"{name} is {number}, not a number that can be stored"
                    ) from None
        raise


def _table(model: type[Snapshot] | type[FigureSet] | type[Unit]) -> Table:
    return cast(Table, model.__table__)


def upsert_units(
    session: Session, records: Sequence[UnitRecord | None], parent_id: int | None
) -> list[int]:
    """The unit ids of `records` (in order), creating or refreshing the units.

    A unit is found by its portal `department_id`, or by its code where the
    input has no department id (imported tables; the oldest unit with that code
    wins, see docs/architecture.md on codes reused across the 2025 reform).
    Core statements: new units in one insert, changed ones in one executemany,
    the day seen in one update per chunk.
    """
    present = [r for r in records if r is not None]
    known = _known_units(session, present)
    rows = []
    for record in present:
        row = known.setdefault(_unit_key(record), _UnitRow(None, record.department_id))
        row.refresh(record, parent_id)
        rows.append(row)
    now, units = utcnow(), _table(Unit)
    fresh = list({id(row): row for row in rows if row.id is None}.values())
    if fresh:
        values = [{**row.columns(), "first_seen": now, "last_seen": now} for row in fresh]
        for row, unit_id in zip(fresh, _insert_units(session, values), strict=True):
            row.id, row.changed = unit_id, False
    changed = list({id(row): row for row in rows if row.changed}.values())
    if changed:
        session.execute(
            update(units).where(units.c.id == bindparam("unit_id")),
            [{"unit_id": row.id, **row.columns()} for row in changed],
        )
    seen = sorted({cast(int, row.id) for row in rows} - {cast(int, row.id) for row in fresh})
    for chunk in chunks(seen):
        session.execute(
            update(units).where(units.c.id.in_(KEYS)).values(last_seen=now), {"keys": chunk}
        )
    return [int(cast(int, row.id)) for row in rows]


def _insert_units(session: Session, values: list[dict[str, object]]) -> list[int]:
    """The ids of the new units `values`, in their order."""
    units = _table(Unit)
    if not on_postgresql(session):
        department_ids = [row["department_id"] for row in values]
        if all(department_ids):  # a sync's: RETURNING makes SQLAlchemy insert row by row
            tuples_insert(session, units, values)
            return _ids_by_department(session, department_ids)
        statement = insert(units).returning(units.c.id, sort_by_parameter_order=True)
        return list(session.scalars(statement, values))
    # Ids are drawn as the rows are inserted, in the order of the SELECT: the ascending
    # ids are the rows' in order (as SQLAlchemy's own insertmanyvalues relies on).
    return sorted(unnest_insert(session, units, values, "RETURNING id").scalars())


def _ids_by_department(session: Session, department_ids: Sequence[object]) -> list[int]:
    """The ids of the units with these department ids (each unique), in their order."""
    ids: dict[object, int] = {}
    connection = session.connection()
    for chunk in chunks(department_ids):
        found = connection.execute(_IDS_BY_DEPARTMENT, {"keys": chunk})
        ids.update((department_id, unit_id) for department_id, unit_id in found)
    return [ids[department_id] for department_id in department_ids]


@dataclass
class _UnitRow:
    """A unit as the writer refreshes it (None `id`: not stored yet)."""

    id: int | None
    department_id: str | None
    code: str | None = None
    name: str = ""
    group: str | None = None
    parent_id: int | None = None
    changed: bool = False

    def refresh(self, record: UnitRecord, parent_id: int | None) -> None:
        """What the newest input says of the unit; an absent code or name keeps the old."""
        code = record.code or self.code
        name = record.name or self.name
        group = (
            record.group if record.group != UnitGroup.UNKNOWN or self.group is None else self.group
        )
        parent = parent_id if parent_id is not None else self.parent_id
        now = (code, name, group, parent)
        if now != (self.code, self.name, self.group, self.parent_id):
            self.code, self.name, self.group, self.parent_id = now
            self.changed = True

    def columns(self) -> dict[str, object]:
        return {
            "department_id": self.department_id,
            "code": self.code,
            "name": self.name,
            "unit_group": self.group,
            "parent_id": self.parent_id,
        }


def _unit_key(record: UnitRecord) -> str:
    return record.department_id or f"code:{record.code}"


def _known_units(session: Session, records: Sequence[UnitRecord]) -> dict[str, _UnitRow]:
    by_department = [r.department_id for r in records if r.department_id]
    by_code = [r.code for r in records if not r.department_id and r.code]
    known: dict[str, _UnitRow] = {}
    connection = session.connection()
    for chunk in chunks(by_department):
        for row in connection.execute(_UNITS_BY_DEPARTMENT, {"keys": chunk}):
            known[str(row.department_id)] = _UnitRow(*row)
    for chunk in chunks(by_code):
        for row in connection.execute(_UNITS_BY_CODE, {"keys": chunk}):
            known.setdefault(f"code:{row.code}", _UnitRow(*row))
    return known


# The writer's reads, made once and run on the session's connection (Core: the ORM's
# handling of a statement cost more than the statement itself, a few hundred a sync).
_UNITS = cast(Table, Unit.__table__)
_SNAPSHOTS = cast(Table, Snapshot.__table__)
_UNIT_COLUMNS = (
    _UNITS.c.id,
    _UNITS.c.department_id,
    _UNITS.c.code,
    _UNITS.c.name,
    _UNITS.c.unit_group,
    _UNITS.c.parent_id,
)
_UNITS_BY_DEPARTMENT = select(*_UNIT_COLUMNS).where(_UNITS.c.department_id.in_(KEYS))
_UNITS_BY_CODE = select(*_UNIT_COLUMNS).where(_UNITS.c.code.in_(KEYS)).order_by(_UNITS.c.id)
_IDS_BY_DEPARTMENT = select(_UNITS.c.department_id, _UNITS.c.id).where(
    _UNITS.c.department_id.in_(KEYS)
)
_INTERVALS = select(
    _SNAPSHOTS.c.unit_id,
    _SNAPSHOTS.c.id,
    _SNAPSHOTS.c.as_of,
    _SNAPSHOTS.c.last_seen,
    _SNAPSHOTS.c.revision,
    _SNAPSHOTS.c.content_sha256,
    _SNAPSHOTS.c.completeness,
).where(
    _SNAPSHOTS.c.source == bindparam("source"),
    _SNAPSHOTS.c.scheme == bindparam("scheme"),
    _SNAPSHOTS.c.period == bindparam("period"),
    _SNAPSHOTS.c.unit_id.in_(KEYS),
)


@dataclass(frozen=True)
class _Interval:
    """A stored snapshot as the writer compares with it."""

    id: int
    as_of: dt.date
    last_seen: dt.date
    revision: int
    digest: str
    completeness: str


def _stored_intervals(
    session: Session, key: SnapshotKey, unit_ids: list[int]
) -> dict[int, list[_Interval]]:
    """Each unit's snapshots of the key's series and period (a few per period: one per
    change, not one per day)."""
    found: dict[int, list[_Interval]] = {}
    connection = session.connection()
    series = {"source": key.source, "scheme": key.scheme, "period": key.period}
    for chunk in chunks(unit_ids):
        rows = connection.execute(_INTERVALS, {**series, "keys": chunk})
        for unit_id, id_, as_of, last_seen, revision, digest, completeness in rows:
            interval = _Interval(id_, as_of, last_seen, revision, digest, completeness)
            found.setdefault(unit_id, []).append(interval)
    return found


def _newest_by(day: dt.date, intervals: Sequence[_Interval]) -> _Interval | None:
    """The snapshot a reading of `day` continues: the newest (by last day seen, then
    revision) of those first seen on or before `day`."""
    candidates = [i for i in intervals if i.as_of <= day]
    return max(
        candidates, key=lambda i: reading_order(i.as_of, i.last_seen, i.revision), default=None
    )


def reading_order(as_of: dt.date, last_seen: dt.date, revision: int) -> tuple[dt.date, int]:
    """Newest first by this key: the last day seen, then the revision on that day (a
    snapshot read again on a later day was that day's first reading, revision 1)."""
    return last_seen, revision if as_of == last_seen else 1


def _last_revision_of_the_day(day: dt.date, intervals: Sequence[_Interval]) -> int:
    """The day's last revision: of the snapshots first seen that day, or 1 where an
    earlier snapshot was read again that day (it stands for that day's first reading)."""
    revisions = [i.revision for i in intervals if i.as_of == day]
    read_again = any(i.as_of < day <= i.last_seen for i in intervals)
    return max([*revisions, *([1] if read_again else [])], default=0)


def _snapshot_row(key: SnapshotKey, unit_id: int, revision: int, digest: str) -> dict[str, object]:
    now = utcnow()
    return {
        "source": key.source,
        "scheme": key.scheme,
        "unit_id": unit_id,
        "period": key.period,
        "as_of": key.as_of,
        "last_seen": key.as_of,
        "revision": revision,
        "completeness": key.completeness,
        "content_sha256": digest,
        "created_at": now,
        "seen_at": now,
    }


def latest_units(
    session: Session,
    scheme: str,
    period: str,
    unit_code: str | None = None,
    parents: Collection[str] | None = None,
) -> list[StoredUnit]:
    """For each unit (or only the unit of `unit_code`, or only the units whose parent's
    code is one of `parents`), its latest snapshot (newest day seen, then newest revision)."""
    newest = _newest(session, scheme, period, depth=1, unit_code=unit_code, parents=parents)
    return [history[0] for history in newest.values()]


def previous_snapshots(
    session: Session, scheme: str, period: str, parents: Collection[str] | None = None
) -> dict[int, StoredUnit]:
    """For each unit (of the `parents`, when given), the snapshot before its latest one
    of the same period, if any."""
    newest = _newest(session, scheme, period, depth=2, parents=parents)
    return {unit_id: history[1] for unit_id, history in newest.items() if len(history) > 1}


def _newest(
    session: Session,
    scheme: str,
    period: str,
    depth: int,
    unit_code: str | None = None,
    parents: Collection[str] | None = None,
) -> dict[int, list[StoredUnit]]:
    parent = aliased(Unit)
    query = (
        select(Snapshot, Unit, parent.code)
        .join(Unit, Unit.id == Snapshot.unit_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(Snapshot.scheme == scheme, Snapshot.period == period)
    )
    if unit_code is not None:
        query = query.where(Unit.code == unit_code)
    if parents is not None:
        query = query.where(parent.code.in_(sorted(parents)))
    histories: dict[int, list[tuple[Snapshot, Unit, str | None]]] = {}
    for snapshot, unit, parent_code in session.execute(query):
        histories.setdefault(unit.id, []).append((snapshot, unit, parent_code))
    for history in histories.values():
        history.sort(
            key=lambda item: reading_order(item[0].as_of, item[0].last_seen, item[0].revision),
            reverse=True,
        )
        newest = history[0][0]
        if newest.last_seen > newest.as_of:  # the day before was the same reading
            history.insert(1, history[0])
        del history[depth:]
    wanted = {snapshot.id for history in histories.values() for snapshot, _, _ in history}
    figures = _figures_of(session, list(wanted))
    return {
        unit_id: [_stored(s, u, code, figures.get(s.id, {})) for s, u, code in history]
        for unit_id, history in histories.items()
    }


def _figures_of(session: Session, snapshot_ids: list[int]) -> dict[int, dict[str, FigureValue]]:
    result: dict[int, dict[str, FigureValue]] = {}
    decoded: dict[str, dict[str, FigureValue]] = {}  # a set shared by many is read once
    for chunk in chunks(snapshot_ids):
        query = (
            select(Snapshot.id, FigureSet.sha256, FigureSet.figures)
            .join(FigureSet, FigureSet.sha256 == Snapshot.content_sha256)
            .where(Snapshot.id.in_(chunk))
        )
        for snapshot_id, digest, figures in session.execute(query):
            if digest not in decoded:
                decoded[digest] = figures_of_set(figures)
            result[snapshot_id] = decoded[digest]
    return result


def _stored(
    snapshot: Snapshot, unit: Unit, parent_code: str | None, figures: dict[str, FigureValue]
) -> StoredUnit:
    return StoredUnit(
        unit_id=unit.id,
        parent_code=parent_code,
        code=unit.code,
        department_id=unit.department_id,
        name=unit.name,
        group=unit.unit_group,
        parent_id=unit.parent_id,
        source=snapshot.source,
        period=snapshot.period,
        as_of=snapshot.last_seen,
        revision=snapshot.revision,
        completeness=snapshot.completeness,
        figures=figures,
        snapshot_id=snapshot.id,
    )
