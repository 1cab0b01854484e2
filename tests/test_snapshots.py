"""Snapshots are idempotent, revised rather than overwritten, and read back whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.figures import FIGURE_FIELDS, FigureValue, UnitRecord, content_sha256
from service.models import FigureSet, Snapshot, Unit, UnitGroup
from service.shared_rows import tuples_insert
from service.snapshots import (
    NonFiniteFigure,
    SnapshotKey,
    StoredUnit,
    latest_units,
    previous_snapshots,
    store_snapshots,
)

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
    assert count(sessions, FigureSet) == 1  # the commune's four figures, stored once
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


def running(day: int) -> SnapshotKey:
    return SnapshotKey("portal-766", "766", "2026-08", dt.date(2026, 8, day), "running")


def read_back(sessions: sessionmaker[Session]) -> tuple[StoredUnit, StoredUnit | None]:
    with sessions() as session:
        [latest] = latest_units(session, "766", "2026-08")
        before = previous_snapshots(session, "766", "2026-08").get(latest.unit_id)
    return latest, before


def test_an_unchanged_day_moves_the_interval_and_copies_nothing(sessions):
    for day in (3, 4, 5):
        assert store(sessions, commune(80.0), running(day)).written == (day == 3)
    assert (count(sessions, Snapshot), count(sessions, FigureSet)) == (1, 1)
    latest, before = read_back(sessions)
    assert latest.as_of == dt.date(2026, 8, 5)  # the day the figures were last read
    assert before is not None and before.figures == latest.figures  # no change since the 4th
    store(sessions, commune(75.0), running(6))
    latest, before = read_back(sessions)
    assert (latest.as_of, latest.figures["TOTAL"].value) == (dt.date(2026, 8, 6), 75.0)
    assert before is not None and before.figures["TOTAL"].value == 80.0
    assert count(sessions, Snapshot) == 2


def test_the_final_reading_of_running_figures_is_its_own_snapshot(sessions):
    store(sessions, commune(80.0), running(30))
    store(sessions, commune(80.0))  # final, read on the 31st: same figures, other completeness
    latest, _ = read_back(sessions)
    assert (latest.completeness, latest.as_of, count(sessions, Snapshot)) == ("final", KEY.as_of, 2)


def test_a_month_closed_with_its_last_days_figures_is_final_not_running(sessions):
    """The last day's running reading had the final figures already: the month is
    still closed by a final snapshot (it was left "running", and scored as running)."""
    store(sessions, commune(80.0), running(31))
    assert store(sessions, commune(80.0)).written == 1  # final, the same day and figures
    latest, before = read_back(sessions)
    assert (latest.completeness, latest.as_of, latest.revision) == ("final", KEY.as_of, 2)
    assert before is not None and before.completeness == "running"
    assert store(sessions, commune(80.0)).written == 0  # the final again: nothing
    assert store(sessions, commune(80.0), running(31)).written == 0  # nor the running one


def _old_layout(readings: list[tuple[int, float]]) -> list[tuple[int, int, float]]:
    """What the store held when every reading day was a copy: (day, revision, total)."""
    rows: list[tuple[int, int, float]] = []
    for day, total in readings:
        same_day = [r for r in rows if r[0] == day]
        if same_day and max(same_day, key=lambda r: r[1])[2] == total:
            continue
        rows.append((day, len(same_day) + 1, total))
    return sorted(rows, reverse=True)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from([70.0, 75.5, 80.0])), min_size=1, max_size=12
    )
)
def test_readers_see_what_they_saw_when_every_day_was_a_copy(sessions, steps):
    """Any sequence of daily readings (days moving forward by 0 to 2, the same day read
    again or changed): the latest snapshot, its day and the reading before it are those of
    the layout that stored a copy per day, in far fewer rows."""
    with sessions.begin() as session:
        for table in (Snapshot, FigureSet, Unit):
            session.execute(delete(table))
    readings, day = [], 1
    for step, total in steps:
        day += step
        readings.append((day, total))
        store(sessions, commune(total), running(day))
    old = _old_layout(readings)
    latest, before = read_back(sessions)
    assert latest.as_of.day == old[0][0]
    assert latest.figures["TOTAL"].value == old[0][2]
    assert (before.figures["TOTAL"].value if before else None) == (
        old[1][2] if len(old) > 1 else None
    )
    assert count(sessions, Snapshot) <= len(old)


_numbers = st.one_of(
    st.none(), st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 10**6)
)
_figures = st.builds(
    FigureValue,
    code=st.text("ABCDEFGHIJ_", min_size=1, max_size=8),
    kind=st.sampled_from(["axis", "metric", "count"]),
    value=_numbers,
    max_value=_numbers,
    axis=st.none(),
    numerator=_numbers,
    denominator=_numbers,
    ratio=_numbers,
    text_value=st.none(),
    quality_status=st.none(),
    quality_message=st.one_of(st.none(), st.text(max_size=12)),
)


@given(st.lists(_figures, max_size=12, unique_by=lambda figure: figure.code))
def test_a_units_fingerprint_is_the_one_stored_snapshots_were_written_with(figures):
    """The fingerprint as the first migrations' databases hold it (a JSON array of each
    figure's fields, sorted by code): a faster way of computing it must not make every
    stored unit look changed."""
    rows = sorted(
        ([getattr(f, name) for name in FIGURE_FIELDS] for f in figures), key=lambda r: r[0]
    )
    stored = hashlib.sha256(
        json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    assert content_sha256(tuple(figures)) == stored
    assert content_sha256(tuple(reversed(figures))) == stored


def test_many_new_units_of_one_input_each_keep_their_own_name_and_figures(sessions):
    """New units are inserted together (on PostgreSQL in one statement, their ids
    matched back by order): none may get another's figures or name."""

    def input_of(numbers: range) -> list[UnitRecord]:
        return [
            UnitRecord(
                None if n % 3 == 0 else f"unit-{n}",  # some known by their code only
                f"H99.{n:03}",
                f"UBND xã {n}",
                "COMMUNE",
                (FigureValue("TOTAL", "total", float(n), 100.0),),
            )
            for n in numbers
        ]

    day = SnapshotKey("portal-766", "766", "2026-08", dt.date(2026, 8, 20), "running")
    for key, numbers in ((day, range(1, 40)), (KEY, range(20, 70))):  # known and new mixed
        with sessions.begin() as session:
            store_snapshots(session, key, input_of(numbers), PROVINCE)
    with sessions() as session:
        stored = {
            u.code: (u.name, u.values["TOTAL"], u.parent_code, u.as_of)
            for u in latest_units(session, "766", "2026-08")
        }
    assert stored == {
        f"H99.{n:03}": (f"UBND xã {n}", float(n), "H99", KEY.as_of if n >= 20 else day.as_of)
        for n in range(1, 70)
    }
    assert count(sessions, Unit) == 70


