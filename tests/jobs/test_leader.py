"""The scheduler lock knows when it is lost: a PostgreSQL lock session ended, a SQLite lock
file removed or replaced; and each installation (schema) has a lock of its own."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from jobs.leader import ADVISORY_KEY, LeaderLock, lock_path
from tests.conftest import PG_URL


def test_a_held_lock_is_not_lost(app):
    lock = LeaderLock(app.engine, "vm:1")
    assert lock.lost() == "it does not hold the scheduler lock"
    assert lock.acquire()
    try:
        assert lock.lost() is None
        assert lock.acquire()  # still held: checked, not assumed
    finally:
        lock.release()
    assert lock.lost() is not None


def test_a_sqlite_lock_file_removed_or_replaced_is_lost(app):
    if app.engine.dialect.name != "sqlite":
        pytest.skip("the lock file is SQLite's")
    lock = LeaderLock(app.engine, "vm:1")
    assert lock.acquire()
    path = lock_path(app.engine)
    path.unlink()
    assert lock.lost() == f"its lock file {path} was removed"
    path.write_text("vm:2\n", encoding="utf-8")
    assert lock.lost() == f"its lock file {path} was replaced by another file"
    assert lock.acquire()  # the lost lock is let go and the new file locked
    assert lock.lost() is None
    lock.release()
    assert os.path.exists(path)


def test_an_ended_lock_session_is_lost_and_the_lock_free_again(app):
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    first, second = LeaderLock(app.engine, "vm:1"), LeaderLock(app.engine, "vm:2")
    assert first.acquire() and not second.acquire()
    with app.engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid::bigint = :key"
                " AND objid::bigint = (hashtext(current_schema())::bigint & 4294967295)"
            ),
            {"key": ADVISORY_KEY},
        )
        connection.commit()
    reason = first.lost()
    assert reason is not None and reason.startswith("its lock session on PostgreSQL ended")
    assert first.lost() is not None  # asked again: still lost, never an exception
    assert second.acquire()
    first.release()  # a lost lock is let go quietly
    second.release()


def test_each_schema_has_its_own_lock(app):
    if app.engine.dialect.name != "postgresql" or not PG_URL:
        pytest.skip("the advisory lock is PostgreSQL's")
    public = create_engine(PG_URL)
    try:
        ours, theirs = LeaderLock(app.engine, "vm:1"), LeaderLock(public, "vm:2")
        assert ours.acquire() and theirs.acquire()
        ours.release()
        theirs.release()
    finally:
        public.dispose()
