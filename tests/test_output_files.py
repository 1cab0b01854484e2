"""The files `dvcwatch scores --out` writes (the officials' workbook, the CSV for Excel),
opened as Excel would open them: an imported name is text, never a formula, and a link
planted beside or at the output never redirects the write. A notice `dvcwatch notice
--out` names is in that folder, even when an earlier run wrote it elsewhere."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.cli import main
from tests.conftest import SCHEMES
from tests.notices.test_produce import seed_004_table
from tests.sources.hostile import table, write_csv
from tests.test_files import full_disk

FORMULA = "=cmd|' /C calc'!A0"
HOSTILE_NAMES = {
    "H21.227": FORMULA,
    "H21.228": "@SUM(1+1)*cmd|' /C calc'!A0",
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`--db` and `--config` of a SQLite database holding a 766 table whose unit names
    are spreadsheet formulas (they import: a name is free text)."""
    folder = tmp_path_factory.mktemp("formulas")
    config = folder / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")
    options = ["--db", f"sqlite:///{folder / 'x.db'}", "--config", str(config)]
    assert main([*options, "db", "upgrade"]) == 0
    rows = [{**row, "unit_name": HOSTILE_NAMES[row["unit_code"]]} for row in table()]
    source = folder / "bang.csv"
    write_csv(rows)(source)
    assert main([*options, "import", str(source)]) == 0
    return options


def scores_to(imported: list[str], path: Path, fmt: str) -> int:
    return main([*imported, "scores", "--period", "2024-09", "--format", fmt, "--out", str(path)])


