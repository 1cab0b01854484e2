"""National-index rows: changes, ranks with ties, averages and what it takes."""

from __future__ import annotations

import datetime as dt

from service.figures import FigureValue
from service.scoring.national import NationalInput, national_rows
from service.snapshots import StoredUnit

AXIS_SCORES = {"CKMB": 13.7, "TDGQ": 16.3, "CLGQ": 7.3, "TTTT": 10.0, "MDHL": 17.4, "MDSH": 19.9}


def unit(
    unit_id: int,
    total: float | None,
    period: str = "2024-09",
    source: str = "portal-766",
    axes: dict[str, float] | None = None,
    completeness: str = "final",
    as_of: dt.date = dt.date(2024, 9, 30),
    **extra: FigureValue,
) -> StoredUnit:
    figures = {"TOTAL": FigureValue("TOTAL", "total", total, 100.0)}
    for code, score in (axes or AXIS_SCORES).items():
        figures[code] = FigureValue(code, "axis", score, None, axis=code)
    figures.update(extra)
    return StoredUnit(
        unit_id,
        f"H21.{unit_id:03d}",
        f"UBND xã {unit_id}",
        None,
        "COMMUNE",
        1,
        "H21",
        source,
        period,
        as_of,
        1,
        completeness,
        figures,
    )


def rows_by_code(data: NationalInput) -> dict[str, dict]:
    return {row["unit_code"]: row for row in national_rows(data)}


def test_two_months_give_signed_changes_per_axis_total_and_rank():
    august = [unit(1, 86.97), unit(2, 90.0), unit(3, 95.0)]
    september_axes = {**AXIS_SCORES, "CKMB": 17.5, "CLGQ": 7.2, "TTTT": 10.0}
    september = [unit(1, 93.81, axes=september_axes), unit(2, 90.0), unit(3, 80.0)]
    rows = rows_by_code(NationalInput(september, august))
    bình_thành = rows["H21.001"]
    assert bình_thành["total_delta"] == 6.84
    assert bình_thành["axes"]["CKMB"]["delta"] == 3.8
    assert bình_thành["axes"]["CLGQ"]["delta"] == -0.1
    assert bình_thành["axes"]["TTTT"]["delta"] == 0.0  # "giữ nguyên"
    assert (bình_thành["rank"], bình_thành["previous_rank"], bình_thành["rank_change"]) == (1, 3, 2)
    assert rows["H21.003"]["rank_change"] == -2
    assert rows["H21.002"]["rank_change"] == 0 and rows["H21.002"]["total_delta"] == 0.0


def test_no_change_is_drawn_across_a_change_of_source():
    before = [unit(1, 86.97, source="portal-766-legacy"), unit(2, 70.0, source="portal-766-legacy")]
    rows = rows_by_code(NationalInput([unit(1, 60.0), unit(2, 55.0)], before))
    row = rows["H21.001"]
    assert row["total_delta"] is None and row["rank_change"] is None
    assert all(axis["delta"] is None for axis in row["axes"].values())


def test_ties_share_a_rank_and_the_next_is_skipped():
    rows = national_rows(
        NationalInput([unit(1, 90.0), unit(2, 88.5), unit(3, 88.5), unit(4, 70.0), unit(5, None)])
    )
    assert [(r["unit_code"], r["rank"], r["rank_tied"]) for r in rows] == [
        ("H21.001", 1, False),
        ("H21.002", 2, True),
        ("H21.003", 2, True),
        ("H21.004", 4, False),
        ("H21.005", None, False),
    ]
    assert {r["rank_of"] for r in rows} == {4}
    assert "1, 2, 2, 4" in rows[0]["rank_note"]


def test_units_below_the_sets_average_are_named_per_axis():
    low = {**AXIS_SCORES, "TDGQ": 10.0}
    rows = rows_by_code(NationalInput([unit(1, 90.0), unit(2, 80.0, axes=low), unit(3, 85.0)]))
    assert rows["H21.002"]["below_average"] == ["TDGQ"]
    assert rows["H21.001"]["below_average"] == []


def test_what_it_takes_counts_dossiers_not_percentages():
    payment = FigureValue("ONLINE_PAYMENT", "metric", None, None, "TTTT", 50, 80)
    rows = rows_by_code(NationalInput([unit(1, 90.0, ONLINE_PAYMENT=payment)]))
    [effort] = rows["H21.001"]["what_it_takes"]
    # 6 × 50/80 = 3.75; 3.85 needs ceil(3.85 × 80 / 6) = 52 paid: 2 more; the full mark 30 more.
    assert effort["indicator"] == "ONLINE_PAYMENT" and effort["estimate"] is True
    assert (effort["more_dossiers_for_next_step"], effort["more_dossiers_for_full_mark"]) == (2, 30)


def test_running_figures_also_change_against_the_previous_snapshot():
    today = unit(1, 71.5, completeness="running", as_of=dt.date(2024, 9, 20))
    earlier = unit(1, 70.25, completeness="running", as_of=dt.date(2024, 9, 19))
    [row] = national_rows(NationalInput([today], previous_snapshot={1: earlier}))
    assert row["total_delta_since_snapshot"] == 1.25
