"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, event, func, insert, inspect, select, text

import service.alerts.models  # noqa: F401  (the tables the migrations must create)
import service.claims  # noqa: F401
import service.delivery.models  # noqa: F401  (the tables the migrations must create)
import service.notices.models  # noqa: F401
from service.db import (
    MIGRATIONS,
    DatabaseError,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    require_current,
    session_factory,
    upgrade,
)
from service.figures import FigureValue, UnitRecord, content_sha256
from service.models import Base, FetchRun, FigureSet, RawResponse
from service.portal.client import PortalResponse
from service.raw_archive import RawArchive, body_of
from service.snapshots import SnapshotKey, latest_units, previous_snapshots, store_snapshots
from tests.conftest import PROJECT


def test_the_migrated_schema_matches_the_models(app):
    with app.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def total_of(total: float) -> tuple[FigureValue, ...]:
    return (FigureValue("TOTAL", "total", total, 100.0),)


def test_an_existing_database_keeps_every_figure_and_answer_through_0007_to_0011(db_url):
    """A database written before snapshots were intervals and bodies were shared
    (revision 0006: a copy per day, bodies in their rows) upgrades with nothing lost:
    readers see the same latest reading and the one before, the archived answer
    reads back; later readings extend the newest snapshot; a downgrade puts the
    shared bodies back in their rows."""
    engine = make_engine(db_url)
    upgrade(engine, "0006")
    tables = MetaData()
    tables.reflect(engine)
    day = dt.datetime(2026, 8, 20)
    body = json.dumps({"data": {"evaluation": []}}).encode()
    with engine.begin() as connection:
        run = connection.execute(
            insert(tables.tables["fetch_runs"]).returning(tables.tables["fetch_runs"].c.id),
            {"job": "sync", "scope": "H44", "period": "2026-08", "status": "ok",
             "started_at": day, "units_seen": 1, "snapshots_written": 1},
        ).scalar_one()  # fmt: skip
        unit = connection.execute(
            insert(tables.tables["units"]).returning(tables.tables["units"].c.id),
            {"department_id": "d-1", "code": "H44.116", "name": "UBND xã Bình Phú",
             "unit_group": "COMMUNE", "first_seen": day, "last_seen": day},
        ).scalar_one()  # fmt: skip
        for number, (as_of, total) in enumerate([(20, 70.0), (21, 70.0), (22, 75.5)], start=1):
            connection.execute(
                insert(tables.tables["snapshots"]),
                {"id": number, "source": "portal-766", "scheme": "766", "unit_id": unit,
                 "period": "2026-08", "as_of": dt.date(2026, 8, as_of), "revision": 1,
                 "completeness": "running", "content_sha256": content_sha256(total_of(total)),
                 "fetch_run_id": run, "created_at": day},
            )  # fmt: skip
            connection.execute(
                insert(tables.tables["figures"]),
                {"snapshot_id": number, "code": "TOTAL", "kind": "total", "value": total,
                 "max_value": 100.0},
            )  # fmt: skip
        connection.execute(
            insert(tables.tables["raw_responses"]),
            {"fetch_run_id": run, "endpoint": "transparency", "request_body": "{}",
             "fetched_at": day, "body": zlib.compress(body),
             "body_sha256": hashlib.sha256(body).hexdigest(), "body_size": len(body)},
        )  # fmt: skip
    upgrade(engine)
    sessions = session_factory(engine)

    def readings() -> tuple[dt.date, float | None, float | None]:
        with sessions() as session:
            [latest] = latest_units(session, "766", "2026-08")
            before = previous_snapshots(session, "766", "2026-08")[latest.unit_id]
        return latest.as_of, latest.figures["TOTAL"].value, before.figures["TOTAL"].value

    assert readings() == (dt.date(2026, 8, 22), 75.5, 70.0)
    with sessions() as session:
        [old] = session.scalars(select(RawResponse)).all()
        assert body_of(session, old) == body
    key = SnapshotKey("portal-766", "766", "2026-08", dt.date(2026, 8, 23), "running")
    record = UnitRecord("d-1", "H44.116", "UBND xã Bình Phú", "COMMUNE", total_of(75.5))
    with sessions.begin() as session:
        assert store_snapshots(session, key, [record]).written == 0
    assert readings() == (dt.date(2026, 8, 23), 75.5, 75.5)  # unchanged since the 22nd
    archive = RawArchive(sessions, run)  # the same answer archived after the upgrade
    archive(PortalResponse("transparency", {}, 200, "application/json", body, day, None))
    with sessions() as session:
        sets = session.scalar(select(func.count()).select_from(FigureSet))
        shared = session.scalars(select(RawResponse.body).order_by(RawResponse.id)).all()
    assert sets == 2 and shared[1] is None  # 70.0 (the 20th and 21st) and 75.5, once each
    with sessions.begin() as session:  # a later run that received the same answers (0010)
        again = FetchRun(job="sync", scope="H44", period="2026-08", answers_as_run=run)
        session.add(again)
        session.flush()
        again_id = again.id
    downgrade(engine, "0010")
    with engine.connect() as connection:
        values = connection.execute(
            text("SELECT snapshot_id, code, value FROM figures ORDER BY snapshot_id")
        ).all()
    assert [tuple(row) for row in values] == [
        (1, "TOTAL", 70.0),
        (2, "TOTAL", 70.0),
        (3, "TOTAL", 75.5),
    ]
    downgrade(engine, "0009")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT fetch_run_id, endpoint, body_sha256 FROM raw_responses ORDER BY id")
        ).all()
    held = [(endpoint, sha) for run_id, endpoint, sha in rows if run_id == run]
    assert [(endpoint, sha) for run_id, endpoint, sha in rows if run_id == again_id] == held
    assert len(held) == 2
    downgrade(engine, "0007")
    with engine.connect() as connection:
        bodies = connection.execute(text("SELECT body FROM raw_responses ORDER BY id")).all()
    assert [zlib.decompress(b) for (b,) in bodies] == [body] * 4
    engine.dispose()