def test_a_name_that_looks_like_a_formula_is_text_in_the_workbook(
    imported: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "ketqua.xlsx"
    assert scores_to(imported, path, "xlsx") == 0
    names = []
    for sheet in load_workbook(path):
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if cell.value in HOSTILE_NAMES.values():
                    assert cell.data_type == "s"
                    names.append(cell.value)
    assert set(names) == set(HOSTILE_NAMES.values())
    numbers = [cell.value for sheet in load_workbook(path) for row in sheet for cell in row]
    assert 86.97 in numbers  # the totals stay numbers


def test_a_text_cell_that_excel_would_run_is_neutralised_in_the_csv_file(
    imported: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "ketqua.csv"
    assert scores_to(imported, path, "csv") == 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["unit_name"] for row in rows} == {f"'{name}" for name in HOSTILE_NAMES.values()}
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert row["total"] == "86.97"  # numbers stay numbers, unquoted


def test_the_csv_on_standard_output_stays_raw_for_programs(
    imported: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*imported, "scores", "--period", "2024-09", "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert {row["unit_name"] for row in rows} == set(HOSTILE_NAMES.values())


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_link_planted_at_the_temporary_name_is_not_followed(
    imported: list[str], tmp_path: Path, fmt: str
) -> None:
    folder = tmp_path / "S"
    folder.mkdir()
    path = folder / f"ketqua.{fmt}"
    victim = planted(folder / f".ketqua.{fmt}.partial", tmp_path)  # the old fixed name
    assert_written_past_the_link(imported, path, fmt, victim)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_link_planted_at_the_output_is_replaced_not_followed(
    imported: list[str], tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"ketqua.{fmt}"
    victim = planted(path, tmp_path)
    assert_written_past_the_link(imported, path, fmt, victim)
    assert sorted(os.listdir(tmp_path)) == [path.name, "victim.txt"]  # no temporary left


def planted(link: Path, folder: Path) -> Path:
    """A file of `folder` that `link` points at, which the writer must not touch."""
    victim = folder / "victim.txt"
    victim.write_text("do not touch", encoding="utf-8")
    link.symlink_to(victim)
    return victim


def assert_written_past_the_link(imported: list[str], path: Path, fmt: str, victim: Path) -> None:
    assert scores_to(imported, path, fmt) == 0
    assert victim.read_text(encoding="utf-8") == "do not touch"
    assert path.is_file() and not path.is_symlink()
    assert_holds_the_scores(path, fmt)


def assert_holds_the_scores(path: Path, fmt: str) -> None:
    if fmt == "xlsx":
        values = [cell.value for sheet in load_workbook(path) for row in sheet for cell in row]
        assert "H21.227" in values and "H21.228" in values
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            codes = {row["unit_code"] for row in csv.DictReader(handle)}
        assert codes == {"H21.227", "H21.228"}


@pytest.fixture
def noticed(tmp_path: Path) -> list[str]:
    """`--db` and `--config` of a SQLite database holding seed 004's Bình Thành."""
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")
    options = ["--db", f"sqlite:///{tmp_path / 'x.db'}", "--config", str(config)]
    assert main([*options, "db", "upgrade"]) == 0
    assert main([*options, "import", str(seed_004_table(tmp_path / "t.csv"))]) == 0
    return options


def notice_into(options: list[str], out: Path) -> int:
    notice = ["notice", "--unit", "BINHTHANH", "--period", "2024-09", "--to", "docx,html"]
    return main([*options, *notice, "--out", str(out)])


def files_under(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_notice_written_into_another_folder_is_put_into_the_one_asked_for(
    noticed: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The archived notice (not a new version) is copied into `--out`, and each line printed
    names the copy there; a copy already there is kept, an official's edit of it too."""
    first, second = tmp_path / "A", tmp_path / "B"
    assert notice_into(noticed, first) == 0
    written = files_under(first)
    capsys.readouterr()
    assert notice_into(noticed, second) == 0
    lines = capsys.readouterr().out.splitlines()
    assert files_under(second) == written and files_under(first) == written
    assert {line.split(" (")[0] for line in lines} == {str(second / p) for p in written}
    assert all("already written, copied from " in line for line in lines), lines

    assert notice_into(noticed, second) == 0  # already there: nothing to copy
    lines = capsys.readouterr().out.splitlines()
    assert {line.split(" (")[0] for line in lines} == {str(second / p) for p in written}
    assert not any("copied" in line for line in lines)
    edited = next(second / p for p in written if p.suffix == ".html")
    edited.write_text("sửa tay", encoding="utf-8")
    assert notice_into(noticed, second) == 1
    assert "differs from the notice archived as" in capsys.readouterr().err
    assert edited.read_text(encoding="utf-8") == "sửa tay"


def test_a_link_planted_where_an_archived_notice_is_copied_is_replaced_not_followed(
    noticed: list[str], tmp_path: Path
) -> None:
    first, second = tmp_path / "A", tmp_path / "B"
    assert notice_into(noticed, first) == 0
    written = files_under(first)
    docx = next(p for p in written if p.suffix == ".docx")
    (second / docx.parent).mkdir(parents=True)
    victim = planted(second / docx, tmp_path)
    assert notice_into(noticed, second) == 0
    assert victim.read_text(encoding="utf-8") == "do not touch"
    assert not (second / docx).is_symlink() and files_under(second) == written


def test_a_name_that_says_another_format_is_refused(
    imported: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt, name, fixed in (("xlsx", "s.csv", "s.xlsx"), ("csv", "s.xlsx", "s.csv")):
        capsys.readouterr()
        assert scores_to(imported, tmp_path / name, fmt) != 0
        assert capsys.readouterr().err == (
            f"dvcwatch: {tmp_path / name}: not a .{fmt} name: name it {fixed}\n"
        )
        assert os.listdir(tmp_path) == []


def test_a_mistyped_folder_is_named_and_no_folder_is_created(
    imported: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert scores_to(imported, tmp_path / "nhap" / "sai" / "s.xlsx", "xlsx") != 0
    assert capsys.readouterr().err == (
        f"dvcwatch: {tmp_path / 'nhap'}: no such folder (only the file's own folder is created)\n"
    )
    assert os.listdir(tmp_path) == []
    assert scores_to(imported, tmp_path / "moi" / "s.xlsx", "xlsx") == 0  # one level is made
    assert_holds_the_scores(tmp_path / "moi" / "s.xlsx", "xlsx")


def test_a_misnamed_or_mistyped_out_is_bad_usage(imported: list[str], tmp_path: Path) -> None:
    assert scores_to(imported, tmp_path / "s.csv", "xlsx") == 2
    assert scores_to(imported, tmp_path / "nhap" / "sai" / "s.xlsx", "xlsx") == 2


def test_a_file_in_place_of_a_folder_is_said_to_be_a_file(
    imported: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cfg.toml"
    config.write_text("[scoring]\n", encoding="utf-8")
    capsys.readouterr()
    assert scores_to(imported, config / "x.xlsx", "xlsx") == 2
    assert capsys.readouterr().err == f"dvcwatch: {config}: is a file, not a folder\n"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_full_disk_names_the_file_it_could_not_write(
    imported: list[str],
    tmp_path: Path,
    fmt: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / f"ketqua.{fmt}"
    capsys.readouterr()
    full_disk(monkeypatch)
    assert scores_to(imported, path, fmt) == 1
    assert capsys.readouterr().err == f"dvcwatch: {path}: No space left on device\n"
    assert os.listdir(tmp_path) == []
