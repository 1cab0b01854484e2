"""A notice's version placed in its folder but not yet committed to the archive.

`files.Together` puts a version's files in place all at once, but the archive's rows
commit after that, with the caller's transaction. A process killed in between left
files named as a version that the archive never knew: the next run took them for an
official's copy, kept them and wrote the next version beside them (an unsent v1 beside
the v2 that was sent).

So, before the files are placed, a hidden manifest in the folder names each with its
sha256 and the database whose archive it waits for (`announce`). The transaction's end
settles it: a commit removes the manifest; anything else (a rollback, a failed commit)
removes the files, then the manifest. A manifest that outlived its writer (SIGKILL) is
settled by the next writer of that notice, under the notice lock (`undo_left_behind`):
a file it names goes only if it is not archived and still holds the bytes placed (an
official who edited it keeps it, and the version after it is written). Whoever settles
a manifest first renames it (`_claim`: `.settling-<hex>.json`), so two never act on one;
one a settler was killed holding is settled again by the next writer.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.files import sha256_of, write_atomic
from service.notices.models import NoticeFile

log = logging.getLogger(__name__)

PREFIX, SUFFIX = ".placing-", ".json"
CLAIMED = ".settling-"  # the name of a manifest a settler took
#: `Session.info`'s key of the manifests its transaction has announced.
PLACING = "dvcwatch.notice_placing"
#: The names a manifest may give: a version's files, in the manifest's own folder.
_VERSION_FILE = re.compile(r"^v[0-9]+\.[a-z]+$")


def announce(session: Session, folder: Path, staged: Mapping[str, Path]) -> dict[str, str]:
    """Write the manifest of the files about to be placed in `folder` (`staged`: each
    name and where it is staged), settled when the session's transaction ends; the
    files' sha256 by name."""
    files = {name: sha256_of(path) for name, path in staged.items()}
    said = {"database": _database(session), "files": files}
    manifest = folder / f"{PREFIX}{secrets.token_hex(8)}{SUFFIX}"
    try:
        write_atomic(manifest, json.dumps(said, sort_keys=True).encode())
    except OSError as exc:  # said of the version's first file: the manifest is ours alone
        if exc.errno is None or not files:
            raise
        raise OSError(exc.errno, exc.strerror, str(folder / min(files))) from exc
    session.info.setdefault(PLACING, []).append(manifest)
    if not event.contains(session, "after_commit", _committed):
        event.listen(session, "after_commit", _committed)
    return files


def settle_uncommitted(session: Session) -> None:
    """At the end of a transaction that did not commit: its files go, then its
    manifests. Called at the transaction's end before the notice lock is released (the
    next writer may place the same bytes under the same names)."""
    for manifest in session.info.pop(PLACING, []):
        _undo(manifest, archived=set())


def undo_left_behind(session: Session, folder: Path) -> int:
    """Settle the manifests in `folder` that a killed writer of this database left, and
    those a settler was killed settling; returns how many files were taken away. Call it
    holding the notice's lock: a `.settling-` manifest is then a dead settler's (or one
    an unlocked writer is settling after its rollback: its files go either way)."""
    database, removed = _database(session), 0
    left = [*folder.glob(f"{PREFIX}*{SUFFIX}"), *folder.glob(f"{CLAIMED}*{SUFFIX}")]
    for manifest in sorted(left):
        said = _read(manifest)
        if said is None or said["database"] != database:
            continue  # another database's writer, perhaps alive: its own to settle
        paths = [str((folder / name).absolute()) for name in said["files"]]
        archived = set(session.scalars(select(NoticeFile.path).where(NoticeFile.path.in_(paths))))
        removed += _undo(manifest, archived)
    if removed:
        log.warning(
            "%s: took away %d file(s) a stopped writer placed and never archived", folder, removed
        )
    return removed


def _committed(session: Session) -> None:
    """The archive holds the files now: their manifests go (a savepoint's commit is not
    the transaction's)."""
    if session.in_nested_transaction():
        return
    for manifest in session.info.pop(PLACING, []):
        manifest.unlink(missing_ok=True)


def _undo(manifest: Path, archived: set[str]) -> int:
    """Take away the files `manifest` names that are not `archived` and hold the bytes
    placed, then the manifest; how many files went. Nothing when another took it first."""
    claimed = _claim(manifest)
    if claimed is None:
        return 0
    said = _read(claimed)
    removed = 0
    for name, digest in (said["files"] if said else {}).items():
        path = manifest.parent / name
        try:
            if str(path.absolute()) in archived or _sha256_or_none(path) != digest:
                continue
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as exc:  # the others still go; the transaction's end goes on
            log.warning("%s: not taken away (%s): remove it by hand", path, exc.strerror)
    with contextlib.suppress(OSError):
        claimed.unlink()
    return removed


def _claim(manifest: Path) -> Path | None:
    """`manifest` renamed to a name no other settler looks for; None if it is gone (or
    cannot be renamed: said, and left)."""
    claimed = manifest.with_name(f"{CLAIMED}{secrets.token_hex(8)}{SUFFIX}")
    try:
        os.rename(manifest, claimed)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("%s: cannot be settled (%s)", manifest, exc.strerror)
        return None
    return claimed


def _read(manifest: Path) -> dict[str, Any] | None:
    """A manifest's database and files, or None if it is not one this module wrote (a
    name outside the folder, or not a version's, is never acted on)."""
    try:
        said = json.loads(manifest.read_bytes())
        database, files = said["database"], said["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(database, str) or not isinstance(files, dict):
        return None
    if not all(isinstance(n, str) and _VERSION_FILE.match(n) for n in files):
        return None
    return {"database": database, "files": files}


def _database(session: Session) -> str:
    """The database whose archive a manifest waits for (a SQLite file by its real path;
    no password)."""
    url = session.connection().engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=os.path.realpath(url.database))
    return url.render_as_string(hide_password=True)


def _sha256_or_none(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except FileNotFoundError:
        return None
