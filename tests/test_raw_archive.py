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
from service import sync
from service.config import PortalSettings
from service.models import FetchRun, FigureSet, RawBody, RawResponse, Snapshot
from service.periods import Period
from service.portal.client import PortalClient
from service.raw_archive import answers_of, body_of
from service.simulator.simulator import Fault, GeneratedSource, PortalSimulator, ReplaySource
from service.sync import ProvinceListing, sync_province
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
            for table in (RawResponse, RawBody, Snapshot, FigureSet)
        }


def sync_on(sessions: sessionmaker[Session], simulator: PortalSimulator, day: int) -> int:
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    outcome = sync_province(sessions, settings, "H44", AUGUST, dt.date(2026, 8, day))
    assert outcome.status == "ok", outcome.error
    return outcome.run_id


def test_a_second_day_with_the_same_answers_adds_only_their_metadata(sessions, simulator):
    sync_on(sessions, simulator, 20)
    first = counts(sessions)
    sync_on(sessions, simulator, 21)
    second = counts(sessions)
    assert second["raw_responses"] == first["raw_responses"] + 7  # the seven datasets again
    assert (second["raw_bodies"], second["snapshots"], second["figure_sets"]) == (
        first["raw_bodies"],
        first["snapshots"],
        first["figure_sets"],
    )
    with sessions() as session:
        latest = session.scalar(select(func.max(Snapshot.last_seen)))
        for response in session.scalars(select(RawResponse)):
            body = body_of(session, response)
            assert hashlib.sha256(body).hexdigest() == response.body_sha256
            assert len(body) == response.body_size
    assert latest == dt.date(2026, 8, 21)


def answered(sessions: sessionmaker[Session], run_id: int) -> list[tuple[str, str, bytes]]:
    with sessions() as session:
        return [
            (a.endpoint, a.request_body, body_of(session, a)) for a in answers_of(session, run_id)
        ]


def test_a_run_answered_exactly_as_the_one_before_names_it_instead_of_a_copy(sessions, simulator):
    sync_on(sessions, simulator, 20)  # asks the province list too
    second = sync_on(sessions, simulator, 21)
    before = counts(sessions)
    third = sync_on(sessions, simulator, 22)
    fourth = sync_on(sessions, simulator, 23)
    assert counts(sessions) == before  # not one row more for two more days
    with sessions() as session:
        named = [session.get_one(FetchRun, run).answers_as_run for run in (second, third, fourth)]
    assert named == [None, second, second]
    assert answered(sessions, fourth) == answered(sessions, second) != []
    simulator.inject(Fault("5xx", endpoint="transparency", times=1))
    fifth = sync_on(sessions, simulator, 24)  # one answer differs: every row is kept
    assert counts(sessions)["raw_responses"] == before["raw_responses"] + 8
    assert [status for (status,) in _statuses(sessions, fifth)].count(503) == 1


def _statuses(sessions: sessionmaker[Session], run_id: int) -> list[tuple[int]]:
    with sessions() as session:
        return [(a.http_status,) for a in answers_of(session, run_id)]


def test_housekeeping_keeps_answers_a_newer_run_received_again(app, sessions, simulator):
    first = sync_on(sessions, simulator, 20)
    second = sync_on(sessions, simulator, 21)
    third = sync_on(sessions, simulator, 22)
    with sessions.begin() as session:  # the answers are old; the run naming them is not
        for response in session.scalars(select(RawResponse)):
            response.fetched_at -= dt.timedelta(days=100)
        session.get_one(FetchRun, first).started_at -= dt.timedelta(days=100)
        session.get_one(FetchRun, second).started_at -= dt.timedelta(days=100)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    context = Context(app, "test", clock=lambda: now, term=take_term(sessions, "test", now))
    assert housekeeping(context, now.date().isoformat()) == 8  # the first run's only
    assert len(answered(sessions, third)) == 7


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


def archived_endpoints(sessions: sessionmaker[Session], run_id: int) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(
                select(RawResponse.endpoint)
                .where(RawResponse.fetch_run_id == run_id)
                .order_by(RawResponse.id)
            )
        )


def test_a_run_blocked_on_a_later_dataset_keeps_every_answer_it_received(sessions, simulator):
    simulator.inject(Fault("403", endpoint="dossier-digitized", times=-1))
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    outcome = sync_province(sessions, settings, "H44", AUGUST, dt.date(2026, 8, 20))
    assert outcome.kind == "blocked"
    asked = [endpoint for endpoint, _body in simulator.requests_log]
    assert archived_endpoints(sessions, outcome.run_id) == asked  # the 403 page included
    assert asked[-1] == "dossier-digitized" and len(asked) > 2


def test_a_bug_while_reading_keeps_the_answers_and_records_the_run(
    sessions, simulator, monkeypatch: pytest.MonkeyPatch
):
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug in the parser")

    monkeypatch.setattr(sync, "read_plain", broken)
    settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
    with pytest.raises(RuntimeError):
        sync_province(sessions, settings, "H44", AUGUST, dt.date(2026, 8, 20))
    with sessions() as session:
        run = session.scalars(select(FetchRun)).one()
    assert (run.status, run.error_kind) == ("failed", "internal")
    asked = [endpoint for endpoint, _body in simulator.requests_log]
    assert archived_endpoints(sessions, run.id) == asked and len(asked) == 8  # list + 7


def test_several_provinces_in_one_run_ask_for_the_province_list_once(sessions):
    source = GeneratedSource(seed=5, provinces=3, communes=6, agencies=3)
    with PortalSimulator(source) as running:
        settings = FAST_PORTAL.model_copy(update={"base_url": running.base_url})
        listing = ProvinceListing()
        codes = [row["departmentCode"] for row in listing.rows(client_of(settings), AUGUST)]
        for code in codes:
            outcome = sync_province(
                sessions, settings, code, AUGUST, dt.date(2026, 9, 1), listing=listing
            )
            assert outcome.status == "ok", outcome.error
        lists = [body for _, body in running.requests_log if "departmentType" in body]
    assert len(codes) == 3 and len(lists) == 1  # this test's own call; no sync asked again
    assert len(running.requests_log) == 1 + 7 * len(codes)


def client_of(settings: PortalSettings) -> PortalClient:
    return PortalClient(settings, archive=lambda _response: None)
