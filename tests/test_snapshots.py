"""Snapshots are idempotent, revised rather than overwritten, and read back whole."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.figures import FigureValue, UnitRecord
from service.models import Figure, Snapshot, Unit
from service.snapshots import NonFiniteFigure, SnapshotKey, latest_units, store_snapshots

KEY = SnapshotKey("portal-766", "766", "2026-08", dt.date(2026, 8, 31), "final")
PROVINCE = UnitRecord("prov-1", "H99", "UBND tỉnh Thử", "PROVINCE")


def commune(total: float | None, overdue: float | None = 3) -> UnitRecord:
    figures = (
        FigureValue("TOTAL", "total", total, 100.0),
        FigureValue("CKMB", "axis", 12.5, 18.0, axis="CKMB"),
        FigureValue("OVERDUE", "count", overdue),
        FigureValue(
            "DOSSIER_SYNC",
            "metric",
            6.0,
            6.0,
            "CKMB",
            670,
            670,
            100.0,
            None,
            "TEMP_NATIONAL_REPORT_DENOMINATOR",
            "Mẫu số đang dùng số tạm",
        ),
    )
    return UnitRecord("unit-1", "H99.101", "UBND xã Bình Thành", "COMMUNE", figures)


def store(sessions: sessionmaker[Session], record: UnitRecord, key: SnapshotKey = KEY):
    with sessions.begin() as session:
        return store_snapshots(session, key, [record], PROVINCE)


def count(sessions: sessionmaker[Session], table: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_storing_the_same_figures_twice_writes_nothing_new(sessions):
    first = store(sessions, commune(87.5))
    second = store(sessions, commune(87.5))
    assert (first.written, second.written, second.unchanged) == (1, 0, 1)
    assert count(sessions, Snapshot) == 1
    assert count(sessions, Figure) == 4
    assert count(sessions, Unit) == 2


def test_a_changed_figure_on_the_same_day_becomes_a_revision(sessions):
    store(sessions, commune(87.5))
    result = store(sessions, commune(88.0))
    assert (result.written, result.revised) == (1, 1)
    with sessions() as session:
        revisions = session.scalars(select(Snapshot.revision).order_by(Snapshot.revision)).all()
        [latest] = latest_units(session, "766", "2026-08")
    assert revisions == [1, 2]
    assert latest.revision == 2
    assert latest.figures["TOTAL"].value == 88.0


def test_figures_read_back_exactly_with_no_data_kept_as_none(sessions):
    store(sessions, commune(None, overdue=None))
    with sessions() as session:
        [unit] = latest_units(session, "766", "2026-08")
    assert unit.figures["TOTAL"].value is None
    assert unit.figures["OVERDUE"].value is None
    assert unit.figures["DOSSIER_SYNC"] == commune(None).figure("DOSSIER_SYNC")
    assert (unit.code, unit.name, unit.group) == ("H99.101", "UBND xã Bình Thành", "COMMUNE")


def test_the_unit_keeps_its_parent_and_a_running_day_is_a_new_snapshot(sessions):
    store(sessions, commune(80.0))
    running = SnapshotKey("portal-766", "766", "2026-08", dt.date(2026, 8, 20), "running")
    store(sessions, commune(70.0), running)
    with sessions() as session:
        parent_code = session.scalar(
            select(Unit.code).where(
                Unit.id == select(Unit.parent_id).where(Unit.code == "H99.101").scalar_subquery()
            )
        )
        [latest] = latest_units(session, "766", "2026-08")
    assert parent_code == "H99"
    assert count(sessions, Snapshot) == 2
    assert latest.as_of == dt.date(2026, 8, 31) and latest.figures["TOTAL"].value == 80.0


def test_the_latest_snapshot_of_one_unit_can_be_read_alone(sessions):
    store(sessions, commune(80.0))
    other = UnitRecord("unit-2", "H99.102", "UBND xã Bình Phú", "COMMUNE", commune(70.0).figures)
    with sessions.begin() as session:
        store_snapshots(session, KEY, [other], PROVINCE)
    with sessions() as session:
        [alone] = latest_units(session, "766", "2026-08", unit_code="H99.102")
        everyone = latest_units(session, "766", "2026-08")
    assert alone.code == "H99.102" and alone.figures["TOTAL"].value == 70.0
    assert len(everyone) == 2


@pytest.mark.parametrize(
    ("figure", "field"),
    [
        (FigureValue("CKMB", "axis", float("nan"), 18.0, axis="CKMB"), "value"),
        (FigureValue("OVERDUE", "count", 3, ratio=float("inf")), "ratio"),
        (FigureValue("TOTAL", "total", 70.0, float("-inf")), "max_value"),
    ],
)
def test_a_non_finite_figure_is_refused_before_anything_is_written(sessions, figure, field):
    record = UnitRecord("unit-1", "H99.101", "UBND xã Bình Thành", "COMMUNE", (figure,))
    with pytest.raises(NonFiniteFigure, match=f"figure {figure.code}: {field} is"):
        store(sessions, record)
    assert count(sessions, Snapshot) == 0 and count(sessions, Unit) == 0
