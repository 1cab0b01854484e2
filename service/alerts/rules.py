"""Alert rules as configuration (`config/rules.toml`) and their pure evaluation.

A rule looks at each unit's facts (the national index's typed analysis of it,
`scoring.national.UnitAnalysis`, never the rows `dvcwatch scores` prints) and
says whether something is wrong and how much (`magnitude`: dossiers, points,
places, a band). `evaluate` returns the findings and the fingerprints it
could judge: a unit whose figure is unknown ("no data") is not judged, so a
missing or failed fetch never reads as "no problems" and never resolves an
alert. Operator rules judge the data itself from the sync runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from service import indicators
from service.config import ConfigError, parse_toml_file
from service.scoring.national import UnitAnalysis, what_it_takes_rows
from service.snapshots import StoredUnit

TOTAL = "TOTAL"  # the portal's total, a figure code as the axes are
UNIT_KINDS = ("count_above", "ratio_below", "fell_by", "rank_fell", "total_below", "falling_for")
Kind = Literal[
    "count_above", "ratio_below", "fell_by", "rank_fell", "total_below", "falling_for",
    "stale_sync", "run_blocked", "parse_error", "delivery_failed",
]  # fmt: skip


class Rule(BaseModel):
    """One rule; which fields matter depends on `kind` (see config/rules.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")]
    kind: Kind
    topic: str
    severity: Literal["info", "warning", "critical"] = "warning"
    units: tuple[str, ...] = ("*",)
    count: str | None = None  # a count's key in the registry (`indicators.ALERTING`)
    metric: str | None = None
    field: str = TOTAL  # TOTAL or an axis code
    against: Literal["period", "snapshot"] = "period"
    threshold: float = 0
    points: Annotated[float, Field(gt=0)] = 1.0
    places: Annotated[int, Field(gt=0)] = 1
    bands: tuple[float, ...] = (80.0, 90.0)
    periods: Annotated[int, Field(ge=2)] = 3
    hours: Annotated[float, Field(gt=0)] = 36.0
    bypass_quiet_hours: bool = False

    @field_validator("count", "field")
    @classmethod
    def _a_registry_word(cls, word: str | None, info: ValidationInfo) -> str | None:
        """A count that alerts; TOTAL or an axis (`service/indicators.py`)."""
        counting = info.field_name == "count"
        known = list(indicators.ALERTING) if counting else [TOTAL, *indicators.AXES]
        if word is not None and word not in known:
            raise ValueError(f"unknown {info.field_name} {word!r} (known: {', '.join(known)})")
        return word

    def applies_to(self, unit_code: str, group: str) -> bool:
        return "*" in self.units or unit_code in self.units or group in self.units


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class UnitFacts:
    """What is known of one unit now: the national index's analysis of it (changes,
    ranks, its snapshot's figures) and its totals of earlier periods."""

    analysis: UnitAnalysis
    earlier_totals: tuple[float | None, ...] = ()  # oldest first, the previous periods

    @property
    def unit(self) -> StoredUnit:
        return self.analysis.unit

    @property
    def code(self) -> str:
        return self.unit.label


@dataclass(frozen=True)
class RunFacts:
    """What is known of the sync of one scope (a province)."""

    scope: str
    last_success_at: dt.datetime | None
    last_status: str | None
    last_error_kind: str | None
    last_error: str | None
    #: How a message names the scope ("tỉnh Phú Thọ (H44)") and the province's code,
    #: when the database knows the province (a scope may be its departmentId).
    scope_name: str = ""
    province_code: str = ""


@dataclass(frozen=True)
class Finding:
    """Something wrong: the rule, the unit (or scope), how much, and what to say."""

    fingerprint: str
    rule: Rule
    unit_code: str | None
    province_code: str | None
    magnitude: float
    period: str | None
    context: Mapping[str, Any] = field(default_factory=dict)


def load_rules(path: Path) -> tuple[Rule, ...]:
    """The rules of a TOML file; ConfigError names the file, the rule and the key."""
    try:
        raw = parse_toml_file(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: rules file not found") from None
    try:
        rules = RuleSet.model_validate(raw).rules
    except ValidationError as exc:
        problems = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join([f"{path}: invalid rules", *problems])) from None
    duplicates = {r.id for r in rules if sum(other.id == r.id for other in rules) > 1}
    if duplicates:
        raise ConfigError(f"{path}: rule ids used twice: {', '.join(sorted(duplicates))}")
    return rules


def fingerprint(rule: Rule, subject: str) -> str:
    return f"{rule.id}|{subject}"


def evaluate_units(
    rules: Sequence[Rule], units: Iterable[UnitFacts]
) -> tuple[list[Finding], set[str]]:
    """Findings of the unit rules, and every fingerprint that could be judged."""
    findings: list[Finding] = []
    judged: set[str] = set()
    for unit in units:
        for rule in rules:
            if rule.kind not in UNIT_KINDS or not rule.applies_to(unit.code, unit.unit.group):
                continue
            measured = _MEASURES[rule.kind](rule, unit)
            if measured is None:
                continue
            key = fingerprint(rule, unit.code)
            judged.add(key)
            if measured.wrong:
                findings.append(_unit_finding(key, rule, unit, measured))
    return findings, judged


@dataclass(frozen=True)
class _Measure:
    wrong: bool
    magnitude: float
    details: Mapping[str, Any] = field(default_factory=dict)


def _count_above(rule: Rule, unit: UnitFacts) -> _Measure | None:
    count = indicators.ALERTING.get(rule.count or "")
    value = unit.analysis.count(count) if count else None
    if value is None:
        return None
    return _Measure(value > rule.threshold, float(value))


def _ratio_below(rule: Rule, unit: UnitFacts) -> _Measure | None:
    figure = unit.unit.figures.get(rule.metric or "")
    if figure is None:
        return None
    ratio = figure.ratio
    if ratio is None and figure.denominator:
        ratio = round(100 * (figure.numerator or 0) / figure.denominator, 2)
    if ratio is None:
        return None
    # Whole percents: running ratios move daily, and each move would re-send the alert.
    details = {"numerator": figure.numerator, "denominator": figure.denominator, "ratio": ratio}
    return _Measure(ratio < rule.threshold, float(round(ratio)), details)


def _fell_by(rule: Rule, unit: UnitFacts) -> _Measure | None:
    analysis = unit.analysis
    if rule.against == "snapshot":
        delta = analysis.total_delta_since_snapshot if rule.field == TOTAL else None
    elif rule.field == TOTAL:
        delta = analysis.total_delta
    else:
        delta = analysis.axis_deltas.get(rule.field)
    if delta is None:
        return None
    return _Measure(delta <= -rule.points, round(-delta, 2), {"delta": delta})


def _rank_fell(rule: Rule, unit: UnitFacts) -> _Measure | None:
    change = unit.analysis.rank_change
    if change is None:
        return None
    return _Measure(change <= -rule.places, float(-change))


def _total_below(rule: Rule, unit: UnitFacts) -> _Measure | None:
    total = unit.analysis.total
    if total is None:
        return None
    under = [band for band in sorted(rule.bands) if total < band]
    return _Measure(bool(under), under[0] if under else 0.0)


def _falling_for(rule: Rule, unit: UnitFacts) -> _Measure | None:
    known = [*unit.earlier_totals[-rule.periods :], unit.analysis.total]
    series = [value for value in known if value is not None]
    if len(series) < rule.periods + 1:
        return None  # a gap in the history: nothing can be said
    falling = all(later < earlier for earlier, later in zip(series, series[1:], strict=False))
    return _Measure(falling, float(rule.periods), {"series": series})


_MEASURES = {
    "count_above": _count_above,
    "ratio_below": _ratio_below,
    "fell_by": _fell_by,
    "rank_fell": _rank_fell,
    "total_below": _total_below,
    "falling_for": _falling_for,
}


def _unit_finding(key: str, rule: Rule, unit: UnitFacts, measured: _Measure) -> Finding:
    analysis, stored = unit.analysis, unit.unit
    context = {
        "unit_name": stored.name,
        "unit_code": unit.code,
        "group": stored.group,  # the comparison set (AGENCY, COMMUNE): a summary's level
        "rank": analysis.rank.rank,
        "rank_of": analysis.rank.rank_of,
        "previous_rank": analysis.previous_rank,
        "total": analysis.total,
        "what_it_takes": what_it_takes_rows(stored),
        # a running month's figures are provisional, as of the day they were read
        "completeness": stored.completeness,
        "as_of": stored.as_of.isoformat(),
        **measured.details,
    }
    return Finding(
        key, rule, unit.code, stored.parent_code, measured.magnitude, stored.period, context
    )


def evaluate_runs(
    rules: Sequence[Rule], runs: Iterable[RunFacts], now: dt.datetime
) -> tuple[list[Finding], set[str]]:
    """Operator findings about the data itself: stale, blocked, unparseable."""
    findings: list[Finding] = []
    judged: set[str] = set()
    for run in runs:
        for rule in (r for r in rules if r.kind in ("stale_sync", "run_blocked", "parse_error")):
            key = fingerprint(rule, run.scope)
            judged.add(key)
            if _run_problem(rule, run, now):
                context = {
                    "scope": run.scope,
                    "scope_name": run.scope_name or run.scope,
                    "error": run.last_error or "",
                    "hours": _hours_since(run.last_success_at, now),
                }
                province = run.province_code or run.scope
                findings.append(Finding(key, rule, None, province, 1.0, None, context))
    return findings, judged


def _run_problem(rule: Rule, run: RunFacts, now: dt.datetime) -> bool:
    """Whether the rule's problem holds. The magnitude is always 1: how stale the data
    is grows every hour, and an alert re-sent at each hour would be muted."""
    if rule.kind == "stale_sync":
        hours = _hours_since(run.last_success_at, now)
        return hours is None or hours > rule.hours
    if rule.kind == "run_blocked":
        return run.last_status == "blocked"
    return run.last_error_kind == "parse"


def _hours_since(moment: dt.datetime | None, now: dt.datetime) -> int | None:
    return None if moment is None else int((now - moment).total_seconds() // 3600)


@dataclass(frozen=True)
class AddressFacts:
    """What delivery learnt about a person's chat address."""

    person_id: str
    address: str
    active: bool
    reason: str | None


def evaluate_addresses(
    rules: Sequence[Rule], addresses: Iterable[AddressFacts]
) -> tuple[list[Finding], set[str]]:
    """Operator findings: addresses the outbox had to deactivate (blocked, chat gone)."""
    findings: list[Finding] = []
    judged: set[str] = set()
    for rule in (r for r in rules if r.kind == "delivery_failed"):
        for address in addresses:
            key = fingerprint(rule, address.person_id)
            judged.add(key)
            if not address.active:
                context = {
                    "person": address.person_id,
                    "address": address.address,
                    "reason": address.reason or "",
                }
                findings.append(Finding(key, rule, None, None, 1.0, None, context))
    return findings, judged
