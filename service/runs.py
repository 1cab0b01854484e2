"""Who runs a fetch run, and closing the runs whose process is gone.

A run records its owner: the host, the process id and the process's start time (so a
reused pid is not taken for the owner), and a lease it renews with every response it
archives. A later command closes, as `failed` with kind `abandoned`, every `running` run
whose owner is a process of this host that no longer exists, and every run whose lease
has passed when its owner is on another host (frozen, or gone); a live process of this
host is left alone, however long its exchange (a leader deposed mid-sync closes its own
run: `sync.sync_province`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.clock import utcnow
from service.models import FetchRun, RunStatus

log = logging.getLogger(__name__)

#: A run that archived nothing for this long is taken as dead even if its owner
#: cannot be checked (another host). Longer than any single portal exchange.
LEASE = dt.timedelta(minutes=15)
#: A process's start as recorded and as read again may differ by rounding.
START_SLACK = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started_at: dt.datetime | None  # naive UTC; None where /proc cannot tell


def process_start(pid: int) -> dt.datetime | None:
    """When process `pid` started (naive UTC), from /proc; None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()
        ticks = int(fields[19])  # field 22 (starttime), counted after "pid (comm)"
    except (OSError, ValueError, IndexError):
        return None
    booted = _boot_time()
    if booted is None:
        return None
    return booted + dt.timedelta(seconds=ticks / os.sysconf("SC_CLK_TCK"))


@cache
def _boot_time() -> dt.datetime | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                if line.startswith("btime "):
                    seconds = int(line.split()[1])
                    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    except (OSError, ValueError):
        return None
    return None


def this_process() -> Owner:
    return Owner(socket.gethostname(), os.getpid(), process_start(os.getpid()))


def alive(owner: Owner) -> bool | None:
    """True/False for a process of this host; None when it cannot be told (another host)."""
    if owner.host != socket.gethostname():
        return None
    if owner.pid == os.getpid():
        return True
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        pass
    if owner.started_at is None:
        return True
    started = process_start(owner.pid)
    if started is None:  # gone between the two looks
        return False
    return abs(started - owner.started_at) <= START_SLACK  # else the pid was reused


def start_run(sessions: sessionmaker[Session], job: str, scope: str, period: str) -> int:
    """Record a new `running` run owned by this process, with a fresh lease."""
    owner, now = this_process(), utcnow()
    with sessions.begin() as session:
        run = FetchRun(
            job=job,
            scope=scope,
            period=period,
            status=RunStatus.RUNNING,
            started_at=now,
            owner_host=owner.host,
            owner_pid=owner.pid,
            owner_started_at=owner.started_at,
            lease_until=now + LEASE,
        )
        session.add(run)
        session.flush()
        return run.id


def renew(session: Session, run_id: int) -> None:
    """Extend a run's lease (inside the caller's transaction) while it is running."""
    runs = cast(Table, FetchRun.__table__)  # a Core statement: once per response received
    session.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING)
        .values(lease_until=utcnow() + LEASE)
    )


def close_deposed(sessions: sessionmaker[Session], run_id: int, reason: str) -> bool:
    """Record, through `sessions` (plain, not a leader's fenced ones), that a deposed
    leader's run ended: its own run's row is all it writes. False if it could not."""
    try:
        with sessions.begin() as session:
            session.execute(
                update(cast(Table, FetchRun.__table__))
                .where(FetchRun.id == run_id, FetchRun.status == RunStatus.RUNNING)
                .values(
                    status=RunStatus.FAILED,
                    error_kind="deposed",
                    error=reason,
                    finished_at=utcnow(),
                )
            )
    except Exception:  # the database may be what deposed it: the lease closes it then
        log.warning("run %s could not be closed after its leader was deposed", run_id)
        return False
    return True


def close_abandoned(sessions: sessionmaker[Session], now: dt.datetime | None = None) -> int:
    """Close every `running` run whose owner is gone or whose lease passed; returns how many."""
    with sessions.begin() as session:
        closed = abandoned_closed(session, now or utcnow())
    say_closed(closed)
    return closed


def abandoned_closed(session: Session, now: dt.datetime) -> int:
    """`close_abandoned` within `session`'s transaction (say it once it commits)."""
    closed = 0
    running = session.scalars(
        select(FetchRun).where(FetchRun.status == RunStatus.RUNNING).with_for_update()
    ).all()
    for run in running:
        reason = _why_abandoned(run, now)
        if reason is None:
            continue
        run.status, run.error_kind, run.error = RunStatus.FAILED, "abandoned", reason
        run.finished_at = now
        closed += 1
    return closed


def say_closed(closed: int) -> None:
    if closed:
        log.warning("%d run(s) left running by a process that is gone were closed", closed)


def _why_abandoned(run: FetchRun, now: dt.datetime) -> str | None:
    if run.owner_host is None or run.owner_pid is None:
        if run.started_at < now - LEASE:
            return "no owner recorded and no sign of life since it started"
        return None
    owner = Owner(run.owner_host, run.owner_pid, run.owner_started_at)
    state = alive(owner)
    if state is False:
        return f"its process {owner.host}:{owner.pid} ended without finishing it"
    if state is None and run.lease_until is not None and run.lease_until < now:
        return (
            f"its process {owner.host}:{owner.pid} has not renewed its lease "
            f"since {run.lease_until:%Y-%m-%d %H:%M} UTC"
        )
    return None
