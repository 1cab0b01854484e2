"""Charts for the notices, drawn with matplotlib's Agg canvas and returned as PNG bytes.

Values in, bytes out: no file is written and pyplot's global state is never
touched. Deterministic: the same values give the same bytes (fixed size and
resolution, no software name or date in the PNG), whatever was drawn before.
Numbers on the charts are written the Vietnamese way.

Speed: building a matplotlib figure (axes, ticks, text layout) costs more than
drawing it, and a monthly run draws three charts for each of thousands of
units. So each chart kind keeps one figure per process, built on first use,
and each call only updates its artists (bar sizes and colours, labels, line
data, limits) before printing the PNG. Bars and labels come from pools that
grow to the largest count seen and hide what a chart does not use, so nothing
of one unit's chart shows on the next. What a set's or a month's units share is
drawn once and each unit's own artists over a copy of it; a trend's value axis
spans multiples of 10 around the unit's totals, so a province's units share a
few, each drawn once and copied (it was a third of a trend chart's time). The
kept figures are per process (a forked worker gets its own copy) and each is
guarded by a lock, so threads draw one chart of a kind at a time.
"""

from __future__ import annotations

import math
import re
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from service.notices.png import rgba_png
from service.periods import Period
from service.vnformat import number

SIZE_INCHES = (6.3, 3.0)  # 16 × 7.6 cm: the text width of an A4 page with its margins
DPI = 150  # ~160 dpi at the 15 cm the notices insert: sharp on paper, not only on screen
NOW, BEFORE, FULL, OTHERS, HIGHLIGHT = "#1f4e79", "#9dc3e6", "#e7e6e6", "#9dc3e6", "#c00000"
BEST = "#2e7d32"  # the best units of a set chart (its worst are HIGHLIGHT)
#: A trend is drawn only from this many months with a total (two points are a change).
TREND_MIN_POINTS = 3
#: How many of the best and of the worst a set chart too large for names names below it.
EXTREMES = 5
#: Beyond this many units a ranking chart drops the names (they would not be readable).
NAMED_UNITS_MAX = 40
TICK_NAME_MAX = 25  # characters of a name under a bar (7 pt, 60°) that fit the figure
_COMMITTEE_PREFIX = re.compile(r"^(?:UBND|[ỦU][yỷ] ban nhân dân)\s+", re.IGNORECASE)
#: How many sets' ranking charts each process keeps drawn (a set's units come together).
BACKGROUNDS = 4
#: How many value axes a trend chart keeps drawn: a unit's spans multiples of `VALUE_STEP`
#: around its totals, so a province's units share a few (each ~150 KB of pixels).
VALUE_AXES = 64
VALUE_STEP = 10.0
#: A total's maximum: the trend's axis leaves room above it for the values written over
#: the points, but numbers no tick beyond it (a reader would take 105 for a score).
TOTAL_MAX = 100.0
#: matplotlib's default share of the data range left free beside the first and last bar.
X_MARGIN = 0.05


class _Bars:
    """A pool of bars of one width and layer on a plot; grows, never shrinks."""

    def __init__(
        self, plot: Axes, width: float, colour: str, layer: float, animated: bool = False
    ) -> None:
        self.plot, self.width, self.colour, self.layer = plot, width, colour, layer
        self.animated = animated  # drawn by hand over a kept drawing, not by a full draw
        self.bars: list[Rectangle] = []

    def show(
        self, places: Sequence[float], heights: Sequence[float], colours: Sequence[str] = ()
    ) -> None:
        """Bars centred on `places`; a NaN height is no bar. Unused bars are hidden."""
        while len(self.bars) < len(places):
            bar = Rectangle((0, 0), 0, 0, facecolor=self.colour, edgecolor="none",
                            zorder=self.layer, animated=self.animated)  # fmt: skip
            self.plot.add_artist(bar)
            self.bars.append(bar)
        for index, bar in enumerate(self.bars):
            shown = index < len(places) and not math.isnan(heights[index])
            bar.set_visible(shown)
            if shown:
                bar.set_bounds(places[index] - self.width / 2, 0, self.width, heights[index])
                bar.set_facecolor(colours[index] if colours else self.colour)


