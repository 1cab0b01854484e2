"""Is dvcwatch well? `/healthz`, `/metrics` (Prometheus) and the facts behind them.

Everything is read from the database at request time, so every instance
answers the same and a restart loses no counter: job runs by job and
outcome (`job_claims`), fetch errors by kind (`fetch_runs`), deliveries by
status (`deliveries`) and the age of the newest snapshot per source.
Healthy means: some scheduler's heartbeat is fresh, and no expected job run
is overdue (as `overdue` computes it from the schedule).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.claims import JobClaim, Leadership
from service.clock import utcnow
from service.delivery.models import Delivery
from service.loopback_http import LoopbackServer
from service.models import FetchRun, Snapshot

HEARTBEAT_FRESH = dt.timedelta(minutes=3)
Overdue = Callable[[dt.datetime], list[str]]  # now → the overdue (job scope period) keys


class DatabaseCollector:
    """A Prometheus collector whose samples are queries (see module doc)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        with self.sessions() as session:
            yield _counter(
                session,
                "dvcwatch_job_runs",
                "Job runs by job and outcome",
                ["job", "outcome"],
                select(JobClaim.job, JobClaim.status, func.count()).group_by(
                    JobClaim.job, JobClaim.status
                ),
            )
            yield _counter(
                session,
                "dvcwatch_fetch_errors",
                "Failed portal syncs by kind",
                ["kind"],
                select(FetchRun.error_kind, func.count())
                .where(FetchRun.error_kind.is_not(None))
                .group_by(FetchRun.error_kind),
            )
            deliveries = GaugeMetricFamily(
                "dvcwatch_deliveries", "Deliveries by status", labels=["status"]
            )
            for status, count in session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            ):
                deliveries.add_metric([status], count)
            yield deliveries
            yield _snapshot_age(session)


def _counter(
    session: Session, name: str, documentation: str, labels: list[str], query: Any
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for *values, count in session.execute(query):
        family.add_metric([str(v) for v in values], count)
    return family


def _snapshot_age(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "dvcwatch_snapshot_age_seconds",
        "Seconds since figures were last read, per source",
        labels=["source"],
    )
    now = utcnow()
    for source, newest in session.execute(
        select(Snapshot.source, func.max(Snapshot.seen_at)).group_by(Snapshot.source)
    ):
        family.add_metric([source], (now - newest).total_seconds())
    return family


def metrics_text(sessions: sessionmaker[Session]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(sessions))  # type: ignore[arg-type]
    return generate_latest(registry)


def health(sessions: sessionmaker[Session], overdue: Overdue, now: dt.datetime) -> dict[str, Any]:
    """The health verdict and its reasons."""
    with sessions() as session:
        leader = session.get(Leadership, "scheduler")
    problems = []
    if leader is None or now - leader.heartbeat_at > HEARTBEAT_FRESH:
        problems.append("no scheduler has a fresh heartbeat")
    late = overdue(now)
    if late:
        problems.append(f"{len(late)} job run(s) overdue: {', '.join(late[:5])}")
    return {
        "healthy": not problems,
        "leader": leader.owner if leader else None,
        "problems": problems,
    }


class HealthServer:
    """`/healthz` and `/metrics` on a loopback address, in a background thread."""

    def __init__(self, address: str, sessions: sessionmaker[Session], overdue: Overdue) -> None:
        host, _, port = address.rpartition(":")
        self.sessions, self.overdue = sessions, overdue
        self._server = LoopbackServer((host.strip("[]"), int(port)), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="dvcwatch-health"
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(owner: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            if self.path == "/healthz":
                verdict = health(owner.sessions, owner.overdue, utcnow())
                body = json.dumps(verdict, ensure_ascii=False).encode()
                self._reply(200 if verdict["healthy"] else 503, "application/json", body)
            elif self.path == "/metrics":
                body = metrics_text(owner.sessions)
                self._reply(200, "text/plain; version=0.0.4; charset=utf-8", body)
            else:
                self._reply(404, "text/plain", b"not found\n")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # health probes every few seconds would flood the journal

    return Handler
