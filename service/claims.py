"""Claim, then act: each (job, scope, period) runs once, whatever runs it.

A job run inserts its claim before it acts; the unique key makes a second
scheduler, a restart or a catch-up pass find the claim and skip it (when
done) or leave it (while another holds it). `claim` returns True when this
owner may run the job now: the key was free, or its earlier attempt failed,
or its holder died (a `running` claim older than `stale_after`). The
decisive step is always a unique insert or a conditional update, so two
processes can never both win.

Fencing: each new leader raises `leadership.term` by one. A claim records
the term it was taken under, and every write of a leader's job (the claim,
its completion and the job's own data, through `fenced` sessions) commits
only if its term is still the current one, checked by `fence` as the
transaction's last statement. A deposed leader that has not noticed yet
(its lock session was killed, it was paused) is refused by the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from service.clock import utcnow
from service.models import Base
from service.states import CLAIM_FAILED, CLAIM_OK, CLAIM_RUNNING

RUNNING, OK, FAILED = CLAIM_RUNNING, CLAIM_OK, CLAIM_FAILED
SCHEDULER = "scheduler"  # the leadership role whose term fences job claims
#: How long a fence waits for a new leader's term change, and how long a claim's
#: transaction, or any transaction past its fence, may sit idle before PostgreSQL
#: ends it: a paused old leader must not block its successor for longer.
FENCE_LOCK_TIMEOUT = "5s"
FENCE_IDLE_TIMEOUT = "30s"


class Deposed(RuntimeError):
    """Leadership `term` of this process is over; the message says why."""

    def __init__(self, reason: str, term: int) -> None:
        super().__init__(reason)
        self.term = term


class JobClaim(Base):
    __tablename__ = "job_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(160))  # jobs.plan.notice_scope
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # running, ok, failed
    owner: Mapped[str] = mapped_column(String(128))
    term: Mapped[int] = mapped_column(Integer, server_default="0")  # the leader's, when claimed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("job", "scope", "period", name="uq_job_claim"),)


class Leadership(Base):
    """Who schedules now (one row per role), for `dvcwatch status` and /healthz, and
    the current leadership term that fences job claims.

    The lock itself is the PostgreSQL advisory lock or the SQLite file lock; this
    row tells people who holds it and whether it is alive (`heartbeat_at`), and
    tells the database which leader's writes to accept (`term`).
    """

    __tablename__ = "leadership"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    since: Mapped[dt.datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime)
    term: Mapped[int] = mapped_column(Integer, server_default="0")  # +1 at each new leader


def fence(session: Session, term: int) -> None:
    """Raise `Deposed` unless `term` is the scheduler's current term.

    Call it last in a transaction, after its writes: the transaction then
    commits only under that term. On PostgreSQL the leadership row is read
    FOR KEY SHARE, which a new leader's term change (SELECT ... FOR UPDATE)
    must wait for and which waits for it, so a write either commits before
    the change or sees it; heartbeats (plain updates) do not conflict. On
    SQLite the writes already hold the database's single write lock.
    """
    session.flush()
    query = select(Leadership.term).where(Leadership.role == SCHEDULER)
    if _bound(session, lock_timeout=FENCE_LOCK_TIMEOUT):
        query = query.with_for_update(read=True, key_share=True)
    try:
        current = session.scalar(query)
    except OperationalError as exc:  # lock_timeout: a term change is stuck in progress
        raise Deposed(f"could not confirm leadership term {term}: {exc.orig}", term) from None
    if current != term:
        raise Deposed(f"the database says term {term} is over (now term {current})", term)


def _bound(session: Session, lock_timeout: str = "0") -> bool:
    """On PostgreSQL, bound this transaction's idle time and lock waits (0: no bound);
    False on SQLite, which has nothing to bound."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.execute(
        text(
            "SELECT set_config('lock_timeout', :wait, true), "
            "set_config('idle_in_transaction_session_timeout', :idle, true)"
        ),
        {"wait": lock_timeout, "idle": FENCE_IDLE_TIMEOUT},
    )
    return True


