"""Charts are valid, deterministic PNG images drawn from the score rows."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from service.notices.charts import (
    DPI,
    SIZE_INCHES,
    axes_chart,
    baocao_charts,
    congvan_charts,
    place_chart,
    trend_chart,
)
from service.notices.congvan import congvan
from service.notices.texts import default_texts
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
        [("2024-08", 86.97), ("2024-09", 93.81)],
        default_texts().column_labels,
    )
    assert set(charts) == places
    assert all(png.startswith(PNG_SIGNATURE) for png in charts.values())
    assert set(baocao_charts(tua_chua_rows())) == {"place"}
