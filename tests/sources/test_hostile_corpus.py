"""The hostile corpus (`hostile.py`) through `dvcwatch import`: every file refused with exit 2,
its place named on one line, no traceback, and the database exactly as it was.

Every file runs through the CLI's `main()` on a database that already holds a
valid import; a sample of one file per family also runs as the real command in a
subprocess (a subprocess per file would take minutes on a busy two-core machine).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from service.app import App
from service.cli import main
from service.config import Settings
from tests.conftest import PROJECT, SCHEMES, postgresql_schema
from tests.sources.hostile import Case, cases, dump, table, valid_cases, write_csv

SUBPROCESS_SAMPLE = {
    "csv-count-400-digits", "json-token-nan", "json-nested-100000", "json-repeated-key",
    "xlsx-shared-strings-400-mb", "xlsx-billion-laughs", "csv-latin-1", "xlsx-cell-1e400",
    "csv-code-path-traversal", "json-65-mb", "csv-numerator-above-denominator",
    "csv-named-pipe", "json-link-to-dev-zero", "xlsx-zip-method-99",
}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def corpus_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """(database URL, config file): a migrated database holding one valid import."""
    folder = tmp_path_factory.mktemp("corpus")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{folder / 'dvcwatch.db'}"
        else:
            url = stack.enter_context(postgresql_schema())
        yield from _seeded(folder, url)


def _seeded(folder: Path, url: str) -> Iterator[tuple[str, Path]]:
    settings = Settings.model_validate({"database": {"url": url}})
    app = App(settings)
    app.upgrade()
    app.engine.dispose()
    config = folder / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")
    seed = folder / "seed.csv"
    write_csv(table())(seed)
    assert main(["import", str(seed), "--db", url, "--config", str(config)]) == 0
    yield url, config


def assert_refused(case: Case, path: Path, code: int, err: str) -> None:
    lines = err.splitlines()
    assert code == 2, (case.name, code, err[-2000:])
    assert "Traceback" not in err and lines, (case.name, err[-2000:])
    assert lines[0].startswith(f"dvcwatch: nothing imported: {path}: "), lines[0][:500]
    assert case.place in lines[0], (case.name, case.place, lines[0][:500])
    assert all(str(path) in line for line in lines), (case.name, err[:2000])


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.name)
def test_a_hostile_file_is_refused_naming_its_place_and_nothing_changes(
    case: Case, corpus_db: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, config = corpus_db
    path = tmp_path / f"{case.name}{case.suffix}"
    case.write(path)
    before = dump(url)
    capsys.readouterr()
    code = main(["import", str(path), "--db", url, "--config", str(config)])
    assert_refused(case, path, code, capsys.readouterr().err)
    assert dump(url) == before


SAMPLE = [case for case in cases() if case.name in SUBPROCESS_SAMPLE]


@pytest.mark.parametrize("case", SAMPLE, ids=lambda case: case.name)
def test_the_real_command_refuses_a_hostile_file(
    case: Case, corpus_db: tuple[str, Path], tmp_path: Path
) -> None:
    url, config = corpus_db
    path = tmp_path / f"{case.name}{case.suffix}"
    case.write(path)
    before = dump(url)
    command = [sys.executable, "-m", "service.cli", "import", str(path)]
    command += ["--db", url, "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT, timeout=300)
    assert_refused(case, path, done.returncode, done.stderr)
    assert dump(url) == before


def test_the_sample_names_real_cases() -> None:
    assert {case.name for case in SAMPLE} == SUBPROCESS_SAMPLE


def test_the_corpus_has_at_least_a_hundred_files() -> None:
    assert len(cases()) >= 100 and len({case.name for case in cases()}) == len(cases())


@pytest.mark.parametrize("case", valid_cases(), ids=lambda case: case.name)
def test_a_valid_dialect_imports(
    case: Case, app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")
    path = tmp_path / f"{case.name}{case.suffix}"
    case.write(path)
    code = main(["import", str(path), "--db", app.settings.database.url, "--config", str(config)])
    assert code == 0, capsys.readouterr().err
    assert "2 units; 2 new snapshots" in capsys.readouterr().out
