"""Files written whole or not at all, and never through a planted link.

Every file dvcwatch hands to a person (a notice, the scores' workbook or CSV) is written
to a new temporary file beside it, created exclusively and without following a link
(`O_EXCL | O_NOFOLLOW`), then renamed over the target: a crash leaves the old file or
the new one, never half of one, and a symlink planted at a temporary name (or at the
target itself) never redirects the write to another file. Files that belong together
(a notice's .docx and .html) are written whole into a hidden folder first and moved
into place together (`Together`). A failure names the file asked for, never a
temporary name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType


class UnfitPath(OSError):
    """A path given for a file that cannot be used as it is given: bad usage (a typo, a
    name of another format), not a failure of the disk; names the path."""


class MissingFolder(UnfitPath, FileNotFoundError):
    """The folder a file was asked into lies in a folder that does not exist: names the
    missing folder."""


def check_suffix(path: Path, suffix: str) -> None:
    """`UnfitPath` unless `path` ends in `suffix` (".xlsx", ".csv"; any case): Excel and
    a file manager choose how to open a file by its suffix, so a workbook named s.csv
    would open as text, or not at all."""
    if path.suffix.lower() != suffix:
        raise UnfitPath(
            errno.EINVAL, f"not a {suffix} name: name it {path.stem}{suffix}", str(path)
        )


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all (temporary file, then rename).

    The file's own folder is created when missing, but not the folders above it: a
    mistyped path is `MissingFolder`, and a file where a folder should be is
    `NotADirectoryError` ("is a file, not a folder"), each naming that path. Any other
    failure (a full disk, a read-only folder) is an `OSError` naming `path`.

    The file is created with mode 0666 less the process's umask (0640 under
    systemd's `UMask=0027`), never a fixed mode. A symlink at `path` is replaced
    by the file, not followed.
    """
    _make_folder(path.parent)
    try:
        handle, partial = _create_partial(path)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # the bytes reach the disk before the name does
        os.replace(partial, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from exc
        raise
    return path


def _make_folder(folder: Path) -> None:
    """`folder`, created when missing when the folder holding it exists."""
    for level in (folder, *folder.parents):
        if level.is_dir():
            break
        if level.exists():
            raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder", str(level))
    if not folder.parent.is_dir():
        raise MissingFolder(
            errno.ENOENT,
            "no such folder (only the file's own folder is created)",
            str(folder.parent),
        )
    folder.mkdir(exist_ok=True)


def sha256_of(path: Path) -> str:
    """The hex sha256 of the file at `path` (a notice's archive and manifest name files by it)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _naming(exc: OSError, path: Path) -> OSError:
    """`exc` said of `path`, the file asked for, not of the temporary beside it."""
    if exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror, str(path))


def _create_partial(path: Path) -> tuple[int, Path]:
    """A new, exclusive temporary file next to `path`; unlike mkstemp (always 0600)
    it lets the umask decide who may read the finished file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    for _ in range(16):
        partial = path.parent / _hidden(f"{path.name}.")
        try:
            return os.open(partial, flags, 0o666), partial
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


#: What a killed writer leaves: `write_atomic`'s `.<name>.<token>.part` files and
#: `Together`'s `.<token>.part` folders, both named by `_hidden`.
_TOKEN_BYTES = 6
_LEFT_BY_A_KILL = re.compile(rf"^\.(?:.*\.)?[0-9a-f]{{{2 * _TOKEN_BYTES}}}\.part$")


def _hidden(prefix: str = "") -> str:
    """A new hidden temporary name, ".<prefix><token>.part", that `sweep_stale` knows."""
    return f".{prefix}{secrets.token_hex(_TOKEN_BYTES)}.part"


#: Older than this, such a leftover is no live writer's (a notice takes minutes at most).
STALE = dt.timedelta(hours=1)


def sweep_stale(folder: Path, now: dt.datetime | None = None) -> int:
    """Remove what killed writers left in `folder` (hidden temporaries older than `STALE`,
    never following a link); returns how many. A live writer's are younger: left alone."""
    limit = (now or dt.datetime.now(dt.UTC)).timestamp() - STALE.total_seconds()
    removed = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not _LEFT_BY_A_KILL.match(entry.name):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime >= limit:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
    return removed


class Together:
    """Files that are all in `folder` or none is: each is written whole into a hidden
    folder inside it (`.<token>.part`, which a name such as `v2.*` never matches), and
    `place` moves them into `folder` only once every one is complete.

    A failure before `place` (a full disk, a kill) leaves none of them under its name;
    if one cannot be moved, those moved are removed again, and `remove` takes them away
    when what follows fails (e.g. the archive's transaction). The hidden folder goes
    when the block ends; entering the block sweeps what killed writers left in `folder`
    (`sweep_stale`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.staging = folder / _hidden()
        self.placed: list[Path] = []

    def __enter__(self) -> Together:
        _make_folder(self.folder)
        sweep_stale(self.folder)
        try:
            self.staging.mkdir()
        except OSError as exc:
            raise _naming(exc, self.folder) from exc
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if error is not None:
            self.remove()

    def staged(self, name: str) -> Path:
        """Where the file to be `folder / name` is written first."""
        return self.staging / name

    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[Path]:
        """The staged path of `name`, to be written there; an `OSError` raised meanwhile
        names `folder / name`, the file asked for."""
        try:
            yield self.staged(name)
        except OSError as exc:
            raise _naming(exc, self.folder / name) from exc

    def write(self, name: str, data: bytes) -> Path:
        """Write `data` whole as the staged `name` (see `writing`)."""
        with self.writing(name) as staged:
            return write_atomic(staged, data)

    def staged_files(self) -> dict[str, Path]:
        """Each complete staged file by the name it is to have (a temporary of
        write_atomic's, never complete, is left out)."""
        return {p.name: p for p in sorted(self.staging.iterdir()) if not p.name.startswith(".")}

    def place(self) -> list[Path]:
        """Every staged file moved into `folder` under its name (none, on an error)."""
        for name, staged in self.staged_files().items():
            target = self.folder / name
            try:
                os.replace(staged, target)
            except OSError as exc:
                self.remove()
                raise _naming(exc, target) from exc
            self.placed.append(target)
        return list(self.placed)

    def remove(self) -> None:
        """Take away every file `place` moved into `folder`."""
        for path in self.placed:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.placed.clear()
