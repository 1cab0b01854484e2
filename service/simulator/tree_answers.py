"""The generated answers of the three tree endpoints: the province and its children.

dvc-progress-tree (TDGQ), provide-online-tree (CLGQ) and
formality-online-payment-tree (TTTT) answer a `parent` (the province) and all
its `children` (units), whatever the page size. Scores follow the fitted
formulas of docs/domain.md; CLGQ, which nobody has reproduced, is a plausible
figure of at most 12. The answers carry every field the recorded ones carry,
with the same nulls.
"""

from __future__ import annotations

from collections.abc import Callable

from service import indicators
from service.portal.api import DVC_PROGRESS_TREE
from service.simulator.country import Department
from service.simulator.counts import Catalogue, Figures, Tally
from service.simulator.metrics import scaled_share
from service.simulator.queries import JSON, figure

# The axes' maxima (the portal prints them as whole numbers).
_TDGQ, _CLGQ, _TTTT = (int(a.maximum) for a in (indicators.TDGQ, indicators.CLGQ, indicators.TTTT))


def _node(department: Department, child: bool = True) -> JSON:
    node = {
        "departmentId": department.department_id,
        "departmentName": department.name,
        "departmentCode": department.code,
    }
    return node | {"level": department.level} if child else node


def _month_chart(
    figures: Figures, point: Callable[[Tally, Catalogue], JSON], label: str
) -> list[JSON]:
    by_month = {month: (total, catalogue) for month, total, catalogue in figures.months}
    quiet = {key: 0 for key in point(Tally(), figures.catalogue)}
    return [
        {label: f"{month:02d}"} | (point(*by_month[month]) if month in by_month else quiet)
        for month in range(1, 13)
    ]


def dvc_progress_tree(figures: Figures) -> JSON:
    """TDGQ: 20 x the share of dossiers handled on time."""

    def progress(t: Tally) -> JSON:
        return {
            "avgProcessingDays": scaled_share(t.processing_days, t.received, 1),
            "ratio": scaled_share(t.on_time, t.received),
        }

    def points(t: Tally, is_root: bool) -> JSON:
        keys = DVC_PROGRESS_TREE.scores(is_root)
        return {keys.score: scaled_share(t.on_time, t.received, _TDGQ), keys.maximum: _TDGQ}

    children = [
        _node(unit)
        | {"totalReceived": t.received, "totalOnTime": t.on_time, "totalOverdue": t.overdue}
        | progress(t)
        | points(t, is_root=False)
        | {"scoreDelta": None}
        for _, unit, t in figures.members()
    ]
    total = figures.total
    parent = (
        _node(figures.province.department, child=False)
        | {
            "totalReceived": total.received,
            "totalOnTime": total.on_time,
            "totalCompleted": total.on_time + total.overdue,
        }
        | progress(total)
        | points(total, is_root=True)
    )

    def point(t: Tally, _: Catalogue) -> JSON:
        on_time = scaled_share(t.on_time, t.received)
        return {"onTimePct": on_time, "overduePct": figure(100 - on_time) if t.received else 0}

    return {
        "parent": parent,
        "children": children,
        "monthlyChart": _month_chart(figures, point, "month"),
    }


def _clgq(t: Tally) -> JSON:
    score = scaled_share(t.clgq_points, t.received, 1)
    return {"totalScore": score, "totalMaxScore": _CLGQ, "ratio": scaled_share(score, _CLGQ)}


def provide_online_tree(figures: Figures) -> JSON:
    """CLGQ: a plausible score per unit, its province the volume-weighted mean."""
    children = [_node(unit) | _clgq(t) | {"scoreDelta": None} for _, unit, t in figures.members()]
    total, catalogue = figures.total, figures.catalogue
    online_on_time = round(total.online * total.on_time / total.received) if total.received else 0
    parent = (
        _node(figures.province.department, child=False)
        | _clgq(total)
        | {
            "authorityCount": catalogue.authority,
            "partialCount": catalogue.partial,
            "fullCount": catalogue.full,
            "onlineDossierCount": catalogue.online_dossiers,
            "onlineServiceTotal": catalogue.online_services,
            "channelOnlineSum": total.online,
            "channelDirectSum": total.received - total.online - total.postal,
            "channelPostalSum": total.postal,
            "channelTotalSum": total.received,
            "onlineOnTimeSum": online_on_time,
            "onlineOverdueSum": total.online - online_on_time,
        }
    )

    def point(_: Tally, c: Catalogue) -> JSON:
        return {"onlineDossierPct": scaled_share(c.online_dossiers, c.online_services)}

    return {
        "parent": parent,
        "children": children,
        "monthlyChart": _month_chart(figures, point, "label"),
    }


def payment_score(
    paid: int, obligation: int, integrated: int, used: int, fee_total: int
) -> int | float:
    """TTTT as fitted: 6 x paid share + min(2, 2.5 x integrated share) + min(2, 2.5 x used share).

    `integrated` fee procedures take online payment, `used` had at least one online payment.
    """
    dossiers = 6 * paid / obligation if obligation else 0.0
    integration = min(2.0, 2.5 * integrated / fee_total) if fee_total else 0.0
    usage = min(2.0, 2.5 * used / fee_total) if fee_total else 0.0
    return figure(figure(dossiers) + figure(integration) + figure(usage))


def formality_online_payment_tree(figures: Figures) -> JSON:
    """TTTT: dossiers paid online and fee procedures integrated with online payment."""

    def payment(t: Tally | Catalogue, paid: int, obligation: int) -> tuple[int | float, JSON]:
        score = payment_score(
            paid, obligation, t.fee_integrated, t.fee_paid_formalities, t.fee_formalities
        )
        return score, {
            "totalDossierOnlinePaymentSuccess": paid,
            "totalDossierFinancialObligation": obligation,
            "totalDossierOnlineFormalityPaymentSuccess": t.fee_paid_formalities,
            "totalFeeDossierFormalityDistinct": t.fee_formalities,
            "totalFeeDossierFormality": t.fee_integrated,
            "totalFeeFormality": t.fee_formalities,
        }

    children = []
    for _, unit, tally in figures.members():
        score, counts = payment(tally, tally.paid_online, tally.fee_obligation)
        children.append(
            _node(unit)
            | {"totalMaxScore": _TTTT, "ratio": scaled_share(score, _TTTT), "totalScore": score}
            | counts
            | {"scoreDelta": None}
        )
    total = figures.total
    score, counts = payment(figures.catalogue, total.paid_online, total.fee_obligation)
    # The recorded parent orders its keys differently from its children.
    parent = (
        _node(figures.province.department, child=False)
        | {"totalMaxScore": _TTTT, "totalScore": score}
        | counts
        | {"ratio": scaled_share(score, _TTTT)}
    )
    return {"parent": parent, "children": children}
