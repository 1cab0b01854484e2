"""Ranks on the real Phú Thọ captures (2026-08): each commune's rank follows from its total.

The replayed folder has no `service-results` recording, so the simulator
derives each unit's total from the six real axis files (their sum, rounded
to 2 decimals); the ranks below are checked against those totals.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from service.periods import Period
from service.scoring.report import score_rows
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO


def test_commune_ranks_ties_and_set_sizes_follow_from_the_totals(app):
    with PortalSimulator(ReplaySource(PHU_THO)) as simulator:
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        outcome = sync_province(
            app.sessions(), portal, "H44", Period.parse("2026-08"), dt.date(2026, 11, 22)
        )
    assert outcome.status == "ok", outcome.error
    with app.sessions()() as session:
        rows = score_rows(session, app.schemes, "766", Period.parse("2026-08"))
    communes = [row for row in rows if row["group"] == "COMMUNE"]
    agencies = [row for row in rows if row["group"] == "AGENCY"]
    assert len(communes) == 148 and len(agencies) == 15
    assert {row["rank_of"] for row in communes} == {148}
    assert {row["rank_of"] for row in agencies} == {15}
    totals = Counter(row["total"] for row in communes)
    for row in communes:
        higher = sum(1 for other in communes if other["total"] > row["total"])
        assert row["rank"] == higher + 1, row["unit_code"]
        assert row["rank_tied"] == (totals[row["total"]] > 1), row["unit_code"]
    assert [row["rank"] for row in communes] == sorted(row["rank"] for row in communes)
    tied_at_65_33 = [row["rank"] for row in communes if row["total"] == 65.33]
    assert tied_at_65_33 == [12, 12]  # two communes share 12th ...
    assert min(row["rank"] for row in communes if row["rank"] > 12) == 14  # ... 13th is skipped
