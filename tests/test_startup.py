"""`dvcwatch --help` (and building the command tree) loads none of the heavy libraries:
each command imports what it uses when it runs. The time itself is `bench/startup.py`'s;
this checks what was imported, which does not depend on how busy the machine is."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import text

from service.db import make_engine, upgrade
from tests.conftest import postgresql_schema

HEAVY = ("sqlalchemy", "alembic", "matplotlib", "docxtpl", "docx", "telegram", "httpx",
         "openpyxl", "requests", "pydantic", "apscheduler")  # fmt: skip

LOADED = """
import contextlib, io, json, sys
from service.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        code = main(sys.argv[1:])
    except SystemExit as stop:
        code = stop.code
print(json.dumps({"code": code, "help": out.getvalue(),
                  "modules": sorted({name.split(".")[0] for name in sys.modules})}))
"""


def loaded_by(*arguments: str) -> dict:
    """What `dvcwatch ARGUMENTS` imported before exiting, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *arguments], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_help_imports_no_heavy_library():
    result = loaded_by("--help")
    assert result["code"] == 0 and "COMMAND" in result["help"] and "notice" in result["help"]
    assert [name for name in HEAVY if name in result["modules"]] == []


def test_a_command_s_help_imports_no_heavy_library():
    result = loaded_by("notice", "--help")
    assert result["code"] == 0 and "--kind" in result["help"]
    assert [name for name in HEAVY if name in result["modules"]] == []


def test_the_check_sees_a_heavy_library_a_command_loads():
    """The probe is able to fail: a command that runs does import SQLAlchemy."""
    result = loaded_by("--db", "not a url", "status")
    assert result["code"] == 2 and "sqlalchemy" in result["modules"]


def test_status_reads_a_sqlite_file_with_nothing_to_settle_without_sqlalchemy(tmp_path):
    """`status` needs the settings (pydantic, and apscheduler to check the schedules' cron
    lines); a SQLite file with nothing to settle it reads with sqlite3 alone."""
    url = f"sqlite:///{tmp_path / 'status.db'}"
    upgrade(make_engine(url))
    result = loaded_by("--db", url, "status")
    assert result["code"] == 0 and "Recent runs" in result["help"]
    unused = [name for name in HEAVY if name not in ("pydantic", "apscheduler")]
    assert [name for name in unused if name in result["modules"]] == []


def test_status_reads_postgresql_with_nothing_to_settle_without_sqlalchemy():
    with postgresql_schema() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        result = loaded_by("--db", url, "status")
    assert result["code"] == 0 and "Recent runs" in result["help"]
    assert "psycopg" in result["modules"] and "sqlalchemy" not in result["modules"]


def test_status_settles_a_run_left_running_through_sqlalchemy_and_not_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'status.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:  # no owner: closed once its lease has passed
        connection.execute(
            text(
                "INSERT INTO fetch_runs (job, scope, period, status, started_at, units_seen, "
                "snapshots_written) VALUES ('sync', 'H44', '2026-08', 'running', "
                "'2026-08-01 00:00:00.000000', 0, 0)"
            )
        )
    engine.dispose()
    result = loaded_by("--db", url, "status")
    assert result["code"] == 0 and "no owner recorded" in result["help"]
    assert "sqlalchemy" in result["modules"] and "alembic" not in result["modules"]