class _Labels:
    """A pool of annotations in one style (`style` are `Axes.annotate` keywords; they
    must place the text by an offset from its point, so the text follows the point)."""

    def __init__(self, plot: Axes, **style: Any) -> None:
        self.plot, self.style = plot, style
        self.labels: list[Annotation] = []

    def show(self, labels: Sequence[tuple[str, tuple[float, float]]]) -> None:
        """Each (text, (x, y)) is written at its point; unused labels are hidden."""
        while len(self.labels) < len(labels):
            self.labels.append(self.plot.annotate("", (0, 0), **self.style))
        for index, label in enumerate(self.labels):
            shown = index < len(labels) and bool(labels[index][0])
            label.set_visible(shown)
            if shown:
                label.set_text(labels[index][0])
                label.xy = labels[index][1]


class _Recent(OrderedDict[Hashable, Any]):
    """The last `limit` drawings of a chart, by what was drawn: made on first use."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key not in self:
            self[key] = make()
            while len(self) > self.limit:
                self.popitem(last=False)
        self.move_to_end(key)
        return self[key]


class _Chart:
    """One kept figure: a single plot with fixed margins (faster than a computed
    layout, and the charts' labels are known: `bottom` leaves room for the
    longest), its value axis numbered the Vietnamese way (2,5 not 2.5)."""

    def __init__(self, bottom: float, ylabel: str) -> None:
        self.lock = threading.Lock()
        self.figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=bottom)
        self.plot = self.figure.add_subplot()
        self.plot.set_autoscale_on(False)  # every chart sets its limits from its values
        self.plot.yaxis.set_major_formatter(FuncFormatter(lambda value, _: number(value)))
        self.plot.set_ylabel(ylabel)
        self.kept = _Recent(BACKGROUNDS)

    def png(self) -> bytes:
        self.canvas.draw()
        return self.drawn_png()

    def restore(self, key: Hashable, set_up: Callable[[], None]) -> None:
        """Put back on the canvas what a full draw gave for `key` (what every unit of a set
        or month shares; `set_up` arranges the artists for it when it is not kept), and the
        plot's limits then. The last `BACKGROUNDS` drawings are kept."""

        def draw() -> _Kept:
            set_up()
            self.canvas.draw()
            pixels = self.canvas.copy_from_bbox(self.figure.bbox)
            return _Kept(pixels, self.plot.get_xlim(), self.plot.get_ylim())

        kept = self.kept.get_or_make(key, draw)
        self.plot.set_xlim(*kept.xlim)
        self.plot.set_ylim(*kept.ylim)
        self.canvas.restore_region(kept.pixels)

    def draw_bar(self, bar: Rectangle) -> None:
        """Draw `bar` over the kept drawing, and the bottom axis line, which a full draw
        puts over the bars, again where the bar covers it."""
        if bar.get_visible():
            self.plot.draw_artist(bar)
            spine = self.plot.spines["bottom"]
            spine.set_clip_box(bar.get_window_extent())
            self.plot.draw_artist(spine)
            spine.set_clip_box(None)

    def png_with(self, artists: Sequence[Artist]) -> bytes:
        """The PNG of a full draw with these "animated" artists drawn in their places."""
        for artist in artists:
            artist.set_animated(False)
        try:
            return self.png()
        finally:
            for artist in artists:
                artist.set_animated(True)

    def drawn_png(self) -> bytes:
        """The PNG of what the canvas holds now (the pixels `print_png` writes, without
        drawing)."""
        return rgba_png(np.asarray(self.canvas.buffer_rgba()), DPI)


class _AxesChart(_Chart):
    """The axes of a unit against the previous period's, over their maxima: the maxima,
    names, limits and legend are a month's (`restore`); each unit's bars and values are
    "animated" artists drawn over them."""

    def __init__(self) -> None:
        super().__init__(bottom=0.17, ylabel="Điểm")
        self.maxima = _Bars(self.plot, 0.8, FULL, layer=1.0)
        self.before = _Bars(self.plot, 0.38, BEFORE, layer=1.1, animated=True)
        self.now = _Bars(self.plot, 0.38, NOW, layer=1.2, animated=True)
        self.values = _Labels(
            self.plot, xytext=(0, 0), textcoords="offset points", ha="center", va="bottom",
            animated=True,
        )  # fmt: skip
        self.legend_labels: tuple[str, ...] = ()

    def set_legend(self, labels: tuple[str, ...], colours: tuple[str, ...]) -> None:
        """The legend, rebuilt only when its entries change (a month's units share them)."""
        if labels != self.legend_labels:
            handles = [Rectangle((0, 0), 1, 1, facecolor=colour) for colour in colours]
            self.plot.legend(handles, labels, fontsize=7, loc="upper right", ncols=3)
            self.legend_labels = labels


