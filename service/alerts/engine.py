"""One evaluation of the alert rules: facts from the database → alert states → outbox.

Everything happens in one transaction: the alerts' new states, their events,
every delivery those events fan out to (one per person and channel, each with
its idempotency key) and the messages they are composed into (`queueing`: a
digest split by its channel's limits, one row per part). A crash leaves either
all of it or none; a second evaluator racing this one hits the unique keys and
rolls back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.alerts.fanout import Fanning, escalate, fan_out_all, record_event
from service.alerts.lifecycle import Known, Transition, transitions
from service.alerts.lines import DIRECTORY_LABEL, alert_lines
from service.alerts.models import Alert, AlertState, EventKind
from service.alerts.rules import (
    AddressFacts,
    Finding,
    Rule,
    RunFacts,
    UnitFacts,
    evaluate_addresses,
    evaluate_runs,
    evaluate_units,
)
from service.alerts.summaries import link_summarised, summarise
from service.calendar import WorkCalendar
from service.delivery.directory import Directory, recipients
from service.delivery.fanout import digest_key
from service.delivery.models import ChannelAddress, Delivery
from service.delivery.queueing import queue_messages
from service.indicators import NATIONAL
from service.models import FetchRun, RunStatus, Snapshot, Unit, UnitGroup
from service.notices.names import area_name, official_name
from service.periods import Period
from service.scoring.book import SchemeBook
from service.scoring.report import national_analysis
from service.shared_rows import chunks
from service.snapshots import latest_units


def lost_a_race(error: Exception) -> bool:
    """Whether a unique key refused an alert or a delivery another evaluation recorded
    first (the only unique keys two evaluations can both insert), not another bug."""
    words = str(getattr(error, "orig", error))
    return "fingerprint" in words or "idempotency_key" in words


#: What an evaluation that lost a race says (its insert of an alert met another's).
CONCURRENT_EVALUATION = (
    "another evaluation (the service's, or a second `dvcwatch alerts`) recorded the same "
    "alerts at the same time; this one kept nothing: run it again"
)


@dataclass(frozen=True)
class Policy:
    """How alerts behave: repeat interval, quiet hours, digests, escalation."""

    calendar: WorkCalendar
    repeat_hours: float = 24.0
    digest: bool = True
    escalate_after_days: tuple[int, ...] = (2, 4)


@dataclass
class Evaluation:
    """What one evaluation did (or, in a dry run, would do)."""

    period: str | None
    transitions: list[Transition] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


def evaluate(
    session: Session,
    book: SchemeBook,
    rules: Sequence[Rule],
    directory: Directory,
    policy: Policy,
    now: dt.datetime,
    period: Period | None = None,
    provinces: Collection[str] | None = None,
) -> Evaluation:
    """Judge the latest snapshots and the sync runs; record and queue what changed.

    The caller owns the transaction (commit it, or roll back for a dry run). `book` is
    not read: the rules judge the national index's typed analysis, which needs no scheme
    book (kept while `jobs/work.py` and `demo.py` pass it). `provinces` limits the unit
    rules to the units of those provinces (what their syncs changed): a unit is judged
    within its own province's sets (ranks, averages), so no other unit's findings can
    have changed; the runs, the addresses and escalations are judged whatever the scope.
    """
    period = period or latest_period(session)
    findings, judged = evaluate_runs(rules, _run_facts(session), now)
    address_findings, address_judged = evaluate_addresses(rules, _address_facts(session))
    findings, judged = findings + address_findings, judged | address_judged
    if period is not None:
        # No name holds the facts: the analysis is freed before the alerts are written.
        facts = _unit_facts(session, rules, period, provinces)
        unit_findings, unit_judged = evaluate_units(rules, facts)
        del facts
        findings, judged = findings + unit_findings, judged | unit_judged
    known = _known(session, None if provinces is None else judged)
    seen = _seen(session)
    changes = transitions(
        {key: k for key, (k, _) in known.items()},
        findings,
        judged,
        now,
        policy.calendar.working_hours_between,
        policy.repeat_hours,
    )
    evaluation = Evaluation(str(period) if period else None, changes)
    rules_by_id = {rule.id: rule for rule in rules}
    evaluation.deliveries += _record(session, changes, known, rules_by_id, directory, policy, now)
    readings = {finding.fingerprint: finding.context for finding in findings}
    evaluation.deliveries += escalate(session, directory, policy, rules_by_id, now, readings)
    # A unit is first seen when no alert was ever about it or another unit of its province
    # (a new province: its first evaluation is a baseline, even after its first sync failed;
    # a unit going wrong in a watched one is not).
    first_seen = {
        f.unit_code
        for f in (c.finding for c in changes)
        if f and f.unit_code and f.unit_code not in seen and f.province_code not in seen
    }
    evaluation.deliveries = summarise(
        session,
        evaluation.deliveries,
        first_seen,
        rules_by_id,
        digest_key("{person}", "{channel}", now),
        now,
    )
    queue_messages(session, alert_lines)
    link_summarised(session)
    return evaluation


def _record(
    session: Session,
    changes: Sequence[Transition],
    known: Mapping[str, tuple[Known, Alert]],
    rules: Mapping[str, Rule],
    directory: Directory,
    policy: Policy,
    now: dt.datetime,
) -> list[Delivery]:
    """Apply the changes to their alerts, record their events and queue their deliveries:
    a flush for the alerts, one for the events, one for the deliveries, whatever the
    number of changes."""
    applied = [
        (c, _apply(session, c, known.get(c.fingerprint, (None, None))[1], now)) for c in changes
    ]
    session.flush()  # the new alerts' ids, for their events
    events: list[Fanning] = []
    for change, alert in applied:
        rule = change.finding.rule if change.finding else rules.get(alert.rule_id)
        if rule is None:
            continue  # a rule removed from the configuration: its alert stays as it was
        event = record_event(session, alert, change, rule, now)
        people = recipients(directory, alert.unit_code, alert.province_code, alert.topic)
        events.append(Fanning(alert, event, rule, people))
    session.flush()  # the events' ids, for their deliveries' keys
    return fan_out_all(session, events, policy, now)


def latest_period(session: Session) -> Period | None:
    """The newest month the portal's figures were synced for."""
    newest = session.scalar(
        select(func.max(Snapshot.period)).where(
            Snapshot.scheme == NATIONAL, Snapshot.period.like("____-__")
        )
    )
    return Period.parse(newest) if newest else None


