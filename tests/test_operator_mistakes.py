"""Operator mistakes and a hostile environment, through the real `dvcwatch` command.

Each case asserts the contract's exit code, one line on standard error naming what is wrong
and where, no traceback, and that nothing was half-written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.cli import main
from service.portal.simulator import PortalSimulator, ReplaySource
from tests.conftest import PG_URL, PHU_THO

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")


@dataclass(frozen=True)
class Mistake:
    name: str
    args: tuple[str, ...]  # {db}, {config}, {tmp} and {file} are filled in
    code: int
    says: str  # a fragment the one line must contain


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database holding Phú Thọ's 2026-08, its config, a scratch folder and a plain file."""
    folder = tmp_path_factory.mktemp("world")
    config = folder / "dvcwatch.toml"
    config.write_text("[portal]\npause_seconds = [0, 0]\n", encoding="utf-8")
    database = f"sqlite:///{folder / 'x.db'}"
    options = ["--db", database, "--config", str(config)]
    assert main([*options, "db", "upgrade"]) == 0
    with PortalSimulator(ReplaySource(PHU_THO)) as portal:
        sync = ["sync", "--province", "H44", "--period", "2026-08", "--portal-url", portal.base_url]
        assert main([*options, *sync]) == 0
    (folder / "plain-file").write_text("not a folder\n", encoding="utf-8")
    (folder / "bad.toml").write_text("[portal\n", encoding="utf-8")
    (folder / "unknown-key.toml").write_text("[portal]\nspeed = 3\n", encoding="utf-8")
    (folder / "bad-value.toml").write_text("[portal]\ntimeout_seconds = -1\n", encoding="utf-8")
    (folder / "bad-cron.toml").write_text('[schedules]\nsync = "every day"\n', encoding="utf-8")
    return {"db": database, "config": str(config), "tmp": str(folder)}


SCORES = ("scores", "--db", "{db}", "--config", "{config}")
MISTAKES = [
    Mistake("misspelt database kind", ("status", "--db", "sqllite:///x.db"), 2, "sqllite"),
    Mistake("not a URL", ("status", "--db", "notaurl"), 2, "'notaurl' is not valid"),
    Mistake(
        "PostgreSQL port where nothing listens",
        ("status", "--db", "postgresql+psycopg://dvcwatch:s3cret@127.0.0.1:1/x"),
        1,
        "Connection refused",
    ),
    Mistake(
        "database under a plain file",
        ("status", "--db", "sqlite:///{tmp}/plain-file/x.db"),
        1,
        "plain-file",
    ),
    Mistake("missing config", ("status", "--config", "{tmp}/absent.toml"), 2, "absent.toml"),
    Mistake("config not TOML", ("status", "--config", "{tmp}/bad.toml"), 2, "not valid TOML"),
    Mistake("unknown config key", ("status", "--config", "{tmp}/unknown-key.toml"), 2, "speed"),
    Mistake("bad config value", ("status", "--config", "{tmp}/bad-value.toml"), 2, "timeout"),
    Mistake("bad cron", ("status", "--config", "{tmp}/bad-cron.toml"), 2, "every day"),
    Mistake("bad period", (*SCORES, "--period", "2026-13"), 2, "--period"),
    Mistake("period as words", (*SCORES, "--period", "August"), 2, "--period"),
    Mistake("unknown parent", (*SCORES, "--period", "2026-08", "--parent", "H99"), 2, "H99"),
    Mistake("unknown scheme", (*SCORES, "--period", "2026-08", "--scheme", "x"), 2, "x"),
    Mistake("negative tolerance", (*SCORES, "--period", "2026-08", "--tolerance", "-1"), 2, "-1"),
    Mistake("xlsx without --out", (*SCORES, "--period", "2026-08", "--format", "xlsx"), 2, "--out"),
    Mistake(
        "--out through a plain file",
        (*SCORES, "--period", "2026-08", "--format", "xlsx", "--out", "{tmp}/plain-file/s.xlsx"),
        2,
        "plain-file",
    ),
    Mistake(
        "--out is a folder",
        (*SCORES, "--period", "2026-08", "--format", "csv", "--out", "{tmp}"),
        2,
        "{tmp}",
    ),
    Mistake("--out with a table", (*SCORES, "--period", "2026-08", "--out", "{tmp}/t"), 2, "--out"),
    Mistake("unknown command", ("sycn",), 2, "invalid choice"),
    Mistake("unknown option", ("status", "--colour"), 2, "--colour"),
]


def fill(text: str, world: dict[str, str]) -> str:
    return text.format(**world)


def tree(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith("x.db")
    }


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_mistake_is_one_line_with_the_contracts_exit_code(mistake, world, tmp_path):
    before = tree(Path(world["tmp"]))
    done = subprocess.run(
        [DVCWATCH, *(fill(arg, world) for arg in mistake.args)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == mistake.code, done.stderr
    assert "Traceback" not in done.stderr
    # argparse adds its usage line before its one-line error
    message = lines[-1]
    assert len(lines) == 1 or lines[0].startswith("usage:"), done.stderr
    assert fill(mistake.says, world) in message
    assert "s3cret" not in done.stderr + done.stdout
    assert tree(Path(world["tmp"])) == before  # nothing written, nothing half-written
    assert not (tmp_path / "var").exists()  # no silent default database


@pytest.mark.skipif(not PG_URL, reason="DVCWATCH_TEST_PG_URL is not set")
def test_a_postgresql_database_that_does_not_exist_is_named(tmp_path):
    assert PG_URL is not None
    url = PG_URL.rsplit("/", 1)[0] + "/no_such_database_here"
    done = subprocess.run([DVCWATCH, "status", "--db", url], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "no_such_database_here" in done.stderr


def test_a_full_disk_leaves_no_half_written_spreadsheet(world, tmp_path):
    """`ulimit -f` stands for a full disk: the write fails, one line, no partial file. The
    limit (36 KiB) lets SQLite map its 32 KiB shared-memory file; the workbook is larger."""
    out = tmp_path / "scores.xlsx"
    command = " ".join(
        [DVCWATCH, "scores", "--db", world["db"], "--config", world["config"],
         "--period", "2026-08", "--format", "xlsx", "--out", str(out)]
    )  # fmt: skip
    done = subprocess.run(
        ["bash", "-c", f"ulimit -f 36; exec {command}"], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "File too large" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_period_with_no_figures_says_so(world):
    done = subprocess.run(
        [DVCWATCH, "scores", "--db", world["db"], "--config", world["config"], "--period",
         "2026-05"], capture_output=True, text=True, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stderr.strip() == "dvcwatch: no 766 figures for 2026-05"
