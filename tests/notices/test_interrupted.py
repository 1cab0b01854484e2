"""A notice's version is in its folder whole (every file, archived) or not at all: a
full disk or a kill between its .docx and its .html leaves no file named as a version,
and the next run writes that version as if nothing had happened."""

from __future__ import annotations

import fcntl
import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from service.config import NoticeSettings
from service.notices.models import NoticeFile
from service.notices.produce import Outcome, Request, notice_lock_path, write_notice
from service.periods import Period
from tests.conftest import PROJECT
from tests.notices.test_produce import seed_004_table
from tests.test_files import full_disk
from tests.test_shared_rows import Paused
from tests.waiting import PATIENCE, wait_until

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


def test_two_writers_of_one_notice_at_once_make_one_version(cli, app, tmp_path, caplog):
    """A notice written by hand while the monthly job writes it: the second waits for
    the first (PostgreSQL: an advisory lock; SQLite: a file lock beside the database,
    as SQLite's own write lock comes only with the archive's insert, after the files
    are placed), saying once that it waits and for what, then finds it archived
    ("already written") instead of writing the same notice again as v2."""
    caplog.set_level(logging.INFO, logger="service.notices.produce")
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    request = Request("congvan", "BINHTHANH", Period.parse("2024-09"))
    settings = NoticeSettings(out_dir=out, formats=("docx",))
    outcomes: dict[str, Outcome] = {}

    def write(name: str) -> None:
        with app.sessions().begin() as session:
            outcomes[name] = write_notice(session, app.schemes, settings, request, out, ("docx",))

    second = threading.Thread(target=write, args=("second",))
    with Paused(app, "INSERT INTO notice_files", lambda: write("first")):  # placed, uncommitted
        second.start()
        wait_until(
            lambda: _waiting_for_the_other_writer(app) or not second.is_alive(),
            "the second writer to wait for the first, or to end",
        )
    second.join(PATIENCE)
    assert [w.new for w in outcomes["first"].files] == [True]
    assert [(w.version, w.new) for w in outcomes["second"].files] == [(1, False)]
    assert versions(out / "congvan-BINHTHANH-2024-09") == ["v1.docx"]
    assert archived(app) == [("docx", 1)]
    waits = [r.getMessage() for r in caplog.records if r.name == "service.notices.produce"]
    if app.engine.dialect.name == "postgresql":
        assert waits == [
            "another process is writing the congvan of BINHTHANH for 2024-09: waiting for it"
        ]
    else:
        lock = notice_lock_path(app.engine.url.database)
        assert waits == [
            f"another process is writing notices of this database ({lock}): waiting for it"
        ]


def _waiting_for_the_other_writer(app) -> bool:
    """PostgreSQL: an advisory lock not granted; SQLite: a process waiting for the notice
    lock file (`/proc/locks` lists a blocked `flock` with "->", by its file's inode)."""
    if app.engine.dialect.name == "postgresql":
        query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        with app.sessions()() as session:
            return bool(session.scalar(query))
    lock = notice_lock_path(app.engine.url.database)
    if lock is None or not lock.exists():
        return False
    inode = f":{lock.stat().st_ino} "
    return any(
        "->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines()
    )


def test_one_transaction_writes_several_notices_without_waiting_for_itself(cli, app, tmp_path):
    """The demo writes two notices in one transaction: on SQLite the second must not wait
    for the notice lock its own transaction holds (it would wait for ever)."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    request = Request("congvan", "BINHTHANH", Period.parse("2024-09"))
    settings = NoticeSettings(out_dir=out, formats=("docx",))
    outcomes: list[Outcome] = []

    def write_twice() -> None:
        with app.sessions().begin() as session:
            for _ in range(2):
                outcomes.append(
                    write_notice(session, app.schemes, settings, request, out, ("docx",), True)
                )

    writer = threading.Thread(target=write_twice, daemon=True)
    writer.start()
    writer.join(PATIENCE)
    assert not writer.is_alive(), "the second notice waits for its own transaction's lock"
    assert [[(w.version, w.new) for w in o.files] for o in outcomes] == [[(1, True)], [(2, True)]]
    assert archived(app) == [("docx", 1), ("docx", 2)]


def test_a_session_writing_notice_after_notice_releases_the_lock_each_time(cli, app, tmp_path):
    """One session, a transaction per notice (SQLite's lock file): after each commit the
    lock is free for another writer, and the session keeps one listener, not one more
    per notice."""
    if app.engine.dialect.name != "sqlite":
        pytest.skip("the notice lock file is SQLite's (PostgreSQL: an advisory lock)")
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    request = Request("congvan", "BINHTHANH", Period.parse("2024-09"))
    settings = NoticeSettings(out_dir=out, formats=("docx",))
    lock = notice_lock_path(app.engine.url.database)
    assert lock is not None
    with app.sessions()() as session:
        for _ in range(3):
            write_notice(session, app.schemes, settings, request, out, ("docx",), True)
            session.commit()
            with lock.open("a") as other:  # another writer takes it at once, or raises
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert len(session.dispatch.after_transaction_end) == 1
    assert archived(app) == [("docx", 1), ("docx", 2), ("docx", 3)]
