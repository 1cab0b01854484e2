"""A notice's version is in its folder whole (every file, archived) or not at all: a
full disk or a kill between its .docx and its .html leaves no file named as a version,
and the next run writes that version as if nothing had happened."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
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
from service.notices.produce import (
    Outcome,
    Request,
    notice_lock_key,
    notice_lock_path,
    write_notice,
)
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


#: `dvcwatch` that kills itself once the version's files are placed, before the archive
#: knows them (its transaction never commits).
KILLED_AFTER_PLACING = """
import os, signal, sys
from service.notices import produce
produce._archive = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
from service.cli import main
sys.exit(main(sys.argv[1:]))
"""


def shown(folder: Path) -> list[str]:
    """What an official browsing the folder sees (hidden files left out)."""
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith("."))


def versions(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("v*"))


def archived(app) -> list[tuple[str, int]]:
    with app.sessions()() as session:
        return [(f.format, f.version) for f in session.scalars(select(NoticeFile))]


@pytest.mark.parametrize(
    "full_at, named",
    [(".html", "v1.html"), (".placing-", "v1.docx")],
    ids=["the html", "the placing manifest"],
)
def test_a_full_disk_leaves_no_version_and_says_which_file(
    cli, app, tmp_path, capsys, monkeypatch, full_at, named
):
    """The manifest (`placing`) is the first file written into the folder itself: a full
    disk there is said of the version's first file, as any other, not of a hidden name."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = out / "congvan-BINHTHANH-2024-09"
    capsys.readouterr()
    with monkeypatch.context() as disk:
        full_disk(disk, full_at)
        assert cli(*NOTICE, "--out", str(out)) == 1
    assert capsys.readouterr().err == f"dvcwatch: {folder}/{named}: No space left on device\n"
    assert list(folder.iterdir()) == [] and archived(app) == []

    assert cli(*NOTICE, "--out", str(out)) == 0  # the disk has room again: v1, not v2
    assert versions(folder) == ["v1.docx", "v1.html"]
    assert archived(app) == [("docx", 1), ("html", 1)]


def test_a_run_killed_between_the_docx_and_the_html_leaves_no_version(cli, app, tmp_path, capsys):
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = out / "congvan-BINHTHANH-2024-09"
    run_killed(KILLED_AT_THE_HTML, app, tmp_path, out)
    assert versions(folder) == [] and archived(app) == []

    capsys.readouterr()
    assert cli(*NOTICE, "--out", str(out)) == 0
    assert capsys.readouterr().out.split() == [f"{folder}/v1.docx", f"{folder}/v1.html"]
    assert archived(app) == [("docx", 1), ("html", 1)]