def _unit_facts(
    session: Session, rules: Sequence[Rule], period: Period, provinces: Collection[str] | None
) -> list[UnitFacts]:
    analyses = national_analysis(session, period, provinces)
    depth = max((rule.periods for rule in rules if rule.kind == "falling_for"), default=0)
    earlier: list[dict[str, float | None]] = []
    before = period
    for _ in range(depth):
        before = before.previous()
        units = latest_units(session, NATIONAL, str(before), parents=provinces)
        earlier.insert(0, {unit.label: unit.values.get("TOTAL") for unit in units})
    return [
        UnitFacts(result, tuple(totals.get(result.unit.label) for totals in earlier))
        for result in analyses
    ]


def _run_facts(session: Session) -> list[RunFacts]:
    facts = []
    names = _province_names(session)
    scopes = session.scalars(select(FetchRun.scope).where(FetchRun.job == "sync").distinct())
    for scope in scopes.all():
        runs = select(FetchRun).where(FetchRun.job == "sync", FetchRun.scope == scope)
        last = session.scalars(
            runs.where(FetchRun.finished_at.is_not(None)).order_by(FetchRun.id.desc()).limit(1)
        ).first()
        success = session.scalar(
            select(func.max(FetchRun.finished_at)).where(
                FetchRun.job == "sync", FetchRun.scope == scope, FetchRun.status == RunStatus.OK
            )
        )
        facts.append(
            RunFacts(
                scope,
                success,
                last.status if last else None,
                last.error_kind if last else None,
                last.error if last else None,
                *names.get(scope, ("", "")),
            )
        )
    return facts


