"""Claim, then act: each (job, scope, period) runs once, whatever runs it.

A job run inserts its claim before it acts; the unique key makes a second
scheduler, a restart or a catch-up pass find the claim and skip it (when
done) or leave it (while another holds it). `claim` returns True when this
owner may run the job now: the key was free, or its earlier attempt failed,
or its holder died (a `running` claim older than `stale_after`). The
decisive step is always a unique insert or a conditional update, so two
processes can never both win.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from service.clock import utcnow
from service.models import Base

RUNNING, OK, FAILED = "running", "ok", "failed"


class JobClaim(Base):
    __tablename__ = "job_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # running, ok, failed
    owner: Mapped[str] = mapped_column(String(128))
    term: Mapped[int] = mapped_column(Integer, server_default="0")  # the leader's, when claimed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("job", "scope", "period", name="uq_job_claim"),)


def claim(
    sessions: sessionmaker[Session],
    job: str,
    scope: str,
    period: str,
    owner: str,
    now: dt.datetime,
    stale_after: dt.timedelta = dt.timedelta(hours=1),
) -> bool:
    """Take (job, scope, period) for `owner`; see the module doc."""
    try:
        with sessions.begin() as session:
            session.add(
                JobClaim(
                    job=job, scope=scope, period=period, status=RUNNING, owner=owner, claimed_at=now
                )
            )
        return True
    except IntegrityError:
        pass
    retake = (JobClaim.status == FAILED) | (
        (JobClaim.status == RUNNING) & (JobClaim.claimed_at < now - stale_after)
    )
    with sessions.begin() as session:
        result = session.execute(
            update(JobClaim)
            .where(JobClaim.job == job, JobClaim.scope == scope, JobClaim.period == period)
            .where(retake)
            .values(
                status=RUNNING,
                owner=owner,
                claimed_at=now,
                finished_at=None,
                error=None,
                attempts=JobClaim.attempts + 1,
            )
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    sessions: sessionmaker[Session],
    job: str,
    scope: str,
    period: str,
    owner: str,
    now: dt.datetime,
    error: str | None = None,
) -> None:
    """Record the outcome of a claim this owner holds."""
    with sessions.begin() as session:
        session.execute(
            update(JobClaim)
            .where(
                JobClaim.job == job,
                JobClaim.scope == scope,
                JobClaim.period == period,
                JobClaim.owner == owner,
            )
            .values(status=FAILED if error else OK, finished_at=now, error=error)
        )


def done(sessions: sessionmaker[Session], job: str, scope: str, period: str) -> bool:
    with sessions() as session:
        status = session.scalar(
            select(JobClaim.status).where(
                JobClaim.job == job, JobClaim.scope == scope, JobClaim.period == period
            )
        )
    return status == OK


class Leadership(Base):
    """Who schedules now (one row per role), for `dvcwatch status` and /healthz.

    The lock itself is the PostgreSQL advisory lock or the SQLite file lock; this
    row only tells people who holds it and whether it is alive (`heartbeat_at`).
    """

    __tablename__ = "leadership"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    since: Mapped[dt.datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime)
    term: Mapped[int] = mapped_column(Integer, server_default="0")  # +1 at each new leader


def abandon_others(sessions: sessionmaker[Session], owner: str, now: dt.datetime) -> int:
    """A new leader marks the claims a dead leader left `running` as failed, so the
    catch-up runs them again (only the leader takes scheduled claims)."""
    with sessions.begin() as session:
        result = session.execute(
            update(JobClaim)
            .where(JobClaim.status == RUNNING, JobClaim.owner != owner)
            .values(status=FAILED, finished_at=now, error=f"abandoned: {owner} took over")
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
