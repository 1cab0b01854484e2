"""A sync storing a figure set or a raw body that housekeeping is deleting at that very
moment keeps it: the writer holds what it points at, the deletion passes held rows by,
and a row the deletion took first is stored again (`service/shared_rows.py`).

PostgreSQL only: there both run at once and neither sees the other's uncommitted
rows. (On SQLite a transaction that has written is the only writer until it ends.)
Each test stops the sync right after one statement, runs the deletion, and lets the
sync go on, so the dangerous order happens every time, not by chance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.app import App
from service.models import RawResponse
from service.portal.client import PortalResponse
from service.raw_archive import RawArchive, body_of, drop_unreferenced_bodies
from service.retention import drop_intermediate_readings
from service.runs import start_run
from service.snapshots import latest_units
from tests.test_retention import august, read
from tests.waiting import PATIENCE, blocks_another, wait_until

BODY = b'{"data": {"children": []}, "status": 200}'


@pytest.fixture
def pg_sessions(app: App, sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the race needs two writers at once: PostgreSQL's")
    return sessions


class Paused:
    """The writer thread, stopped after its first statement starting with `prefix`
    until it is resumed; what it raised, if anything, in `error`."""

    def __init__(self, app: App, prefix: str, write: Callable[[], None]) -> None:
        self.app, self.prefix, self.write = app, prefix, write
        self.stopped, self.resumed = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)

    def _hook(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (
            threading.current_thread() is self.thread
            and statement.startswith(self.prefix)
            and not self.stopped.is_set()
        ):
            self.stopped.set()
            assert self.resumed.wait(PATIENCE)

    def _run(self) -> None:
        try:
            self.write()
        except BaseException as exc:  # the test reports it
            self.error = exc

    def __enter__(self) -> Paused:
        event.listen(self.app.engine, "after_cursor_execute", self._hook)
        self.thread.start()
        wait_until(self.stopped.is_set, f"the writer to run {self.prefix}")
        return self

    def resume_until_blocked_by(self, blocker: int, sessions: sessionmaker[Session]) -> None:
        """Let the writer go on until it waits for the session `blocker` (or ends)."""
        self.resumed.set()
        wait_until(
            lambda: not self.thread.is_alive() or blocks_another(sessions, blocker),
            "the writer to wait for the deletion, or to end",
        )

    def __exit__(self, *_exc: object) -> None:
        self.resumed.set()
        self.thread.join(PATIENCE)
        event.remove(self.app.engine, "after_cursor_execute", self._hook)


@pytest.fixture
def archived_once(pg_sessions: sessionmaker[Session]) -> str:
    """The digest of a body an earlier run's response named. Each test deletes that
    response, as retention does, so the body is what `drop_unreferenced_bodies` takes."""
    run = start_run(pg_sessions, "sync", "H99", "2026-08")
    RawArchive(pg_sessions, run)(response())
    return hashlib.sha256(BODY).hexdigest()


def response() -> PortalResponse:
    return PortalResponse(
        "service-results", {"year": 2026}, 200, "application/json", BODY, dt.datetime(2026, 9, 1)
    )


def test_a_figure_set_being_dropped_is_stored_again_for_the_snapshot_that_needs_it(
    app: App, pg_sessions: sessionmaker[Session]
) -> None:
    august(pg_sessions)  # unit a's reading of 3 August (total 60) is intermediate: it goes

    def sync_c() -> None:  # a new unit whose figures are those of a's 3 August
        read(pg_sessions, "2026-09", dt.date(2026, 9, 16), {"c": 60.0})

    with (
        Paused(app, "INSERT INTO figure_sets", sync_c) as writer,
        pg_sessions.begin() as housekeeping,
    ):
        assert drop_intermediate_readings(housekeeping, dt.date(2026, 12, 1)) == 3
        pid = housekeeping.scalar(text("SELECT pg_backend_pid()"))
        writer.resume_until_blocked_by(pid, pg_sessions)
    assert writer.error is None, f"the sync failed: {writer.error!r}"
    with pg_sessions() as session:
        units = {u.code: u.values["TOTAL"] for u in latest_units(session, "766", "2026-09")}
    assert units["H99.c"] == 60.0  # read through its figure set


def test_a_figure_set_held_by_a_sync_is_passed_by(
    app: App, pg_sessions: sessionmaker[Session]
) -> None:
    august(pg_sessions)

    def sync_c() -> None:
        read(pg_sessions, "2026-09", dt.date(2026, 9, 16), {"c": 60.0})

    with (
        Paused(app, "SELECT figure_sets.sha256", sync_c),  # the set is held by now
        pg_sessions.begin() as housekeeping,  # and housekeeping does not wait for the sync
    ):
        assert drop_intermediate_readings(housekeeping, dt.date(2026, 12, 1)) == 3
    with pg_sessions() as session:
        units = {u.code: u.values["TOTAL"] for u in latest_units(session, "766", "2026-09")}
    assert units["H99.c"] == 60.0


def test_a_raw_body_being_dropped_is_stored_again_for_the_response_that_names_it(
    app: App, pg_sessions: sessionmaker[Session], archived_once: str
) -> None:
    run = start_run(pg_sessions, "sync", "H99", "2026-09")
    with (
        Paused(
            app, "INSERT INTO raw_responses", lambda: RawArchive(pg_sessions, run)(response())
        ) as writer,
        pg_sessions.begin() as housekeeping,
    ):
        housekeeping.execute(delete(RawResponse).where(RawResponse.fetch_run_id != run))
        assert drop_unreferenced_bodies(housekeeping) == 1  # the old response's body
        pid = housekeeping.scalar(text("SELECT pg_backend_pid()"))
        writer.resume_until_blocked_by(pid, pg_sessions)
    assert writer.error is None, f"the archive failed: {writer.error!r}"
    with pg_sessions() as session:
        (kept,) = session.scalars(select(RawResponse).where(RawResponse.fetch_run_id == run))
        assert kept.body_sha256 == archived_once
        assert body_of(session, kept) == BODY


def test_a_raw_body_held_by_a_sync_is_passed_by(
    app: App, pg_sessions: sessionmaker[Session], archived_once: str
) -> None:
    run = start_run(pg_sessions, "sync", "H99", "2026-09")
    archive = RawArchive(pg_sessions, run)
    with (
        Paused(app, "UPDATE fetch_runs", lambda: archive(response())),  # the body is held
        pg_sessions.begin() as housekeeping,  # and housekeeping does not wait for the archive
    ):
        housekeeping.execute(delete(RawResponse).where(RawResponse.fetch_run_id != run))
        assert drop_unreferenced_bodies(housekeeping) == 0
    with pg_sessions() as session:
        (kept,) = session.scalars(select(RawResponse).where(RawResponse.fetch_run_id == run))
        assert body_of(session, kept) == BODY
