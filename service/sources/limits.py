"""How big an interchange file, its rows and its cells may be, checked before
and while a file is read, so that a hostile file is refused cheaply.

An XLSX file is a zip of XML: its members' uncompressed sizes are declared
in the zip's directory, and Python's zipfile never reads past a declared
size (a member that expands further fails its CRC check), so the declared
sizes are checked before openpyxl opens anything. A member that expands
more than MAX_XLSX_RATIO times, shared strings larger than
MAX_XLSX_SHARED_STRINGS (openpyxl loads them whole) and XML with a DOCTYPE
(the way to entity expansion; spreadsheets never need one) are refused.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from service.sources.problems import file_problem

MiB = 1024 * 1024
MAX_FILE_BYTES = {".csv": 512 * MiB, ".json": 64 * MiB, ".xlsx": 64 * MiB}
MAX_ROWS = 2_000_000
MAX_COLUMNS = 64
MAX_LINE_CHARS = 65_536
MAX_CELL_CHARS = 1_000
MAX_XLSX_MEMBERS = 1_000
MAX_XLSX_MEMBER_BYTES = 256 * MiB
MAX_XLSX_SHARED_STRINGS = 32 * MiB
MAX_XLSX_RATIO = 200
_XML_HEAD = 64 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def check_file_size(path: Path) -> None:
    """InterchangeError if the file is larger than its type may be."""
    limit = MAX_FILE_BYTES[path.suffix.lower()]
    size = path.stat().st_size
    if size > limit:
        raise file_problem(
            path, f"is {_mib(size)}, more than the {_mib(limit)} a {_kind(path)} may have"
        )


def check_workbook(path: Path) -> None:
    """InterchangeError if the workbook's members are too many, too large,
    expand suspiciously or carry a DOCTYPE (see the module docstring)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            raise file_problem(path, f"has {len(members)} parts, more than a workbook needs")
        for member in members:
            _check_member(path, member)
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as stream:
                    head = stream.read(_XML_HEAD)
                if _DOCTYPE.search(head):
                    reason = "declares a DOCTYPE or entities, which a workbook never needs"
                    raise file_problem(path, f"part {member.filename} {reason}")


def _check_member(path: Path, member: zipfile.ZipInfo) -> None:
    name, size = member.filename, member.file_size
    limit = MAX_XLSX_MEMBER_BYTES
    if name.lower().endswith("sharedstrings.xml"):
        limit = MAX_XLSX_SHARED_STRINGS
    if size > limit:
        reason = f"part {name} expands to {_mib(size)}, more than the {_mib(limit)} allowed"
        raise file_problem(path, reason)
    if size > MiB and size > MAX_XLSX_RATIO * max(member.compress_size, 1):
        reason = (
            f"part {name} expands {size // max(member.compress_size, 1)} times "
            f"(more than {MAX_XLSX_RATIO}): refused as a zip bomb"
        )
        raise file_problem(path, reason)


def cell_too_long(text: str) -> str | None:
    """Why a cell's text is too long to be any cell of the table, or None."""
    if len(text) > MAX_CELL_CHARS:
        return f"has {len(text)} characters, more than the {MAX_CELL_CHARS} a cell may have"
    return None


def _mib(size: int) -> str:
    return f"{size / MiB:.1f} MB".replace(".", ",")


def _kind(path: Path) -> str:
    return {".csv": "CSV table", ".json": "JSON table", ".xlsx": "workbook"}[path.suffix.lower()]
