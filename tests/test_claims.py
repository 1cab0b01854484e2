"""Claim, then act: one winner per (job, scope, period), on SQLite and PostgreSQL; and a
claim, its completion or a job's write from a deposed leader refused by the database."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, text

from jobs.leader import take_term
from service import claims
from service.claims import JobClaim, Leadership
from service.models import FetchRun
from tests.waiting import PATIENCE, blocks_another, wait_until

NOW = dt.datetime(2026, 9, 10, 3, 0)


def test_the_first_claim_wins_and_a_second_owner_loses(sessions):
    term = take_term(sessions, "a", NOW)
    assert claims.claim(sessions, "sync", "H44", "2026-09-10T07:30", "a", NOW, term)
    assert not claims.claim(sessions, "sync", "H44", "2026-09-10T07:30", "b", NOW, term)


def test_a_done_period_is_skipped(sessions):
    term = take_term(sessions, "a", NOW)
    claims.claim(sessions, "sync-final", "H44", "2026-08", "a", NOW, term)
    assert claims.finish(sessions, "sync-final", "H44", "2026-08", "a", NOW, term)
    assert claims.done(sessions, "sync-final", "H44", "2026-08")
    assert not claims.claim(sessions, "sync-final", "H44", "2026-08", "a", NOW, term)


def test_a_failed_run_may_be_taken_again(sessions):
    term = take_term(sessions, "a", NOW)
    claims.claim(sessions, "sync-final", "H44", "2026-08", "a", NOW, term)
    claims.finish(sessions, "sync-final", "H44", "2026-08", "a", NOW, term, error="HTTP 503")
    assert claims.claim(sessions, "sync-final", "H44", "2026-08", "b", NOW, term)
    assert not claims.done(sessions, "sync-final", "H44", "2026-08")


def test_a_claim_held_too_long_by_a_dead_owner_is_taken_over(sessions):
    term = take_term(sessions, "a", NOW)
    claims.claim(sessions, "notices", "congvan:H44.116", "2026-08", "dead", NOW, term)
    later = NOW + dt.timedelta(hours=2)
    assert claims.claim(sessions, "notices", "congvan:H44.116", "2026-08", "alive", later, term)
    assert not claims.finish(sessions, "notices", "congvan:H44.116", "2026-08", "dead", later, term)


def test_each_new_leader_takes_the_next_term(sessions):
    assert [take_term(sessions, owner, NOW) for owner in ("a", "b", "a")] == [1, 2, 3]
    with sessions() as session:
        row = session.get_one(Leadership, claims.SCHEDULER)
    assert (row.owner, row.term) == ("a", 3)


def test_a_new_leader_abandons_what_earlier_terms_left_running(sessions):
    old = take_term(sessions, "old", NOW)
    claims.claim(sessions, "sync-final", "H44", "2026-08", "old", NOW, old)
    new = take_term(sessions, "new", NOW)
    claims.claim(sessions, "sync-final", "H45", "2026-08", "new", NOW, new)
    assert claims.abandon_earlier(sessions, "new", new, NOW) == 1
    assert claims.claim(sessions, "sync-final", "H44", "2026-08", "new", NOW, new)


def test_a_claim_under_a_stale_term_is_refused(sessions):
    old = take_term(sessions, "old", NOW)
    take_term(sessions, "new", NOW)
    with pytest.raises(claims.Deposed, match=f"term {old} is over"):
        claims.claim(sessions, "sync", "H44", "2026-09-10T07:30", "old", NOW, old)
    with sessions() as session:
        assert session.scalars(select(JobClaim)).all() == []


def test_retaking_a_failed_claim_under_a_stale_term_is_refused(sessions):
    old = take_term(sessions, "old", NOW)
    claims.claim(sessions, "sync-final", "H44", "2026-08", "old", NOW, old)
    claims.finish(sessions, "sync-final", "H44", "2026-08", "old", NOW, old, error="HTTP 503")
    take_term(sessions, "new", NOW)
    with pytest.raises(claims.Deposed):
        claims.claim(sessions, "sync-final", "H44", "2026-08", "old", NOW, old)
    with sessions() as session:
        row = session.scalars(select(JobClaim)).one()
    assert (row.status, row.term, row.attempts) == ("failed", old, 1)


def test_the_completion_of_a_deposed_leaders_claim_is_refused(sessions):
    old = take_term(sessions, "old", NOW)
    claims.claim(sessions, "notices", "congvan:H44.116", "2026-08", "old", NOW, old)
    take_term(sessions, "new", NOW)
    with pytest.raises(claims.Deposed):
        claims.finish(sessions, "notices", "congvan:H44.116", "2026-08", "old", NOW, old)
    assert not claims.done(sessions, "notices", "congvan:H44.116", "2026-08")


def test_a_deposed_leaders_fenced_write_is_rolled_back(sessions):
    old = take_term(sessions, "old", NOW)
    fenced = claims.fenced(sessions, old)
    with fenced.begin() as session:
        session.add(FetchRun(job="sync", scope="H44", period="2026-08", status="running"))
    take_term(sessions, "new", NOW)
    with pytest.raises(claims.Deposed), fenced.begin() as session:
        session.add(FetchRun(job="sync", scope="H45", period="2026-08", status="running"))
    with sessions() as session:
        assert session.scalars(select(FetchRun.scope)).all() == ["H44"]


def test_a_claim_racing_a_term_change_waits_for_it_and_is_refused(app, sessions):
    """PostgreSQL: the fence and the term change lock the leadership row against each
    other, so a claim whose statement started before the change commits still loses."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("the row locks are PostgreSQL's; SQLite has one writer at a time")
    old = take_term(sessions, "old", NOW)
    outcome: list[object] = []

    def claim_as_old() -> None:
        try:
            outcome.append(claims.claim(sessions, "sync", "H44", "slot", "old", NOW, old))
        except claims.Deposed as exc:
            outcome.append(exc)

    with sessions.begin() as changing:  # a new leader's term change, not yet committed
        changing.scalar(select(Leadership).with_for_update())
        changing.execute(text("UPDATE leadership SET term = term + 1, owner = 'new'"))
        blocker = changing.scalar(text("SELECT pg_backend_pid()"))
        racer = threading.Thread(target=claim_as_old)
        racer.start()
        wait_until_blocked_by(sessions, blocker)
    racer.join(timeout=PATIENCE)
    assert len(outcome) == 1 and isinstance(outcome[0], claims.Deposed)
    with sessions() as session:
        assert session.scalars(select(JobClaim)).all() == []


def wait_until_blocked_by(sessions, blocker: int) -> None:
    """Until some session waits for a lock that the session `blocker` holds."""
    wait_until(lambda: blocks_another(sessions, blocker), "a claim to wait for the term change")
