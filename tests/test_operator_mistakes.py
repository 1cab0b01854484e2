"""Operator mistakes and a hostile environment, through the real `dvcwatch` command.

Each case asserts the contract's exit code, one line on standard error naming what is wrong
and where, no traceback, and that nothing was half-written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.app import App
from service.cli import main
from service.config import Settings
from service.models import FetchRun, Snapshot
from service.simulator.simulator import Fault, PortalSimulator, ReplaySource
from tests.conftest import PG_URL, PHU_THO
from tests.waiting import Gate, wait_until

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")


@dataclass(frozen=True)
class Mistake:
    name: str
    args: tuple[str, ...]  # {db}, {config}, {tmp} and {file} are filled in
    code: int
    says: str  # a fragment the one line must contain
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database holding Phú Thọ's 2026-08, its config, a scratch folder and a plain file."""
    folder = tmp_path_factory.mktemp("world")
    config = folder / "dvcwatch.toml"
    config.write_text(
        "[portal]\npause_seconds = [0, 0]\nretries = 0\nbackoff_seconds = 0\n", encoding="utf-8"
    )
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
    for name, text in CONFIGS.items():
        (folder / f"{name}.toml").write_text(text.format(tmp=folder), encoding="utf-8")
    return {"db": database, "config": str(config), "tmp": str(folder)}


@pytest.fixture(scope="module")
def portal() -> Iterator[PortalSimulator]:
    """The portal replaying Phú Thọ; a "delay" holds its answer until the test ends."""
    gate = Gate()
    with PortalSimulator(ReplaySource(PHU_THO), sleep=gate) as running, gate:
        yield running


#: Malformed values, one of each kind a setting takes (`{tmp}` is the world's folder).
CONFIGS = {
    "word-for-number": '[portal]\nretries = "three"\n',
    "number-out-of-range": "[portal]\npage_size = 50\n",
    "one-pause": "[portal]\npause_seconds = [1]\n",
    "pause-reversed": "[portal]\npause_seconds = [5, 1]\n",
    "portal-not-a-url": '[portal]\nbase_url = "dichvucong.gov.vn"\n',
    "word-for-bool": '[channels.telegram]\nenabled = "maybe"\n',
    "unknown-format": '[notices]\nformats = ["odt"]\n',
    "word-for-time": '[alerts]\nquiet_start = "late"\n',
    "empty-province": '[[watch]]\nprovince = ""\n',
    "section-not-table": "portal = 3\n",
    "no-directory": '[alerts]\ndirectory_file = "{tmp}/absent-directory.toml"\n',
    "no-rules": '[alerts]\nrules_file = "{tmp}/absent-rules.toml"\n',
    "watch-unlisted": '[portal]\npause_seconds = [0, 0]\n[[watch]]\nprovince = "H98"\n',
}


