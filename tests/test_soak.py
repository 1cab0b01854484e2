"""The soak, short: a week across a month end, every fault kind at least once, two SIGKILLs
(`bench/soak.py` runs the long one). It passes on SQLite and PostgreSQL, and fails when a
sync writes its snapshots again: the checker catches a broken idempotence."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bench.soak import PORTAL_FAULTS, TELEGRAM_FAULTS, Options, soak
from tests.conftest import PG_URL

SHORT = Options(
    seed=20261029,
    days=7,
    start=dt.date(2026, 10, 29),  # October's notice is due on 4 November
    provinces=3,
    communes=30,
    agencies=6,
    share=0.1,
    watch=2,
    kill_rate=0.0,  # the plan's own: each kind once, two kills (and a drop on PostgreSQL)
    fault_rate=0.0,
    max_rss_mb=1000.0,
)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_week_of_faults_leaves_every_snapshot_message_and_notice_once(database):
    if database == "postgresql" and not PG_URL:
        pytest.skip("DVCWATCH_TEST_PG_URL is not set")
    outcome = soak(SHORT, PG_URL if database == "postgresql" else None, database)
    assert outcome.failures == []
    faults = outcome.counts
    assert all(faults[f"portal {kind}"] for kind in PORTAL_FAULTS)
    assert all(faults[f"telegram {kind}"] for kind in TELEGRAM_FAULTS)
    assert faults["worker killed (SIGKILL)"] == 2  # mid-sync, and while a message was sent
    if database == "postgresql":
        assert faults["postgresql sessions terminated"] >= 1
    figures = outcome.figures
    assert figures["snapshots expected"] == figures["snapshots stored"] > 0
    assert figures["notices due"] == figures["notice files"] == 2
    assert figures["notice documents received"] == figures["notice deliveries"] == 1
    assert figures["deactivated recipients"] == 1  # the blocked user
    # the part in flight when the sender was killed: never re-sent, listed by `status`
    assert figures["uncertain listed by status"] == figures["message parts uncertain"] >= 1
    assert figures["alert events fired"] and figures["parts received by Telegram"]
    # where the bytes are: every table's share is named, the snapshots' among them
    assert "snapshots " in figures["database bytes by table"]


def test_a_sync_that_writes_its_snapshots_again_fails_the_soak():
    broken = dataclasses.replace(SHORT, days=2, broken="snapshots", faults=False)
    outcome = soak(broken, None, "sqlite")
    assert outcome.figures["units with wrong snapshots"] > 0
    assert any(failure.startswith("snapshots of") for failure in outcome.failures)
