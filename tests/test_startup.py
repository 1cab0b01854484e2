"""`dvcwatch --help` (and building the command tree) loads none of the heavy libraries:
each command imports what it uses when it runs. The time itself is `bench/startup.py`'s;
this checks what was imported, which does not depend on how busy the machine is."""

from __future__ import annotations

import json
import subprocess
import sys

from service.db import make_engine, upgrade

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


def test_status_imports_neither_alembic_nor_the_notice_or_chat_libraries(tmp_path):
    """`status` needs SQLAlchemy and the settings (pydantic, and apscheduler to check the
    schedules' cron lines); the schema check reads alembic's version table without alembic."""
    url = f"sqlite:///{tmp_path / 'status.db'}"
    upgrade(make_engine(url))
    result = loaded_by("--db", url, "status")
    assert result["code"] == 0 and "Recent runs" in result["help"]
    unused = [name for name in HEAVY if name not in ("sqlalchemy", "pydantic", "apscheduler")]
    assert [name for name in unused if name in result["modules"]] == []
