"""Properties of decimal scoring, over generated schemes and points (hypothesis).

- Points with 2 decimals, reported with their exact 2-decimal total (and
  converted score) are never a mismatch, nor is a report off by at most the
  tolerance; one cent beyond the tolerance always is.
- Classification is monotonic (a higher score never earns a lower class), a
  band's minimum earns that band, and the 10-point scale classifies exactly
  as the 100-point scale does.
- Units whose points add up to the same decimal total tie, whatever order
  the points are summed in.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from service.figures import FigureValue
from service.scoring.appraisal import appraisal_rows, provincial_scorer, tt01_scorer
from service.scoring.changes import score_change
from service.scoring.schemes import Band, Group, Indicator, Scheme, parse_bands, score_unit
from service.scoring.tt01 import CRITERIA, DESK_CRITERIA
from service.snapshots import StoredUnit

CENT = Decimal("0.01")
CLASSES = ("Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu")
DIENBIEN_LIKE = (
    *(Band(n, Decimal(m)) for n, m in zip(CLASSES[:4], (90, 80, 70, 50), strict=True)),
    Band(CLASSES[4], None),
)
# No wall-clock deadline: the properties must not depend on the machine's speed.
PROPERTY = settings(max_examples=150, deadline=None)


def stored(
    unit_id: int, points: Mapping[str, Decimal], reported: Mapping[str, Decimal]
) -> StoredUnit:
    figures = {c: FigureValue(c, "indicator", float(v)) for c, v in points.items()}
    figures |= {c: FigureValue(c, "reported", float(v)) for c, v in reported.items()}
    return StoredUnit(
        unit_id, f"U{unit_id}", None, f"Đơn vị {unit_id}", "UNKNOWN", None, "P", "import",
        "2024-03", dt.date(2024, 3, 31), 1, "final", figures,
    )  # fmt: skip


def scheme_of(maxima: list[int], bands: tuple[Band, ...] | None = None) -> Scheme:
    codes = tuple(f"X.{n}" for n in range(1, len(maxima) + 1))
    return Scheme(
        id="gen",
        title="Generated",
        legal_basis="-",
        groups=(Group("X", "X", codes),),
        indicators=tuple(Indicator(c, c, float(m)) for c, m in zip(codes, maxima, strict=True)),
        default_scale=100,
        bands=bands or DIENBIEN_LIKE,
    )


@st.composite
def two_decimal_points(draw: st.DrawFn) -> tuple[Scheme, dict[str, Decimal]]:
    """A scheme of 1–12 indicators (maxima 1–30) and 2-decimal points within each maximum."""
    maxima = draw(st.lists(st.integers(1, 30), min_size=1, max_size=12))
    scheme = scheme_of(maxima)
    cents = [draw(st.integers(0, maximum * 100)) for maximum in maxima]
    return scheme, {i.code: Decimal(c) / 100 for i, c in zip(scheme.indicators, cents, strict=True)}


tolerances = st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("0.05"), Decimal("0.1")])


@PROPERTY
@given(two_decimal_points(), st.sampled_from([10, 100]), tolerances, st.data())
def test_exact_totals_and_reports_within_the_tolerance_never_mismatch(
    case: tuple[Scheme, dict[str, Decimal]], scale: int, tolerance: Decimal, data: st.DataObject
) -> None:
    scheme, points = case
    total = sum(points.values(), Decimal(0))
    maximum = sum((Decimal(int(i.max)) for i in scheme.indicators), Decimal(0))
    converted = (total * scale / maximum).quantize(CENT, rounding=ROUND_HALF_UP)
    steps = int(tolerance / CENT)
    off = data.draw(st.integers(-steps, steps)) * CENT
    reported = {"TOTAL": total + off, "CONVERTED": converted - off}
    [row] = appraisal_rows(
        "gen", provincial_scorer(scheme, scale), [stored(1, points, reported)], tolerance=tolerance
    )
    assert row["mismatches"] == []
    beyond = {"TOTAL": total + tolerance + CENT}
    [row] = appraisal_rows(
        "gen", provincial_scorer(scheme, scale), [stored(1, points, beyond)], tolerance=tolerance
    )
    assert [m["field"] for m in row["mismatches"]] == ["TOTAL"]


@PROPERTY
@given(st.lists(st.integers(0, 200), min_size=9, max_size=9), tolerances, st.data())
def test_tt01_exact_totals_and_desk_scores_never_mismatch(
    cents: list[int], tolerance: Decimal, data: st.DataObject
) -> None:
    points = {code: Decimal(c) / 100 for code, c in zip(CRITERIA, cents, strict=True)}
    steps = int(tolerance / CENT)
    offsets = [data.draw(st.integers(-steps, steps)) * CENT for _ in range(2)]
    reported = {
        "TOTAL": sum(points.values(), Decimal(0)) + offsets[0],
        "DTB": sum((points[c] for c in DESK_CRITERIA), Decimal(0)) + offsets[1],
    }
    bands = (Band("Xuất sắc", Decimal(15)), Band("Tốt", Decimal(12)), Band("Yếu", None))
    [row] = appraisal_rows(
        "tt01", tt01_scorer(bands), [stored(1, points, reported)], tolerance=tolerance
    )
    assert row["mismatches"] == []


@st.composite
def band_minimums(draw: st.DrawFn) -> tuple[Band, ...]:
    """Bands as a scheme file gives them: four strictly falling 2-decimal minimums within
    1–100 (TOML numbers, read as floats), and the last band below them."""
    cents = draw(st.lists(st.integers(100, 10000), min_size=4, max_size=4, unique=True))
    minima = sorted((c / 100 for c in cents), reverse=True)
    table = [{"name": n, "min": m} for n, m in zip(CLASSES[:4], minima, strict=True)]
    return parse_bands([*table, {"name": CLASSES[4]}], Path("generated.toml"))


scores = st.integers(0, 10000).map(lambda cents: Decimal(cents) / 100)


@PROPERTY
@given(band_minimums(), st.data())
def test_classification_is_monotonic_and_the_same_on_both_scales(
    bands: tuple[Band, ...], data: st.DataObject
) -> None:
    minima = [Decimal(str(band.min)) for band in bands[:-1]]
    edges = [m + step for m in minima for step in (-CENT, 0, CENT) if m + step <= 100]
    score = st.one_of(scores, st.sampled_from(edges))  # the edges, often
    low, high = sorted((data.draw(score), data.draw(score)))
    scheme = scheme_of([100], bands)
    place = {name: n for n, name in enumerate(CLASSES)}
    on_100 = [score_unit(scheme, {"X.1": float(v)}, 100).class_name for v in (low, high)]
    on_10 = [score_unit(scheme, {"X.1": float(v)}, 10).class_name for v in (low, high)]
    assert on_10 == on_100
    assert place[str(on_100[0])] >= place[str(on_100[1])]


@PROPERTY
@given(band_minimums(), st.sampled_from([10, 100]))
def test_a_score_on_a_band_minimum_earns_that_band(bands: tuple[Band, ...], scale: int) -> None:
    scheme = scheme_of([100], bands)
    for band in bands[:-1]:
        assert band.min is not None
        assert score_unit(scheme, {"X.1": float(band.min)}, scale).class_name == band.name
        below = Decimal(str(band.min)) - CENT
        assert score_unit(scheme, {"X.1": float(below)}, scale).class_name != band.name


@PROPERTY
@given(st.lists(st.integers(0, 1000), min_size=2, max_size=12), st.randoms(use_true_random=False))
def test_points_adding_up_to_the_same_decimal_total_tie(
    cents: list[int], rnd: random.Random
) -> None:
    scheme = scheme_of([10] * len(cents))
    codes = [i.code for i in scheme.indicators]
    shuffled = list(cents)
    rnd.shuffle(shuffled)
    units = [
        stored(n, {c: Decimal(v) / 100 for c, v in zip(codes, order, strict=True)}, {})
        for n, order in ((1, cents), (2, shuffled))
    ]
    rows = appraisal_rows("gen", provincial_scorer(scheme, 100), units)
    assert [(row["rank"], row["rank_tied"]) for row in rows] == [(1, True), (1, True)]
    assert rows[0]["total"] == rows[1]["total"]


figures = st.integers(-(10**7), 10**7).flatmap(
    lambda units: st.sampled_from([2, 3]).map(lambda places: units / 10**places)
)


@PROPERTY
@given(figures, figures)
def test_a_change_of_two_floats_rounds_as_their_decimals_do(
    current: float, previous: float
) -> None:
    exact = (Decimal(repr(current)) - Decimal(repr(previous))).quantize(CENT, ROUND_HALF_UP)
    assert score_change(current, previous) == float(exact)


@PROPERTY
@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_a_change_of_three_decimal_figures_rounds_half_up(a: int, b: int) -> None:
    # a tenth of these differences end in a half cent (…5 in the third decimal)
    exact = (Decimal(a) / 1000 - Decimal(b) / 1000).quantize(CENT, ROUND_HALF_UP)
    assert score_change(a / 1000, b / 1000) == float(exact)