def run_killed(program: str, app, tmp_path: Path, out: Path) -> None:
    """`dvcwatch notice` run by `program`, which kills itself (SIGKILL) partway."""
    options = ["--db", app.settings.database.url, "--config", str(tmp_path / "dvcwatch.toml")]
    killed = subprocess.run(
        [sys.executable, "-c", program, *NOTICE, "--out", str(out), *options],
        cwd=PROJECT,
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def killed_after_placing(app, tmp_path: Path, out: Path) -> Path:
    """The notice's folder after a `dvcwatch notice` killed between placing v1 and
    committing it: v1's files and their manifest there, the archive empty."""
    run_killed(KILLED_AFTER_PLACING, app, tmp_path, out)
    folder = out / "congvan-BINHTHANH-2024-09"
    assert versions(folder) == ["v1.docx", "v1.html"] and archived(app) == []
    assert len(list(folder.glob(".placing-*.json"))) == 1
    return folder


def test_a_run_killed_after_placing_its_files_leaves_v1_to_be_written_again(
    cli, app, tmp_path, capsys, caplog
):
    """Killed after its files were in place but before the archive's commit: the files
    were never archived nor sent. The next run takes them away and writes v1 again, not
    a v2 beside an unsent v1, and says so."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = killed_after_placing(app, tmp_path, out)
    capsys.readouterr()
    assert cli(*NOTICE, "--out", str(out)) == 0
    assert capsys.readouterr().out.split() == [f"{folder}/v1.docx", f"{folder}/v1.html"]
    said = [r.getMessage() for r in caplog.records if r.name == "service.notices.placing"]
    assert said == [f"{folder}: took away 2 file(s) a stopped writer placed and never archived"]
    assert archived(app) == [("docx", 1), ("html", 1)]
    assert shown(folder) == ["v1.docx", "v1.html"]  # the killed run's staging goes when stale
    assert list(folder.glob(".placing-*")) == []


def test_a_manifest_whose_settler_was_killed_is_settled_by_the_next_run(cli, app, tmp_path):
    """The next run had taken the killed run's manifest (renamed it, to settle it) and
    was killed itself before taking the files away: the run after it settles that one,
    and writes v1 again."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = killed_after_placing(app, tmp_path, out)
    [manifest] = folder.glob(".placing-*.json")
    manifest.rename(folder / ".settling-0123456789abcdef.json")
    assert cli(*NOTICE, "--out", str(out)) == 0
    assert versions(folder) == ["v1.docx", "v1.html"]
    assert archived(app) == [("docx", 1), ("html", 1)]
    assert list(folder.glob(".settling-*")) == [] and list(folder.glob(".placing-*")) == []


def test_a_killed_runs_file_that_an_official_edited_is_kept(cli, app, tmp_path):
    """The unsent v1.docx was opened and changed before the next run: it is someone's
    work now. It stays, its unchanged v1.html goes, and the next run writes v2."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = killed_after_placing(app, tmp_path, out)
    edited = (folder / "v1.docx").read_bytes() + b"edited"
    (folder / "v1.docx").write_bytes(edited)
    assert cli(*NOTICE, "--out", str(out)) == 0
    assert shown(folder) == ["v1.docx", "v2.docx", "v2.html"]
    assert (folder / "v1.docx").read_bytes() == edited
    assert archived(app) == [("docx", 2), ("html", 2)]


def test_a_manifest_is_acted_on_only_for_its_own_database_and_its_own_folder(cli, app, tmp_path):
    """A manifest another database's writer left (it may be alive: its own lock is not
    ours) is left alone, and one naming a file outside its folder removes nothing."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = killed_after_placing(app, tmp_path, out)
    [manifest] = folder.glob(".placing-*.json")
    said = json.loads(manifest.read_text())
    outside = tmp_path / "outside.docx"
    outside.write_bytes(b"not a notice")
    hostile = {"../../outside.docx": hashlib.sha256(b"not a notice").hexdigest()}
    (folder / ".placing-hostile.json").write_text(
        json.dumps({"database": said["database"], "files": hostile})
    )
    said["database"] = "sqlite:////elsewhere/other.db"
    manifest.write_text(json.dumps(said))
    assert cli(*NOTICE, "--out", str(out)) == 0
    assert outside.read_bytes() == b"not a notice"
    assert versions(folder) == ["v1.docx", "v1.html", "v2.docx", "v2.html"]
    assert archived(app) == [("docx", 2), ("html", 2)]
    assert sorted(p.name for p in folder.glob(".placing-*")) == sorted(
        [".placing-hostile.json", manifest.name]
    )


def test_a_file_that_cannot_be_taken_away_is_said_and_the_lock_still_goes(
    cli, app, tmp_path, monkeypatch, caplog
):
    """A rollback whose placed file cannot be removed (a permission, a read-only disk):
    the others go, the file is named in a warning, the transaction's own error is the
    one raised, and the notice lock is released (the next notice does not wait for ever)."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = out / "congvan-BINHTHANH-2024-09"
    request = Request("congvan", "BINHTHANH", Period.parse("2024-09"))
    settings = NoticeSettings(out_dir=out, formats=("docx", "html"))
    real_unlink = Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if path.name == "v1.docx":
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(RuntimeError, match="queueing failed"), app.sessions().begin() as session:
        write_notice(session, app.schemes, settings, request, out, ("docx", "html"))
        raise RuntimeError("queueing failed")
    monkeypatch.undo()
    assert versions(folder) == ["v1.docx"] and archived(app) == []
    said = [r.getMessage() for r in caplog.records if r.name == "service.notices.placing"]
    assert said == [f"{folder}/v1.docx: not taken away (Permission denied): remove it by hand"]
    if app.engine.dialect.name == "sqlite":  # PostgreSQL's lock ends with the transaction
        lock = notice_lock_path(app.engine.url.database)
        assert lock is not None
        with lock.open("a") as other:  # free at once, or this raises
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_without_a_notice_lock_a_manifest_is_left_to_its_writer(cli, app, tmp_path, monkeypatch):
    """A SQLite database named by a `file:` URI takes no notice lock: a manifest there
    may be a live writer's, so it is not settled and its files stay (v2 beside them)."""
    if app.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL always holds the notice's lock")
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    folder = killed_after_placing(app, tmp_path, out)
    monkeypatch.setattr("service.notices.produce.notice_lock_path", lambda database: None)
    assert cli(*NOTICE, "--out", str(out)) == 0
    assert versions(folder) == ["v1.docx", "v1.html", "v2.docx", "v2.html"]
    assert len(list(folder.glob(".placing-*.json"))) == 1


