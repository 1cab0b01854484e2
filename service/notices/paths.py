"""Where a notice's files go: a folder named from safe parts, checked to stay in its root.

A notice's folder is `<out_dir>/<kind>-<unit>-<period>`, and for a province's own index
`<out_dir>/<kind>-<index>-<unit>-<period>` (`baocao-dienbien-459-TUACHUA-2024-03`): its
Báo cáo and the national one of the same units and month are two documents in two
folders. (The nine-criteria scheme's periods, quarters and years, meet no other's.)
The unit part comes
from the database (a unit code, a set's parent code), which an import or the
portal filled. A code is used as it is when it is a plain identifier; anything
else (path separators, "..", spaces, letters outside ASCII) is replaced, and a
short hash of the original keeps two different codes from sharing a folder.
The folder is then resolved (symlinks followed) and must be a direct child of
the resolved root, else `UnsafeOutputPath`: nothing is written anywhere else.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from service.scoring.schemes import provincial_id

#: A code that may name a folder as it is: ASCII letters, digits, ".", "_", "-",
#: not starting with a dot and without "..".
_PLAIN = re.compile(r"(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_KEPT = 40  # characters of a replaced code kept for a person to recognise it


class UnsafeOutputPath(ValueError):
    """A notice's folder would lie outside the output folder; names both."""


def safe_part(text: str) -> str:
    """`text` when it is a plain identifier, else a readable, collision-free stand-in
    ("a/../x" → "a_x-<8 hex of its sha256>") with no separator, dot or space."""
    if _PLAIN.fullmatch(text):
        return text
    readable = _UNSAFE_RUN.sub("_", text).strip("_")[:_KEPT] or "unit"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{readable}-{digest}"


def notice_folder(out_dir: Path, kind: str, scheme: str, unit: str, period: str) -> Path:
    """The folder of one notice's versions, created (with the process's umask) and
    verified to be a direct child of `out_dir` once symlinks are resolved.

    Raises `UnsafeOutputPath` when it is not (e.g. the folder is a symlink
    pointing elsewhere), before anything is created through it.
    """
    root = out_dir.resolve()
    index = provincial_id(scheme)
    parts = [kind, unit, period] if index is None else [kind, index, unit, period]
    folder = out_dir / "-".join(safe_part(part) for part in parts)
    _check_inside(folder, root)
    folder.mkdir(parents=True, exist_ok=True)
    _check_inside(folder, root)  # a symlink planted between the check and mkdir
    return folder


def _check_inside(folder: Path, root: Path) -> None:
    resolved = folder.resolve()
    if resolved.parent != root:
        raise UnsafeOutputPath(
            f"notice folder {folder} resolves to {resolved}, outside the output folder "
            f"{root}: nothing written"
        )
