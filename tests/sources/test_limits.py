"""Size limits of interchange files, as the operator reads them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from service.sources.interchange import InterchangeError, read_interchange
from tests.sources.hostile import MiB, sparse, table, write_xlsx


def refusal(path: Path) -> str:
    with pytest.raises(InterchangeError) as raised:
        read_interchange(path)
    return str(raised.value)


def test_a_file_too_large_is_measured_in_english_digits(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    sparse(1500 * MiB)(path)
    assert refusal(path) == (f"{path}: is 1,500.0 MB, more than the 512.0 MB a CSV table may have")


def test_a_part_that_expands_too_far_is_measured_in_english_digits(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    write_xlsx(table())(path)
    declare_size(path, "xl/worksheets/sheet1.xml", 1500 * MiB)
    assert refusal(path) == (
        f"{path}: part xl/worksheets/sheet1.xml expands to 1,500.0 MB, "
        "more than the 256.0 MB allowed"
    )


def declare_size(path: Path, member: str, size: int) -> None:
    """Make the zip's directory declare `size` uncompressed bytes for `member`."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    at = raw.find(b"PK\x01\x02")
    while raw[at + 46 : at + 46 + len(name)] != name:
        at = raw.find(b"PK\x01\x02", at + 1)
    raw[at + 24 : at + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(member).file_size == size