@contextmanager
def _claiming(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A claim's transaction: short, so on PostgreSQL it is ended if its process pauses
    in it (its uncommitted claim would otherwise block the successor's)."""
    with sessions.begin() as session:
        _bound(session)
        yield session


def fenced(sessions: sessionmaker[Session], term: int) -> sessionmaker[Session]:
    """Sessions like `sessions` whose every commit passes `fence(term)` first."""
    maker: sessionmaker[Session] = sessionmaker(sessions.kw["bind"], **_options(sessions))

    def check(session: Session) -> None:
        fence(session, term)

    event.listen(maker, "before_commit", check)
    return maker


def unfenced(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on `sessions`' engine without any fence: only for what a deposed leader
    may still record of its own (its run's end)."""
    return sessionmaker(sessions.kw["bind"], **_options(sessions))


def _options(sessions: sessionmaker[Session]) -> dict[str, Any]:
    return {key: value for key, value in sessions.kw.items() if key != "bind"}


def claim(
    sessions: sessionmaker[Session],
    job: str,
    scope: str,
    period: str,
    owner: str,
    now: dt.datetime,
    term: int,
    stale_after: dt.timedelta = dt.timedelta(hours=1),
) -> bool:
    """Take (job, scope, period) for `owner` under leadership `term`; see the module doc.
    Raises `Deposed` (and takes nothing) when `term` is no longer current."""
    try:
        with _claiming(sessions) as session:
            session.add(
                JobClaim(
                    job=job,
                    scope=scope,
                    period=period,
                    status=RUNNING,
                    owner=owner,
                    term=term,
                    claimed_at=now,
                )
            )
            fence(session, term)
        return True
    except IntegrityError:
        pass
    retake = (JobClaim.status == FAILED) | (
        (JobClaim.status == RUNNING) & (JobClaim.claimed_at < now - stale_after)
    )
    with _claiming(sessions) as session:
        result = session.execute(
            update(JobClaim)
            .where(JobClaim.job == job, JobClaim.scope == scope, JobClaim.period == period)
            .where(retake)
            .values(
                status=RUNNING,
                owner=owner,
                term=term,
                claimed_at=now,
                finished_at=None,
                error=None,
                attempts=JobClaim.attempts + 1,
            )
        )
        fence(session, term)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    sessions: sessionmaker[Session],
    job: str,
    scope: str,
    period: str,
    owner: str,
    now: dt.datetime,
    term: int,
    error: str | None = None,
) -> bool:
    """Record the outcome of a claim this owner holds under `term`. Raises `Deposed`
    (recording nothing) when the term is over; False when the claim is no longer
    this owner's (taken over as stale)."""
    with _claiming(sessions) as session:
        result = session.execute(
            update(JobClaim)
            .where(
                JobClaim.job == job,
                JobClaim.scope == scope,
                JobClaim.period == period,
                JobClaim.owner == owner,
                JobClaim.term == term,
                JobClaim.status == RUNNING,
            )
            .values(status=FAILED if error else OK, finished_at=now, error=error)
        )
        fence(session, term)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def done(sessions: sessionmaker[Session], job: str, scope: str, period: str) -> bool:
    with sessions() as session:
        status = session.scalar(
            select(JobClaim.status).where(
                JobClaim.job == job, JobClaim.scope == scope, JobClaim.period == period
            )
        )
    return status == OK


def abandon_earlier(
    sessions: sessionmaker[Session], owner: str, term: int, now: dt.datetime
) -> int:
    """A new leader marks the claims earlier terms left `running` as failed, so the
    catch-up runs them again (their holders can no longer finish them: fenced)."""
    with _claiming(sessions) as session:
        result = session.execute(
            update(JobClaim)
            .where(JobClaim.status == RUNNING, JobClaim.term < term)
            .values(status=FAILED, finished_at=now, error=f"abandoned: {owner} took over")
        )
        fence(session, term)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def failed_in_term(sessions: sessionmaker[Session], term: int) -> list[str]:
    """The jobs that failed under leadership `term`: "job scope period: reason" each."""
    with sessions() as session:
        rows = session.execute(
            select(JobClaim.job, JobClaim.scope, JobClaim.period, JobClaim.error)
            .where(JobClaim.term == term, JobClaim.status == FAILED)
            .order_by(JobClaim.id)
        ).all()
    return [
        f"{job} {scope} {period}: {(error or '-').splitlines()[0]}"
        for job, scope, period, error in rows
    ]
