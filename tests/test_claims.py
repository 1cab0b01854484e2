"""Claim, then act: one winner per (job, scope, period), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from service import claims

NOW = dt.datetime(2026, 9, 10, 3, 0)


def test_the_first_claim_wins_and_a_second_owner_loses(sessions):
    assert claims.claim(sessions, "sync", "H44", "2026-09-10T07:30", "a", NOW)
    assert not claims.claim(sessions, "sync", "H44", "2026-09-10T07:30", "b", NOW)


def test_a_done_period_is_skipped(sessions):
    claims.claim(sessions, "sync-final", "H44", "2026-08", "a", NOW)
    claims.finish(sessions, "sync-final", "H44", "2026-08", "a", NOW)
    assert claims.done(sessions, "sync-final", "H44", "2026-08")
    assert not claims.claim(sessions, "sync-final", "H44", "2026-08", "a", NOW)


def test_a_failed_run_may_be_taken_again(sessions):
    claims.claim(sessions, "sync-final", "H44", "2026-08", "a", NOW)
    claims.finish(sessions, "sync-final", "H44", "2026-08", "a", NOW, error="HTTP 503")
    assert claims.claim(sessions, "sync-final", "H44", "2026-08", "b", NOW)
    assert not claims.done(sessions, "sync-final", "H44", "2026-08")


def test_a_claim_held_too_long_by_a_dead_owner_is_taken_over(sessions):
    claims.claim(sessions, "notices", "congvan:H44.116", "2026-08", "dead", NOW)
    later = NOW + dt.timedelta(hours=2)
    assert claims.claim(sessions, "notices", "congvan:H44.116", "2026-08", "alive", later)


def test_a_new_leader_abandons_what_the_old_one_left_running(sessions):
    claims.claim(sessions, "sync-final", "H44", "2026-08", "old", NOW)
    assert claims.abandon_others(sessions, "new", NOW) == 1
    assert claims.claim(sessions, "sync-final", "H44", "2026-08", "new", NOW)
