"""Charts are valid, deterministic PNG images drawn from the score rows."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from service.notices.charts import (
    BEFORE,
    BEST,
    DPI,
    HIGHLIGHT,
    OTHERS,
    SIZE_INCHES,
    TOTAL_MAX,
    VALUE_STEP,
    _trend_figure,
    _value_range,
    axes_chart,
    drop_kept_figures,
    place_chart,
    trend_chart,
)
from service.notices.congvan import congvan
from service.notices.notice_charts import baocao_charts, congvan_charts
from service.notices.texts import default_texts
from service.vnformat import number
from tests.notices import BINH_THANH_ISSUER, binh_thanh_row, tua_chua_rows

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PIXELS = (round(SIZE_INCHES[0] * DPI), round(SIZE_INCHES[1] * DPI))


def axes() -> bytes:
    return axes_chart(
        binh_thanh_row()["axes"],
        binh_thanh_row(8)["axes"],
        default_texts().column_labels,
        ("Tháng 9/2024", "Tháng 8/2024"),
    )


def place() -> bytes:
    totals = [(f"Xã {n}", 70.0 + n) for n in range(22)] + [("Xã Bình Thành", 93.81), ("Xã Z", None)]
    return place_chart(totals, "Xã Bình Thành")


def trend() -> bytes:
    return trend_chart([(f"2024-{m:02d}", None if m == 3 else 80 + m) for m in range(1, 10)])


@pytest.mark.parametrize("draw", [axes, place, trend], ids=["axes", "place", "trend"])
def test_each_chart_is_a_png_of_the_page_width(draw) -> None:  # type: ignore[no-untyped-def]
    png = draw()
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == PIXELS


@pytest.mark.parametrize("draw", [axes, place, trend], ids=["axes", "place", "trend"])
def test_the_same_values_draw_the_same_bytes(draw) -> None:  # type: ignore[no-untyped-def]
    assert draw() == draw()


def test_a_unit_without_a_previous_month_or_a_score_still_gets_a_chart() -> None:
    row = binh_thanh_row()
    row["axes"]["MDHL"]["score"] = None
    png = axes_chart(row["axes"], None, default_texts().column_labels, ("Tháng 9/2024", ""))
    assert png.startswith(PNG_SIGNATURE)


def test_a_large_set_is_drawn_without_names() -> None:
    totals = [(f"Xã {n}", 50.0 + n / 10) for n in range(150)]
    assert place_chart(totals, "Xã 7").startswith(PNG_SIGNATURE)
    assert place_chart([], None).startswith(PNG_SIGNATURE)
    assert trend_chart([]).startswith(PNG_SIGNATURE)


def test_a_congvans_charts_fill_its_chart_places() -> None:
    notice = congvan(
        binh_thanh_row(), binh_thanh_row(8), {}, None, BINH_THANH_ISSUER, "2024-09", None
    )
    places = {chart.key for appendix in notice.appendices for chart in appendix.charts}
    charts = congvan_charts(
        binh_thanh_row(),
        binh_thanh_row(8),
        [binh_thanh_row(), binh_thanh_row(unit_name="Xã Phú Đình", converted=80.0)],
        [("2024-07", 80.5), ("2024-08", 86.97), ("2024-09", 93.81)],
        default_texts().column_labels,
    )
    assert set(charts) == places
    assert all(png.startswith(PNG_SIGNATURE) for png in charts.values())
    assert set(baocao_charts(tua_chua_rows())) == {"place"}


def test_a_trend_is_drawn_only_from_three_months_with_a_total() -> None:
    def charts(history: list[tuple[str, float | None]]) -> set[str]:
        row = binh_thanh_row()
        return set(congvan_charts(row, None, [row], history, default_texts().column_labels))

    assert charts([("2024-09", 93.81)]) == {"axes", "place"}
    assert charts([("2024-07", None), ("2024-08", 86.97), ("2024-09", 93.81)]) == {"axes", "place"}
    assert "trend" in charts([("2024-07", 80.0), ("2024-08", 86.97), ("2024-09", 93.81)])


def test_a_large_sets_chart_colours_its_best_and_worst_five() -> None:
    totals = [(f"Xã {n}", 90.0 - n / 4) for n in range(148)]
    png = place_chart(totals, None, extremes=5)
    assert has_colour(png, BEST) and has_colour(png, HIGHLIGHT)
    assert not has_colour(place_chart(totals, None), BEST)


# A kept figure is redrawn for each unit: nothing of one chart may show on the next.

Draw = Callable[[], bytes]


def months(count: int, start: float) -> list[tuple[str, float | None]]:
    """`count` months ending in September 2024, totals rising from `start`."""
    periods = [f"{2024 - (m > 8)}-{(8 - m) % 12 + 1:02d}" for m in reversed(range(count))]
    return [(period, start + step) for step, period in enumerate(periods)]


def commune_set(count: int, highlighted: int) -> tuple[list[tuple[str, float | None]], str]:
    """`count` communes with distinct totals, highest first, and the name of the
    one at place `highlighted` (counted from 0)."""
    return [(f"Xã {n}", 95.0 - 1.5 * n) for n in range(count)], f"Xã {highlighted}"


def bar_colours(png: bytes) -> list[str]:
    """The colours of the bars of a place chart drawn without names, left to right, read
    along a row of pixels just above its bottom axis."""
    colours = {(0x9D, 0xC3, 0xE6): OTHERS, (0xC0, 0x00, 0x00): HIGHLIGHT}
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        row = [rgb.getpixel((x, PIXELS[1] - 30)) for x in range(PIXELS[0])]
    starts = [pixel for left, pixel in zip([None, *row], row, strict=False) if pixel != left]
    return [colours[pixel] for pixel in starts if pixel in colours]


def has_colour(png: bytes, colour: str) -> bool:
    rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    with Image.open(io.BytesIO(png)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=PIXELS[0] * PIXELS[1]) or []
    return any(pixel == rgb for _, pixel in colours)


def test_two_units_in_a_row_each_get_their_own_place_among_their_set() -> None:
    first, second = commune_set(23, 0), commune_set(5, 2)
    assert bar_colours(place_chart(*first, named=False)) == [HIGHLIGHT] + [OTHERS] * 22
    colours = bar_colours(place_chart(*second, named=False))
    assert colours == [OTHERS, OTHERS, HIGHLIGHT, OTHERS, OTHERS]


def test_a_unit_without_a_previous_month_after_one_with_gets_no_previous_bars() -> None:
    names, legend = default_texts().column_labels, ("Tháng 9/2024", "Tháng 8/2024")
    with_previous = axes_chart(binh_thanh_row()["axes"], binh_thanh_row(8)["axes"], names, legend)
    without = axes_chart(binh_thanh_row()["axes"], None, names, legend)
    assert has_colour(with_previous, BEFORE)
    assert not has_colour(without, BEFORE)  # neither bars nor a legend entry


def _axes_of(month: int, previous: bool, axes_count: int = 6) -> Draw:
    names = dict(list(default_texts().column_labels.items())[:axes_count])
    before = binh_thanh_row(8)["axes"] if previous else None
    legend = ("Tháng 9/2024", "Tháng 8/2024")
    return lambda: axes_chart(binh_thanh_row(month)["axes"], before, names, legend)


SUCCESSIONS: dict[str, tuple[Draw, Draw]] = {
    "axes: with a previous month, then without": (_axes_of(9, True), _axes_of(8, False)),
    "axes: six axes, then three": (_axes_of(9, True), _axes_of(9, True, axes_count=3)),
    "place: 23 units, then 5": (
        lambda: place_chart(*commune_set(23, 0), named=False),
        lambda: place_chart(*commune_set(5, 2), named=False),
    ),
    "place: named, then named with fewer": (
        lambda: place_chart(*commune_set(23, 7)),
        lambda: place_chart(*commune_set(12, 11)),
    ),
    "trend: 12 months, then 5": (
        lambda: trend_chart(months(12, 60)),
        lambda: trend_chart(months(5, 85)),
    ),
    "trend: with a gap, then without": (
        lambda: trend_chart([("2024-07", 80.0), ("2024-08", None), ("2024-09", 90.0)]),
        lambda: trend_chart(months(3, 70)),
    ),
}


@pytest.mark.parametrize("first, second", SUCCESSIONS.values(), ids=SUCCESSIONS)
def test_a_chart_drawn_after_another_is_the_chart_a_new_figure_draws(
    first: Draw, second: Draw
) -> None:
    drop_kept_figures()
    fresh = second()
    drop_kept_figures()
    before = first()
    assert second() == fresh
    assert first() == before  # and back: the larger chart regrows what the smaller hid


def test_charts_drawn_from_several_threads_are_the_charts_drawn_one_by_one() -> None:
    draws = [draw for pair in SUCCESSIONS.values() for draw in pair]
    one_by_one = [draw() for draw in draws]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda draw: draw(), draws)) == one_by_one


def test_names_under_the_bars_are_legible_and_never_cut_at_the_figures_edge() -> None:
    """A Báo cáo's chart of 23 communes printed its names at 5 pt and cut the longest at
    the bottom edge: the names go without "UBND", at 7 pt, the longest shortened."""
    from service.notices.charts import TICK_NAME_MAX, _place_figure

    long_name = "UBND xã Quảng Thành Phước Lâm Đông"
    totals = [(f"UBND phường Tân Thành {n}", 70.0 + n) for n in range(5)] + [(long_name, 60.0)]
    place_chart(totals, None)
    labels = [label.get_text() for label in _place_figure(True, False).plot.get_xticklabels()]
    assert labels[0] == "phường Tân Thành 4" and not any("UBND" in label for label in labels)
    assert labels[-1] == "xã Quảng Thành Phước Lâm Đông"[: TICK_NAME_MAX - 1] + "…"
    assert {
        label.get_fontsize() for label in _place_figure(True, False).plot.get_xticklabels()
    } == {7}


@given(st.lists(st.floats(0, 100, allow_nan=False), max_size=12))
def test_a_trends_value_axis_leaves_room_and_spans_multiples_of_its_step(
    totals: list[float],
) -> None:
    """At least 10 points below the lowest total (never below 0) and above the highest,
    at multiples of `VALUE_STEP`: units of a province share a few value axes, each drawn
    once (tests/notices/test_kept_charts.py shows the copies are the axes drawn whole)."""
    low, high = _value_range(totals)
    lowest, highest = min(totals, default=10.0), max(totals, default=90.0)
    assert low == max(0.0, low) and low <= max(0.0, lowest - 10) and low > lowest - 10 - VALUE_STEP
    assert highest + 10 <= high < highest + 10 + VALUE_STEP
    assert low % VALUE_STEP == 0 and high % VALUE_STEP == 0


@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=3, max_size=24))
def test_a_trends_value_axis_numbers_no_score_above_the_maximum(totals: list[float]) -> None:
    """The room left above a total near 100 (for the values written over the points)
    has tick marks but no numbers: a reader never sees 105 or 110 on a 100-point scale,
    and every number that is there is the Vietnamese spelling of its tick."""
    trend_chart([(f"{2020 + n // 12}-{n % 12 + 1:02d}", t) for n, t in enumerate(totals)])
    ticks = _trend_figure().plot.yaxis.get_ticklabels()
    shown = {float(tick.get_position()[1]): tick.get_text() for tick in ticks}
    assert all(text == "" for value, text in shown.items() if value > TOTAL_MAX)
    assert all(text == number(value) for value, text in shown.items() if value <= TOTAL_MAX)
    assert any(text for text in shown.values())