class _PlaceChart(_Chart):
    """A ranking: bars highest first; with `named` the names under the bars, with
    `listed` (a set too large for names) the best and worst few listed under the plot.

    Every unit of a set gets the same chart but for its own bar in red and its label: the
    set's chart is drawn once (`restore`) and each unit's bar and label are drawn over a
    copy of it. They are "animated" artists: a full draw leaves them out."""

    def __init__(self, named: bool, listed: bool = False) -> None:
        super().__init__(bottom=0.44 if named or listed else 0.05, ylabel="Điểm tổng hợp")
        self.named = named
        self.lists = [
            self.figure.text(x, 0.01, "", fontsize=6, va="bottom", ha="left", color=colour)
            for x, colour in ((0.09, BEST), (0.54, HIGHLIGHT))
        ]
        self.bars = _Bars(self.plot, 0.8, OTHERS, layer=1.0)
        self.mark = Rectangle(
            (0, 0), 0, 0, facecolor=HIGHLIGHT, edgecolor="none", zorder=1.0, animated=True
        )
        self.plot.add_artist(self.mark)
        self.total = _Labels(
            self.plot,
            xytext=(0, 0),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            color=HIGHLIGHT,
            animated=True,
        )
        self.plot.tick_params(axis="x", labelsize=7)

    def set_up(self, ranked: Sequence[tuple[str, float]], extremes: int) -> None:
        """The set's chart: every bar in its set colour, no unit's mark."""
        colours = [OTHERS] * len(ranked)
        if extremes:
            colours[:extremes] = [BEST] * extremes
            colours[-extremes:] = [HIGHLIGHT] * extremes
            _list_extremes(self, ranked, extremes)
        places = range(len(ranked))
        self.bars.show(places, [float(t) for _, t in ranked], colours)
        if self.named:
            self.plot.set_xticks(list(places), _tick_names(ranked), rotation=60, ha="right")
        else:
            self.plot.set_xticks([])
        self.plot.set_xlim(*_bar_xlim(len(ranked), 0.4))
        self.plot.set_ylim(0, max([t for _, t in ranked] or [1]) * 1.15)


@dataclass(frozen=True)
class _Kept:
    """A chart's shared drawing: the canvas's pixels and the plot's limits then."""

    pixels: Any
    xlim: tuple[float, float]
    ylim: tuple[float, float]


class _TrendChart(_Chart):
    """The total over time. The months along the bottom are the same for every unit of a
    run: the canvas up to them (background, plot, bottom axis) is kept (`restore`) and
    each unit's value axis, line, frame and values are drawn over it, in the order and
    layers of a full draw (its value axis, limits and line are the unit's own). A value
    axis is drawn once for its range and months, then copied (`_draw_value_axis`)."""

    def __init__(self) -> None:
        super().__init__(bottom=0.1, ylabel="Điểm tổng hợp")
        (self.line,) = self.plot.plot([], [], marker="o", color=NOW, animated=True)
        self.values = _Labels(
            self.plot, textcoords="offset points", xytext=(0, 5), ha="center", fontsize=6,
            animated=True,
        )  # fmt: skip
        self.plot.yaxis.set_major_formatter(
            FuncFormatter(lambda value, _: "" if value > TOTAL_MAX else number(value))
        )
        self.plot.yaxis.set_animated(True)
        for spine in self.plot.spines.values():
            spine.set_animated(True)
        self.value_axes = _Recent(VALUE_AXES)

    def draw_unit(self, months: Hashable) -> None:
        """Over the kept canvas of `months`, what a full draw puts after the bottom axis
        (value axis 1.5, line 2, frame 2.5, values 3: matplotlib's layers), in that order."""
        self._draw_value_axis(months)
        for artist in (self.line, *self.plot.spines.values(), *self.values.labels):
            self.plot.draw_artist(artist)

    def _draw_value_axis(self, months: Hashable) -> None:
        """The value axis (ticks, numbers, title) in the strip left of the plot, which
        nothing else of a unit's draws in: drawn the first time its range comes over the
        canvas of `months`, copied from then on. The last `VALUE_AXES` are kept."""

        def draw() -> Any:
            self.plot.draw_artist(self.plot.yaxis)
            # its ticks end on the frame's left edge: two columns beyond, inside the plot
            left = Bbox.from_extents(0, 0, math.ceil(self.plot.bbox.x0) + 2, self.figure.bbox.y1)
            return self.canvas.copy_from_bbox(left)

        key = (months, self.plot.get_ylim())
        self.canvas.restore_region(self.value_axes.get_or_make(key, draw))


