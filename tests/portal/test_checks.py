"""Checked reading: what the portal sends is a figure, a code or a name, or a named problem."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.portal.checks import (
    NonFinite,
    ParseError,
    RecordReader,
    _finite_float,
    is_code,
    plain_numbers,
    read_json,
)
from service.portal.parse import read_identity

UNIT = "H44.07 (UBND xã Thanh Ba)"


def number_problems(raw: bytes, kind: str = "count") -> tuple[float | None, list[str]]:
    reader = RecordReader("dvc-progress-tree")
    value = reader.number(
        read_json(b'{"totalReceived": ' + raw + b"}"), "totalReceived", UNIT, kind
    )
    return value, [str(problem) for problem in reader.problems]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"NaN", "expected a finite number, got NaN"),
        (b"Infinity", "expected a finite number, got Infinity"),
        (b"-Infinity", "expected a finite number, got -Infinity"),
        (b"1e400", "expected a finite number, got 1e400"),
        (b"1" * 400, "(400 characters) is out of range"),
        (b"2e15", "out of range"),
        (b"true", "expected a number, got True"),
        (b'"702"', "expected a number, got '702'"),
        (b'{"n": 1}', "expected a number, got {'n': 1}"),
        (b"-2", "expected a count"),
        (b"2.5", "expected a count"),
    ],
)
def test_a_number_that_is_not_a_figure_is_a_problem_naming_endpoint_unit_and_field(raw, message):
    value, problems = number_problems(raw)
    assert value is None and len(problems) == 1
    assert problems[0].startswith(f"dvc-progress-tree: unit {UNIT}: field 'totalReceived': ")
    assert message in problems[0]


@pytest.mark.parametrize(("raw", "expected"), [(b"0", 0.0), (b"702", 702.0), (b"null", None)])
def test_a_real_count_is_read(raw, expected):
    assert number_problems(raw) == (expected, [])


def test_a_python_nan_is_refused_too():
    reader = RecordReader("transparency")
    assert reader.number({"totalScore": float("nan")}, "totalScore", UNIT) is None
    assert "expected a finite number, got nan" in str(reader.problems[0])


def identity(**record: Any) -> tuple[tuple[str, str | None, str], list[str]]:
    reader = RecordReader("transparency")
    found = read_identity(reader, {"departmentId": "019d-07", "departmentName": "Xã A", **record})
    return found, [str(problem) for problem in reader.problems]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"departmentCode": "H" * 300}, "'departmentCode': longer than 64 characters (300)"),
        ({"departmentCode": "a/../../x"}, "'departmentCode': 'a/../../x' is not a code"),
        ({"departmentCode": "H44 07"}, "is not a code"),
        ({"departmentCode": "H44;07"}, "is not a code"),
        ({"departmentCode": ".."}, "is not a code"),
        ({"departmentCode": {"code": "H44"}}, "expected a non-empty string, got {'code': 'H44'}"),
        ({"departmentId": "x" * 65}, "'departmentId': longer than 64 characters (65)"),
        ({"departmentName": "N" * 256}, "'departmentName': longer than 255 characters (256)"),
        ({"departmentName": "Xã\x00A"}, "'departmentName': contains a control character"),
        ({"departmentName": "Xã\nA"}, "contains a control character"),
    ],
)
def test_a_code_or_name_that_does_not_fit_is_a_problem(record, message):
    (_department_id, code, _name), problems = identity(**record)
    assert len(problems) == 1 and message in problems[0], problems
    assert code is None or code == "H44.07"


def test_real_identities_are_read():
    found, problems = identity(departmentCode="H44.07", departmentName="UBND xã Thanh Ba")
    assert found == ("019d-07", "H44.07", "UBND xã Thanh Ba") and problems == []
    found, problems = identity(departmentCode=None)
    assert found == ("019d-07", None, "Xã A") and problems == []


def test_a_data_quality_note_may_hold_lines_but_no_nul():
    reader = RecordReader("dossier-digitized")
    assert reader.note({"m": "dòng 1\ndòng 2"}, "m", UNIT, 2000) == "dòng 1\ndòng 2"
    assert reader.note({"m": ""}, "m", UNIT, 2000) is None
    assert reader.note({"m": "a\x00b"}, "m", UNIT, 2000) is None
    assert reader.note({"m": "x" * 2001}, "m", UNIT, 2000) is None
    assert reader.note({"m": ["WARNING"]}, "m", UNIT, 2000) is None
    assert len(reader.problems) == 3


@pytest.mark.parametrize("code", ["H44", "H44.07", "019d2be3-6a88-732b-8b17-b68020c8553a"])
def test_portal_codes_are_codes(code):
    assert is_code(code)


@pytest.mark.parametrize(
    "code", ["", "H 44", "a/b", "a\\b", "'H44'", 'H"44', "H44;", "..", "x" * 65]
)
def test_other_strings_are_not_codes(code):
    assert not is_code(code)


def test_one_problem_is_one_line_and_many_are_listed():
    reader = RecordReader("transparency")
    reader.number({"totalScore": "x"}, "totalScore", UNIT)
    assert "\n" not in str(ParseError(reader.problems))
    reader.number({"ratio": 140}, "ratio", UNIT, "ratio")
    assert str(ParseError(reader.problems)).startswith("2 problem(s) in the portal's answer:\n")


_json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.floats(),  # NaN and the infinities included
    st.text(max_size=70),
    st.sampled_from(
        ["H44.116", "ok", ".", "..a", "a b", "x/y", "d\x07", " H44", "a" * 64, "a" * 65]
    ),
    st.builds(NonFinite, st.sampled_from(["NaN", "Infinity", "1e400"])),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=400)
@given(
    value=_json_values,
    absent=st.booleans(),
    kind=st.sampled_from(["count", "ratio", "score"]),
    required=st.booleans(),
)
def test_the_quick_reading_of_a_field_says_what_every_check_says(value, absent, kind, required):
    """`number`, `text` and `code` take a short way for a well-formed value: on every
    input they return what the full checks return, with the same problems named."""
    record: dict[str, Any] = {} if absent else {"f": value}
    pairs = [
        (lambda r: r.number(record, "f", UNIT, kind, required),
         lambda r: r.checked_number(record, "f", UNIT, kind, required)),
        (lambda r: r.text(record, "f", UNIT, required, 64),
         lambda r: r.checked_text(record, "f", UNIT, required, 64)),
        (lambda r: r.code(record, "f", UNIT, required),
         lambda r: r.checked_code(record, "f", UNIT, required)),
    ]  # fmt: skip
    for quick, checked in pairs:
        quick_reader, checked_reader = RecordReader("transparency"), RecordReader("transparency")
        got, expected = quick(quick_reader), checked(checked_reader)
        assert got == expected or (got != got and expected != expected)
        assert type(got) is type(expected)
        assert quick_reader.problems == checked_reader.problems


_number_texts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds(
        "{}{}{}e{}{}".format,
        st.sampled_from(["", "-"]),
        st.text("0123456789", min_size=1, max_size=320).filter(lambda d: d[0] != "0" or d == "0"),
        st.sampled_from(["", ".5", ".0001"]),
        st.sampled_from(["", "+", "-"]),
        st.integers(min_value=0, max_value=999).map(str),
    ),
    st.text("0123456789", min_size=1, max_size=400)
    .map(lambda d: d.lstrip("0") or "0")
    .map(lambda d: d + ".5"),
)


@settings(max_examples=400)
@given(text=_number_texts)
@example("1e308")
@example("2e308")
@example("1e-400")
@example("9" * 220 + "e99")
@example("1" * 308 + ".5")
@example("1" * 309 + ".5")
@example("-1E+0309")
def test_every_number_too_large_for_a_float_is_read_as_non_finite(text):
    """`read_json` checks numbers one by one only where one may overflow: every number
    a float cannot hold still comes back as `NonFinite`, every other as its float."""
    value = read_json(b'{"n": ' + text.encode() + b"}")["n"]
    if float(text) in (float("inf"), float("-inf")):
        assert value == NonFinite(text)
    else:
        assert value == float(text) and type(value) is float


_FIELDS = (("a", "count"), ("b", "score"), ("c", "ratio"))


@settings(max_examples=400)
@given(values=st.tuples(*[st.one_of(st.just("absent"), _json_values)] * 3))
@example((1, 2, 100.5))
@example((1, 1e15 + 0.5, 3))
@example((2.5, 1, 1))
@example((1, -0.5, 1))
@example((1, 1, 100))
@example((3.0, 1e15, 0))
@example((None, "absent", None))
def test_numbers_read_together_are_what_each_reading_says(values):
    """`plain_numbers` answers only where every field passes `number` without a word,
    with the same values; otherwise it leaves the record to the checks."""
    record = {
        key: value for (key, _), value in zip(_FIELDS, values, strict=True) if value != "absent"
    }
    reader = RecordReader("transparency")
    one_by_one = [reader.number(record, key, UNIT, kind) for key, kind in _FIELDS]
    together = plain_numbers(record, _FIELDS)
    if reader.problems:
        assert together is None
    elif together is not None:
        assert together == one_by_one
        assert [type(v) for v in together] == [type(v) for v in one_by_one]


_json_documents = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**25), max_value=10**25),
        st.floats(),  # NaN and the infinities are written as json writes them
        st.text(),  # lone surrogates included
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


def _slow_read(body: bytes) -> Any:
    """What `read_json` returned before orjson: `json` with every float checked."""
    return json.loads(body, parse_constant=NonFinite, parse_float=_finite_float)


@settings(max_examples=500)
@given(
    value=_json_documents,
    numbers=st.lists(_number_texts, max_size=3),
    ascii_only=st.booleans(),
    bom=st.booleans(),
)
@example(value=[10**19, 2**64, -(2**63) - 1], numbers=[], ascii_only=True, bom=False)
@example(value=[-(2**63) - 1], numbers=[], ascii_only=True, bom=False)
@example(value=[-(10**19) + 1, 2**63], numbers=[], ascii_only=True, bom=False)
@example(value={"a": 1}, numbers=["1e400", "-0.0", "1" * 25], ascii_only=True, bom=True)
def test_json_is_read_as_json_reads_it_with_every_number_checked(value, numbers, ascii_only, bom):
    """orjson reads what it can; any body reads to the same values, of the same types, as
    `json` with each float checked did (an integer beyond 64 bits stays an integer,
    1e400 is `NonFinite`), and a body `json` refuses is refused."""
    text = json.dumps([value, *[f"@{n}@" for n in numbers]], ensure_ascii=ascii_only)
    for number in numbers:
        text = text.replace(f'"@{number}@"', number)
    body = ("\ufeff" if bom else "").encode() + text.encode("utf-8", "surrogatepass")
    try:
        expected: Any = _slow_read(body)
    except ValueError as exc:
        expected = ("refused", type(exc))
    try:
        got: Any = read_json(body)
    except ValueError as exc:
        got = ("refused", type(exc))
    assert repr(got) == repr(expected)  # -0.0, int vs float, NonFinite's text all show


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [1010, 1023])
def test_a_field_nested_hundreds_deep_is_one_named_problem(depth):
    """orjson reads up to 1,024 levels, more than `repr` can show: a problem shows three."""
    deep = ("[" * depth + "1" + "]" * depth).encode()
    record = read_json(b'{"n": ' + deep + b', "departmentId": ' + deep + b', "stt": ' + deep + b"}")
    reader = RecordReader("service-results")
    assert reader.number(record, "n", UNIT) is None
    assert read_identity(reader, record) == ("", None, "")
    assert [problem.message for problem in reader.problems] == [
        "expected a number, got [[[[...]]]]",
        "expected a non-empty string, got [[[[...]]]]",
        "missing",  # departmentName
    ]
    assert reader.problems[1].unit == "#[[[[...]]]]"  # the record's `stt`, cut to 12


def test_a_body_nested_deeper_than_json_reads_is_refused():
    with pytest.raises(ValueError, match="nested too deeply"):
        read_json(b"[" * 5000 + b"]" * 5000)
