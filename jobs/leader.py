"""One scheduler at a time: a PostgreSQL advisory lock, or a file lock for SQLite.

On PostgreSQL the leader holds a session-level advisory lock on a connection
of its own; when the leader dies its connection closes and the lock is free,
so a standby polling every few seconds takes over well within a minute.
SQLite lives on one machine: a second instance finds the lock file held and
says so. Either way the leader records itself in `leadership` with a
heartbeat, for `dvcwatch status` and `/healthz`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from service.claims import Leadership
from service.clock import utcnow

ADVISORY_KEY = 7_662_022  # the index's decision (766, 2022): dvcwatch's scheduler lock
ROLE = "scheduler"


class LockHeld(RuntimeError):
    """Another instance holds the SQLite lock; the message names it."""


class LeaderLock:
    """Try to become the scheduler; `acquire()` never blocks, call it again to retry."""

    def __init__(self, engine: Engine, owner: str) -> None:
        self.engine, self.owner = engine, owner
        self._connection: Connection | None = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def acquire(self) -> bool:
        """True when this process now leads (or already did)."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            return self._acquire_advisory()
        return self._acquire_file()

    def _acquire_advisory(self) -> bool:
        connection = self.engine.connect()
        won = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if won.scalar():
            connection.commit()
            self._connection = connection
            return True
        connection.close()
        return False

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
        if self._connection is not None:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.truncate(0)
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_path(engine: Engine) -> Path:
    """The lock file beside the SQLite database (`var/dvcwatch.db` → `var/dvcwatch.lock`)."""
    database = engine.url.database or "dvcwatch.db"
    if database == ":memory:":
        return Path(os.getcwd()) / "var" / "dvcwatch.lock"
    return Path(database).with_suffix(".lock")


def heartbeat(sessions: sessionmaker[Session], owner: str, now: dt.datetime | None = None) -> None:
    """Record (or refresh) this process as the scheduler."""
    now = now or utcnow()
    with sessions.begin() as session:
        row = session.get(Leadership, ROLE)
        if row is None or row.owner != owner:
            session.merge(Leadership(role=ROLE, owner=owner, since=now, heartbeat_at=now))
        else:
            row.heartbeat_at = now
