"""`write_atomic`: a file written whole or not at all, never through a planted link."""

from __future__ import annotations

import os
from pathlib import Path

from service.files import write_atomic


def test_the_file_is_written_whole_and_no_temporary_is_left(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "in" / "ketqua.xlsx", b"workbook")
    assert path.read_bytes() == b"workbook"
    assert os.listdir(tmp_path / "in") == ["ketqua.xlsx"]


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"do not touch")
    path = tmp_path / "ketqua.csv"
    path.symlink_to(victim)
    write_atomic(path, b"scores")
    assert victim.read_bytes() == b"do not touch"
    assert not path.is_symlink() and path.read_bytes() == b"scores"


def test_the_file_takes_the_umask_not_a_fixed_mode(tmp_path: Path) -> None:
    before = os.umask(0o027)
    try:
        path = write_atomic(tmp_path / "ketqua.csv", b"scores")
    finally:
        os.umask(before)
    assert path.stat().st_mode & 0o777 == 0o640