def test_a_manifest_left_after_its_commit_takes_nothing_archived_away(cli, app, tmp_path):
    """Killed after the commit, before its manifest went: the files it names are
    archived (and may have been sent), so they stay; the manifest goes."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    assert cli(*NOTICE, "--out", str(out)) == 0
    folder = out / "congvan-BINHTHANH-2024-09"
    placed = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in versions(folder)
    }
    database = app.engine.url.render_as_string(hide_password=True)
    (folder / ".placing-left.json").write_text(json.dumps({"database": database, "files": placed}))
    assert cli(*NOTICE, "--out", str(out), "--force") == 0
    assert versions(folder) == ["v1.docx", "v1.html", "v2.docx", "v2.html"]
    assert archived(app) == [("docx", 1), ("html", 1), ("docx", 2), ("html", 2)]
    assert list(folder.glob(".placing-*")) == []


@pytest.mark.parametrize("ends", ["commit", "rollback"])
def test_a_transaction_that_does_not_commit_takes_its_placed_files_away(cli, app, tmp_path, ends):
    """A failure after the files were placed (queueing them, the commit itself) rolls
    the archive back: the files go with it, and the manifest either way."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    request = Request("congvan", "BINHTHANH", Period.parse("2024-09"))
    settings = NoticeSettings(out_dir=out, formats=("docx", "html"))
    folder = out / "congvan-BINHTHANH-2024-09"
    with contextlib.suppress(OSError), app.sessions().begin() as session:
        write_notice(session, app.schemes, settings, request, out, ("docx", "html"))
        assert versions(folder) == ["v1.docx", "v1.html"]
        if ends == "rollback":
            raise OSError("the recipients could not be queued")
    assert list(folder.glob(".placing-*")) == []
    if ends == "commit":
        assert versions(folder) == ["v1.docx", "v1.html"]
        assert archived(app) == [("docx", 1), ("html", 1)]
    else:
        assert versions(folder) == [] and archived(app) == []


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

    def waits() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "service.notices.produce"]

    second = threading.Thread(target=write, args=("second",))
    with Paused(app, "INSERT INTO notice_files", lambda: write("first")):  # placed, uncommitted
        second.start()
        wait_until(  # it says so once it found the lock taken, then blocks on it
            lambda: (
                (waits() and _blocked_on_the_notice_lock(app, request)) or not second.is_alive()
            ),
            "the second writer to wait for the first, or to end",
        )
    second.join(PATIENCE)
    assert [w.new for w in outcomes["first"].files] == [True]
    assert [(w.version, w.new) for w in outcomes["second"].files] == [(1, False)]
    assert versions(out / "congvan-BINHTHANH-2024-09") == ["v1.docx"]
    assert archived(app) == [("docx", 1)]
    if app.engine.dialect.name == "postgresql":
        assert waits() == [
            "another process is writing the congvan of BINHTHANH for 2024-09: waiting for it"
        ]
    else:
        lock = notice_lock_path(app.engine.url.database)
        assert waits() == [
            f"another process is writing notices of this database ({lock}): waiting for it"
        ]


def _blocked_on_the_notice_lock(app, request: Request) -> bool:
    """PostgreSQL: the notice's advisory lock asked for and not granted (`pg_locks` gives
    a bigint key as its high and low 32 bits); SQLite: a process waiting for the notice
    lock file (`/proc/locks` lists a blocked `flock` with "->", by its file's inode)."""
    if app.engine.dialect.name == "postgresql":
        key = notice_lock_key(request) & 0xFFFFFFFFFFFFFFFF
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = :high AND objid = :low AND objsubid = 1"
        )
        with app.sessions()() as session:
            return bool(session.scalar(query, {"high": key >> 32, "low": key & 0xFFFFFFFF}))
    lock = notice_lock_path(app.engine.url.database)
    if lock is None or not lock.exists():
        return False
    inode = f":{lock.stat().st_ino} "
    return any(
        "->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines()
    )


def test_writers_of_one_folder_share_its_lock_whatever_their_scheme() -> None:
    """The folder and the archive name a notice by kind, unit and period, so its
    PostgreSQL lock does too: a provincial Báo cáo and the national one of the same unit
    and month wait for each other (else the second settled the first's manifest while
    it was still placing)."""
    national = Request("baocao", "H44", Period.parse("2026-08"))
    provincial = Request("baocao", "H44", Period.parse("2026-08"), scheme="provincial:H44")
    assert notice_lock_key(national) == notice_lock_key(provincial)
    assert notice_lock_key(national) != notice_lock_key(Request("congvan", "H44", national.period))


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