SCORES = ("scores", "--db", "{db}", "--config", "{config}")
SYNC = ("sync", "--db", "{db}", "--config", "{config}", "--period", "2026-08")
NOTICE = ("notice", "--db", "{db}", "--config", "{config}", "--out", "{tmp}/notices")
# fmt: off
MISTAKES = [
    Mistake("misspelt database kind", ("status", "--db", "sqllite:///x.db"), 2, "sqllite"),
    Mistake("not a URL", ("status", "--db", "notaurl"), 2, "'notaurl' is not valid"),
    Mistake("a port past 65535", ("status", "--db", "postgresql+psycopg://u@127.0.0.1:99999/x"), 2,
            "port 99999 is not a port (1-65535)"),
    Mistake("PostgreSQL port where nothing listens", ("status", "--db",
        "postgresql+psycopg://dvcwatch:s3cret@127.0.0.1:1/x"), 1, "Connection refused"),
    Mistake("database under a plain file", ("status", "--db", "sqlite:///{tmp}/plain-file/x.db"), 1,
        "plain-file"),
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
    Mistake("--out through a plain file", (*SCORES, "--period", "2026-08", "--format", "xlsx",
        "--out", "{tmp}/plain-file/s.xlsx"), 2, "plain-file"),
    Mistake("--out is a folder", (*SCORES, "--period", "2026-08", "--format", "csv", "--out",
        "{tmp}"), 2, "{tmp}"),
    Mistake("--out with a table", (*SCORES, "--period", "2026-08", "--out", "{tmp}/t"), 2, "--out"),
    Mistake("unknown command", ("sycn",), 2, "invalid choice"),
    Mistake("unknown option", ("status", "--colour"), 2, "--colour"),
    Mistake("empty database URL", ("status", "--db", ""), 2, "--db: the database URL is empty"),
    Mistake("database driver not installed", ("status", "--db", "mysql://u@h/x"), 2, "mysql"),
    Mistake("database is a plain file", ("status", "--db", "sqlite:///{tmp}/plain-file"), 1,
        "file is not a database"),
    Mistake("bad URL from the environment", ("status",), 2, "sqllite",
        {"DVCWATCH_DB_URL": "sqllite:///x.db"}),
    Mistake("config: word-for-number", ("status", "--config", "{tmp}/word-for-number.toml"), 2,
        "portal.retries"),
    Mistake("config: number-out-of-range", ("status", "--config", "{tmp}/number-out-of-range.toml"),
        2, "portal.page_size"),
    Mistake("config: one-pause", ("status", "--config", "{tmp}/one-pause.toml"), 2,
        "portal.pause_seconds"),
    Mistake("config: pause-reversed", ("status", "--config", "{tmp}/pause-reversed.toml"), 2,
        "exceeds the second"),
    Mistake("config: portal-not-a-url", ("status", "--config", "{tmp}/portal-not-a-url.toml"), 2,
        "portal.base_url: not a web address"),
    Mistake("config: word-for-bool", ("status", "--config", "{tmp}/word-for-bool.toml"), 2,
        "channels.telegram.enabled"),
    Mistake("config: unknown-format", ("status", "--config", "{tmp}/unknown-format.toml"), 2,
        "notices.formats"),
    Mistake("config: word-for-time", ("status", "--config", "{tmp}/word-for-time.toml"), 2,
        "alerts.quiet_start"),
    Mistake("config: empty-province", ("status", "--config", "{tmp}/empty-province.toml"), 2,
        "watch.0.province"),
    Mistake("config: section-not-table", ("status", "--config", "{tmp}/section-not-table.toml"), 2,
        "portal"),
    Mistake("directory file missing", ("alerts", "--db", "{db}", "--config",
        "{tmp}/no-directory.toml"), 2,
        "absent-directory.toml: no staff directory there (alerts.directory_file): copy "
        "config/directory.example.toml to it"),
    Mistake("rules file missing", ("alerts", "--db", "{db}", "--config", "{tmp}/no-rules.toml"), 2,
        "absent-rules.toml"),
    Mistake("service with no directory file", ("run", "--once", "--db", "{db}", "--config",
        "{tmp}/no-directory.toml"), 2, "absent-directory.toml"),
    Mistake("scale not offered", (*SCORES, "--period", "2026-08", "--scale", "7"), 2, "--scale"),
    Mistake("tolerance a word", (*SCORES, "--period", "2026-08", "--tolerance", "x"), 2,
        "--tolerance"),
    Mistake("status format unknown", ("status", "--format", "xml"), 2, "--format"),
    Mistake("alerts bad period", ("alerts", "--db", "{db}", "--config", "{config}", "--period",
        "2026-99"), 2, "'2026-99' is not a period"),
    Mistake("portal URL not a URL", (*SYNC, "--province", "H44", "--portal-url", "notaurl"), 2,
        "--portal-url 'notaurl': not a web address"),
    Mistake("portal port out of range", (*SYNC, "--province", "H44", "--portal-url",
        "http://127.0.0.1:99999"), 2, "port"),
    Mistake("portal refusing connections", (*SYNC, "--province", "H44", "--portal-url",
        "http://127.0.0.1:1"), 1, "Connection refused"),
    Mistake("province the portal does not list", (*SYNC, "--province", "H99", "--portal-url",
        "{portal}"), 2, "province 'H99' is not in the portal's list"),
    Mistake("watched province the portal does not list", ("sync", "--db", "{db}", "--config",
        "{tmp}/watch-unlisted.toml", "--portal-url", "{portal}", "--period", "2026-08"), 2,
        "[[watch]]: province 'H98' is not in the portal's list"),
    Mistake("province not a code", (*SYNC, "--province", "x y"), 2, "'x y'"),
    Mistake("no province at all", SYNC, 2, "no province to sync"),
    Mistake("sync bad period", (*SYNC, "--province", "H44", "--period", "2026-00"), 2, "--period"),
    Mistake("unknown unit", (*NOTICE, "--unit", "H44.999", "--period", "2026-08"), 2,
        "--unit H44.999: unknown unit"),
    Mistake("unknown parent", (*NOTICE, "--all", "--parent", "H99", "--period", "2026-08"), 2,
        "--parent H99: unknown unit"),
    Mistake("a month with no figures", (*NOTICE, "--unit", "H44.116", "--period", "2026-05"), 2,
        "no 766 figures for 2026-05"),
    Mistake("a set with no figures", (*NOTICE, "--all", "--parent", "H44", "--period", "2026-05"),
        1, "no 766 figures of the units of H44 for 2026-05"),
    Mistake("a commune as a set", (*NOTICE, "--all", "--parent", "H44.116", "--period", "2026-08"),
        2, "--parent H44.116: no unit lies under it, so it heads no set; for its own notice use "
        "--unit H44.116"),
    Mistake("a year for a Công văn", (*NOTICE, "--unit", "H44.116", "--period", "2026"), 2,
        "--period 2026"),
    Mistake("notice format unknown", (*NOTICE, "--unit", "H44.116", "--period", "2026-08", "--to",
        "docx,odt"), 2, "'odt'"),
    Mistake("notice --out through a plain file", (*NOTICE, "--unit", "H44.116", "--period",
        "2026-08", "--to", "html", "--out", "{tmp}/plain-file/out"), 2, "plain-file"),
    Mistake("notice --all without --parent", (*NOTICE, "--all", "--period", "2026-08"), 2,
        "--all needs --parent"),
    Mistake("import a missing file", ("import", "{tmp}/absent.csv", "--db", "{db}"), 2,
        "absent.csv"),
    Mistake("import a folder", ("import", "{tmp}", "--db", "{db}"), 2, "unsupported file type"),
    Mistake("demo into a database with figures", ("demo", "--db", "{db}", "--out", "{tmp}/o"), 2,
        "already holds figures"),
]
# fmt: on


