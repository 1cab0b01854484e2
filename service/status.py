"""`dvcwatch status`: the last runs, their outcome, and how fresh the data is."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.clock import to_local
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
        select(Snapshot.source, Snapshot.period, func.max(Snapshot.as_of), func.count())
        .group_by(Snapshot.source, Snapshot.period)
        .order_by(Snapshot.period.desc())
    ).all()
    return {
        "runs": [_run(run) for run in runs],
        "last_success": {scope: _time(when) for scope, when in scopes},
        "data": [
            {"source": source, "period": period, "as_of": as_of.isoformat(), "snapshots": count}
            for source, period, as_of, count in newest
        ],
    }


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
    parts = [
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
