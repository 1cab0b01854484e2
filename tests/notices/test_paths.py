"""A notice is written inside its output folder whatever the codes say, with the umask's mode."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from service.models import Unit
from service.notices.paths import safe_part
from tests.notices.test_produce import DATA, seed_004_table

HOSTILE_UNIT = "a/../../../../x/congvan"
HOSTILE_PARENT = "../../../../y/baocao"


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def new_files(root: Path, before: set[Path], app) -> set[Path]:
    """Files under `root` that are not in `before`, but for the SQLite database's own
    (its "-wal", "-shm" and the notice writers' "-notices.lock" beside it)."""
    database = str(app.engine.url.database or "") if app.engine.dialect.name == "sqlite" else ""
    return {p for p in files_under(root) - before if not (database and str(p).startswith(database))}


def recode(app, old: str, new: str) -> None:
    """Give a stored unit a hostile code, as a careless import or portal could have."""
    with app.sessions().begin() as session:
        session.execute(update(Unit).where(Unit.code == old).values(code=new))


@pytest.fixture
def jail(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """An output folder nested deep enough that "../../../.." stays in tmp_path."""
    out = tmp_path / "a" / "b" / "c" / "d" / "out"
    out.mkdir(parents=True)
    yield tmp_path, out


def test_a_hostile_unit_code_writes_its_cong_van_inside_the_output_folder(cli, app, jail, capsys):
    root, out = jail
    cli("import", str(seed_004_table(root / "t.csv")))
    recode(app, "BINHTHANH", HOSTILE_UNIT)
    before = files_under(root)
    assert cli("notice", "--unit", HOSTILE_UNIT, "--period", "2024-09", "--out", str(out)) == 0
    new = new_files(root, before, app)
    assert new and all(path.resolve().is_relative_to(out.resolve()) for path in new)
    assert {path.parent.parent for path in new} == {out}
    assert not (root / "a" / "x").exists() and not (root / "x").exists()


def test_a_hostile_parent_code_writes_its_bao_cao_inside_the_output_folder(cli, app, jail):
    root, out = jail
    cli("import", str(DATA / "dienbien-459-2024-03.csv"))
    recode(app, "TUACHUA", HOSTILE_PARENT)
    before = files_under(root)
    code = cli(
        "notice", "--unit", HOSTILE_PARENT, "--kind", "baocao",
        "--scheme", "provincial:dienbien-459", "--period", "2024-03", "--out", str(out),
    )  # fmt: skip
    assert code == 0
    new = new_files(root, before, app)
    assert new and {path.parent.parent for path in new} == {out}
    assert not (root / "y").exists()


def test_a_notice_folder_that_is_a_symlink_out_of_the_folder_is_refused(cli, app, tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "congvan-BINHTHANH-2024-09").symlink_to(elsewhere, target_is_directory=True)
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    capsys.readouterr()
    assert cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", str(out)) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "outside the output folder" in error
    assert list(elsewhere.iterdir()) == []


def test_notices_are_created_with_the_process_umask(cli, app, tmp_path, capsys):
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    previous = os.umask(0o027)
    try:
        assert cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", str(out)) == 0
    finally:
        os.umask(previous)
    written = files_under(out)
    assert written and {path.stat().st_mode & 0o777 for path in written} == {0o640}
    assert {path.parent.stat().st_mode & 0o777 for path in written} == {0o750}


@pytest.mark.parametrize(
    "code",
    [HOSTILE_UNIT, "..", ".", "", "/etc/passwd", "a\\..\\b", "xã Bình", "a\x00b", "-" * 300],
)
def test_a_safe_part_is_one_plain_folder_name(code: str):
    part = safe_part(code)
    assert part and "/" not in part and "\\" not in part and not part.startswith(".")
    assert ".." not in part and len(part) <= 64 and part.isascii() and part.isprintable()


def test_plain_codes_keep_their_name_and_different_codes_never_share_one():
    assert safe_part("000.00.08.H44") == "000.00.08.H44"
    assert safe_part("a/b") != safe_part("a_b") and safe_part("a/b") != safe_part("a:b")
