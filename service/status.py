"""`dvcwatch status`: the last runs, their outcome, how fresh the data is, and every
message whose delivery is uncertain (maybe delivered, never re-sent).

The report is read with plain SELECTs through a `Reader`: over a SQLAlchemy session, or,
when there is nothing to settle, over the driver alone (`service.status_quick`), so that
status does not wait for SQLAlchemy's import. Both ways read the same statements.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.clock import to_local, utcnow
from service.output import render
from service.states import CLAIM_FAILED, CLAIM_OK, DeliveryStatus, RunStatus

if TYPE_CHECKING:
    import sqlite3

    import psycopg
    from sqlalchemy.orm import Session

RECENT_RUNS = 10
#: How SQLAlchemy keeps a time in SQLite (text that sorts as the time does).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

Rows = Sequence[Sequence[Any]]
_NAMED = re.compile(r"(?<![:\w]):(\w+)")  # a `:name` parameter, not a `::type` cast


@dataclass(frozen=True)
class Reader:
    """How status reads: `run` executes one SELECT with `:name` parameters, on SQLite
    (times kept as text) or not."""

    run: Callable[[str, Mapping[str, object]], Rows]
    sqlite: bool

    @classmethod
    def of_session(cls, session: Session) -> Reader:
        from sqlalchemy import text

        def run(sql: str, params: Mapping[str, object]) -> Rows:
            return session.execute(text(sql), params).all()

        return cls(run, session.get_bind().dialect.name == "sqlite")

    @classmethod
    def of_sqlite(cls, connection: sqlite3.Connection) -> Reader:
        return cls(lambda sql, params: connection.execute(sql, params).fetchall(), True)

    @classmethod
    def of_psycopg(cls, connection: psycopg.Connection[Any]) -> Reader:
        def run(sql: str, params: Mapping[str, object]) -> Rows:
            # psycopg's placeholders are %(name)s, and a literal % is written %%
            marked = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
            return connection.execute(marked, params).fetchall()

        return cls(run, False)

    def rows(self, sql: str, **params: object) -> Rows:
        if self.sqlite:  # a time compares with SQLite's text only in the same shape
            params = {
                name: value.strftime(SQLITE_TIME) if isinstance(value, dt.datetime) else value
                for name, value in params.items()
            }
        return self.run(sql, params)


def collect(reader: Reader) -> dict[str, Any]:
    """Recent runs and, per sync scope, the last success and the newest data."""
    runs = reader.rows(
        "SELECT id, job, scope, period, status, started_at, finished_at, snapshots_written, "
        "error FROM fetch_runs ORDER BY id DESC LIMIT :recent",
        recent=RECENT_RUNS,
    )
    scopes = reader.rows(
        "SELECT scope, max(finished_at) FROM fetch_runs WHERE status = :ok "
        "GROUP BY scope ORDER BY scope",
        ok=RunStatus.OK.value,
    )
    newest = reader.rows(
        "SELECT source, period, max(last_seen), count(*) FROM snapshots "
        "GROUP BY source, period ORDER BY period DESC, source"
    )
    deactivated = reader.rows(
        "SELECT person_id, address, reason FROM channel_addresses WHERE NOT active ORDER BY id"
    )
    return {
        "leader": _leader(reader),
        "jobs": _jobs(reader),
        "outbox": _outbox(reader),
        "waiting": _waiting(reader),
        "uncertain": _uncertain(reader),
        "deactivated_recipients": [
            {"person": person, "address": address, "reason": reason}
            for person, address, reason in deactivated
        ],
        "runs": [_run(*run) for run in runs],
        "last_success": {scope: _time(when) for scope, when in scopes},
        "data": [
            {"source": source, "period": period, "as_of": _day(as_of), "snapshots": int(count)}
            for source, period, as_of, count in newest
        ],
    }


def _leader(reader: Reader) -> dict[str, Any] | None:
    rows = reader.rows("SELECT owner, since, heartbeat_at FROM leadership WHERE role = 'scheduler'")
    if not rows:
        return None
    owner, since, heartbeat = rows[0]
    return {"owner": owner, "since": _time(since), "heartbeat": _time(heartbeat)}


def _jobs(reader: Reader) -> dict[str, dict[str, Any]]:
    """Per job: the last success and the last failure (with its reason)."""
    jobs: dict[str, dict[str, Any]] = {}
    for job, status, finished in reader.rows(
        "SELECT job, status, max(finished_at) FROM job_claims WHERE status IN (:ok, :failed) "
        "GROUP BY job, status ORDER BY job, status",
        ok=CLAIM_OK,
        failed=CLAIM_FAILED,
    ):
        key = "last_success" if status == CLAIM_OK else "last_failure"
        jobs.setdefault(job, {"last_success": None, "last_failure": None})[key] = _time(finished)
    return jobs


def _outbox(reader: Reader) -> dict[str, int]:
    """Messages (parts) by status."""
    counts = {
        str(status): int(count)
        for status, count in reader.rows(
            "SELECT status, count(*) FROM outbox_messages GROUP BY status"
        )
    }
    return {status: counts.get(status, 0) for status in DeliveryStatus}


def _waiting(reader: Reader) -> list[dict[str, Any]]:
    """Pending messages due now that were held back, by channel and why (a rejected
    token, a channel that could not be reached), with how many and since when. Only due
    ones: a message waiting for quiet hours to end, or for a retry's time, keeps the note
    of an earlier pass that may no longer hold (the next pass after it is due says)."""
    rows = reader.rows(
        "SELECT channel, last_error, count(*), min(created_at) FROM outbox_messages "
        "WHERE status = :pending AND last_error IS NOT NULL AND not_before <= :now "
        "GROUP BY channel, last_error ORDER BY min(created_at), channel, last_error",
        pending=DeliveryStatus.PENDING.value,
        now=utcnow(),
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


def _uncertain(reader: Reader) -> list[dict[str, Any]]:
    """Every message that may or may not have arrived: who it was for, which part, the
    alerts it carried and why its outcome is unknown. Listed until an operator deletes
    the row or checks with the person; never re-sent."""
    uncertain = DeliveryStatus.UNCERTAIN.value
    rows = reader.rows(
        "SELECT id, person_id, channel, address, unit_key, part, parts, claimed_at, "
        "last_error FROM outbox_messages WHERE status = :uncertain ORDER BY id",
        uncertain=uncertain,
    )
    carried: dict[tuple[str, int], list[str]] = {}
    for unit, part, alert_id, label in reader.rows(
        "SELECT message_unit, part, alert_id, unit_label FROM deliveries WHERE message_unit "
        "IN (SELECT unit_key FROM outbox_messages WHERE status = :uncertain) ORDER BY id",
        uncertain=uncertain,
    ):
        name = f"#{alert_id} {label}" if alert_id is not None else label
        carried.setdefault((str(unit), int(part or 0)), []).append(name)
    return [
        {
            "message": message,
            "person": person,
            "channel": channel,
            "address": address,
            "part": f"{part}/{parts}",
            "alerts": carried.get((unit, part), []),
            "claimed": _time(claimed),
            "reason": reason,
        }
        for message, person, channel, address, unit, part, parts, claimed, reason in rows
    ]


def _run(
    run_id: int,
    job: str,
    scope: str,
    period: str,
    status: str,
    started: object,
    finished: object,
    snapshots: int,
    error: str | None,
) -> dict[str, Any]:
    return {
        "id": run_id,
        "job": job,
        "scope": scope,
        "period": period,
        "status": status,
        "started": _time(started),
        "finished": _time(finished),
        "snapshots": snapshots,
        "error": error.splitlines()[0] if error else None,
    }


def _time(value: object) -> str | None:
    """A stored UTC time, local to the minute: SQLite gives it as text."""
    if not value:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


def _day(value: object) -> str:
    """A stored date as YYYY-MM-DD: SQLite gives it as such text already."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


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
