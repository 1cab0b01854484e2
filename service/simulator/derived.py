"""A province's ranking (``service-results``) made from its six axis answers.

A replay folder rarely records ``service-results``, and the generated country
makes it the same way, so that both sources agree on how a ranking is made:
per unit the six axis totals (`groupScores`) and their sum, ranked by total;
the national list of provinces from each province's own six totals; the
radar, donuts and monthly charts from the same answers.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from service import indicators
from service.periods import Period
from service.portal.api import BY_AXIS, Endpoint
from service.simulator.queries import JSON, figure

# The radar merges CLGQ and TTTT into one axis, as the 2022 decision did.
_ONLINE_SERVICE = (indicators.CLGQ, indicators.TTTT)
RADAR: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    *((a.code, a.name, (a.code,), int(a.maximum)) for a in (indicators.CKMB, indicators.TDGQ)),
    (
        "ONLINE_SERVICE",
        "Dịch vụ trực tuyến",
        tuple(a.code for a in _ONLINE_SERVICE),
        int(sum(a.maximum for a in _ONLINE_SERVICE)),
    ),
    *((a.code, a.name, (a.code,), int(a.maximum)) for a in (indicators.MDHL, indicators.MDSH)),
)


def derive_service_results(period: Period, axes: Mapping[str, JSON]) -> JSON:
    """The ranking of one province's units from its axis answers (`data` keyed by axis).

    Per unit, `groupScores` are its six axis totals, `totalScore` their sum; a unit
    absent from an axis scores null there. `childGroup` is AGENCY for units at
    PROVINCE level. The overview is the province's own six totals.
    """
    units = sorted(_unit_cards(axes), key=_ranking)
    agencies = sum(1 for unit in units if unit["childGroup"] == "AGENCY")
    overview = {
        **_scorecard(_root_identity(axes), _root_groups(axes)),
        "totalMaxScore": 100,
        "totalUnitsCount": len(units),
        "agencyCount": agencies,
        "communeCount": len(units) - agencies,
    }
    return _service_results(period, overview, units, [axes])


def derive_province_list(period: Period, provinces: Sequence[Mapping[str, JSON]]) -> JSON:
    """The national list of provinces, one row per province's axis answers."""
    rows = sorted((_scorecard(_root_identity(a), _root_groups(a)) for a in provinces), key=_ranking)
    total = figure(statistics.fmean(row["totalScore"] for row in rows)) if rows else 0
    overview = {
        "departmentName": "Cả nước",
        "departmentCode": None,
        "totalScore": total,
        "totalMaxScore": 100,
        "ratio": total,
    }
    return _service_results(period, overview, rows, provinces)


def with_score_deltas(current: JSON, previous: JSON) -> JSON:
    """`current` service-results data with scoreDelta and growthPercent against `previous`."""
    before = {row["departmentId"]: row["totalScore"] for row in previous["evaluation"]}
    evaluation = [
        {**row, "scoreDelta": _delta(row["totalScore"], before.get(row["departmentId"]))}
        for row in current["evaluation"]
    ]
    now, then = current["overview"]["totalScore"], previous["overview"]["totalScore"]
    overview = dict(current["overview"])
    if "scoreDelta" in overview:
        overview["scoreDelta"] = _delta(now, then)
    growth = figure(100 * (now - then) / then) if then else None
    return {**current, "overview": overview, "growthPercent": growth, "evaluation": evaluation}


def _delta(now: float, then: float | None) -> int | float | None:
    return None if then is None else figure(now - then)


def _service_results(
    period: Period, overview: JSON, evaluation: list[JSON], provinces: Sequence[Mapping[str, JSON]]
) -> JSON:
    average = None
    if period.kind == "month" and evaluation:
        average = figure(statistics.fmean(row["totalScore"] for row in evaluation))
    return {
        "overview": overview,
        "growthPercent": None,
        "radar": _radar(provinces),
        "donuts": _donuts([_root(indicators.CLGQ.code, axes) for axes in provinces]),
        "evaluation": evaluation,
        "monthlyChart": [
            {"month": f"{month:02d}", "averageScore": average if month == period.number else None}
            for month in range(1, 13)
        ],
        "dossierChart": _dossier_chart(
            [axes[indicators.TDGQ.code].get("monthlyChart") or [] for axes in provinces]
        ),
    }


def _root(code: str, axes: Mapping[str, JSON]) -> JSON:
    """The province's own record in the answer of axis `code`: `overview` or `parent`."""
    root: JSON = axes[code][BY_AXIS[code].root_key]
    return root


