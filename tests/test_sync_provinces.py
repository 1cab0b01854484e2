"""A sync of several provinces reads each one's answers in a second process while it
fetches the next: what it stores and records is what syncing them one by one does."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service import sync
from service.app import App
from service.config import Settings
from service.db import DatabaseError
from service.models import FetchRun
from service.periods import Period
from service.second_process import SecondProcessFailed
from service.simulator.simulator import Fault, GeneratedSource, PortalSimulator
from service.snapshots import latest_units
from service.sync import SyncOutcome, sync_province, sync_provinces
from tests.conftest import FAST_PORTAL
from tests.waiting import PATIENCE, Gate, wait_until

AUGUST = Period.parse("2026-08")
TODAY = dt.date(2026, 9, 10)
PROVINCES = ["H01", "H02", "H03"]


@pytest.fixture
def portal() -> Iterator[PortalSimulator]:
    with PortalSimulator(GeneratedSource(seed=7, provinces=3, communes=30, agencies=4)) as running:
        yield running


def all_of(
    sessions: sessionmaker[Session], portal: PortalSimulator, refs: list[str] = PROVINCES, **kw: Any
) -> list[SyncOutcome]:
    settings = FAST_PORTAL.model_copy(update={"base_url": portal.base_url})
    return list(sync_provinces(sessions, settings, refs, AUGUST, TODAY, **kw))


def one_by_one(sessions: sessionmaker[Session], portal: PortalSimulator) -> list[SyncOutcome]:
    settings = FAST_PORTAL.model_copy(update={"base_url": portal.base_url})
    return [sync_province(sessions, settings, ref, AUGUST, TODAY) for ref in PROVINCES]


def stored(sessions: sessionmaker[Session]) -> dict[str | None, tuple[Any, ...]]:
    with sessions() as session:
        return {
            unit.code: (unit.name, unit.group, unit.parent_code, unit.as_of, unit.figures)
            for unit in latest_units(session, "766", str(AUGUST))
        }


def runs(sessions: sessionmaker[Session]) -> list[tuple[str, str | None, str]]:
    with sessions() as session:
        rows = session.execute(
            select(FetchRun.status, FetchRun.error_kind, FetchRun.scope).order_by(FetchRun.id)
        )
        return [(status, kind, scope) for status, kind, scope in rows]


@pytest.fixture
def other(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A second database, for the same provinces synced one by one."""
    app = App(Settings.model_validate({"database": {"url": f"sqlite:///{tmp_path / 'b.db'}"}}))
    app.upgrade()
    yield app.sessions()
    app.engine.dispose()


def test_provinces_synced_together_are_stored_as_one_by_one(sessions, other, portal):
    together = all_of(sessions, portal)
    assert [outcome.status for outcome in together] == ["ok"] * 3
    asked = len(portal.requests_log)
    alone = one_by_one(other, portal)
    assert asked == 1 + 7 * 3  # one province list for the three
    drop = ("run_id",)
    assert [_fields(o, drop) for o in together] == [_fields(o, drop) for o in alone]
    assert stored(sessions) == stored(other) and len(stored(sessions)) == 3 + 30 + 4
    assert multiprocessing.active_children() == []  # the second process has ended


def _fields(outcome: SyncOutcome, drop: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in vars(outcome).items() if key not in drop}


def test_a_province_whose_answers_fail_their_checks_fails_alone(sessions, other, portal):
    """The second process's `ParseError` is the run's, word for word as one by one."""
    portal.inject(Fault("missing_field", endpoint="transparency", times=1, field="metrics"))
    together = all_of(sessions, portal)
    portal.inject(Fault("missing_field", endpoint="transparency", times=1, field="metrics"))
    alone = one_by_one(other, portal)
    assert [(o.status, o.kind) for o in together] == [
        ("failed", "parse"),
        ("ok", None),
        ("ok", None),
    ]
    assert together[0].error == alone[0].error and "'metrics'" in str(together[0].error)
    assert [run[:2] for run in runs(sessions)] == [("failed", "parse"), ("ok", None), ("ok", None)]
    assert stored(sessions) == stored(other)