RICH = (
    FigureValue("TOTAL", "total", 77.38, 100.0),
    FigureValue("TDGQ", "axis", 16.85, 20.0, axis="TDGQ", ratio=84.25),
    FigureValue("OVERDUE", "count", 95.0),
    FigureValue("NO_DATA", "metric", None, 2.0, axis="CKMB", numerator=None, denominator=0.0),
    FigureValue(
        "DOSSIER_SYNC",
        "metric",
        1.5,
        2.0,
        axis="CKMB",
        numerator=670.0,
        denominator=796.0,
        ratio=84.17,
        text_value="mức 2",
        quality_status="TEMP_NATIONAL_REPORT_DENOMINATOR",
        quality_message='Mẫu số đang dùng số tạm;\n"trích" từ báo cáo',
    ),
)


def test_0011_keeps_every_figure_of_every_snapshot_both_ways(db_url):
    """Figure rows become one shared set per distinct reading and come back as rows: a
    snapshot with no figure, one whose recorded fingerprint an older writer computed
    otherwise, and two units with the same figures."""
    engine = make_engine(db_url)
    upgrade(engine, "0010")
    tables = MetaData()
    tables.reflect(engine)
    day = dt.datetime(2026, 8, 20)
    readings = {1: RICH, 2: RICH, 3: (), 4: RICH[:2]}  # snapshot id -> its figures
    with engine.begin() as connection:
        for unit in (1, 2, 3):
            connection.execute(
                insert(tables.tables["units"]),
                {"id": unit, "department_id": f"d-{unit}", "code": f"H44.{unit}",
                 "name": "UBND xã Bình Phú", "unit_group": "COMMUNE", "first_seen": day,
                 "last_seen": day},
            )  # fmt: skip
        for number, figures in readings.items():
            connection.execute(
                insert(tables.tables["snapshots"]),
                {"id": number, "source": "portal-766", "scheme": "766",
                 "unit_id": min(number, 3), "period": "2026-08",
                 "as_of": dt.date(2026, 8, 20 + number // 4),
                 "last_seen": dt.date(2026, 8, 20 + number // 4),
                 "revision": 1, "completeness": "running",
                 "content_sha256": "older" if number == 2 else content_sha256(figures),
                 "created_at": day, "seen_at": day},
            )  # fmt: skip
            for figure in figures:
                connection.execute(
                    insert(tables.tables["figures"]), {"snapshot_id": number, **figure._asdict()}
                )
        before = connection.execute(text(f"SELECT {FIGURE_ROW} FROM figures ORDER BY 1, 2")).all()
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        latest = {unit.code: unit for unit in latest_units(session, "766", "2026-08")}
        sets = session.scalar(select(func.count()).select_from(FigureSet))
        digests = dict(session.execute(text("SELECT id, content_sha256 FROM snapshots")).all())
    assert {code: dict(unit.figures) for code, unit in latest.items()} == {
        "H44.1": {figure.code: figure for figure in RICH},
        "H44.2": {figure.code: figure for figure in RICH},
        "H44.3": {figure.code: figure for figure in RICH[:2]},  # its newer reading
    }
    assert sets == 3 and digests[2] == digests[1] == content_sha256(RICH)
    key = SnapshotKey("portal-766", "766", "2026-08", dt.date(2026, 8, 22), "running")
    record = UnitRecord("d-2", "H44.2", "UBND xã Bình Phú", "COMMUNE", RICH)
    with sessions.begin() as session:  # the renamed fingerprint is what a reading meets
        assert store_snapshots(session, key, [record]).written == 0
    downgrade(engine, "0010")
    with engine.connect() as connection:
        after = connection.execute(text(f"SELECT {FIGURE_ROW} FROM figures ORDER BY 1, 2")).all()
    assert after == before
    engine.dispose()


FIGURE_ROW = (
    "snapshot_id, code, kind, value, max_value, axis, numerator, denominator, ratio, "
    "text_value, quality_status, quality_message"
)


PROVINCIAL = "provincial:dienbien-459"
#: notice_files rows at 0011: (id, kind, unit, period, format, version, snapshot_ids)
#: and the scheme 0012 names each by.
ARCHIVED = [
    (1, "baocao", "TUACHUA", "2024-03", "docx", 1, "1", PROVINCIAL),
    (2, "baocao", "TUACHUA", "2024-03", "html", 1, "1,2", PROVINCIAL),  # its first snapshot's
    (3, "congvan", "TUACHUA.X", "2024-03", "docx", 1, "2", "766"),
    (4, "baocao", "DBD", "2021-Q1", "docx", 1, "", "tt01"),  # its snapshots gone: a quarter
    (5, "congvan", "GONE", "2024-02", "docx", 1, "999", "766"),  # ... a month
    (6, "baocao", "MIXED", "2024-03", "docx", 1, "1", PROVINCIAL),  # the old code's mix-up:
    (7, "baocao", "MIXED", "2024-03", "docx", 2, "2", "766"),  # one folder, two schemes
]
CLAIMED = ["baocao:TUACHUA", "congvan:TUACHUA.X", "baocao:MIXED"]
KEYS = [
    "notice:baocao:TUACHUA:2024-03:v1:vp:console",
    "notice:baocao:TUACHUA:2024-03:v10:vp:console",  # no such version archived
    "notice:congvan:TUACHUA.X:2024-03:v1:vp:console",
    "notice:baocao:MIXED:2024-03:v1:vp:console",
    "event:7:vp:console",
]


def _rows(engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_0012_names_each_notice_by_its_scheme_and_keeps_what_ran_done_both_ways(db_url):
    """The archive learns each file's scheme from its snapshots; a province's own notice
    that ran under the scope without its scheme keeps its claim and its deliveries' keys
    under the new scope, so it is neither written nor sent again; a downgrade puts every
    row back, and refuses while two schemes share what the old key names."""
    engine = make_engine(db_url)
    upgrade(engine, "0011")
    tables = MetaData()
    tables.reflect(engine)
    day = dt.datetime(2024, 4, 3)
    with engine.begin() as connection:
        connection.execute(insert(tables.tables["figure_sets"]), {"sha256": "s", "figures": "[]"})
        connection.execute(
            insert(tables.tables["units"]),
            {"id": 1, "code": "TUACHUA.X", "name": "UBND xã", "unit_group": "COMMUNE",
             "first_seen": day, "last_seen": day},
        )  # fmt: skip
        for number, scheme in ((1, PROVINCIAL), (2, "766")):
            connection.execute(
                insert(tables.tables["snapshots"]),
                {"id": number, "source": "import", "scheme": scheme, "unit_id": 1,
                 "period": "2024-03", "as_of": day.date(), "last_seen": day.date(),
                 "revision": 1, "completeness": "final", "content_sha256": "s",
                 "created_at": day, "seen_at": day},
            )  # fmt: skip
        for number, kind, unit, period, form, version, ids, _ in ARCHIVED:
            connection.execute(
                insert(tables.tables["notice_files"]),
                {"id": number, "kind": kind, "unit_code": unit, "period": period,
                 "format": form, "version": version, "path": f"/out/{number}", "sha256": "0",
                 "size": 1, "snapshot_ids": ids, "created_at": day},
            )  # fmt: skip
        for scope in CLAIMED:
            connection.execute(
                insert(tables.tables["job_claims"]),
                {"job": "notices", "scope": scope, "period": "2024-03", "status": "ok",
                 "owner": "a", "attempts": 1, "claimed_at": day},
            )  # fmt: skip
        connection.execute(  # another job's claim, whatever its scope says
            insert(tables.tables["job_claims"]),
            {"job": "sync", "scope": "baocao:TUACHUA", "period": "2024-03", "status": "ok",
             "owner": "a", "attempts": 1, "claimed_at": day},
        )  # fmt: skip
        for key in KEYS:
            connection.execute(
                insert(tables.tables["deliveries"]),
                {"idempotency_key": key, "person_id": "vp", "channel": "console",
                 "address": "vp", "unit_label": "", "text_html": "x", "status": "sent",
                 "not_before": day, "attempts": 1, "created_at": day},
            )  # fmt: skip
    before = [
        _rows(engine, f"SELECT * FROM {table} ORDER BY id")
        for table in ("notice_files", "job_claims", "deliveries")
    ]
    upgrade(engine)
    assert _rows(engine, "SELECT id, scheme FROM notice_files ORDER BY id") == [
        (row[0], row[-1]) for row in ARCHIVED
    ]
    assert _rows(engine, "SELECT job, scope FROM job_claims ORDER BY id") == [
        ("notices", f"baocao:TUACHUA@{PROVINCIAL}"),
        ("notices", "congvan:TUACHUA.X"),
        ("notices", "baocao:MIXED"),  # which scheme ran under it, the archive cannot say
        ("sync", "baocao:TUACHUA"),
    ]
    keys = _rows(engine, "SELECT idempotency_key FROM deliveries ORDER BY id")
    assert [key for (key,) in keys] == [
        f"notice:baocao:TUACHUA@{PROVINCIAL}:2024-03:v1:vp:console",
        *KEYS[1:],
    ]
    downgrade(engine, "0011")
    after = [
        _rows(engine, f"SELECT * FROM {table} ORDER BY id")
        for table in ("notice_files", "job_claims", "deliveries")
    ]
    assert after == before
    upgrade(engine)
    with engine.begin() as connection:  # the national Báo cáo the old key could not hold
        connection.execute(
            text(
                "INSERT INTO notice_files (id, kind, scheme, unit_code, period, format, "
                "version, path, sha256, size, snapshot_ids, created_at) VALUES (8, 'baocao', "
                "'766', 'TUACHUA', '2024-03', 'docx', 1, '/out/8', '0', 1, '2', :day)"
            ),
            {"day": day},
        )
    with pytest.raises(RuntimeError, match="baocao TUACHUA 2024-03 docx v1 is archived under"):
        downgrade(engine, "0011")
    assert current_revision(engine) == head_revision()
    engine.dispose()


class _Stopped(Exception):
    """The upgrade stopped partway, as a kill or a full disk would stop it."""


def _tables(engine) -> dict[str, list[tuple[object, ...]]]:
    names = sorted(inspect(engine).get_table_names())
    return {name: _rows(engine, f"SELECT * FROM {name}") for name in names}


def _upgrade_stopped_at(engine, statement: int) -> None:
    """`upgrade(engine)`, stopped by an error at its `statement`-th SQL statement."""
    seen = [0]

    def count(*_args: object) -> None:
        seen[0] += 1
        if seen[0] == statement:
            raise _Stopped(f"stopped at statement {statement}")

    event.listen(engine, "before_cursor_execute", count)
    try:
        with pytest.raises(_Stopped):
            upgrade(engine)
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements_of(engine, migrate: Callable[[], None]) -> int:
    """How many SQL statements `migrate` sends."""
    statements: list[object] = []

    def count(*args: object) -> None:
        statements.append(args)

    event.listen(engine, "before_cursor_execute", count)
    try:
        migrate()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


STOPPED_AT = (0.2, 0.4, 0.6, 0.8, 0.95)  # shares of an upgrade's statements


def test_an_upgrade_stopped_partway_leaves_the_database_as_it_was(db_url):
    """The migrations run in one transaction, on SQLite too, where the driver on its own
    would commit each ALTER or CREATE before the first row is written: an upgrade stopped
    anywhere (a kill, a full disk) leaves the revision, the tables and every row as they
    were, and `db upgrade` then runs whole. Stopped at a spread of points of a fresh
    database's upgrade to 0011, and of 0012's on a database holding a row (on SQLite its
    first ALTER is the 7th of 41 statements: every point is after it)."""
    engine = make_engine(db_url)
    fresh = _statements_of(engine, lambda: upgrade(engine, "0011"))
    downgrade(engine, "base")
    empty = _tables(engine)
    for share in STOPPED_AT:
        _upgrade_stopped_at(engine, max(2, int(fresh * share)))
        assert _tables(engine) == empty, share
    upgrade(engine, "0011")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO notice_files (id, kind, unit_code, period, format, version, path, "
                "sha256, size, snapshot_ids, created_at) VALUES (1, 'congvan', 'H44.1', "
                "'2026-08', 'docx', 1, '/out/1', '0', 1, '', :day)"
            ),
            {"day": dt.datetime(2026, 9, 3)},
        )
    before = _tables(engine)
    last = _statements_of(engine, lambda: upgrade(engine))
    downgrade(engine, "0011")
    assert _tables(engine) == before
    for share in STOPPED_AT:
        _upgrade_stopped_at(engine, max(2, int(last * share)))
        assert current_revision(engine) == "0011"
        assert _tables(engine) == before, share
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _rows(engine, "SELECT id, scheme FROM notice_files") == [(1, "766")]
    engine.dispose()


def test_an_upgrade_takes_sqlites_write_lock_as_it_begins(db_url):
    """On SQLite, the migrations' transaction holds the write lock from its start, so an
    upgrade beside another process's write waits for it (the busy timeout), as a
    statement does; begun as a reader, it would fail at its first ALTER at once
    ("database is locked": SQLite will not make a reader a writer beside one)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock")
    engine = make_engine(db_url)
    upgrade(engine, "0011")
    path = engine.url.database
    taken: list[bool] = []

    def try_to_write(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):  # the migrations' transaction has just begun
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                taken.append(False)
            except sqlite3.OperationalError:
                taken.append(True)
            finally:
                other.close()

    event.listen(engine, "after_cursor_execute", try_to_write)
    try:
        upgrade(engine)
    finally:
        event.remove(engine, "after_cursor_execute", try_to_write)
    assert taken == [True]
    engine.dispose()


KILLED_AT = """
import os, signal, sys
from sqlalchemy import event
from service.db import make_engine, upgrade
engine, seen = make_engine(sys.argv[1]), []
def count(*_args):
    seen.append(1)
    if len(seen) == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
event.listen(engine, "before_cursor_execute", count)
upgrade(engine)
"""


@pytest.mark.parametrize("statement", [12, 40])
def test_an_upgrade_killed_partway_leaves_the_database_as_it_was(db_url, statement):
    """`dvcwatch db upgrade` killed (SIGKILL) partway through a fresh database's
    migrations: nothing of them stays, and the next upgrade runs whole."""
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    downgrade(engine, "base")
    empty = _tables(engine)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT, db_url, str(statement)],
        cwd=PROJECT,
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _tables(engine) == empty
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_head_read_from_the_files_is_alembic_s():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_database_behind_the_code_is_refused_without_alembic(db_url):
    engine = make_engine(db_url)
    missing = "does not exist: check the path" if db_url.startswith("sqlite") else "is empty"
    with pytest.raises(DatabaseError, match=missing):
        require_current(engine)
    upgrade(engine, "0009")
    assert current_revision(engine) == "0009"
    with pytest.raises(DatabaseError, match="at revision 0009, the code expects"):
        require_current(engine)
    upgrade(engine)
    require_current(engine)


def test_a_command_that_reads_leaves_nothing_at_a_mistyped_path(tmp_path, capsys):
    """`status` at a SQLite path that is not there: one line, exit 1, and no file or
    folder made (SQLite creates an empty database on connecting); `db upgrade` makes it."""
    from service.cli import main

    path = tmp_path / "missing" / "dir" / "dvcwatch.db"
    assert main(["status", "--db", f"sqlite:///{path}"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [
        f"dvcwatch: database {path} does not exist: check the path, or create it with "
        "`dvcwatch db upgrade`"
    ]
    assert not (tmp_path / "missing").exists()
    assert main(["db", "upgrade", "--db", f"sqlite:///{path}"]) == 0
    assert main(["status", "--db", f"sqlite:///{path}"]) == 0
