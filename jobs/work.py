"""The scheduled jobs, thin: claim the (job, scope, period), call the service, record.

Each function runs one due key. A key already done (or held by another
process) is skipped; a failure is recorded on the claim (the catch-up pass
retries it) and logged, never raised into the scheduler. The one exception
is `claims.Deposed`: before every job the leader asks whether it still holds
its lock, and every write of a job (claim, data, outcome) commits only under
the leader's current term; when either says no, `Deposed` reaches the
scheduler, which steps down.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jobs.plan import Due, notice_scope
from service import claims
from service.alerts import setup
from service.alerts.engine import CONCURRENT_EVALUATION, evaluate, lost_a_race
from service.alerts.lines import alert_lines
from service.app import App
from service.channels.base import Channel
from service.channels.messages import escape_html
from service.clock import local_today, utcnow
from service.config import NoticeUnit
from service.delivery import setup as delivery_setup
from service.delivery.fanout import Told, notice_subject, queue, unit_recipients
from service.delivery.outbox import Outbox, SendReport
from service.models import FetchRun, RawResponse
from service.notice_batch import FAILED, write_batch
from service.notices.caption import notice_caption
from service.notices.produce import Request, Written
from service.periods import Period
from service.raw_archive import drop_unreferenced_bodies
from service.retention import drop_intermediate_readings
from service.sync import UnknownProvince, sync_province

log = logging.getLogger("dvcwatch.jobs")


def _holding() -> str | None:
    return None


@dataclass
class Context:
    """What every job needs: the application, who we are, where messages go, the time,
    and for the leader's jobs the leadership term they run under and its lock."""

    app: App
    owner: str
    channels: Mapping[str, Channel] = field(default_factory=dict)
    clock: Callable[[], dt.datetime] = utcnow  # naive UTC
    today: Callable[[], dt.date] = local_today
    term: int = 0  # from `jobs.leader.take_term`; 0 (no term) makes every job `Deposed`
    lost: Callable[[], str | None] = _holding  # why the leader's lock is gone (None: held)
    #: `[[watch]]` provinces the portal does not list, already reported (shared by the
    #: contexts of every term of one service: said once per process)
    unlisted: set[str] = field(default_factory=set)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions for the leader's jobs: every commit is fenced by `term`."""
        return claims.fenced(self.app.sessions(), self.term)


def _claim(context: Context, job: str, scope: str, period: str) -> bool:
    """Before every job: the lock must still be held (else `Deposed`); then claim the key
    under this leader's term (the database refuses a stale term: `Deposed` again)."""
    reason = context.lost()
    if reason is not None:
        raise claims.Deposed(reason, context.term)
    return claims.claim(
        context.app.sessions(), job, scope, period, context.owner, context.clock(), context.term
    )


def _finish(context: Context, job: str, scope: str, period: str, error: str | None) -> None:
    """Record the outcome under this leader's term (`Deposed` when the term is over)."""
    sessions, now = context.app.sessions(), context.clock()
    if not claims.finish(sessions, job, scope, period, context.owner, now, context.term, error):
        log.warning(
            "%s %s %s: taken over as stale while it ran; its outcome is not recorded",
            job,
            scope,
            period,
        )


def run_sync(context: Context, due: Due) -> bool:
    """A scheduled (running figures) or final sync of one province; then the alerts.

    A failed sync is a WARNING; a `[[watch]]` province the portal does not list is an
    ERROR, said once per process. A bug (an exception out of `sync_province`, which has
    recorded the run) is logged with its traceback and recorded on the claim."""
    if not _claim(context, due.job, due.scope, due.period):
        return False
    period = (
        Period.parse(due.period) if due.job == "sync-final" else Period.month_of(context.today())
    )
    try:
        outcome = sync_province(
            context.sessions, context.app.settings.portal, due.scope, period, context.today()
        )
    except claims.Deposed:
        raise
    except Exception as exc:
        log.exception("%s %s %s: failed by a bug in dvcwatch", due.job, due.scope, due.period)
        _finish(context, due.job, due.scope, due.period, f"{type(exc).__name__}: {exc}")
        return False
    _finish(context, due.job, due.scope, due.period, outcome.error)
    if outcome.kind == UnknownProvince.kind:
        if due.scope not in context.unlisted:
            context.unlisted.add(due.scope)
            log.error("[[watch]] province %s: %s; fix the configuration", due.scope, outcome.error)
    elif outcome.error:
        log.warning("%s %s %s failed: %s", due.job, due.scope, due.period, outcome.error)
    else:
        log.info("%s %s %s: ok (term %d)", due.job, due.scope, due.period, context.term)
    # a failed sync is itself an alert (operator rules); only this province's units changed
    evaluate_alerts(context, {due.scope})
    return outcome.error is None


