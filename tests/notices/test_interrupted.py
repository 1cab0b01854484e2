"""A notice's version is in its folder whole (every file, archived) or not at all: a
full disk or a kill between its .docx and its .html leaves no file named as a version,
and the next run writes that version as if nothing had happened."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from service.notices.models import NoticeFile
from tests.conftest import PROJECT
from tests.notices.test_produce import seed_004_table
from tests.test_files import full_disk

NOTICE = ("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--to", "docx,html")
#: `dvcwatch` that kills itself (SIGKILL: no handler runs) when the .html is flushed.
KILLED_AT_THE_HTML = """
import os, signal, sys
real = os.fsync
def fsync(handle):
    name = os.readlink(f"/proc/self/fd/{handle}")
    if name.endswith(".part") and ".html." in name:
        os.kill(os.getpid(), signal.SIGKILL)
    real(handle)
os.fsync = fsync
from service.cli import main
sys.exit(main(sys.argv[1:]))
"""


def versions(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("v*"))


def archived(app) -> list[tuple[str, int]]:
    with app.sessions()() as session:
        return [(f.format, f.version) for f in session.scalars(select(NoticeFile))]


def test_a_full_disk_at_the_html_leaves_no_version_and_says_which_file(
    cli, app, tmp_path, capsys, monkeypatch
):
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = out / "congvan-BINHTHANH-2024-09"
    capsys.readouterr()
    with monkeypatch.context() as disk:
        full_disk(disk, ".html")
        assert cli(*NOTICE, "--out", str(out)) == 1
    assert capsys.readouterr().err == f"dvcwatch: {folder}/v1.html: No space left on device\n"
    assert list(folder.iterdir()) == [] and archived(app) == []

    assert cli(*NOTICE, "--out", str(out)) == 0  # the disk has room again: v1, not v2
    assert versions(folder) == ["v1.docx", "v1.html"]
    assert archived(app) == [("docx", 1), ("html", 1)]


def test_a_run_killed_between_the_docx_and_the_html_leaves_no_version(cli, app, tmp_path, capsys):
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = out / "congvan-BINHTHANH-2024-09"
    options = ["--db", app.settings.database.url, "--config", str(tmp_path / "dvcwatch.toml")]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT_THE_HTML, *NOTICE, "--out", str(out), *options],
        cwd=PROJECT,
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert versions(folder) == [] and archived(app) == []

    capsys.readouterr()
    assert cli(*NOTICE, "--out", str(out)) == 0
    assert capsys.readouterr().out.split() == [f"{folder}/v1.docx", f"{folder}/v1.html"]
    assert archived(app) == [("docx", 1), ("html", 1)]
