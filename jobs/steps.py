"""What the leader runs, one step at a time: the catch-up pass, the sync slot, the
heartbeat; and what every instance runs, the outbox. Each step is a coroutine of a
`work.Context`; the scheduler (`jobs/scheduler.py`) decides when.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from jobs import work
from jobs.leader import heartbeat
from jobs.plan import (
    Due,
    expected_finals,
    expected_notices,
    expected_reports,
    expected_syncs,
    notice_scope,
    slot_key,
)
from service import claims
from service.calendar import work_calendar
from service.clock import LOCAL_TZ
from service.delivery.outbox import SendReport
from service.scoring.tt01 import TT01_KIND

log = logging.getLogger("dvcwatch.scheduler")
OVERDUE_GRACE = dt.timedelta(hours=2)


def expected(context: work.Context, start: dt.datetime, end: dt.datetime) -> list[Due]:
    """Every run the schedule expects in (start, end] (aware times)."""
    settings = context.app.settings
    provinces = [watch.province for watch in settings.watch]
    units = settings.notices.units
    notices = [notice_scope(u.kind, u.unit, u.scheme) for u in units if u.scheme != TT01_KIND]
    reports = [notice_scope(u.kind, u.unit, u.scheme) for u in units if u.scheme == TT01_KIND]
    calendar = work_calendar(settings)
    syncs = (
        []
        if settings.schedules.sync_every_seconds
        else expected_syncs(settings.schedules.sync, provinces, start, end)
    )
    return [
        *syncs,
        *expected_finals(provinces, start, end),
        *expected_notices(calendar, settings.notices.working_day, notices, start, end),
        *expected_reports(calendar, settings.notices.working_day, reports, start, end),
    ]


def overdue(context: work.Context, now: dt.datetime) -> list[str]:
    """Expected runs older than the grace period that have not succeeded."""
    end = now.replace(tzinfo=dt.UTC) - OVERDUE_GRACE
    start = end - dt.timedelta(days=context.app.settings.schedules.catch_up_days)
    sessions = context.app.sessions()
    return [
        f"{due.job} {due.scope} {due.period}"
        for due in expected(context, start, end)
        if not claims.done(sessions, due.job, due.scope, due.period)
    ]


async def catch_up(context: work.Context) -> int:
    """Run every expected (job, scope, period) of the last days that has not succeeded."""
    now = context.clock().replace(tzinfo=dt.UTC)
    start = now - dt.timedelta(days=context.app.settings.schedules.catch_up_days)
    ran = 0
    for due in sorted(expected(context, start, now), key=lambda d: d.at):
        if claims.done(context.app.sessions(), due.job, due.scope, due.period):
            continue
        job = work.run_notices if due.job == "notices" else work.run_sync
        ran += bool(await asyncio.to_thread(job, context, due))
    return ran


async def sync_now(context: work.Context) -> None:
    """The scheduled sync slot that fires now, for every watched province."""
    moment = context.clock().replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ)
    by_interval = context.app.settings.schedules.sync_every_seconds is not None
    for watch in context.app.settings.watch:
        due = Due("sync", watch.province, slot_key(moment, seconds=by_interval), moment)
        await asyncio.to_thread(work.run_sync, context, due)


async def beat(context: work.Context) -> None:
    """The leader's heartbeat; `Deposed` when the leadership row has a newer term."""
    sessions, owner, term = context.app.sessions(), context.owner, context.term
    if not await asyncio.to_thread(heartbeat, sessions, owner, term):
        raise claims.Deposed(f"the leadership row no longer names it for term {term}", term)


async def deliver(context: work.Context) -> SendReport:
    report = await work.deliver(context)
    if report.sent or report.failed or report.retried:
        log.info("outbox: sent %d, retry %d, failed %d", report.sent, report.retried, report.failed)
    return report
