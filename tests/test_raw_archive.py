"""The raw archive keeps each distinct answer once, and a day without change adds
metadata only: no copy of the bytes, no copy of the figures."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.leader import take_term
from jobs.work import Context, housekeeping
from service.models import Figure, RawBody, RawResponse, Snapshot
from service.periods import Period
from service.raw_archive import body_of
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO

AUGUST = Period.parse("2026-08")


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    with PortalSimulator(ReplaySource(PHU_THO)) as running:
        yield running


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (RawResponse, RawBody, Snapshot, Figure)
        }


def sync_on(sessions: sessionmaker[Session], simulator: PortalSimulator, day: int) -> None:
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    outcome = sync_province(sessions, settings, "H44", AUGUST, dt.date(2026, 8, day))
    assert outcome.status == "ok", outcome.error


def test_a_second_day_with_the_same_answers_adds_only_their_metadata(sessions, simulator):
    sync_on(sessions, simulator, 20)
    first = counts(sessions)
    sync_on(sessions, simulator, 21)
    second = counts(sessions)
    assert second["raw_responses"] == first["raw_responses"] + 7  # the seven datasets again
    assert (second["raw_bodies"], second["snapshots"], second["figures"]) == (
        first["raw_bodies"],
        first["snapshots"],
        first["figures"],
    )
    with sessions() as session:
        latest = session.scalar(select(func.max(Snapshot.last_seen)))
        for response in session.scalars(select(RawResponse)):
            body = body_of(session, response)
            assert hashlib.sha256(body).hexdigest() == response.body_sha256
            assert len(body) == response.body_size
    assert latest == dt.date(2026, 8, 21)


def test_housekeeping_drops_a_body_only_when_no_response_names_it(app, sessions, simulator):
    sync_on(sessions, simulator, 20)
    sync_on(sessions, simulator, 21)
    with sessions.begin() as session:
        first_run = session.scalar(select(func.min(RawResponse.fetch_run_id)))
        responses = session.scalars(
            select(RawResponse).where(RawResponse.fetch_run_id == first_run)
        ).all()
        for response in responses:  # the first day's answers, past the retention
            response.fetched_at = dt.datetime(2026, 1, 1)
    now = dt.datetime(2026, 9, 10, 3, 0)
    context = Context(app, "test", clock=lambda: now, term=take_term(sessions, "test", now))
    assert housekeeping(context, "2026-09-10") == len(responses) == 8
    kept = counts(sessions)
    assert kept["raw_responses"] == 7 and kept["raw_bodies"] == 7  # the second day's still named
    with sessions.begin() as session:
        for response in session.scalars(select(RawResponse)):
            response.fetched_at = dt.datetime(2026, 1, 1)
    later = dt.datetime(2026, 9, 11, 3, 0)
    context = Context(app, "test", clock=lambda: later, term=take_term(sessions, "test", later))
    assert housekeeping(context, "2026-09-11") == 7
    assert counts(sessions)["raw_bodies"] == 0