def test_a_bug_in_the_second_process_ends_every_open_run_and_is_raised(
    sessions, portal, monkeypatch
):
    """A bug is a traceback (the other process's, in the message) and no run is left
    running: the run whose answers were read, and the one fetched meanwhile."""
    real, calls = sync._done, []

    def broken(part: Any) -> Any:
        calls.append(part)  # in the second process: its own list
        if len(calls) == 2:
            raise RuntimeError("a bug while reading")
        return real(part)

    monkeypatch.setattr(sync, "_done", broken)  # its part: reading (SQLite), storing (PG)
    settings = FAST_PORTAL.model_copy(update={"base_url": portal.base_url})
    outcomes: list[SyncOutcome] = []
    with pytest.raises(SecondProcessFailed, match="RuntimeError: a bug while reading"):
        for outcome in sync_provinces(sessions, settings, PROVINCES, AUGUST, TODAY):
            outcomes.append(outcome)
    assert [o.status for o in outcomes] == ["ok"]
    assert [run[:2] for run in runs(sessions)] == [
        ("ok", None),
        ("failed", "internal"),  # its answers were being read
        ("failed", "internal"),  # fetched meanwhile, never read
    ]
    assert multiprocessing.active_children() == []


def test_ctrl_c_mid_sync_ends_every_open_run_but_a_province_being_stored(sessions, portal):
    """Ctrl-C during H02's fetch, H01's answers with the second process. On PostgreSQL
    that process stores them: it finishes, the run `ok` whichever process records
    first. On SQLite this process would have stored them next: H01 is `interrupted`
    with H02, and nothing is stored."""

    def told(index: int) -> sync.Say:
        def say(message: str) -> None:
            if index == 1 and message.startswith("[3/7]"):
                raise KeyboardInterrupt

        return say

    with pytest.raises(KeyboardInterrupt):
        all_of(sessions, portal, progress=told)
    interrupted = ("failed", "interrupted")
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert [run[:2] for run in runs(sessions)] == [("ok", None), interrupted]
        assert {code.split(".")[0] for code in stored(sessions) if code} == {"H01"}
    else:
        assert [run[:2] for run in runs(sessions)] == [interrupted, interrupted]
        assert stored(sessions) == {}
    assert multiprocessing.active_children() == []


def test_a_run_that_finished_is_never_recorded_failed(sessions, portal):
    """The second process may commit a run's success before this one, interrupted,
    records the run's end: that record leaves the success alone."""
    (outcome,) = all_of(sessions, portal, ["H01"])
    sync._finish_failed(sessions, outcome.run_id, "failed", "interrupted", "Ctrl-C")
    assert runs(sessions) == [("ok", None, "H01")]


def test_the_second_process_ends_with_a_killed_sync(tmp_path, portal):
    """SIGKILL leaves no orphan: the second process reads the end of its pipe and exits."""
    command, gate = _held_sync(f"sqlite:///{tmp_path / 'k.db'}", portal)
    killed = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: gate.held, "the sync to wait on the portal")
        (second,) = wait_until(lambda: _children(killed.pid), "the sync's second process")
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=PATIENCE)
        wait_until(lambda: not _alive(second), "the second process to end")
    finally:
        gate.open()
        killed.kill()


def test_sigterm_to_the_process_group_is_a_clean_stop(tmp_path, portal):
    """systemd stops a unit by SIGTERM to every process of it: the command stops as one
    (exit 143, its run `interrupted`, no traceback), its second process with it."""
    database = f"sqlite:///{tmp_path / 't.db'}"
    command, gate = _held_sync(database, portal)
    stopped = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_until(lambda: gate.held, "the sync to wait on the portal")
        (second,) = wait_until(lambda: _children(stopped.pid), "the sync's second process")
        os.killpg(stopped.pid, signal.SIGTERM)
        _, error = stopped.communicate(timeout=PATIENCE)
        wait_until(lambda: not _alive(second), "the second process to end")
    finally:
        gate.open()
        stopped.kill()
    assert stopped.returncode == 143, error
    assert "Traceback" not in error
    app = App(Settings.model_validate({"database": {"url": database}}))
    assert runs(app.sessions()) == [("failed", "interrupted", "H01")]
    app.engine.dispose()


