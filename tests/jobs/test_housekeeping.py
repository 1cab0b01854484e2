"""Housekeeping drops raw responses past their retention, once a day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jobs.leader import take_term
from jobs.work import Context, housekeeping
from service.models import FetchRun, RawResponse

NOW = dt.datetime(2026, 9, 10, 3, 0)


def test_raw_responses_older_than_the_retention_go_and_newer_ones_stay(app, sessions):
    with sessions.begin() as session:
        run = FetchRun(job="sync", scope="H44", period="2026-06")
        session.add(run)
        session.flush()
        for days in (120, 91, 10):
            session.add(
                RawResponse(
                    fetch_run_id=run.id,
                    endpoint="transparency",
                    request_body="{}",
                    fetched_at=NOW - dt.timedelta(days=days),
                    body=b"x",
                    body_sha256="0" * 64,
                    body_size=1,
                )
            )
    context = Context(app, "test", clock=lambda: NOW, term=take_term(sessions, "test", NOW))
    assert housekeeping(context, "2026-09-10") == 2
    assert housekeeping(context, "2026-09-10") == 0  # once a day
    with sessions() as session:
        kept = session.scalars(select(RawResponse.fetched_at)).all()
    assert kept == [NOW - dt.timedelta(days=10)]