# This process's figure of each chart kind, built on first use.
@cache
def _axes_figure() -> _AxesChart:
    return _AxesChart()


@cache
def _place_figure(named: bool, listed: bool = False) -> _PlaceChart:
    return _PlaceChart(named, listed)


@cache
def _trend_figure() -> _TrendChart:
    return _TrendChart()


def drop_kept_figures() -> None:
    """Forget this process's kept figures (the next chart builds afresh): frees
    their memory, and lets tests compare a reused figure with a new one."""
    for kept in (_axes_figure, _place_figure, _trend_figure):
        kept.cache_clear()


def _bar_xlim(count: int, half_width: float) -> tuple[float, float]:
    """The x range matplotlib's autoscaling gives `count` bars at 0, 1, …"""
    low, high = -half_width, max(count - 1, 0) + half_width
    pad = (high - low) * X_MARGIN
    return low - pad, high + pad


def _score(axes: Mapping[str, Any] | None, code: str, key: str = "score") -> float:
    value = ((axes or {}).get(code) or {}).get(key)
    return math.nan if value is None else float(value)


def axes_chart(
    axes: Mapping[str, Mapping[str, Any]],
    previous_axes: Mapping[str, Mapping[str, Any]] | None,
    names: Mapping[str, str],
    legend: tuple[str, str],
) -> bytes:
    """Each axis this period (dark) beside the previous one (light), over its maximum (grey).

    `axes` and `previous_axes` are score rows' `axes` (code → {score, max});
    `names` label the axes, in their order; `legend` names the two periods
    (this one first). A missing score leaves its bar out.
    """
    codes = list(names)
    places = range(len(codes))
    maxima = [_score(axes, code, "max") for code in codes]
    now = [_score(axes, code) for code in codes]
    before = [_score(previous_axes, code) for code in codes] if previous_axes is not None else []
    chart = _axes_figure()
    with chart.lock:
        labels = tuple(textwrap.fill(names[code], 14) for code in codes)
        entries = ("Điểm tối đa", legend[1], legend[0]) if before else ("Điểm tối đa", legend[0])

        def set_up() -> None:
            chart.maxima.show(places, maxima)
            chart.plot.set_xticks(list(places), labels, fontsize=7)
            chart.plot.set_xlim(*_bar_xlim(len(codes), 0.4))
            chart.plot.set_ylim(0, max([v for v in maxima if not math.isnan(v)] or [1]) * 1.3)
            colours = (FULL, BEFORE, NOW) if before else (FULL, NOW)
            chart.set_legend(entries, colours)

        chart.restore((tuple(maxima), labels, entries), set_up)
        chart.before.show([p - 0.2 for p in places] if before else [], before)
        chart.now.show([p + 0.2 for p in places], now)
        chart.values.show([(number(v, missing=""), (p + 0.2, v)) for p, v in enumerate(now)])
        drawn = [*chart.before.bars, *chart.now.bars, *chart.values.labels]
        if _covers_legend(chart, drawn):  # the legend is drawn over them: all in one draw
            set_up()
            return chart.png_with(drawn)
        for bar in (*chart.before.bars, *chart.now.bars):
            chart.draw_bar(bar)
        for text in chart.values.labels:
            chart.plot.draw_artist(text)
        return chart.drawn_png()


def _covers_legend(chart: _Chart, artists: Sequence[Artist]) -> bool:
    legend = chart.plot.get_legend()
    if legend is None:
        return False
    renderer = chart.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    return any(a.get_visible() and a.get_window_extent(renderer).overlaps(box) for a in artists)


