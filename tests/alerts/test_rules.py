"""Rules judge units and runs; no data is never judged as "no problem"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.alerts.rules import (
    Rule,
    RunFacts,
    UnitFacts,
    evaluate_runs,
    evaluate_units,
    load_rules,
)
from service.config import ConfigError
from service.figures import FigureValue
from service.indicators import ALERTING, AXES, OVERDUE, TDGQ, Count
from service.scoring.national import UnitAnalysis
from service.scoring.ranks import Rank
from service.snapshots import StoredUnit

RULES_FILE = Path(__file__).resolve().parents[2] / "config" / "rules.toml"


def facts(
    code: str = "H44.116",
    group: str = "COMMUNE",
    *,
    total: float | None = 80.0,
    total_delta: float | None = None,
    axis_deltas: dict[str, float | None] | None = None,
    rank_change: int | None = None,
    counts: dict[Count, int | None] | None = None,
    figures: tuple[FigureValue, ...] = (),
    earlier: tuple[float | None, ...] = (),
) -> UnitFacts:
    """A unit as the national index's analysis gives it: a stored snapshot with its total,
    counts and figures, ranked 5th of 23; nothing else known unless given."""
    stored = [
        FigureValue("TOTAL", "total", total),
        *(FigureValue(count.code, "count", value) for count, value in (counts or {}).items()),
        *figures,
    ]
    unit = StoredUnit(
        unit_id=1,
        code=code,
        department_id=None,
        name="UBND xã Bình Phú",
        group=group,
        parent_id=None,
        parent_code="H44",
        source="portal",
        period="2026-08",
        as_of=dt.date(2026, 8, 31),
        revision=1,
        completeness="final",
        figures={figure.code: figure for figure in stored},
    )
    analysis = UnitAnalysis(
        unit=unit,
        previous=None,
        total_delta=total_delta,
        axis_deltas={axis: None for axis in AXES} | (axis_deltas or {}),
        rank=Rank(code, total, 5, 23, False),
        previous_rank=None,
        rank_change=rank_change,
        below_average=(),
    )
    return UnitFacts(analysis, earlier)


#: Every alerting count known, none of them above zero.
NONE_OUTSTANDING: dict[Count, int | None] = {count: 0 for count in ALERTING.values()}


def test_the_shipped_rules_file_is_valid():
    ids = [rule.id for rule in load_rules(RULES_FILE)]
    assert "overdue" in ids and len(ids) == len(set(ids))


def test_a_count_above_its_threshold_is_a_finding_with_the_count():
    rule = Rule(id="overdue", kind="count_above", topic="overdue", count="overdue")
    unit = facts(counts=NONE_OUTSTANDING | {OVERDUE: 3})
    findings, judged = evaluate_units([rule], [unit])
    assert [(f.fingerprint, f.magnitude) for f in findings] == [("overdue|H44.116", 3.0)]
    assert judged == {"overdue|H44.116"}


def test_a_unit_with_no_data_is_not_judged():
    rule = Rule(id="overdue", kind="count_above", topic="overdue", count="overdue")
    findings, judged = evaluate_units([rule], [facts()])
    assert findings == [] and judged == set()


def test_zero_is_judged_and_finds_nothing():
    rule = Rule(id="overdue", kind="count_above", topic="overdue", count="overdue")
    findings, judged = evaluate_units([rule], [facts(counts=NONE_OUTSTANDING)])
    assert findings == [] and judged == {"overdue|H44.116"}


@pytest.mark.parametrize(
    ("rule", "row", "magnitude"),
    [
        (Rule(id="fell", kind="fell_by", topic="falling", points=1), {"total_delta": -2.5}, 2.5),
        (
            Rule(id="fell", kind="fell_by", topic="falling", field=TDGQ.code, points=0.5),
            {"axis_deltas": {TDGQ.code: -0.6}},
            0.6,
        ),
        (Rule(id="rank", kind="rank_fell", topic="rank", places=3), {"rank_change": -6}, 6.0),
        (Rule(id="band", kind="total_below", topic="band", bands=(80, 90)), {"total": 78.5}, 80),
        (Rule(id="band", kind="total_below", topic="band", bands=(80, 90)), {"total": 85.0}, 90),
        (
            Rule(id="falls", kind="falling_for", topic="falling", periods=3),
            {"total": 78.0, "earlier": (85.0, 82.0, 80.0)},
            3,
        ),
    ],
)
def test_each_kind_measures_what_it_says(rule, row, magnitude):
    [finding] = evaluate_units([rule], [facts(**row)])[0]
    assert finding.magnitude == magnitude


@pytest.mark.parametrize(
    ("rule", "row"),
    [
        (Rule(id="fell", kind="fell_by", topic="falling", points=1), {"total_delta": -0.5}),
        (Rule(id="rank", kind="rank_fell", topic="rank", places=3), {"rank_change": -2}),
        (Rule(id="band", kind="total_below", topic="band", bands=(80, 90)), {"total": 91.0}),
        (
            Rule(id="falls", kind="falling_for", topic="falling", periods=3),
            {"total": 81.0, "earlier": (85.0, 82.0, 80.0)},
        ),
    ],
)
def test_below_the_threshold_nothing_is_found_but_the_unit_is_judged(rule, row):
    findings, judged = evaluate_units([rule], [facts(**row)])
    assert findings == [] and judged == {f"{rule.id}|H44.116"}


def test_a_ratio_below_its_threshold_counts_in_whole_percents():
    rule = Rule(
        id="pay", kind="ratio_below", topic="not_paid_online", metric="ONLINE_PAYMENT", threshold=90
    )
    paid = FigureValue("ONLINE_PAYMENT", "metric", None, None, "TTTT", 513, 613)
    [finding] = evaluate_units([rule], [facts(figures=(paid,))])[0]
    assert finding.magnitude == 84 and finding.context["ratio"] == 83.69


def test_rules_apply_only_to_their_units_or_groups():
    rule = Rule(
        id="overdue", kind="count_above", topic="overdue", count="overdue", units=("AGENCY",)
    )
    unit = facts(counts=NONE_OUTSTANDING | {OVERDUE: 3})
    assert evaluate_units([rule], [unit]) == ([], set())


NOW = dt.datetime(2026, 9, 10, 3, 0)


@pytest.mark.parametrize(
    ("run", "found"),
    [
        (RunFacts("H44", NOW - dt.timedelta(hours=40), "ok", None, None), {"stale|H44"}),
        (
            RunFacts("H44", NOW - dt.timedelta(hours=2), "blocked", "blocked", "HTTP 429"),
            {"blocked|H44"},
        ),
        (RunFacts("H44", NOW - dt.timedelta(hours=2), "failed", "parse", "bad"), {"parse|H44"}),
        (RunFacts("H44", NOW - dt.timedelta(hours=2), "ok", None, None), set()),
        (RunFacts("H44", None, "failed", "unavailable", "timed out"), {"stale|H44"}),
    ],
)
def test_operator_rules_judge_the_sync_runs(run, found):
    rules = [
        Rule(id="stale", kind="stale_sync", topic="operator", hours=36),
        Rule(id="blocked", kind="run_blocked", topic="operator"),
        Rule(id="parse", kind="parse_error", topic="operator"),
    ]
    findings, judged = evaluate_runs(rules, [run], NOW)
    assert {f.fingerprint for f in findings} == found
    assert judged == {"stale|H44", "blocked|H44", "parse|H44"}


def test_a_bad_rules_file_names_the_rule_and_key(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nid = "x"\nkind = "count_above"\ntopic = "t"\ncount = "late"\n')
    with pytest.raises(ConfigError, match=r"rules\.0\.count"):
        load_rules(path)


def test_a_rules_file_may_name_only_an_axis_or_the_total_as_a_field(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nid = "x"\nkind = "fell_by"\ntopic = "t"\nfield = "CKBM"\n')
    with pytest.raises(ConfigError, match=r"rules\.0\.field.*unknown field 'CKBM'"):
        load_rules(path)


def test_an_unknown_count_is_refused_with_the_registry_s_counts(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nid = "x"\nkind = "count_above"\ntopic = "t"\ncount = "late"\n')
    with pytest.raises(ConfigError, match=f"known: {', '.join(ALERTING)}"):
        load_rules(path)


def test_each_count_rule_judges_the_figure_its_registry_row_names():
    """Typed: a count rule reads the stored figure of the registry's code, nothing shaped
    like the rows `dvcwatch scores` prints, so renaming an output key changes no alert."""
    rules = [
        Rule(id=key, kind="count_above", topic=key, count=key, threshold=0) for key in ALERTING
    ]
    unit = facts(counts={count: place for place, count in enumerate(ALERTING.values(), 1)})
    findings, judged = evaluate_units(rules, [unit])
    assert {f.rule.count: f.magnitude for f in findings} == {
        count.key: float(place) for place, count in enumerate(ALERTING.values(), 1)
    }
    assert facts(counts={OVERDUE: 2}).unit.figures[OVERDUE.code].value == 2
    assert evaluate_units(rules, [facts(counts={OVERDUE: 2})])[1] == {"overdue|H44.116"}