def fill(text: str, world: dict[str, str]) -> str:
    return text.format(**world)


@pytest.fixture(scope="module")
def places(world: dict[str, str], portal: PortalSimulator) -> dict[str, str]:
    return {**world, "portal": portal.base_url}


def tree(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith("x.db")
    }


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_mistake_is_one_line_with_the_contracts_exit_code(mistake, places, tmp_path):
    world = places
    before = tree(Path(world["tmp"]))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DVCWATCH_")}
    done = subprocess.run(
        [DVCWATCH, *(fill(arg, world) for arg in mistake.args)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**environment, **mistake.env},
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


def notice_command(world: dict[str, str], out: Path) -> str:
    return " ".join(
        [DVCWATCH, "notice", "--db", world["db"], "--config", world["config"], "--unit",
         "H44.116", "--period", "2026-08", "--to", "html", "--out", str(out)]
    )  # fmt: skip


def test_a_full_disk_leaves_no_half_written_notice(world, tmp_path):
    done = subprocess.run(
        ["bash", "-c", f"ulimit -f 36; exec {notice_command(world, tmp_path / 'out')}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "File too large" in done.stderr
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_an_immutable_output_folder_is_one_line(world, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i does not work here")
    try:
        done = subprocess.run(
            ["bash", "-c", notice_command(world, folder / "out")], capture_output=True, text=True
        )
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert str(folder / "out") in done.stderr and "Operation not permitted" in done.stderr
    assert list(folder.iterdir()) == []


def test_a_closed_standard_output_is_said_once(world):
    command = f"{DVCWATCH} status --db {world['db']} --config {world['config']} >&-"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stderr == (
        "dvcwatch: standard output is closed: the command runs, its lines are dropped\n"
    )


# Ctrl-C reaches a command in a terminal; a test run started in the background (`cmd &`
# in a script) ignores SIGINT, and its children inherit that: restore it before exec.
AS_IN_A_TERMINAL = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])",
]


def test_ctrl_c_mid_sync_exits_130_and_records_the_run_interrupted(portal, tmp_path):
    database = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["--db", database, "db", "upgrade"]) == 0
    portal.inject(Fault("delay", endpoint="transparency", times=1, seconds=60))
    asked = sum(endpoint == "transparency" for endpoint, _ in portal.requests_log)
    sync = subprocess.Popen(
        [*AS_IN_A_TERMINAL, DVCWATCH, "--db", database, "sync", "--province", "H44",
         "--period", "2026-08", "--portal-url", portal.base_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def waiting() -> bool:
        assert sync.poll() is None, "the sync ended instead of waiting on the portal"
        return sum(endpoint == "transparency" for endpoint, _ in portal.requests_log) > asked

    wait_until(waiting, "the sync to wait on the portal's slow answer")
    sync.send_signal(signal.SIGINT)
    _, error = sync.communicate(timeout=30)
    portal.clear_faults()
    assert sync.returncode == 130 and error == "dvcwatch: interrupted\n"
    app = App(Settings.model_validate({"database": {"url": database}}))
    with app.sessions()() as session:
        run = session.scalars(select(FetchRun)).one()
        snapshots = session.scalar(select(func.count()).select_from(Snapshot))
    app.engine.dispose()
    assert (run.status, run.error_kind) == ("failed", "interrupted")
    assert run.error == "interrupted by Ctrl-C (SIGINT)" and snapshots == 0
