"""One scheduler at a time: a PostgreSQL advisory lock, or a file lock for SQLite.

On PostgreSQL the leader holds a session-level advisory lock (keyed by the
schema, so separate installations sharing a database do not collide) on a
connection of its own; when the leader dies its connection closes and the
lock is free, so a standby polling every few seconds takes over. SQLite
lives on one machine: a second instance finds the lock file held and says so.

Holding the lock is checked, not assumed: `LeaderLock.lost()` asks the lock
session (or the lock file) before every job, and a leader whose session was
ended steps down. Each new leader takes the next leadership term
(`take_term`); the database accepts a leader's claims only under the current
term (`service.claims.fence`), so a leader that has not yet noticed its loss
cannot act. The leadership row also carries the heartbeat, for
`dvcwatch status` and `/healthz`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.claims import SCHEDULER, Leadership
from service.clock import utcnow

ADVISORY_KEY = 7_662_022  # the index's decision (766, 2022): dvcwatch's scheduler lock
ROLE = SCHEDULER
TERM_LOCK_TIMEOUT = "5s"  # a term change waits this long for the old leader's last commit


class LockHeld(RuntimeError):
    """Another instance holds the SQLite lock; the message names it."""


class LeaderLock:
    """Try to become the scheduler; `acquire()` never blocks, call it again to retry.

    Safe to use from the event loop and the job threads at once (`lost()` is
    asked before each job, from the thread that runs it).
    """

    def __init__(self, engine: Engine, owner: str) -> None:
        self.engine, self.owner = engine, owner
        self._connection: Connection | None = None
        self._schema_key = 0  # the advisory lock's second key: hashtext(current_schema())
        self._file: IO[str] | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def acquire(self) -> bool:
        """True when this process now holds the lock (or still does: checked)."""
        with self._guard:
            if self.held:
                if self._lost() is None:
                    return True
                self._let_go()
            if self.engine.dialect.name == "postgresql":
                return self._acquire_advisory()
            return self._acquire_file()

    def lost(self) -> str | None:
        """Why this process does not hold the lock (None while it does)."""
        with self._guard:
            return self._lost()

    def _lost(self) -> str | None:
        if self._connection is not None:
            return self._advisory_lost(self._connection)
        if self._file is not None:
            return _file_lost(self._file, lock_path(self.engine))
        return "it does not hold the scheduler lock"

    def _acquire_advisory(self) -> bool:
        connection = self.engine.connect()
        key = connection.scalar(text("SELECT hashtext(current_schema())"))
        won = connection.scalar(
            text("SELECT pg_try_advisory_lock(:key, :schema)"),
            {"key": ADVISORY_KEY, "schema": key},
        )
        connection.commit()  # never idle in a transaction: the lock is the session's
        if won:
            self._connection, self._schema_key = connection, int(key or 0)
            return True
        connection.close()
        return False

    def _advisory_lost(self, connection: Connection) -> str | None:
        try:
            holds = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid::bigint = :key"
                    " AND objid::bigint = :schema"
                    " AND objsubid = 2"
                ),
                {"key": ADVISORY_KEY, "schema": self._schema_key & 0xFFFFFFFF},
            )
            connection.commit()
        except SQLAlchemyError as exc:  # the session ended, or its connection broke earlier
            with contextlib.suppress(SQLAlchemyError):
                connection.rollback()
            cause = exc.orig if isinstance(exc, DBAPIError) else exc
            reason = str(cause).strip().splitlines()[0]
            return f"its lock session on PostgreSQL ended ({reason})"
        return None if holds else "its lock session no longer holds the advisory lock"

    def _acquire_file(self) -> bool:
        path = lock_path(self.engine)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise LockHeld(
                f"another dvcwatch scheduler ({holder}) holds {path}: only one may run on a "
                "SQLite database (use PostgreSQL for a standby)"
            ) from None
        handle.truncate(0)
        handle.write(f"{self.owner}\n")
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        """Give the lock up (a clean stop); a lost lock is let go without complaint."""
        with self._guard:
            if self._connection is not None and self._advisory_lost(self._connection) is None:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key, :schema)"),
                    {"key": ADVISORY_KEY, "schema": self._schema_key},
                )
                self._connection.commit()
            if self._file is not None and _file_lost(self._file, lock_path(self.engine)) is None:
                self._file.truncate(0)
            self._let_go()

    def _let_go(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()  # a dead session must not go back to the pool
            self._connection.close()
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def drop(self) -> None:
        """Forget a lost lock (after `lost()` said why), so that `acquire()` tries anew."""
        with self._guard:
            self._let_go()


def _file_lost(handle: IO[str], path: Path) -> str | None:
    """The lock is the file we locked only while `path` still names it."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return f"its lock file {path} was removed"
    if named.st_ino != os.fstat(handle.fileno()).st_ino:
        return f"its lock file {path} was replaced by another file"
    return None


def lock_path(engine: Engine) -> Path:
    """The lock file beside the SQLite database (`var/dvcwatch.db` → `var/dvcwatch.lock`)."""
    database = engine.url.database or "dvcwatch.db"
    if database == ":memory:":
        return Path(os.getcwd()) / "var" / "dvcwatch.lock"
    return Path(database).with_suffix(".lock")


def take_term(sessions: sessionmaker[Session], owner: str, now: dt.datetime | None = None) -> int:
    """Start a new leadership term for `owner` (who just won the lock) and return it.

    The row is locked FOR UPDATE, which waits for any fenced commit of the old
    leader in progress (at most `TERM_LOCK_TIMEOUT`, then the lock timeout error
    propagates: try again later) and makes every later fence see the new term.
    """
    now = now or utcnow()
    with sessions.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": TERM_LOCK_TIMEOUT}
            )
        row = session.scalar(select(Leadership).where(Leadership.role == ROLE).with_for_update())
        if row is None:
            row = Leadership(role=ROLE, owner=owner, since=now, heartbeat_at=now, term=0)
            session.add(row)
        row.term, row.owner, row.since, row.heartbeat_at = row.term + 1, owner, now, now
        return row.term


def heartbeat(
    sessions: sessionmaker[Session], owner: str, term: int, now: dt.datetime | None = None
) -> bool:
    """Refresh this leader's heartbeat; False when `term` is no longer its own (deposed)."""
    with sessions.begin() as session:
        result = session.execute(
            update(Leadership)
            .where(Leadership.role == ROLE, Leadership.owner == owner, Leadership.term == term)
            .values(heartbeat_at=now or utcnow())
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]
