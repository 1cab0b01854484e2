"""/healthz says whether the scheduler is alive and on time; /metrics is Prometheus text."""

from __future__ import annotations

import datetime as dt

import requests
from prometheus_client.parser import text_string_to_metric_families

from jobs.leader import heartbeat, take_term
from service import claims
from service.clock import utcnow
from service.health import HealthServer


def serve(sessions, late: list[str]) -> HealthServer:
    return HealthServer("127.0.0.1:0", sessions, lambda now: late).start()


def test_healthy_only_with_a_fresh_heartbeat_and_nothing_overdue(sessions):
    server = serve(sessions, [])
    url = f"http://127.0.0.1:{server.port}/healthz"
    try:
        first = requests.get(url, timeout=5)
        term = take_term(sessions, "vm:1")
        second = requests.get(url, timeout=5)
        heartbeat(sessions, "vm:1", term, utcnow() - dt.timedelta(minutes=10))
        stale = requests.get(url, timeout=5)
    finally:
        server.stop()
    assert first.status_code == 503 and "no scheduler" in first.json()["problems"][0]
    assert second.status_code == 200 and second.json()["leader"] == "vm:1"
    assert stale.status_code == 503


def test_an_overdue_job_makes_it_unhealthy(sessions):
    take_term(sessions, "vm:1")
    server = serve(sessions, ["sync-final H44 2026-08"])
    try:
        reply = requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)
    finally:
        server.stop()
    assert reply.status_code == 503 and "sync-final H44 2026-08" in reply.json()["problems"][0]


def test_metrics_parse_as_prometheus_text(sessions):
    now = utcnow()
    term = take_term(sessions, "vm:1", now)
    claims.claim(sessions, "sync", "H44", "2026-09-10T07:30", "vm:1", now, term)
    claims.finish(sessions, "sync", "H44", "2026-09-10T07:30", "vm:1", now, term)
    server = serve(sessions, [])
    try:
        reply = requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
    finally:
        server.stop()
    families = {family.name: family for family in text_string_to_metric_families(reply.text)}
    assert reply.headers["Content-Type"].startswith("text/plain")
    runs = families["dvcwatch_job_runs"].samples
    assert [(s.labels, s.value) for s in runs] == [({"job": "sync", "outcome": "ok"}, 1.0)]
    assert "dvcwatch_deliveries" in families and "dvcwatch_snapshot_age_seconds" in families