def _axis_score(endpoint: Endpoint, record: Mapping[str, Any], is_root: bool) -> float | None:
    # The progress tree names a child's points `score`; everything else `totalScore`.
    score: float | None = record.get(endpoint.scores(is_root).score)
    return score


def _scorecard(
    identity: Mapping[str, Any], groups: dict[str, Any], child_group: str | None = None
) -> JSON:
    total = figure(sum(score for score in groups.values() if score is not None))
    card = {
        "departmentId": identity.get("departmentId"),
        "departmentName": identity.get("departmentName"),
        "departmentCode": identity.get("departmentCode"),
        "totalScore": total,
        "ratio": total,
        "scoreDelta": None,
    }
    if child_group is not None:
        card["childGroup"] = child_group
    card["groupScores"] = groups
    return card


def _ranking(card: Mapping[str, Any]) -> tuple[float, str]:
    return -card["totalScore"], card["departmentCode"] or ""


def _merge_identity(identity: JSON, record: Mapping[str, Any]) -> None:
    # Not every endpoint names the code (transparency and satisfaction do not).
    for key in ("departmentId", "departmentName", "departmentCode", "level", "departmentLevel"):
        if record.get(key) is not None:
            identity.setdefault(key, record[key])


def _root_identity(axes: Mapping[str, JSON]) -> JSON:
    identity: JSON = {}
    for code in BY_AXIS:
        _merge_identity(identity, _root(code, axes))
    return identity


def _root_groups(axes: Mapping[str, JSON]) -> dict[str, Any]:
    return {code: _axis_score(BY_AXIS[code], _root(code, axes), True) for code in BY_AXIS}


def _unit_cards(axes: Mapping[str, JSON]) -> list[JSON]:
    identities: dict[str, JSON] = {}
    scores: dict[str, dict[str, Any]] = {}
    for code, endpoint in BY_AXIS.items():
        for record in axes[code][endpoint.list_key]:
            _merge_identity(identities.setdefault(record["departmentId"], {}), record)
            scores.setdefault(record["departmentId"], {})[code] = _axis_score(
                endpoint, record, False
            )
    cards = []
    for unit_id, identity in identities.items():
        level = identity.get("level") or identity.get("departmentLevel")
        groups = {code: scores[unit_id].get(code) for code in BY_AXIS}
        cards.append(_scorecard(identity, groups, "AGENCY" if level == "PROVINCE" else "COMMUNE"))
    return cards


def _radar(provinces: Sequence[Mapping[str, JSON]]) -> list[JSON]:
    groups = [_root_groups(axes) for axes in provinces]
    mean = {
        code: statistics.fmean(g[code] or 0 for g in groups) if groups else 0 for code in BY_AXIS
    }
    radar = []
    for code, name, members, max_score in RADAR:
        score = figure(sum(mean[member] for member in members))
        radar.append(
            {
                "code": code,
                "name": name,
                "score": score,
                "maxScore": max_score,
                "ratio": figure(100 * score / max_score),
            }
        )
    return radar


def _donuts(online_roots: Sequence[Mapping[str, Any]]) -> JSON:
    def total(key: str) -> int:
        return sum(root.get(key) or 0 for root in online_roots)

    provided = total("fullCount") + total("partialCount")
    return {
        "onlineDossier": _slices(
            (
                ("ONLINE", "Trực tuyến", total("channelOnlineSum")),
                (
                    "OTHER",
                    "Trực tiếp, bưu chính",
                    total("channelDirectSum") + total("channelPostalSum"),
                ),
            )
        ),
        "onlineProvision": _slices(
            (
                ("FULL", "Toàn trình", total("fullCount")),
                ("PARTIAL", "Một phần", total("partialCount")),
                ("NONE", "Chưa cung cấp", max(0, total("authorityCount") - provided)),
            )
        ),
    }


def _slices(parts: Sequence[tuple[str, str, int]]) -> list[JSON]:
    whole = sum(value for _, _, value in parts)
    return [
        {
            "code": code,
            "name": name,
            "value": value,
            "percent": figure(100 * value / whole) if whole else None,
        }
        for code, name, value in parts
    ]


def _dossier_chart(charts: Sequence[Sequence[Mapping[str, Any]]]) -> list[JSON]:
    rows = []
    for month in range(1, 13):
        label = f"{month:02d}"
        points = [point for chart in charts for point in chart if point.get("month") == label]
        rows.append(
            {"month": label}
            | {
                key: figure(statistics.fmean(p[key] for p in points)) if points else None
                for key in ("onTimePct", "overduePct")
            }
        )
    return rows
