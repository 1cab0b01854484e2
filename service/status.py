"""`dvcwatch status`: the last runs, their outcome, how fresh the data is, and every
message whose delivery is uncertain (maybe delivered, never re-sent)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.claims import FAILED, OK, JobClaim, Leadership
from service.clock import to_local, utcnow
from service.delivery.models import ChannelAddress, Delivery, DeliveryStatus, OutboxMessage
from service.models import FetchRun, RunStatus, Snapshot
from service.output import render

RECENT_RUNS = 10


def collect(session: Session) -> dict[str, Any]:
    """Recent runs and, per sync scope, the last success and the newest data."""
    runs = session.scalars(select(FetchRun).order_by(FetchRun.id.desc()).limit(RECENT_RUNS))
    scopes = session.execute(
        select(FetchRun.scope, func.max(FetchRun.finished_at))
        .where(FetchRun.status == RunStatus.OK)
        .group_by(FetchRun.scope)
    ).all()
    newest = session.execute(
        select(Snapshot.source, Snapshot.period, func.max(Snapshot.last_seen), func.count())
        .group_by(Snapshot.source, Snapshot.period)
        .order_by(Snapshot.period.desc())
    ).all()
    return {
        "leader": _leader(session),
        "jobs": _jobs(session),
        "outbox": _outbox(session),
        "waiting": _waiting(session),
        "uncertain": _uncertain(session),
        "deactivated_recipients": [
            {"person": a.person_id, "address": a.address, "reason": a.reason}
            for a in session.scalars(select(ChannelAddress).where(ChannelAddress.active.is_(False)))
        ],
        "runs": [_run(run) for run in runs],
        "last_success": {scope: _time(when) for scope, when in scopes},
        "data": [
            {"source": source, "period": period, "as_of": as_of.isoformat(), "snapshots": count}
            for source, period, as_of, count in newest
        ],
    }


def _leader(session: Session) -> dict[str, Any] | None:
    row = session.get(Leadership, "scheduler")
    if row is None:
        return None
    return {"owner": row.owner, "since": _time(row.since), "heartbeat": _time(row.heartbeat_at)}


def _jobs(session: Session) -> dict[str, dict[str, Any]]:
    """Per job: the last success and the last failure (with its reason)."""
    jobs: dict[str, dict[str, Any]] = {}
    for job, status, finished in session.execute(
        select(JobClaim.job, JobClaim.status, func.max(JobClaim.finished_at))
        .where(JobClaim.status.in_([OK, FAILED]))
        .group_by(JobClaim.job, JobClaim.status)
    ):
        key = "last_success" if status == OK else "last_failure"
        jobs.setdefault(job, {"last_success": None, "last_failure": None})[key] = _time(finished)
    return jobs


def _outbox(session: Session) -> dict[str, int]:
    """Messages (parts) by status."""
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return {status: int(counts.get(status, 0)) for status in DeliveryStatus}


def _waiting(session: Session) -> list[dict[str, Any]]:
    """Pending messages due now that were held back, by channel and why (a rejected
    token, a channel that could not be reached), with how many and since when. Only due
    ones: a message waiting for quiet hours to end, or for a retry's time, keeps the note
    of an earlier pass that may no longer hold (the next pass after it is due says)."""
    rows = session.execute(
        select(
            OutboxMessage.channel,
            OutboxMessage.last_error,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        .where(
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.last_error.is_not(None),
            OutboxMessage.not_before <= utcnow(),
        )
        .group_by(OutboxMessage.channel, OutboxMessage.last_error)
        .order_by(func.min(OutboxMessage.created_at))
    )
    return [
        {"channel": channel, "reason": reason, "messages": int(count), "since": _time(since)}
        for channel, reason, count, since in rows
    ]


def _waiting_text(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"  {row['messages']} pending on {row['channel']} since {row['since']}: {row['reason']}"
        for row in rows
    ]


def _uncertain_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "Uncertain messages (maybe delivered, never re-sent): none"
    lines = [f"Uncertain messages (maybe delivered, never re-sent): {len(rows)}"]
    for row in rows:
        alerts = ", ".join(row["alerts"]) or "-"
        lines.append(
            f"  #{row['message']} to {row['person']} ({row['channel']} {row['address']}), "
            f"part {row['part']}, at {row['claimed'] or '-'}: {alerts}; {row['reason'] or '-'}"
        )
    return "\n".join(lines)


def _uncertain(session: Session) -> list[dict[str, Any]]:
    """Every message that may or may not have arrived: who it was for, which part, the
    alerts it carried and why its outcome is unknown. Listed until an operator deletes
    the row or checks with the person; never re-sent."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.UNCERTAIN)
        .order_by(OutboxMessage.id)
    ).all()
    carried: dict[tuple[str, int], list[str]] = {}
    units = [row.unit_key for row in rows]
    for unit, part, alert_id, label in session.execute(
        select(Delivery.message_unit, Delivery.part, Delivery.alert_id, Delivery.unit_label).where(
            Delivery.message_unit.in_(units)
        )
    ):
        name = f"#{alert_id} {label}" if alert_id is not None else label
        carried.setdefault((str(unit), int(part or 0)), []).append(name)
    return [
        {
            "message": row.id,
            "person": row.person_id,
            "channel": row.channel,
            "address": row.address,
            "part": f"{row.part}/{row.parts}",
            "alerts": carried.get((row.unit_key, row.part), []),
            "claimed": _time(row.claimed_at),
            "reason": row.last_error,
        }
        for row in rows
    ]


def _run(run: FetchRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "job": run.job,
        "scope": run.scope,
        "period": run.period,
        "status": run.status,
        "started": _time(run.started_at),
        "finished": _time(run.finished_at),
        "snapshots": run.snapshots_written,
        "error": (run.error or "").splitlines()[0] if run.error else None,
    }


def _time(value: Any) -> str | None:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else None


def render_report(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2)
    leader = report["leader"]
    deactivated = ", ".join(
        f"{d['person']} ({d['reason']})" for d in report["deactivated_recipients"]
    )
    jobs = "; ".join(
        f"{job}: last success {times['last_success'] or '-'}, "
        f"last failure {times['last_failure'] or '-'}"
        for job, times in report["jobs"].items()
    )
    parts = [
        "Scheduler: "
        + (
            f"{leader['owner']} since {leader['since']}, heartbeat {leader['heartbeat']}"
            if leader
            else "none has run yet"
        ),
        "Outbox: " + ", ".join(f"{n} {status}" for status, n in report["outbox"].items()),
        *_waiting_text(report["waiting"]),
        _uncertain_text(report["uncertain"]),
        f"Deactivated recipients: {deactivated or 'none'}",
        f"Jobs: {jobs or 'none yet'}",
        "",
        "Recent runs (Asia/Ho_Chi_Minh):",
        render(report["runs"], "table") if report["runs"] else "  none yet",
        "",
        "Last successful sync per scope:",
    ]
    parts += [f"  {scope}: {when}" for scope, when in report["last_success"].items()] or ["  none"]
    parts += ["", "Stored data (newest as-of day per period):"]
    parts += [
        f"  {d['source']} {d['period']}: as of {d['as_of']}, {d['snapshots']} snapshots"
        for d in report["data"]
    ] or ["  none"]
    return "\n".join(parts)
