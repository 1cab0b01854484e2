"""What dvcwatch knows of its database without SQLAlchemy: the errors it raises, how a
URL is shown without its password, how long SQLite waits for a lock, and the schema's
newest revision. A command that reads without SQLAlchemy (`dvcwatch status`, which
starts on SQLite in a quarter of a second where SQLAlchemy alone takes a third) uses these, and
`service.db` builds on them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

# Alembic is imported only to migrate: it costs every other command a tenth of a second
# to start, and checking a schema needs only its version table and the migrations' names.
MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(?:"([^"]+)"|None)', re.MULTILINE)


class DatabaseError(Exception):
    """The database cannot be used as configured (not reachable, not migrated, ...)."""


class DatabaseUrlError(DatabaseError):
    """The database URL itself is wrong: bad input (exit 2), not a failure."""


#: How long a SQLite statement waits for another process's write lock before "database
#: is locked".
SQLITE_BUSY_SECONDS = 30.0
KNOWN_URLS = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"
# The password of `scheme://user:password@host`: everything up to the last '@', since an
# unescaped '@' in a password is a common mistake (and SQLAlchemy then takes the rest for
# the host); and a libpq `password=` parameter, of the query or of a key=value string.
_USERINFO_PASSWORD = re.compile(r"^([\w+.-]+://[^:/@]*:)(.*)@", re.DOTALL)
_PARAMETER_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('[^']*'|[^&\s]*)", re.IGNORECASE)
HIDDEN = "***"


def safe_url(url: str) -> str:
    """`url` as a message may show it: any password replaced by ***, whether or not the
    URL can be parsed (a URL that cannot is the one most likely to be printed)."""
    url = _USERINFO_PASSWORD.sub(lambda m: f"{m[1]}{HIDDEN}@" if m[2] else m[0], url, count=1)
    return _PARAMETER_PASSWORD.sub(lambda m: f"{m[1]}{HIDDEN}" if m[2] else m[0], url)


def hide_secrets(text: str, url: str) -> str:
    """`text` (a driver's or a parser's message about `url`) with the URL's passwords, as
    written and as decoded, replaced by ***: such a message may quote a part of the URL."""
    found = _USERINFO_PASSWORD.match(url)
    written = ([found[2]] if found else []) + [
        m[2].strip("'") for m in _PARAMETER_PASSWORD.finditer(url)
    ]
    secrets = {secret for each in written for secret in (each, unquote(each)) if secret}
    for secret in sorted(secrets, key=len, reverse=True):  # a longer one may hold another
        text = text.replace(secret, HIDDEN)
    return text


def failure_line(url: str, exc: BaseException) -> str:
    """`database URL: the driver's own words`, no password shown in either (the driver may
    quote a part of the URL). `exc` is SQLAlchemy's, holding the driver's as `orig`, or
    the driver's own."""
    return f"database {safe_url(url)}: {hide_secrets(_first_line(exc), url)}"


def _first_line(exc: BaseException) -> str:
    """The driver's own words ("database "x" does not exist"), without SQLAlchemy's links."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: The statement reading the revision rows alembic keeps (one per head it was left at).
REVISION_ROWS = f"SELECT version_num FROM {VERSION_TABLE}"


def revision_of(rows: Iterable[str]) -> str | None:
    """The revision a database is at, from its `REVISION_ROWS` (None: never migrated)."""
    return ",".join(sorted(rows)) or None


def head_revision() -> str:
    """The newest migration: the revision of `migrations/versions` that no other one
    follows, read from the files' `revision` and `down_revision` lines (the same answer as
    alembic's `ScriptDirectory.get_current_head`; tests/test_migrations.py checks it)."""
    revisions, followed = known_migrations()
    heads = sorted(revisions - followed)
    if len(heads) != 1:
        raise DatabaseError(f"the migrations in {MIGRATIONS} have {len(heads)} heads: {heads}")
    return heads[0]


def known_migrations() -> tuple[set[str], set[str]]:
    """The revisions of `migrations/versions`, and those that another one follows."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            (revisions if name == "revision" else followed).add(value)
    return revisions, followed


def refuse_newer(current: str | None) -> None:
    """A revision this code does not know was written by a newer dvcwatch (this one was
    rolled back, or an older copy runs beside a newer one): upgrading the database cannot
    help, upgrading dvcwatch does. A failure (exit 1), not bad input: nothing the person
    typed is wrong, the installed code and the database disagree."""
    unknown = sorted(set((current or "").split(",")) - known_migrations()[0] - {""})
    if unknown:
        raise DatabaseError(
            f"the database was written by a newer dvcwatch (revision {','.join(unknown)} "
            f"unknown to this one): upgrade dvcwatch"
        )
