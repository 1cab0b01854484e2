"""`dvcwatch status` without SQLAlchemy: the report read through the driver alone, when
there is nothing to settle first. SQLAlchemy's ORM takes about a third of a second to
import here, more than sqlite3 and the report together (`docs/benchmarks.md`).

`read_quickly` answers None, and the full way runs, whenever that has something to do
or to say: a run marked running or a message marked sending (their process may be gone:
closing them needs the models), a schema not at the code's head, a SQLite file missing,
unreadable or not SQLite, or a URL that only SQLAlchemy reads as it is meant. It only
reads, and never creates a file. A PostgreSQL server that cannot be reached is the one
failure it reports itself, in the full way's words: trying again would wait as long.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from service.dbfacts import (
    REVISION_ROWS,
    SQLITE_BUSY_SECONDS,
    DatabaseError,
    failure_line,
    head_revision,
    revision_of,
)
from service.states import DeliveryStatus, RunStatus
from service.status import Reader, collect

_SQLITE_URLS = ("sqlite:///", "sqlite+pysqlite:///")
_POSTGRESQL = "postgresql+psycopg"


def read_quickly(url: str) -> dict[str, Any] | None:
    """The report of the database `url` names, or None: the full way must run."""
    if url.startswith(_SQLITE_URLS):
        return _from_sqlite(url)
    if url.startswith(f"{_POSTGRESQL}://"):
        return _from_postgresql(url)
    return None


def _from_sqlite(url: str) -> dict[str, Any] | None:
    path = _sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:  # mode=rw: an existing file only; the last one out removes -wal and -shm
        connection = sqlite3.connect(
            f"file:{quote(str(path))}?mode=rw", uri=True, timeout=SQLITE_BUSY_SECONDS
        )
    except sqlite3.Error:
        return None
    return _report(Reader.of_sqlite(connection), connection.close, sqlite3.Error)


def _sqlite_file(url: str) -> Path | None:
    """The file of `sqlite:///PATH` when PATH is plain: no query, fragment or escape."""
    path = url.removeprefix(next(p for p in _SQLITE_URLS if url.startswith(p)))
    if not path or path == ":memory:" or any(mark in path for mark in "?#%"):
        return None
    return Path(path)


def _from_postgresql(url: str) -> dict[str, Any] | None:
    conninfo = _libpq_uri(url)
    if conninfo is None:
        return None
    import psycopg

    try:
        connection = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:  # not reachable, refused, no such database
        raise DatabaseError(failure_line(url, exc)) from None
    except psycopg.Error:  # what libpq cannot read in the URL: the full way says
        return None
    return _report(Reader.of_psycopg(connection), connection.close, psycopg.Error)


def _libpq_uri(url: str) -> str | None:
    """`url` as libpq reads it (the scheme without `+psycopg`), when SQLAlchemy would
    read it alike and accept it: one '@' at most (`db.make_engine` refuses a password
    holding one), a port from 1 to 65535, no fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.fragment or parts.netloc.count("@") > 1 or port == 0:
        return None
    return "postgresql" + url.removeprefix(_POSTGRESQL)


def _report(
    reader: Reader, close: Callable[[], None], failed: type[Exception]
) -> dict[str, Any] | None:
    """The report, unless the schema is not the code's, something waits to be settled or
    the driver fails (`failed`: the full way says why); then `close` the connection."""
    try:
        if not _at_head(reader) or _to_settle(reader):
            return None
        return collect(reader)
    except failed:
        return None
    finally:
        close()


def _at_head(reader: Reader) -> bool:
    return revision_of(str(row[0]) for row in reader.rows(REVISION_ROWS)) == head_revision()


def _to_settle(reader: Reader) -> bool:
    """A run marked running or a message marked sending: its process may be gone."""
    return bool(
        reader.rows(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM fetch_runs WHERE status = :running) "
            "OR EXISTS (SELECT 1 FROM outbox_messages WHERE status = :sending)",
            running=RunStatus.RUNNING.value,
            sending=DeliveryStatus.SENDING.value,
        )
    )
