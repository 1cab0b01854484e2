"""Runs left `running` are closed when nobody is doing them any more: their process is
gone, or it stopped renewing its lease (on any host, this one too: a leader deposed
mid-sync stays alive as a standby and never finishes the run it began)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from jobs.leader import take_term
from service import claims
from service import sync as sync_module
from service.clock import utcnow
from service.models import FetchRun, RunStatus
from service.runs import LEASE, close_abandoned, start_run
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO
from tests.test_sync import AUGUST, TODAY


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    with PortalSimulator(ReplaySource(PHU_THO)) as running:
        yield running


def the_run(sessions: sessionmaker[Session], run_id: int) -> FetchRun:
    with sessions() as session:
        return session.get_one(FetchRun, run_id)


def test_a_run_of_a_live_process_of_this_host_is_left_alone_past_its_lease(sessions):
    """A slow exchange (a long backoff, a frozen VM) is not a dead process: its run is
    not closed under it, to be finished as `ok` with an error on it."""
    run_id = start_run(sessions, "sync", "H44", "2026-08")  # owned by this live process
    later = utcnow() + LEASE + dt.timedelta(minutes=1)
    assert close_abandoned(sessions, later) == 0
    assert the_run(sessions, run_id).status == RunStatus.RUNNING


def test_a_leader_deposed_midway_closes_its_run_and_says_so_in_one_warning(
    sessions, simulator, monkeypatch, caplog
):
    """The term changes while the sync parses (another leader took over): its store is
    refused by the fence; the process logs one warning, no traceback, no error, and
    closes its own run (its only write, outside the fence): a deposed leader stays alive
    as a standby, so nothing else would."""
    term = take_term(sessions, "old", utcnow())
    parse = sync_module.read_plain

    def taken_over_meanwhile(*args: object, **kwargs: object) -> object:
        take_term(sessions, "new", utcnow())
        return parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sync_module, "read_plain", taken_over_meanwhile)
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    caplog.set_level(logging.INFO)
    with pytest.raises(claims.Deposed):
        sync_province(claims.fenced(sessions, term), settings, "H44", AUGUST, TODAY)
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in said] == [logging.WARNING]
    assert said[0].getMessage().startswith("sync run ") and said[0].exc_info is None
    assert "lost the leadership during the sync" in said[0].getMessage()
    with sessions() as session:
        [run] = session.query(FetchRun).all()
    assert (run.status, run.error_kind) == (RunStatus.FAILED, "deposed")
    assert str(run.error).startswith("this process lost the leadership during the sync: ")


def test_a_run_closed_meanwhile_that_finishes_is_ok_without_the_closing_error(
    sessions, simulator, monkeypatch
):
    """Another host closed it (its lease seemed to pass: a frozen VM) while it parsed: it
    did finish, so it is `ok` and says nothing of having been abandoned."""
    parse = sync_module.read_plain

    def closed_meanwhile(*args: object, **kwargs: object) -> object:
        with sessions.begin() as session:
            for run in session.query(FetchRun).all():
                run.status, run.error_kind, run.error = RunStatus.FAILED, "abandoned", "x"
        return parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sync_module, "read_plain", closed_meanwhile)
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    outcome = sync_province(sessions, settings, "H44", AUGUST, TODAY)
    run = the_run(sessions, outcome.run_id)
    assert (run.status, run.error_kind, run.error) == (RunStatus.OK, None, None)


def test_a_failure_recorded_while_the_run_is_being_stored_is_overwritten_whole(sessions, simulator):
    """A failure committed (Ctrl-C in the other process of `dvcwatch sync`) between the
    store reading its run and writing its success: the run is `ok` with no error kind
    left behind. PostgreSQL: there the two write at once (with the run's fields written
    only where they changed since read, it was `ok` and `interrupted`)."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the failure could not commit meanwhile")

    failed: list[bool] = []

    def fail_it_first(_conn, _cursor, statement, parameters, _context, _many) -> None:
        success = statement.startswith("UPDATE fetch_runs SET status") and "ok" in str(parameters)
        if success and not failed:
            failed.append(True)
            sync_module._finish_failed(
                sessions, run_id, RunStatus.FAILED, "interrupted", "Ctrl-C (SIGINT)"
            )

    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    run_id = start_run(sessions, "sync", "H44", str(AUGUST))
    run = sync_module._Run(sessions, settings, "H44", AUGUST, TODAY, None, None, None)
    run.id = run_id
    answers = run.fetch()
    prepared = sync_module.prepare(answers.province, answers.bodies)
    event.listen(engine, "before_cursor_execute", fail_it_first)
    try:
        sync_module.store(sessions, run_id, sync_module.snapshot_key(AUGUST, TODAY), prepared)
    finally:
        event.remove(engine, "before_cursor_execute", fail_it_first)
    assert failed  # the failure did come first
    stored = the_run(sessions, run_id)
    assert (stored.status, stored.error_kind, stored.error) == (RunStatus.OK, None, None)