def _province_names(session: Session) -> dict[str, tuple[str, str]]:
    """How operators' messages name a sync's scope (a province's code or departmentId),
    "tỉnh Phú Thọ (H44)", and the province's code, for the provinces the database knows."""
    provinces = session.execute(
        select(Unit.code, Unit.department_id, Unit.name).where(
            Unit.unit_group == UnitGroup.PROVINCE
        )
    )
    names = {}
    for code, department_id, name in provinces:
        if name:
            named = f"{area_name(name)} ({code})" if code else area_name(name)
            names.update({key: (named, code or key) for key in (code, department_id) if key})
    return names


def _address_facts(session: Session) -> list[AddressFacts]:
    return [
        AddressFacts(a.person_id, a.address, a.active, a.reason)
        for a in session.scalars(select(ChannelAddress))
    ]


def _known(session: Session, judged: Collection[str] | None) -> dict[str, tuple[Known, Alert]]:
    """The stored alerts (of the fingerprints `judged`, when given: the only ones a
    transition can be about)."""
    if judged is None:
        alerts = list(session.scalars(select(Alert)))
    else:
        alerts = [
            alert
            for keys in chunks(sorted(judged))
            for alert in session.scalars(select(Alert).where(Alert.fingerprint.in_(keys)))
        ]
    return {
        a.fingerprint: (Known(a.fingerprint, a.state, a.magnitude, a.last_notified_at), a)
        for a in alerts
    }


def _seen(session: Session) -> set[str | None]:
    """Every unit some alert was ever about, and the provinces of those units. An alert
    about a province's data alone (its sync failed, went stale) does not count: its units
    were never evaluated, and their first evaluation is still a baseline."""
    about_units = select(Alert.unit_code, Alert.province_code).where(Alert.unit_code.is_not(None))
    return {code for row in session.execute(about_units.distinct()) for code in row}


def _apply(session: Session, change: Transition, alert: Alert | None, now: dt.datetime) -> Alert:
    finding = change.finding
    if alert is None:
        assert finding is not None  # only a finding can create an alert
        alert = Alert(
            fingerprint=finding.fingerprint,
            rule_id=finding.rule.id,
            sequence=0,
            first_fired_at=now,
            escalation_level=0,
        )
        session.add(alert)
    if finding is not None:
        _describe(alert, finding)
    if change.kind == EventKind.RESOLVED:
        alert.state, alert.resolved_at = AlertState.RESOLVED, now
    else:
        if change.kind == EventKind.FIRED:
            alert.first_fired_at, alert.escalation_level = now, 0
            alert.acknowledged_at = alert.acknowledged_by = alert.resolved_at = None
        alert.state = AlertState.FIRING
        alert.magnitude = finding.magnitude if finding else alert.magnitude
    alert.last_changed_at = alert.last_notified_at = now
    return alert


def _describe(alert: Alert, finding: Finding) -> None:
    alert.topic, alert.severity = finding.rule.topic, finding.rule.severity
    alert.unit_code, alert.province_code = finding.unit_code, finding.province_code
    alert.period = finding.period
    alert.context_json = json.dumps(finding.context, ensure_ascii=False, default=str)
    name = finding.context.get("unit_name")
    name = official_name(str(name)) if name else None
    if name:
        alert.label = f"{name} ({finding.unit_code})"
    elif finding.province_code:
        alert.label = f"Dữ liệu {finding.context.get('scope_name') or finding.province_code}"
    else:  # a chat address delivery gave up: about the directory
        alert.label = DIRECTORY_LABEL
