"""How big an interchange file, its rows and its cells may be, checked before
and while a file is read, so that a hostile file is refused cheaply.

An XLSX file is a zip of XML: its members' uncompressed sizes are declared
in the zip's directory, and Python's zipfile never reads past a declared
size (a member that expands further fails its CRC check), so the declared
sizes are checked before openpyxl opens anything. A member that expands
more than MAX_XLSX_RATIO times, shared strings larger than
MAX_XLSX_SHARED_STRINGS (openpyxl loads them whole) and XML with a DOCTYPE
(the way to entity expansion; spreadsheets never need one) are refused, and so
are parts zipfile cannot read (encrypted, an unknown compression, damaged data):
each is named, never left to surface from inside openpyxl as a traceback.

The path itself must be a regular file (a link to one is followed): a device or a
named pipe reports a size of 0 and is never read.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
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
_WORKBOOK_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ZIP_ENCRYPTED = 0x1 | 0x40  # the general-purpose flags "encrypted", "strong encryption"
_ZIP_PATCH_DATA = 0x20


def check_file(path: Path) -> None:
    """InterchangeError if `path` (its links followed) is not a regular file, or is
    larger than its type may be. Checked before the file is opened: a device or a
    named pipe has no size (stat says 0), and reading one never ends, or never begins."""
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        reason = f"is not a regular file but {_file_type(status.st_mode)}: give the table's file"
        raise file_problem(path, reason)
    limit = MAX_FILE_BYTES[path.suffix.lower()]
    size = status.st_size
    if size > limit:
        raise file_problem(
            path, f"is {_mib(size)}, more than the {_mib(limit)} a {_kind(path)} may have"
        )


def check_workbook(path: Path) -> None:
    """InterchangeError if the workbook's members are too many, too large,
    expand suspiciously, are stored in a way Excel never uses (encrypted, an unknown
    compression), cannot be decompressed or carry a DOCTYPE (see the module docstring)."""
    try:
        archive = zipfile.ZipFile(path)
    except NotImplementedError as error:  # a zip feature no workbook has, in zipfile's words
        raise file_problem(path, f"not a readable Excel workbook: {error}") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            raise file_problem(path, f"has {len(members)} parts, more than a workbook needs")
        for member in members:
            _check_member(path, member)
        for member in members:
            xml = member.filename.endswith((".xml", ".rels"))
            if xml and _DOCTYPE.search(_head(path, archive, member)):
                reason = "declares a DOCTYPE or entities, which a workbook never needs"
                raise file_problem(path, f"part {member.filename} {reason}")


def _head(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """The first _XML_HEAD bytes of a part; damaged compressed data is refused here, naming
    the part, rather than as whatever zlib or zipfile raise from deep inside openpyxl."""
    try:
        with archive.open(member) as stream:
            return stream.read(_XML_HEAD)
    except (zlib.error, zipfile.BadZipFile, EOFError) as error:
        reason = f"part {member.filename} cannot be decompressed (the workbook is damaged)"
        raise file_problem(path, f"{reason}: {error}") from None


def _check_member(path: Path, member: zipfile.ZipInfo) -> None:
    _check_storage(path, member)
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


def _check_storage(path: Path, member: zipfile.ZipInfo) -> None:
    """Refuse a part that Excel would never write and zipfile cannot read: encrypted (a
    password-protected workbook is not a zip at all), patch data, or compressed by a
    method other than stored or deflated."""
    name = member.filename
    if member.flag_bits & _ZIP_ENCRYPTED:
        raise file_problem(path, f"part {name} is encrypted, which a workbook never is")
    if member.flag_bits & _ZIP_PATCH_DATA:
        raise file_problem(path, f"part {name} holds zip patch data, which a workbook never does")
    if member.compress_type not in _WORKBOOK_COMPRESSION:
        reason = f"is compressed by method {member.compress_type}, which a workbook never uses"
        raise file_problem(path, f"part {name} {reason}")


def cell_too_long(text: str) -> str | None:
    """Why a cell's text is too long to be any cell of the table, or None."""
    if len(text) > MAX_CELL_CHARS:
        return f"has {len(text)} characters, more than the {MAX_CELL_CHARS} a cell may have"
    return None


def _mib(size: int) -> str:
    """A size for the operator's message, in English digits ("1,500.0 MB")."""
    return f"{size / MiB:,.1f} MB"


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "another kind of file"


def _kind(path: Path) -> str:
    return {".csv": "CSV table", ".json": "JSON table", ".xlsx": "workbook"}[path.suffix.lower()]