def _held_sync(database: str, portal: PortalSimulator) -> tuple[list[str], Gate]:
    """`dvcwatch sync` of the three provinces into a migrated `database`, and the gate
    that will hold H01's first slow answer at the portal."""
    dvcwatch = [str(Path(sys.executable).parent / "dvcwatch"), "--db", database]
    subprocess.run([*dvcwatch, "db", "upgrade"], check=True, capture_output=True)
    portal.sleep = gate = Gate()
    portal.inject(Fault("delay", endpoint="dvc-progress-tree", times=1, seconds=60))
    command = [*dvcwatch, "sync", "--period", "2026-08", "--portal-url", portal.base_url]
    for ref in PROVINCES:
        command += ["--province", ref]
    return command, gate


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    """Running, not a zombie nobody has reaped yet (PID 1 of a container may not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_a_second_process_killed_mid_sync_leaves_the_rest_to_this_one(
    sessions, other, portal, caplog
):
    """The OOM killer takes the second process while H02 is fetched: its part of H01
    (read, or stored: the store is idempotent) and of the others is done here, with one
    warning; everything is stored as one by one stores it."""

    def told(index: int) -> sync.Say:
        def say(message: str) -> None:
            if index == 1 and message.startswith("[3/7]"):
                (second,) = multiprocessing.active_children()
                os.kill(second.pid, signal.SIGKILL)
                second.join(PATIENCE)

        return say

    together = all_of(sessions, portal, progress=told)
    alone = one_by_one(other, portal)
    assert [outcome.status for outcome in together] == ["ok"] * 3
    assert stored(sessions) == stored(other)
    assert [_fields(o, ("run_id",)) for o in together][1:] == [
        _fields(o, ("run_id",)) for o in alone
    ][1:]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "killed by signal 9" in warnings[0], warnings


def test_a_database_failure_in_the_second_process_is_one_line(sessions, portal, monkeypatch):
    """On PostgreSQL the second process stores: a database it cannot use is the one line
    `dvcwatch` prints for a database failure (no password, no traceback), and the runs
    it ends are recorded with that line."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("the second process stores only on PostgreSQL")
    engine = sessions.kw["bind"]
    gone = engine.url.set(database="dvcwatch_no_such_database", password="S3cretPW")
    missing = gone.render_as_string(hide_password=False)
    real = sync._sessions_of
    monkeypatch.setattr(sync, "_sessions_of", lambda _database: real(missing))
    with pytest.raises(DatabaseError) as failure:
        all_of(sessions, portal)
    line = str(failure.value)
    assert "dvcwatch_no_such_database" in line and "S3cretPW" not in line
    assert len(line.splitlines()) == 1 and line.startswith("database postgresql")
    with sessions() as session:
        errors = session.scalars(select(FetchRun.error).order_by(FetchRun.id)).all()
    assert errors[0] == f"DatabaseError: {line}"
    assert [run[:2] for run in runs(sessions)] == [("failed", "internal")] * 2


def test_a_command_that_stops_taking_outcomes_records_the_open_run_interrupted(sessions, portal):
    """The generator closed after H01's outcome (Ctrl-C while a line prints): H02, then
    with the second process, is `interrupted` (on PostgreSQL that process finishes
    storing it: `ok`), never a bug."""
    settings = FAST_PORTAL.model_copy(update={"base_url": portal.base_url})
    outcomes = sync_provinces(sessions, settings, PROVINCES, AUGUST, TODAY)
    assert next(outcomes).status == "ok"
    outcomes.close()
    second = (
        ("ok", None)
        if sessions.kw["bind"].dialect.name == "postgresql"
        else ("failed", "interrupted")
    )
    assert [run[:2] for run in runs(sessions)] == [("ok", None), second]
    with sessions() as session:
        reasons = session.scalars(select(FetchRun.error).order_by(FetchRun.id)).all()
    assert second == ("ok", None) or "the command stopped" in str(reasons[1])


def test_a_second_process_left_open_does_not_hold_the_interpreter_at_exit():
    """multiprocessing's exit handler would wait for ever on a second process that ignores
    SIGTERM and waits for its pipe: `SecondProcess` closes it first."""
    script = (
        "from service.second_process import SecondProcess\n"
        "second = SecondProcess(len)\n"
        "second.send(b'abc')\n"
        "print(second.receive())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=PATIENCE
    )
    assert done.returncode == 0 and done.stdout == "3\n", done.stderr


def test_every_request_but_the_first_follows_a_pause_across_provinces(
    sessions, portal, monkeypatch
):
    """The portal's pause separates one province's last request from the next one's
    first as it separates the requests of one province."""
    paused: list[str] = []

    class Counting(sync.PortalClient):
        def _wait(self, endpoint: str, url: str, seconds: float) -> None:
            paused.append(endpoint)

    monkeypatch.setattr(sync, "PortalClient", Counting)
    settings = FAST_PORTAL.model_copy(
        update={"base_url": portal.base_url, "pause_seconds": (0.0, 0.001)}
    )
    outcomes = list(sync_provinces(sessions, settings, PROVINCES, AUGUST, TODAY))
    assert [outcome.status for outcome in outcomes] == ["ok"] * 3
    assert len(portal.requests_log) == 1 + 7 * 3
    assert len(paused) == len(portal.requests_log) - 1
