"""How a job ends when it fails: recorded on its claim and its run, logged at the right
level, a traceback only for a bug, a misconfigured province said once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from jobs import work
from jobs.plan import Due
from service.claims import JobClaim
from service.clock import LOCAL_TZ
from service.config import NoticeSettings, NoticeUnit, ProvinceWatch
from service.models import FetchRun
from service.simulator.simulator import GeneratedSource, PortalSimulator
from tests.jobs.test_catch_up import Clock, context_for

MOMENT = dt.datetime(2026, 9, 3, 10, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def portal() -> Iterator[PortalSimulator]:
    with PortalSimulator(GeneratedSource(seed=5, provinces=1, communes=2, agencies=1)) as running:
        yield running


def due(job: str, scope: str, period: str) -> Due:
    return Due(job, scope, period, MOMENT)


def claims_of(app) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    with app.sessions()() as session:
        rows = session.execute(
            select(JobClaim.job, JobClaim.scope, JobClaim.period, JobClaim.status, JobClaim.error)
        ).all()
    return {(job, scope, period): (status, error) for job, scope, period, status, error in rows}


def test_a_bug_inside_a_sync_is_recorded_and_logged_with_its_traceback(
    app, portal, tmp_path, monkeypatch, caplog
):
    context = context_for(app, portal, Clock(MOMENT), tmp_path)

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("service.sync.read_plain", broken)  # stands for any bug
    with caplog.at_level(logging.INFO, logger="dvcwatch.jobs"):
        assert work.run_sync(context, due("sync-final", "H01", "2026-08")) is False
    assert claims_of(app)[("sync-final", "H01", "2026-08")] == ("failed", "RuntimeError: a bug")
    with app.sessions()() as session:
        run = session.scalars(select(FetchRun)).one()
    assert (run.status, run.error_kind, run.error) == ("failed", "internal", "RuntimeError: a bug")
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.ERROR and record.exc_info is not None


def test_a_watched_province_the_portal_does_not_list_is_said_once(app, portal, tmp_path, caplog):
    context = context_for(app, portal, Clock(MOMENT), tmp_path)
    settings = context.app.settings.model_copy(update={"watch": (ProvinceWatch(province="H98"),)})
    context.app.settings = settings
    with caplog.at_level(logging.INFO, logger="dvcwatch.jobs"):
        assert work.run_sync(context, due("sync", "H98", "2026-09-03T07:30")) is False
        assert work.run_sync(context, due("sync", "H98", "2026-09-03T16:30")) is False
    said = [r for r in caplog.records if "H98" in r.getMessage() and r.levelno >= logging.WARNING]
    assert len(said) == 1 and said[0].levelno == logging.ERROR
    assert "[[watch]] province H98" in said[0].getMessage() and said[0].exc_info is None
    with app.sessions()() as session:
        jobs = set(session.scalars(select(FetchRun.job)))
    assert jobs == {"province-check"}  # no "sync" scope H98 for a stale-sync alert


@pytest.mark.parametrize("scope", ["congvan:H01.101", "congvan:H01.999"])
def test_a_notice_with_no_figures_yet_is_a_warning_without_traceback(
    app, portal, tmp_path, caplog, scope
):
    context = context_for(app, portal, Clock(MOMENT), tmp_path)
    notices = NoticeSettings(out_dir=tmp_path / "out", units=(NoticeUnit(unit=scope[8:]),))
    context.app.settings = context.app.settings.model_copy(update={"notices": notices})
    with caplog.at_level(logging.INFO, logger="dvcwatch.jobs"):
        assert work.run_notices(context, due("notices", scope, "2026-08")) is False
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "--unit" not in record.getMessage() and "not written" in record.getMessage()
    status, error = claims_of(app)[("notices", scope, "2026-08")]
    assert status == "failed" and error and "2026-08" in error
    assert not (tmp_path / "out").exists()
