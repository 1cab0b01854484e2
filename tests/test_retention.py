"""A closed month's day-to-day readings go after their retention; what every reader
reads of that month stays the same, and nothing else goes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.leader import take_term
from jobs.work import Context, housekeeping
from service.figures import FigureValue, UnitRecord
from service.models import FigureSet, Snapshot
from service.retention import drop_intermediate_readings
from service.snapshots import SnapshotKey, latest_units, previous_snapshots, store_snapshots

PROVINCE = UnitRecord("prov-1", "H99", "UBND tỉnh Thử", "PROVINCE")


def unit(department_id: str, total: float) -> UnitRecord:
    figures = (FigureValue("TOTAL", "total", total, 100.0), FigureValue("OVERDUE", "count", 2))
    return UnitRecord(
        department_id, f"H99.{department_id}", f"UBND xã {department_id}", "COMMUNE", figures
    )


def read(
    sessions: sessionmaker[Session],
    period: str,
    day: dt.date,
    totals: dict[str, float],
    completeness: str = "running",
) -> None:
    key = SnapshotKey("portal-766", "766", period, day, completeness)
    with sessions.begin() as session:
        store_snapshots(session, key, [unit(d, t) for d, t in totals.items()], PROVINCE)


def what_readers_see(sessions: sessionmaker[Session], period: str) -> tuple[object, object]:
    with sessions() as session:
        latest = {
            (u.code, u.as_of, u.revision, u.completeness, u.values["TOTAL"])
            for u in latest_units(session, "766", period)
        }
        before = {
            (u.code, u.as_of, u.revision, u.completeness, u.values["TOTAL"])
            for u in previous_snapshots(session, "766", period).values()
        }
    return latest, before


def count(sessions: sessionmaker[Session], table: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def august(sessions: sessionmaker[Session]) -> None:
    """`a` changes three times in August and gets its final; `b` changes but its final
    never comes; September is still running."""
    for day, a_total, b_total in (
        (3, 60.0, 50.0),
        (10, 61.0, 51.0),
        (20, 62.0, 52.0),
        (28, 63.0, 52.0),
    ):
        read(sessions, "2026-08", dt.date(2026, 8, day), {"a": a_total, "b": b_total})
    read(sessions, "2026-08", dt.date(2026, 8, 31), {"a": 64.0}, "final")
    read(sessions, "2026-09", dt.date(2026, 9, 2), {"a": 70.0, "b": 40.0})
    read(sessions, "2026-09", dt.date(2026, 9, 9), {"a": 71.0, "b": 40.0})


def test_intermediate_readings_go_and_every_reader_reads_the_same(sessions):
    august(sessions)
    seen = {period: what_readers_see(sessions, period) for period in ("2026-08", "2026-09")}
    snapshots, sets = count(sessions, Snapshot), count(sessions, FigureSet)
    with sessions.begin() as session:
        dropped = drop_intermediate_readings(session, dt.date(2026, 12, 1))
    assert dropped == 3  # a's readings of the 3rd, 10th and 20th; its 28th closes August
    assert {period: what_readers_see(sessions, period) for period in seen} == seen
    assert count(sessions, Snapshot) == snapshots - 3
    assert count(sessions, FigureSet) == sets - 3  # their figures (60, 61, 62) went with them
    with sessions() as session:  # and every snapshot kept has its figures
        held = session.scalars(select(Snapshot.content_sha256).distinct()).all()
        assert sorted(held) == sorted(session.scalars(select(FigureSet.sha256)).all())
    with sessions() as session:
        kept = session.execute(
            select(Snapshot.period, Snapshot.as_of, Snapshot.completeness)
            .where(
                Snapshot.unit_id
                == select(Snapshot.unit_id)
                .where(Snapshot.completeness == "final")
                .scalar_subquery()
            )
            .order_by(Snapshot.as_of)
        ).all()
    assert [(p, d.day, c) for p, d, c in kept] == [
        ("2026-08", 28, "running"),
        ("2026-08", 31, "final"),
        ("2026-09", 2, "running"),
        ("2026-09", 9, "running"),
    ]
    with sessions.begin() as session:
        assert drop_intermediate_readings(session, dt.date(2026, 12, 1)) == 0  # idempotent


def test_a_month_within_its_retention_keeps_every_reading(sessions):
    august(sessions)
    with sessions.begin() as session:
        assert drop_intermediate_readings(session, dt.date(2026, 8, 31)) == 0


def test_housekeeping_drops_them_after_the_configured_days_and_never_with_zero(app, sessions):
    august(sessions)
    now = dt.datetime(2026, 12, 30, 3, 0)
    before = count(sessions, Snapshot)

    def housekeep(days: int, day: str) -> None:
        schedules = app.settings.schedules.model_copy(update={"running_retention_days": days})
        app.settings = app.settings.model_copy(update={"schedules": schedules})
        context = Context(
            app,
            "test",
            clock=lambda: now,
            today=lambda: now.date(),
            term=take_term(sessions, "test", now),
        )
        housekeeping(context, day)

    housekeep(0, "2026-12-29")
    assert count(sessions, Snapshot) == before
    housekeep(130, "2026-12-30")  # August ended 121 days ago
    assert count(sessions, Snapshot) == before
    housekeep(120, "2026-12-31")
    assert count(sessions, Snapshot) == before - 3
