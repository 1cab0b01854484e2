"""Rows for schemes scored from imported tables: provincial indices and tt01.

Pure: takes stored snapshots (`StoredUnit`) of imported tables, scores each
unit with its scheme, ranks it within its comparison set (same parent), and
appraises what the table said about itself (`TOTAL`, `CONVERTED`, `RANK`,
`CLASS`, `DTB`): every disagreement beyond the tolerance is a mismatch.
Figures are compared as decimals, the reported one rounded half up to the
2 decimals reports print: a difference equal to the tolerance is within it
(68,11 reported against 68,10 computed agrees at 0,01).
A reported rank agrees with a tie when it falls inside the tied places
(a report numbering three units tied for 8th as 8, 9, 10 is not wrong).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from service.scoring.changes import score_change
from service.scoring.decimals import Number, as_float, round_half_up, within
from service.scoring.ranks import Rank, competition_ranks, rank_change
from service.scoring.rows import identity
from service.scoring.schemes import Band, Scheme, score_unit
from service.scoring.tt01 import CRITERIA, CRITERION_MAX, STATUS, score_criteria, status_of
from service.snapshots import StoredUnit

DEFAULT_TOLERANCE = Decimal("0.01")
NOT_APPLICABLE = "NOT_APPLICABLE"
TT01_MAX = Decimal(CRITERION_MAX * len(CRITERIA))  # 18: nine criteria of at most 2


@dataclass(frozen=True)
class Computed:
    """What dvcwatch computes for one unit, before ranking: exact decimals,
    `converted` rounded half up to the 2 decimals reports print (what ranks
    and comparisons use)."""

    total: Decimal | None
    maximum: Decimal
    converted: Decimal | None
    class_name: str | None
    indicators: Mapping[str, tuple[float | None, float | None]]  # code → (score, max)
    not_applicable: tuple[str, ...] = ()
    dtb: Decimal | None = None
    status: str | None = None


Scorer = Callable[[StoredUnit], Computed]


def provincial_scorer(scheme: Scheme, scale: int | None) -> Scorer:
    def score(unit: StoredUnit) -> Computed:
        points = {i.code: _indicator_value(unit, i.code) for i in scheme.indicators}
        scored = score_unit(scheme, points, scale)
        indicators = {i.code: (points[i.code], i.max) for i in scheme.indicators}
        return Computed(
            scored.points,
            scored.applicable_max,
            scored.converted_rounded,
            scored.class_name,
            indicators,
            scored.not_applicable,
        )

    return score


def tt01_scorer(bands: Sequence[Band]) -> Scorer:
    def score(unit: StoredUnit) -> Computed:
        averages = {code: _indicator_value(unit, code) for code in CRITERIA}
        indicators = {code: (averages[code], float(CRITERION_MAX)) for code in CRITERIA}
        stated = unit.figures.get(STATUS)
        status = status_of(stated.text_value) if stated else None
        if status:  # "Chưa chấm điểm": the unit did not score itself, nothing to compute
            return Computed(None, TT01_MAX, None, None, indicators, status=status)
        dossiers = unit.figures.get("DOSSIERS")
        none_scored = all(v is None for v in averages.values()) or (
            dossiers is not None and dossiers.value == 0
        )
        scored = score_criteria(None if none_scored else averages, bands)
        return Computed(
            scored.total,
            TT01_MAX,
            scored.total,
            scored.class_name,
            indicators,
            dtb=scored.dtb,
            status=scored.status,
        )

    return score


def appraisal_rows(
    scheme: str,
    scorer: Scorer,
    current: Sequence[StoredUnit],
    previous: Sequence[StoredUnit] = (),
    tolerance: Number = DEFAULT_TOLERANCE,
) -> list[dict[str, Any]]:
    """One row per unit in rank order within each comparison set (see module doc).
    Numbers in the rows are floats (JSON numbers) of the decimals computed."""
    computed = {u.unit_id: scorer(u) for u in current}
    before = {u.unit_id: u for u in previous}
    computed_before = {uid: scorer(u) for uid, u in before.items()}
    ranks = _ranks(current, computed)
    previous_ranks = _ranks(list(before.values()), computed_before)
    rows = []
    for unit in current:
        mine, rank = computed[unit.unit_id], ranks[unit.unit_id]
        old = computed_before.get(unit.unit_id)
        comparable = old is not None and before[unit.unit_id].source == unit.source
        old_rank = previous_ranks.get(unit.unit_id) if comparable else None
        row = identity(unit, scheme) | {
            "total": as_float(mine.total),
            "max": float(mine.maximum),
            "converted": as_float(mine.converted),
            "class": mine.class_name,
            "status": mine.status,
            "dtb": as_float(mine.dtb),
            "rank": rank.rank,
            "rank_of": rank.rank_of,
            "rank_tied": rank.tied,
            "total_delta": score_change(mine.converted, old.converted)
            if comparable and old
            else None,
            "rank_change": rank_change(old_rank.rank if old_rank else None, rank.rank),
            "axes": _axes(mine, old if comparable else None),
            "counts": {},
            "mismatches": mismatches(unit, mine, rank, _tie_size(rank, ranks), tolerance),
            "not_applicable": list(mine.not_applicable),
        }
        rows.append(row)
    rows.sort(key=lambda r: (r["parent_code"] or "", r["rank"] or 10**9, r["unit_code"]))
    return rows


def mismatches(
    unit: StoredUnit, mine: Computed, rank: Rank, tie_size: int, tolerance: Number
) -> list[dict[str, Any]]:
    """Each figure the table reported about itself that dvcwatch computes otherwise
    (numbers: differing by more than `tolerance`, as decimals)."""
    found = []
    computed_numbers = {"TOTAL": mine.total, "CONVERTED": mine.converted, "DTB": mine.dtb}
    for field, computed in computed_numbers.items():
        reported = _reported(unit, field)
        if reported is not None and (computed is None or not within(reported, computed, tolerance)):
            found.append(
                {"field": field, "reported": float(reported), "computed": as_float(computed)}
            )
    reported_class = unit.figures.get("CLASS")
    if reported_class and reported_class.text_value != (mine.class_name or mine.status):
        found.append(
            {
                "field": "CLASS",
                "reported": reported_class.text_value,
                "computed": mine.class_name or mine.status,
            }
        )
    reported_rank = unit.figures.get("RANK")
    if reported_rank and reported_rank.value is not None:
        places = range(rank.rank, rank.rank + tie_size) if rank.rank else range(0)
        if int(reported_rank.value) not in places:
            found.append(
                {"field": "RANK", "reported": int(reported_rank.value), "computed": rank.rank}
            )
        if reported_rank.max_value is not None and int(reported_rank.max_value) != rank.rank_of:
            found.append(
                {
                    "field": "RANK_OF",
                    "reported": int(reported_rank.max_value),
                    "computed": rank.rank_of,
                }
            )
    return found


def _ranks(units: Sequence[StoredUnit], computed: Mapping[int, Computed]) -> dict[int, Rank]:
    sets: dict[str | None, dict[str, Decimal | None]] = defaultdict(dict)
    for unit in units:
        sets[unit.parent_code][str(unit.unit_id)] = computed[unit.unit_id].converted
    ranks: dict[int, Rank] = {}
    for totals in sets.values():
        ranks.update({int(key): rank for key, rank in competition_ranks(totals).items()})
    return ranks


def _tie_size(rank: Rank, ranks: Mapping[int, Rank]) -> int:
    if not rank.tied:
        return 1
    sizes = Counter(r.rank for r in ranks.values() if r.rank_of == rank.rank_of and r.tied)
    return sizes[rank.rank]


def _axes(mine: Computed, old: Computed | None) -> dict[str, dict[str, float | None]]:
    return {
        code: {
            "score": score,
            "max": maximum,
            "delta": score_change(score, old.indicators.get(code, (None, None))[0])
            if old
            else None,
        }
        for code, (score, maximum) in mine.indicators.items()
    }


def _indicator_value(unit: StoredUnit, code: str) -> float | None:
    figure = unit.figures.get(code)
    if figure is None or figure.quality_status == NOT_APPLICABLE:
        return None
    return figure.value


def _reported(unit: StoredUnit, code: str) -> Decimal | None:
    """A reported figure as the report prints it: 2 decimals, half up."""
    figure = unit.figures.get(code)
    if figure is None or figure.kind != "reported" or figure.value is None:
        return None
    return round_half_up(figure.value)