def evaluate_alerts(context: Context, provinces: set[str] | None = None) -> int:
    """Judge the newest figures (of `provinces`' units, or every unit) and the runs; queue
    what changed. Returns deliveries queued."""
    settings = context.app.settings
    try:
        with context.sessions.begin() as session:
            result = evaluate(
                session,
                context.app.schemes,
                setup.rules(settings),
                delivery_setup.directory(settings),
                setup.policy(settings),
                context.clock(),
                provinces=provinces,
            )
            return len(result.deliveries)
    except IntegrityError as exc:  # a manual `dvcwatch alerts` recorded them first
        if not lost_a_race(exc):
            raise
        log.warning("alert evaluation skipped: %s", CONCURRENT_EVALUATION)
        return 0


async def deliver(context: Context) -> SendReport:
    """Send what the outbox holds; safe on several instances (rows are claimed)."""
    return await Outbox(
        context.app.sessions(),
        context.channels,
        context.owner,
        context.clock,
        describe=alert_lines,
    ).send_due()


def run_notices(context: Context, due: Due) -> bool:
    """Write one configured notice and queue it to its recipients, through the same path
    as `dvcwatch notice --all` (`notice_batch`). A notice that cannot be written ("no
    figures yet") is a WARNING without traceback, recorded on the claim and retried by
    the catch-up; a bug is an ERROR with its traceback, recorded too."""
    if not _claim(context, due.job, due.scope, due.period):
        return False
    settings = context.app.settings
    unit = _configured(settings.notices.units, due.scope)
    error: str | None
    if unit is None:
        error = f"notices.units has no {due.scope} any more"
        log.warning("notices %s %s: %s", due.scope, due.period, error)
    else:
        error = _write_configured(context, unit, due)
    _finish(context, due.job, due.scope, due.period, error)
    if error is None:
        log.info("notices %s %s: ok (term %d)", due.scope, due.period, context.term)
    return error is None


def _write_configured(context: Context, unit: NoticeUnit, due: Due) -> str | None:
    settings = context.app.settings
    request = Request(unit.kind, unit.unit, Period.parse(due.period), unit.scheme, unit.issuer)

    def queue(session: Session, _request: Request, files: list[Written]) -> None:
        _queue_documents(context, session, unit, due, files)

    try:
        batch = write_batch(
            context.sessions,
            context.app.schemes,
            settings.notices,
            [request],
            settings.notices.out_dir,
            settings.notices.formats,
            after=queue,
        )
    except claims.Deposed:
        raise
    except Exception as exc:
        log.exception("notices %s %s: failed by a bug in dvcwatch", due.scope, due.period)
        return f"{type(exc).__name__}: {exc}"
    item = batch.items[0]
    if item.result == FAILED:
        log.warning("notices %s %s not written: %s", due.scope, due.period, item.reason)
        return item.reason or "not written"
    if item.reason:  # written and queued, a format short (no PDF): not written again
        log.warning("notices %s %s written, but %s", due.scope, due.period, item.reason)
    return None


def _configured(units: tuple[NoticeUnit, ...], scope: str) -> NoticeUnit | None:
    return next((u for u in units if notice_scope(u.kind, u.unit, u.scheme) == scope), None)


def _queue_documents(
    context: Context, session: Session, unit: NoticeUnit, due: Due, files: list[Written]
) -> None:
    """One delivery per recipient of the unit's notices (topic "notice"): the .docx with
    what the notice says in a few lines (`notices/caption.py`; where a channel cannot
    carry the file, that text is what the person reads), queued as alerts are
    (`delivery.fanout.queue`: no address delivery gave up, nothing twice)."""
    docx = next((f for f in files if f.format == "docx"), None)
    if docx is None:
        return
    directory = delivery_setup.directory(context.app.settings)
    summary = notice_caption(
        session, context.app.schemes, unit.kind, unit.unit, unit.scheme, due.period
    )
    told = Told(
        notice_subject(due.scope, due.period, docx.version),
        escape_html(f"{summary}\nTệp Word đính kèm."),
        unit.unit,
        document_path=str(docx.path),
    )
    now = context.clock()
    queue(session, unit_recipients(session, directory, unit.unit, "notice"), told, now, now)


def housekeeping(context: Context, day: str) -> int:
    """Drop raw responses older than their retention, and the intermediate running
    readings of periods closed longer than theirs (`service/retention.py`); returns
    how many raw responses went."""
    if not _claim(context, "housekeeping", "raw", day):
        return 0
    schedules = context.app.settings.schedules
    cutoff = context.clock() - dt.timedelta(days=schedules.raw_retention_days)
    with context.sessions.begin() as session:
        named = select(FetchRun.answers_as_run).where(  # answers a newer run received again
            FetchRun.answers_as_run.is_not(None), FetchRun.started_at >= cutoff
        )
        result = session.execute(
            delete(RawResponse).where(
                RawResponse.fetched_at < cutoff, RawResponse.fetch_run_id.not_in(named)
            )
        )
        drop_unreferenced_bodies(session)
        readings = 0
        if schedules.running_retention_days:
            ended = context.today() - dt.timedelta(days=schedules.running_retention_days)
            readings = drop_intermediate_readings(session, ended)
    _finish(context, "housekeeping", "raw", day, None)
    log.info(
        "housekeeping %s: %d raw responses and %d intermediate readings dropped",
        day,
        result.rowcount or 0,  # type: ignore[attr-defined]
        readings,
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
