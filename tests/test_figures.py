"""A figure set's canonical JSON is `json.dumps`'s, whichever encoder writes it."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.figures import canonical_figures, figure_set

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(),  # NaN and the infinities too: json refuses them, orjson would write null
    st.floats(min_value=-1e-3, max_value=1e-3),  # where the two write floats differently
    st.integers(),  # past 64 bits orjson refuses
    st.text(),  # "null", "e-", escapes, any plane
    st.sampled_from(["null", "1e-05", "0.00001", 'a\x00\x1f\x7f\u2028"\\', "Sở Nội vụ"]),
)
_rows = st.lists(st.tuples(st.text(max_size=6), _values, _values, _values), max_size=8)


def _as_json_writes(rows: list[tuple[object, ...]]) -> str:
    ordered = sorted(rows, key=lambda row: str(row[0]))
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@settings(max_examples=800)
@given(_rows)
@example([("A", 1e-05, None, "null")])
@example([("A", math.nan, None, None)])
@example([("A", math.inf, "null", None)])
@example([("A", 2**64, 2.5e-07, None)])
@example([("A", 1e16, -0.0, 1e-4)])
def test_canonical_figures_are_what_json_writes_or_the_same_refusal(rows):
    try:
        expected: str | None = _as_json_writes(rows)
        expected_bytes = expected.encode()
    except (ValueError, UnicodeEncodeError) as exc:  # NaN; a lone surrogate in a text
        expected, refusal = None, type(exc)
    if expected is None:
        with pytest.raises(refusal):
            figure_set(rows)
        return
    assert canonical_figures(rows) == expected
    assert figure_set(rows)[1] == expected
    assert figure_set(rows)[0] == hashlib.sha256(expected_bytes).hexdigest()


def test_a_nan_among_nones_is_refused_not_written_as_null():
    """orjson writes NaN as null: the count of nulls against the Nones tells them apart."""
    with pytest.raises(ValueError):
        canonical_figures([("TOTAL", "total", None, math.nan, None)])
    assert canonical_figures([("TOTAL", "total", None, 1.5, None)]) == (
        '[["TOTAL","total",null,1.5,null]]'
    )
