"""The database: engine creation, SQLite pragmas, migrations, sessions.

SQLite (WAL) is the embedded default, PostgreSQL the production store; both
are reached through a SQLAlchemy URL. The schema is only ever created by the
Alembic migrations in `service/migrations`, so a fresh database and an
upgraded one are the same.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only to migrate: it costs every other command a tenth of a second
# to start, and checking a schema needs only its version table and the migrations' names.
MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(?:"([^"]+)"|None)', re.MULTILINE)


class DatabaseError(Exception):
    """The database cannot be used as configured (not reachable, not migrated, ...)."""


class DatabaseUrlError(DatabaseError):
    """The database URL itself is wrong: bad input (exit 2), not a failure."""


KNOWN_URLS = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder, WAL and foreign keys."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a terse text
        raise DatabaseUrlError(f"database URL {url!r} is not valid: {exc}") from None
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise DatabaseUrlError(
            f"database URL {parsed.render_as_string(hide_password=True)!r}: unknown database "
            f"kind {parsed.drivername!r} (expected {KNOWN_URLS})"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(url, pool_pre_ping=True)
        except ImportError as exc:  # a kind SQLAlchemy knows, its driver not installed
            raise DatabaseUrlError(
                f"database URL {parsed.render_as_string(hide_password=True)!r}: the driver for "
                f"{parsed.drivername!r} is not installed ({exc.name}); expected {KNOWN_URLS}"
            ) from None
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"database {parsed.database}: cannot create its folder {folder}: {exc.strerror}"
            ) from None
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (`dvcwatch db upgrade`)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the migrations after `revision` (for tests and a rollback by hand)."""
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def head_revision() -> str:
    """The newest migration: the revision of `migrations/versions` that no other one
    follows, read from the files' `revision` and `down_revision` lines (the same answer as
    alembic's `ScriptDirectory.get_current_head`; tests/test_migrations.py checks it)."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            (revisions if name == "revision" else followed).add(value)
    heads = sorted(revisions - followed)
    if len(heads) != 1:
        raise DatabaseError(f"the migrations in {MIGRATIONS} have {len(heads)} heads: {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated), as alembic stores it."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        stored = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        return ",".join(sorted(stored)) or None


def require_current(engine: Engine) -> None:
    """Fail with a clear message when the schema is missing or behind the code."""
    head, current = head_revision(), current_revision(engine)
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise DatabaseError(
            f"the database is {state}, the code expects {head}: run `dvcwatch db upgrade`"
        )
