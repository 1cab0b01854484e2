"""Files written whole or not at all, and never through a planted link.

Every file dvcwatch hands to a person (a notice, the scores' workbook or CSV) is written
to a new temporary file beside it, created exclusively and without following a link
(`O_EXCL | O_NOFOLLOW`), then renamed over the target: a crash leaves the old file or
the new one, never half of one, and a symlink planted at a temporary name (or at the
target itself) never redirects the write to another file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all (temporary file, then rename).

    The file is created with mode 0666 less the process's umask (0640 under
    systemd's `UMask=0027`), never a fixed mode. A symlink at `path` is replaced
    by the file, not followed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = _create_partial(path)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # the bytes reach the disk before the name does
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return path


def _create_partial(path: Path) -> tuple[int, Path]:
    """A new, exclusive temporary file next to `path`; unlike mkstemp (always 0600)
    it lets the umask decide who may read the finished file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    for _ in range(16):
        partial = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(partial, flags, 0o666), partial
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")
