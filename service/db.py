"""The database: engine creation, SQLite pragmas, migrations, sessions.

SQLite (WAL) is the embedded default, PostgreSQL the production store; both
are reached through a SQLAlchemy URL. The schema is only ever created by the
Alembic migrations in `service/migrations`, so a fresh database and an
upgraded one are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.dbfacts import (
    KNOWN_URLS,
    MIGRATIONS,
    REVISION_ROWS,
    SQLITE_BUSY_SECONDS,
    VERSION_TABLE,
    DatabaseError,
    DatabaseUrlError,
    head_revision,
    hide_secrets,
    refuse_newer,
    revision_of,
    safe_url,
)

if TYPE_CHECKING:
    from alembic.config import Config

#: How long a courtesy write (`waiting_briefly`) waits for another process's lock.
COURTESY_WAIT_SECONDS = 2.0


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL and foreign keys (their folder is made
    by `upgrade` only). No message about a bad URL shows its password (`safe_url`)."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a terse text
        reason = hide_secrets(str(exc), url)
        raise DatabaseUrlError(f"database URL {safe_url(url)!r} is not valid: {reason}") from None
    if parsed.host and "@" in parsed.host:
        raise DatabaseUrlError(
            f"database URL {safe_url(url)!r}: the password holds an '@': write it as %40"
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise DatabaseUrlError(
            f"database URL {safe_url(url)!r}: port {parsed.port} is not a port (1-65535)"
        )
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise DatabaseUrlError(
            f"database URL {safe_url(url)!r}: unknown database kind {parsed.drivername!r} "
            f"(expected {KNOWN_URLS})"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(url, pool_pre_ping=True)
        except ImportError as exc:  # a kind SQLAlchemy knows, its driver not installed
            raise DatabaseUrlError(
                f"database URL {safe_url(url)!r}: the driver for {parsed.drivername!r} is not "
                f"installed ({exc.name}); expected {KNOWN_URLS}"
            ) from None
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def waiting_briefly(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction whose writes wait at most `COURTESY_WAIT_SECONDS` for another
    process's lock, then fail (`OperationalError`): for a write that may be left for
    later, such as `status` settling what a stopped process left. SQLite: the
    connection's busy timeout, put back before the commit (the write lock, if any, is
    held by then); PostgreSQL: `lock_timeout` for this transaction."""
    with sessions.begin() as session:
        connection = session.connection()
        wait = round(COURTESY_WAIT_SECONDS * 1000)
        if connection.dialect.name != "sqlite":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait}")
            yield session
            return
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait}")
        try:
            yield session
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {round(SQLITE_BUSY_SECONDS * 1000)}")


#: SQLite's primary result codes (the low byte of an extended one) and PostgreSQL's
#: SQLSTATEs that refuse a write for now: another's lock (busy, locked; lock_not_available)
#: or a database this user may only read (readonly; insufficient_privilege,
#: read_only_sql_transaction).
_SQLITE_NOT_NOW = {5, 6, 8}
_POSTGRESQL_NOT_NOW = {"55P03", "42501", "25006"}


def write_refused_for_now(error: SQLAlchemyError) -> bool:
    """True when `error` is the database refusing a write because another process holds
    the lock it needs, or because this user or database may only be read; False for
    anything else (a connection that failed, a bug)."""
    cause = getattr(error, "orig", None)
    code = getattr(cause, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_NOT_NOW
    return getattr(cause, "sqlstate", None) in _POSTGRESQL_NOT_NOW


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (`dvcwatch db upgrade`); a database of a newer
    release is refused (alembic would fail on the revision it cannot locate)."""
    from alembic import command

    _create_folder(engine)
    refuse_newer(current_revision(engine))
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the migrations after `revision` (for tests and a rollback by hand)."""
    from alembic import command

    refuse_newer(current_revision(engine))
    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated), as alembic stores it."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return revision_of(connection.execute(text(REVISION_ROWS)).scalars())


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database (None for PostgreSQL or an in-memory database)."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def _create_folder(engine: Engine) -> None:
    """The folder of a new SQLite database, made only by `upgrade`: a command that reads
    (`status`, `scores`) must not leave a file or folders at a mistyped path."""
    path = sqlite_file(engine)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            f"database {path}: cannot create its folder {path.parent}: {exc.strerror}"
        ) from None


def require_current(engine: Engine) -> None:
    """Fail with a clear message when the database file is missing (nothing is created:
    SQLite would make an empty one), or its schema is missing, behind the code, or of a
    newer release than the code."""
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        raise DatabaseError(
            f"database {path} does not exist: check the path, or create it with "
            "`dvcwatch db upgrade`"
        )
    head, current = head_revision(), current_revision(engine)
    refuse_newer(current)
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise DatabaseError(
            f"the database is {state}, the code expects {head}: run `dvcwatch db upgrade`"
        )
