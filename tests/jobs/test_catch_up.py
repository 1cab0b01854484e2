"""After downtime, each missed (job, scope, period) runs exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from jobs.leader import take_term
from jobs.steps import catch_up
from jobs.work import Context
from service.app import App
from service.claims import JobClaim
from service.clock import LOCAL_TZ
from service.config import AlertSettings, ProvinceWatch
from service.models import FetchRun
from service.simulator.simulator import GeneratedSource, PortalSimulator
from tests.conftest import FAST_PORTAL, PROJECT

DIRECTORY = """
[[people]]
id = "vp"
name = "Văn phòng"
units = ["*"]
topics = ["overdue"]
channel = "console"
address = "vp"
"""


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    with PortalSimulator(GeneratedSource(seed=5, provinces=1, communes=6, agencies=1)) as running:
        yield running


class Clock:
    def __init__(self, local: dt.datetime) -> None:
        self.moment = local

    def __call__(self) -> dt.datetime:  # naive UTC, as every job expects
        return self.moment.astimezone(dt.UTC).replace(tzinfo=None)

    def today(self) -> dt.date:
        return self.moment.date()


def context_for(app: App, simulator: PortalSimulator, clock: Clock, tmp_path: Path) -> Context:
    directory = tmp_path / "directory.toml"
    directory.write_text(DIRECTORY, encoding="utf-8")
    alerts = AlertSettings(
        rules_file=PROJECT / "config" / "rules.toml", directory_file=directory, holidays_file=None
    )
    settings = app.settings.model_copy(
        update={
            "watch": (ProvinceWatch(province="H01"),),
            "portal": FAST_PORTAL.model_copy(update={"base_url": simulator.base_url}),
            "alerts": alerts,
        }
    )
    moved = App(settings)
    term = take_term(moved.sessions(), "test-owner", clock())
    return Context(moved, "test-owner", {}, clock, clock.today, term=term)


def claimed(app: App) -> Counter[tuple[str, str]]:
    with app.sessions()() as session:
        rows = session.execute(select(JobClaim.job, JobClaim.period, JobClaim.status)).all()
    assert {status for _, _, status in rows} <= {"ok"}
    return Counter((job, period) for job, period, _ in rows)


def test_a_week_of_downtime_runs_each_missed_period_once(app, simulator, tmp_path):
    clock = Clock(dt.datetime(2026, 9, 3, 10, 0, tzinfo=LOCAL_TZ))
    context = context_for(app, simulator, clock, tmp_path)
    asyncio.run(catch_up(context))
    before = claimed(app)
    clock.moment += dt.timedelta(days=7)
    ran = asyncio.run(catch_up(context))
    after = claimed(app)
    new = after - before
    assert sorted(period for job, period in new if job == "sync") == [
        "2026-09-03T16:30",
        "2026-09-04T07:30",
        "2026-09-07T07:30",
        "2026-09-08T07:30",
        "2026-09-09T07:30",
        "2026-09-10T07:30",
    ]
    assert ran == 6 and set(after.values()) == {1}
    assert ("sync-final", "2026-08") in before  # fetched on the first pass, not again
    assert asyncio.run(catch_up(context)) == 0
    with app.sessions()() as session:
        runs = session.scalars(select(FetchRun.status)).all()
    assert len(runs) == sum(after.values()) and set(runs) == {"ok"}
