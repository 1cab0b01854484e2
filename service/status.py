"""`dvcwatch status`: the last runs, their outcome, how fresh the data is, and every
message whose delivery is uncertain (maybe delivered, never re-sent).

The report is read with plain SELECTs through a `Reader`: over a SQLAlchemy session, or,
for a SQLite file with nothing to settle, over the standard library's sqlite3 alone
(`read_quickly`). Status then starts in about half the time SQLAlchemy takes to import,
and both ways read the same statements.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from service.clock import to_local, utcnow
from service.dbfacts import SQLITE_BUSY_SECONDS, VERSION_TABLE, head_revision
from service.output import render
from service.states import CLAIM_FAILED, CLAIM_OK, DeliveryStatus, RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RECENT_RUNS = 10
#: How SQLAlchemy keeps a time in SQLite (text that sorts as the time does).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_SQLITE_URLS = ("sqlite:///", "sqlite+pysqlite:///")

Rows = Sequence[Sequence[Any]]


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

    def rows(self, sql: str, **params: object) -> Rows:
        if self.sqlite:  # a time compares with SQLite's text only in the same shape
            params = {
                name: value.strftime(SQLITE_TIME) if isinstance(value, dt.datetime) else value
                for name, value in params.items()
            }
        return self.run(sql, params)


def read_quickly(url: str) -> dict[str, Any] | None:
    """The report of the SQLite file `url` names, read without SQLAlchemy; None when the
    full way must run: `url` is not a plain SQLite file path, the file is missing,
    unreadable or not at the code's schema (the full way says why), or a run is marked
    running or a message sending (settling them, if their process is gone, needs the
    models). It never writes, and never creates a file."""
    path = _sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(
            f"file:{quote(str(path))}?mode=rw", uri=True, timeout=SQLITE_BUSY_SECONDS
        )
    except sqlite3.Error:
        return None
    try:
        reader = Reader.of_sqlite(connection)
        if not _at_head(reader) or _to_settle(reader):
            return None
        return collect(reader)
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def _sqlite_file(url: str) -> Path | None:
    """The file of `sqlite:///PATH` when PATH is plain: no query, fragment or escape,
    which only SQLAlchemy's parsing reads as it means them."""
    prefix = next((p for p in _SQLITE_URLS if url.startswith(p)), None)
    if prefix is None:
        return None
    path = url.removeprefix(prefix)
    if not path or path == ":memory:" or any(mark in path for mark in "?#%"):
        return None
    return Path(path)


def _at_head(reader: Reader) -> bool:
    stored = sorted(str(row[0]) for row in reader.rows(f"SELECT version_num FROM {VERSION_TABLE}"))
    return ",".join(stored) == head_revision()


def _to_settle(reader: Reader) -> bool:
    """A run marked running or a message marked sending: its process may be gone."""
    return bool(
        reader.rows(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM fetch_runs WHERE status = :running) "
            "OR EXISTS (SELECT 1 FROM outbox_messages WHERE status = :sending)",
            running=RunStatus.RUNNING.value,
            sending=DeliveryStatus.SENDING.value,
        )
    )


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
