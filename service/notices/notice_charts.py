"""The charts of each notice, by the keys of its chart places, drawn by `charts`.

A Công văn has the unit's axes, its place among its set (named with its rank)
and, from three months with a total, its trend; a Báo cáo the whole set with
its best and worst named. Units are named officially (see `names`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.notices.charts import EXTREMES, TREND_MIN_POINTS, axes_chart, place_chart, trend_chart
from service.notices.names import official_name
from service.periods import Period
from service.vnformat import capitalised, number, period_short, rank


def congvan_charts(
    row: Mapping[str, Any],
    previous_row: Mapping[str, Any] | None,
    set_rows: Sequence[Mapping[str, Any]],
    history: Sequence[tuple[str, float | None]],
    names: Mapping[str, str],
) -> dict[str, bytes]:
    """The charts of a unit's Công văn, by the keys of its chart places: "axes"
    (this period against `previous_row`: give it only when the two may be compared),
    "place" (the unit among `set_rows`, its comparison set, named with its rank) and
    "trend" (`history`, oldest first; left out with fewer than `TREND_MIN_POINTS`
    months that have a total). Names are the official ones."""
    period = Period.parse(str(row["period"]))
    legend = (capitalised(period_short(period)), capitalised(period_short(period.previous())))
    name = official_name(str(row.get("unit_name")))
    charts = {
        "axes": axes_chart(
            row.get("axes") or {},
            previous_row.get("axes") if previous_row else None,
            names,
            legend,
        ),
        "place": place_chart(_totals(set_rows), name, named=False, label=_standing(row, name)),
    }
    if sum(1 for _, total in history if total is not None) >= TREND_MIN_POINTS:
        charts["trend"] = trend_chart(history)
    return charts


def _standing(row: Mapping[str, Any], name: str) -> str:
    """ "UBND xã Bình Phú: 64,08 điểm, hạng 66/148" (the rank when there is one)."""
    total = row.get("converted", row.get("total"))
    text = f"{name}: {number(total)} điểm"
    if row.get("rank") is not None:
        text += f", hạng {rank(row['rank'], row.get('rank_of'))}"
    return text


def baocao_charts(rows: Sequence[Mapping[str, Any]]) -> dict[str, bytes]:
    """The chart of a Báo cáo: every unit of the set, highest first ("place"), the
    best and worst `EXTREMES` named when the set is too large for every name."""
    return {"place": place_chart(_totals(rows), None, extremes=EXTREMES)}


def _totals(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, float | None]]:
    """(official name, converted score): comparable across units whose applicable
    maxima differ."""
    return [
        (official_name(str(r.get("unit_name"))), r.get("converted", r.get("total"))) for r in rows
    ]
