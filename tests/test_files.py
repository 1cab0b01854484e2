"""`write_atomic`: a file written whole or not at all, never through a planted link."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from service import files
from service.files import MissingFolder, Together, write_atomic


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


def full_disk(monkeypatch: pytest.MonkeyPatch, written: str = "") -> None:
    """Every file whose temporary name holds `written` meets a full disk when it is
    flushed (as a 120 kB tmpfs does): `os.fsync` raises ENOSPC for it."""
    real = os.fsync

    def fsync(handle: int) -> None:
        name = os.readlink(f"/proc/self/fd/{handle}")
        if name.endswith(".part") and written in name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(handle)

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_full_disk_names_the_file_asked_for_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_disk(monkeypatch)
    with pytest.raises(OSError, match="No space left on device") as raised:
        write_atomic(tmp_path / "ketqua.xlsx", b"workbook")
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == str(tmp_path / "ketqua.xlsx")  # not its temporary
    assert os.listdir(tmp_path) == []


def test_only_the_files_own_folder_is_created_never_a_tree(tmp_path: Path) -> None:
    with pytest.raises(MissingFolder, match="no such folder") as raised:
        write_atomic(tmp_path / "nhap" / "sai" / "ketqua.xlsx", b"workbook")
    assert raised.value.filename == str(tmp_path / "nhap")
    assert os.listdir(tmp_path) == []


def test_a_file_where_a_folder_should_be_is_said_so(tmp_path: Path) -> None:
    config = tmp_path / "cfg.toml"
    config.write_text("[scoring]\n", encoding="utf-8")
    for target in (config / "x.xlsx", config / "sub" / "x.xlsx"):
        with pytest.raises(NotADirectoryError, match="is a file, not a folder") as raised:
            write_atomic(target, b"workbook")
        assert raised.value.filename == str(config)


def test_files_together_are_placed_only_once_all_are_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Together(tmp_path) as together:
        together.write("v1.docx", b"docx")
        together.write("v1.html", b"html")
        assert sorted(tmp_path.glob("v1.*")) == []
        assert together.place() == [tmp_path / "v1.docx", tmp_path / "v1.html"]
    assert sorted(os.listdir(tmp_path)) == ["v1.docx", "v1.html"]

    full_disk(monkeypatch, ".html")
    with pytest.raises(OSError) as raised, Together(tmp_path) as together:
        together.write("v2.docx", b"docx")
        together.write("v2.html", b"html")
    assert raised.value.filename == str(tmp_path / "v2.html")
    assert sorted(os.listdir(tmp_path)) == ["v1.docx", "v1.html"]  # no v2, no hidden folder


def test_files_placed_are_taken_away_when_what_follows_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), Together(tmp_path) as together:
        together.write("v1.docx", b"docx")
        together.place()
        raise RuntimeError("the archive's transaction failed")
    assert os.listdir(tmp_path) == []


def test_what_killed_writers_left_is_swept_and_nothing_else(tmp_path: Path) -> None:
    """Hidden `.part` folders and files older than an hour go; a live writer's (younger),
    a version's files and whatever a planted link points to stay."""
    folder = tmp_path / "congvan-H44.116-2026-08"
    folder.mkdir()
    old = time.time() - files.STALE.total_seconds() - 60
    staged = folder / ".0123456789ab.part"
    staged.mkdir()
    (staged / "v1.docx").write_bytes(b"half")
    partial = folder / ".v1.html.ba9876543210.part"
    partial.write_bytes(b"half")
    live = folder / ".abcdefabcdef.part"
    live.mkdir()
    signed = folder / "v1.docx"
    signed.write_bytes(b"signed")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_bytes(b"keep")
    planted = folder / ".fedcbafedcba.part"
    planted.symlink_to(elsewhere, target_is_directory=True)
    killed = Together(folder).staging  # named as a real staging folder is
    killed.mkdir()
    for path in (staged, partial, signed, planted, killed):
        os.utime(path, (old, old), follow_symlinks=False)
    assert files.sweep_stale(folder) == 4
    assert sorted(p.name for p in folder.iterdir()) == [".abcdefabcdef.part", "v1.docx"]
    assert (elsewhere / "keep").read_bytes() == b"keep"
    with files.Together(folder) as together:  # a notice written there sweeps it too
        assert together.staging.exists()