def test_rows_inserted_as_tuples_are_stored_as_sqlalchemy_stores_them(sessions):
    """`tuples_insert` (SQLite's executemany of tuples) binds each value as its column's
    type does: a time with and without microseconds, a text enum, a null, read back as
    SQLAlchemy's own insert stores them, byte for byte."""
    if sessions.kw["bind"].dialect.name != "sqlite":
        pytest.skip("the executemany of tuples is SQLite's (PostgreSQL: unnest_insert)")
    units = Unit.__table__
    times = (dt.datetime(2026, 8, 31, 7, 5, 0), dt.datetime(2026, 8, 31, 7, 5, 0, 120))
    rows = [
        {
            "department_id": f"{how}-{number}",
            "code": None,
            "name": "UBND xã Bình Thành",
            "unit_group": UnitGroup.COMMUNE,
            "parent_id": None,
            "first_seen": seen,
            "last_seen": seen,
        }
        for number, seen in enumerate(times)
        for how in ("orm", "tuples")
    ]
    with sessions.begin() as session:
        session.execute(insert(units), [row for row in rows if row["department_id"][0] == "o"])
        tuples_insert(session, units, [row for row in rows if row["department_id"][0] == "t"])
    with sessions() as session:
        stored = session.execute(
            text(
                "SELECT department_id, code, name, unit_group, typeof(unit_group), first_seen,"
                " last_seen FROM units ORDER BY id"
            )
        ).all()
        read_back = session.execute(select(Unit.first_seen).order_by(Unit.id)).scalars().all()
    by_how = {how: [row[1:] for row in stored if row[0].startswith(how)] for how in ("o", "t")}
    assert by_how["t"] == by_how["o"]
    assert [row[5] for row in by_how["t"]] == [
        "2026-08-31 07:05:00.000000",
        "2026-08-31 07:05:00.000120",
    ]
    assert read_back == [*times, *times]


def test_snapshot_rows_inserted_as_tuples_are_stored_as_sqlalchemy_stores_them(sessions):
    """The same for a snapshot's row: its days (as of, last seen), a revision and a time."""
    if sessions.kw["bind"].dialect.name != "sqlite":
        pytest.skip("the executemany of tuples is SQLite's (PostgreSQL: unnest_insert)")
    digest = "ab" * 32
    with sessions.begin() as session:
        session.add(
            Unit(department_id="u-1", name="UBND xã Bình Thành", unit_group=UnitGroup.COMMUNE)
        )
        session.add(FigureSet(sha256=digest, figures="[]"))
        session.flush()
        unit_id = session.scalar(select(Unit.id))
        rows = [
            {
                "source": "portal", "scheme": f"{how}-766", "unit_id": unit_id, "period": "2026-08",
                "as_of": dt.date(2026, 8, 31), "last_seen": dt.date(2026, 9, 1),
                "revision": 2, "completeness": "running", "content_sha256": digest,
                "fetch_run_id": None, "created_at": dt.datetime(2026, 9, 1, 7, 5, 0, 120),
                "seen_at": dt.datetime(2026, 9, 1, 7, 5),
            }
            for how in ("orm", "tuples")
        ]  # fmt: skip
        session.execute(insert(Snapshot.__table__), rows[:1])
        tuples_insert(session, Snapshot.__table__, rows[1:])
    with sessions() as session:
        stored = session.execute(
            text(
                "SELECT scheme, as_of, typeof(as_of), last_seen, revision, typeof(revision),"
                " created_at, seen_at, fetch_run_id FROM snapshots ORDER BY id"
            )
        ).all()
    assert stored[0][1:] == stored[1][1:]  # all but the scheme, which tells them apart
    assert stored[1][1:4] == ("2026-08-31", "text", "2026-09-01")
