"""A unit's chart drawn over what its set or month shares (kept drawn) is, pixel for pixel,
the chart drawn whole: the ranking with the unit's bar red among the others, its label at
the bar and the axis line over it; the axes with the unit's bars and values over the
month's maxima, names and legend; the trend with the unit's value axis, line, frame and
values over the months along the bottom."""

from __future__ import annotations

import io
import random
from functools import cache

import numpy as np
import pytest
from PIL import Image

from service.notices import charts
from service.notices.charts import (
    HIGHLIGHT,
    OTHERS,
    axes_chart,
    drop_kept_figures,
    place_chart,
    trend_chart,
)
from service.notices.texts import default_texts

Totals = list[tuple[str, float | None]]


def drawn_whole(totals: Totals, highlight: str, label: str | None, named: bool) -> bytes:
    """The chart in one full draw on a new figure (as before sets were kept): the unit's
    bar coloured among the bars, its label an ordinary artist."""
    ranked = sorted(((n, t) for n, t in totals if t is not None), key=lambda item: -item[1])
    chart = _whole_chart(named)
    places = range(len(ranked))
    colours = [HIGHLIGHT if name == highlight else OTHERS for name, _ in ranked]
    chart.bars.show(places, [float(t) for _, t in ranked], colours)
    if named:
        chart.plot.set_xticks(list(places), [n for n, _ in ranked], rotation=60, ha="right")
    else:
        chart.plot.set_xticks([])
    chart.plot.set_xlim(*charts._bar_xlim(len(ranked), 0.4))
    chart.plot.set_ylim(0, max(t for _, t in ranked) * 1.15)
    marked = [(p, t) for p, (name, t) in enumerate(ranked) if name == highlight]
    chart.total.show([(label or charts.number(t), (p, t)) for p, t in marked])
    for text, (place, _) in zip(chart.total.labels, marked, strict=False):
        text.set_animated(False)
        text.set_horizontalalignment("right" if place > len(ranked) / 2 else "left")
    return chart.png()


@cache
def _whole_chart(named: bool) -> charts._PlaceChart:
    """A figure of this test's own, drawn whole each time (a kept figure draws as a new
    one: tests/notices/test_charts.py)."""
    return charts._PlaceChart(named)


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))


def a_set(rng: random.Random, number: int, size: int) -> Totals:
    """A set with ties, a unit without a total and totals of 2 decimals."""
    totals: Totals = [(f"Xã {number}-{n}", round(rng.uniform(40, 99), 2)) for n in range(size)]
    totals[1] = (totals[1][0], totals[0][1])
    totals.append((f"Xã {number}-trống", None))
    return totals


def test_units_of_sets_in_turn_get_the_chart_drawn_whole() -> None:
    """Five sets visited in turn (more than the kept backgrounds: some are drawn again),
    three units of each: the first, the third and one without a total (no mark)."""
    rng = random.Random(15)
    sets = [a_set(rng, number, size) for number, size in enumerate((98, 7, 40, 23, 3))]
    drop_kept_figures()
    for turn in (0, -1, 2):
        for totals in sets:
            name = totals[turn if turn < len(totals) - 1 else 0][0]
            label = f"{name}: hạng"
            kept = place_chart(totals, name, named=False, label=label)
            whole = drawn_whole(totals, name, label, named=False)
            assert np.array_equal(pixels(kept), pixels(whole)), (name, len(totals))
    assert len(charts._place_figure(False, False).kept) == charts.BACKGROUNDS


def test_a_named_set_over_its_kept_chart_is_the_chart_drawn_whole() -> None:
    totals = a_set(random.Random(4), 0, 12)
    for name, _ in totals[:3]:
        kept = place_chart(totals, name, label=None)
        assert np.array_equal(pixels(kept), pixels(drawn_whole(totals, name, None, named=True)))


def axes_of(rng: random.Random, maxima: dict[str, float]) -> dict[str, dict[str, float | None]]:
    """A unit's axes: scores of 2 decimals up to each maximum, one sometimes missing."""
    axes: dict[str, dict[str, float | None]] = {
        code: {"score": round(rng.uniform(0, top), 2), "max": top} for code, top in maxima.items()
    }
    if rng.random() < 0.3:
        axes[rng.choice(list(axes))]["score"] = None
    return axes


def test_units_of_months_in_turn_get_the_axes_chart_drawn_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five months (legends and maxima) in turn, units with and without a previous month,
    a score missing, one over its maximum under the legend; the chart drawn whole is the
    one drawn when a unit's bars or values reach the legend (all in one full draw)."""
    rng = random.Random(15)
    names = default_texts().axis_names
    months = []
    for month in range(1, 6):
        maxima = {code: float(rng.choice((10, 12, 18, 20, 22))) for code in names}
        months.append((maxima, (f"Tháng {month + 1}/2025", f"Tháng {month}/2025")))
    units = []
    for turn in range(2):
        for maxima, legend in months:
            now, before = axes_of(rng, maxima), axes_of(rng, maxima) if turn else None
            units.append((now, before, legend))
    last = units[-1][0]
    code = list(last)[-1]
    last[code]["score"] = (last[code]["max"] or 0) * 1.28  # up into the legend
    drop_kept_figures()
    kept = [axes_chart(now, before, names, legend) for now, before, legend in units]
    monkeypatch.setattr(charts, "_covers_legend", lambda chart, artists: True)
    for drawn, (now, before, legend) in zip(kept, units, strict=True):
        assert np.array_equal(pixels(drawn), pixels(axes_chart(now, before, names, legend)))


def trend_drawn_whole(points: Totals) -> bytes:
    """The trend chart in one full draw, on a figure set up afresh for these months."""
    drop_kept_figures()
    trend_chart(points)
    chart = charts._trend_figure()
    unit = [chart.plot.yaxis, chart.line, *chart.plot.spines.values(), *chart.values.labels]
    return chart.png_with(unit)


def test_units_of_months_in_turn_get_the_trend_chart_drawn_whole() -> None:
    """Runs of six different months in turn (more than the kept drawings), units high and
    low (value axes of different widths), with gaps, a lone point and a point at zero."""
    rng = random.Random(15)
    runs = [[f"{2020 + year}-{month:02d}" for month in range(1, 13)][-length:]
            for year, length in enumerate((12, 9, 3, 1, 6, 12))]  # fmt: skip
    units: list[Totals] = []
    for turn in range(3):
        for periods in runs:
            level = rng.choice((5.0, 40.0, 97.0))
            totals: Totals = [(p, round(level + rng.uniform(-3, 3), 2)) for p in periods]
            if turn == 1 and len(totals) > 2:
                totals[1] = (totals[1][0], None)
            if turn == 2:
                totals[0] = (totals[0][0], 0.0)
            units.append(totals)
    drop_kept_figures()
    kept = [trend_chart(points) for points in units]
    for drawn, points in zip(kept, units, strict=True):
        assert np.array_equal(pixels(drawn), pixels(trend_drawn_whole(points))), points