def place_chart(
    totals: Sequence[tuple[str, float | None]],
    highlight: str | None,
    named: bool = True,
    label: str | None = None,
    extremes: int = 0,
) -> bytes:
    """The set's totals, highest first, the unit named `highlight` in red with `label`
    (by default its total) written at its bar.

    `totals` are (unit name, total); units without a total are left out.
    With `named`, names are written under the bars for sets of up to
    `NAMED_UNITS_MAX` units (without, the chart draws in half the time); a
    larger set with `extremes` has its best and worst `extremes` coloured and
    listed, with their totals, under the plot.
    """
    ranked = sorted(((n, t) for n, t in totals if t is not None), key=lambda item: -item[1])
    show_names = named and len(ranked) <= NAMED_UNITS_MAX
    listed = not show_names and extremes > 0 and len(ranked) > 2 * extremes
    chart = _place_figure(show_names, listed)
    with chart.lock:
        if show_names:
            chart.plot.set_xticks(range(len(ranked)), _tick_names(ranked), rotation=60, ha="right")
        else:
            chart.plot.set_xticks([])
        extremes = extremes if listed else 0
        chart.restore((tuple(ranked), extremes), lambda: chart.set_up(ranked, extremes))
        marked = [(p, t) for p, (name, t) in enumerate(ranked) if name == highlight]
        for place, total in marked:  # the unit's bar, red over its set colour
            chart.mark.set_bounds(place - 0.4, 0, 0.8, total)
            chart.draw_bar(chart.mark)
        chart.total.show([(label or number(t), (p, t)) for p, t in marked])
        for text, (place, _) in zip(chart.total.labels, marked, strict=False):
            text.set_horizontalalignment("right" if place > len(ranked) / 2 else "left")
            chart.plot.draw_artist(text)
        return chart.drawn_png()


def _tick_names(ranked: Sequence[tuple[str, float]]) -> list[str]:
    """The names under the bars without "UBND" (the caption says whose set it is): at a
    size that prints legibly ("xã Tân Lợi 1"), a name too long for the room under the
    plot shortened with "…" rather than cut at the figure's edge."""
    names = [_COMMITTEE_PREFIX.sub("", name) for name, _ in ranked]
    return [
        name if len(name) <= TICK_NAME_MAX else name[: TICK_NAME_MAX - 1] + "…" for name in names
    ]


def _list_extremes(chart: _PlaceChart, ranked: Sequence[tuple[str, float]], count: int) -> None:
    """ "Cao nhất:" and "Thấp nhất:" with each unit's place, name and total."""
    last = len(ranked)
    best = [f"{p}. {n}: {number(t)}" for p, (n, t) in enumerate(ranked[:count], start=1)]
    worst = [
        f"{p}. {n}: {number(t)}" for p, (n, t) in enumerate(ranked[-count:], start=last - count + 1)
    ]
    chart.lists[0].set_text("\n".join(["Cao nhất:", *best]))
    chart.lists[1].set_text("\n".join(["Thấp nhất:", *worst]))


def trend_chart(points: Sequence[tuple[str, float | None]]) -> bytes:
    """The total over time: `points` are (period "2024-09", total), oldest first;
    a missing total is a gap in the line, never a zero."""
    labels = [_month_label(period) for period, _ in points]
    values = [math.nan if total is None else float(total) for _, total in points]
    places = list(range(len(values)))
    known = [v for v in values if not math.isnan(v)]
    chart = _trend_figure()
    with chart.lock:
        # as matplotlib would autoscale: 5 % beside the first and last point, and a
        # lone point centred in ±0.05 widened by those 5 %
        last = max(len(values) - 1, 0)
        pad = last * X_MARGIN if last else 0.05 * (1 + 2 * X_MARGIN)

        def set_up() -> None:
            chart.plot.set_xticks(places, labels, fontsize=7)
            chart.plot.set_xlim(-pad, last + pad)

        chart.restore(tuple(labels), set_up)
        chart.plot.set_ylim(*_value_range(known))
        chart.line.set_data(places, values)
        chart.values.show([(number(v), (p, v)) for p, v in enumerate(values) if not math.isnan(v)])
        chart.draw_unit(tuple(labels))
        return chart.drawn_png()


def _value_range(totals: Sequence[float]) -> tuple[float, float]:
    """A trend's value axis: at least 10 points below its lowest total (never below 0)
    and above its highest, at multiples of `VALUE_STEP` (0 to 100 without a total)."""
    if not totals:
        return 0.0, 100.0
    low = max(0.0, math.floor((min(totals) - 10) / VALUE_STEP) * VALUE_STEP)
    return low, math.ceil((max(totals) + 10) / VALUE_STEP) * VALUE_STEP


def _month_label(period: str) -> str:
    """ "2024-09" → "9/2024"; quarters and years as the period reads."""
    parsed = Period.parse(period)
    if parsed.kind == "month":
        return f"{parsed.number}/{parsed.year}"
    return str(parsed)
