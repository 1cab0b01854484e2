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

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from jobs.plan import Due
from service import claims
from service.alerts import setup
from service.alerts.directory import recipients
from service.alerts.engine import evaluate
from service.alerts.models import Delivery
from service.alerts.outbox import Outbox, SendReport
from service.app import App
from service.channels.base import Channel
from service.channels.messages import escape_html
from service.clock import local_today, utcnow
from service.config import NoticeUnit
from service.models import RawResponse
from service.notices.produce import Request, Written, write_notice
from service.notices.vnformat import period_short
from service.periods import Period
from service.sync import sync_province

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
    """A scheduled (running figures) or final sync of one province; then the alerts."""
    if not _claim(context, due.job, due.scope, due.period):
        return False
    period = (
        Period.parse(due.period) if due.job == "sync-final" else Period.month_of(context.today())
    )
    outcome = sync_province(
        context.sessions, context.app.settings.portal, due.scope, period, context.today()
    )
    _finish(context, due.job, due.scope, due.period, outcome.error)
    log.info(
        "%s %s %s: %s (term %d)",
        due.job,
        due.scope,
        due.period,
        outcome.error or "ok",
        context.term,
    )
    evaluate_alerts(context)  # a failed sync is itself an alert (operator rules)
    return outcome.error is None


def evaluate_alerts(context: Context) -> int:
    """Judge the newest figures and the runs; queue what changed. Returns deliveries queued."""
    settings = context.app.settings
    with context.sessions.begin() as session:
        result = evaluate(
            session,
            context.app.schemes,
            setup.rules(settings),
            setup.directory(settings),
            setup.policy(settings),
            context.clock(),
        )
        return len(result.deliveries)


async def deliver(context: Context) -> SendReport:
    """Send what the outbox holds; safe on several instances (rows are claimed)."""
    return await Outbox(
        context.app.sessions(), context.channels, context.owner, context.clock
    ).send_due()


def run_notices(context: Context, due: Due) -> bool:
    """Write one configured notice for a closed month and queue it to its recipients."""
    if not _claim(context, due.job, due.scope, due.period):
        return False
    settings = context.app.settings
    error = None
    try:
        unit = _configured(settings.notices.units, due.scope)
        request = Request(unit.kind, unit.unit, Period.parse(due.period), unit.scheme, unit.issuer)
        with context.sessions.begin() as session:
            outcome = write_notice(
                session,
                context.app.schemes,
                settings.notices,
                request,
                settings.notices.out_dir,
                settings.notices.formats,
            )
            error = outcome.problem if not outcome.files else None
            _queue_documents(context, session, unit, due, outcome.files)
    except claims.Deposed:
        raise
    except Exception as exc:  # recorded on the claim, retried by the catch-up
        log.exception("notices %s %s failed", due.scope, due.period)
        error = str(exc)
    _finish(context, due.job, due.scope, due.period, error)
    log.info("notices %s %s: %s (term %d)", due.scope, due.period, error or "ok", context.term)
    return error is None


def _configured(units: tuple[NoticeUnit, ...], scope: str) -> NoticeUnit:
    kind, _, code = scope.partition(":")
    for unit in units:
        if (unit.kind, unit.unit) == (kind, code):
            return unit
    raise LookupError(f"notices.units has no {kind} for {code} any more")


def _queue_documents(
    context: Context, session: Session, unit: NoticeUnit, due: Due, files: list[Written]
) -> None:
    """One delivery per recipient of the unit's notices (topic "notice"): the .docx with a
    short Vietnamese caption. Keys make a re-run queue nothing twice."""
    docx = next((f for f in files if f.format == "docx"), None)
    if docx is None:
        return
    directory = setup.directory(context.app.settings)
    label = "Công văn" if unit.kind == "congvan" else "Báo cáo"
    caption = escape_html(
        f"{label} kết quả đánh giá {period_short(due.period)} của {unit.unit} (tệp Word)."
    )
    for person in recipients(directory, unit.unit, unit.unit.split(".")[0], "notice"):
        session.add(
            Delivery(
                idempotency_key=f"notice:{due.scope}:{due.period}:v{docx.version}:{person.id}:"
                f"{person.channel}",
                person_id=person.id,
                channel=person.channel,
                address=person.address,
                unit_label=unit.unit,
                text_html=caption,
                document_path=str(docx.path),
                not_before=context.clock(),
            )
        )


def housekeeping(context: Context, day: str) -> int:
    """Drop raw responses older than the retention; returns how many went."""
    if not _claim(context, "housekeeping", "raw", day):
        return 0
    days = context.app.settings.schedules.raw_retention_days
    cutoff = context.clock() - dt.timedelta(days=days)
    with context.sessions.begin() as session:
        result = session.execute(delete(RawResponse).where(RawResponse.fetched_at < cutoff))
    _finish(context, "housekeeping", "raw", day, None)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
