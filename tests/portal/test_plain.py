"""`plain.read_plain` reads a province's answers as `parse.parse_province` does, or
leaves them to it: whatever the answers hold, the two never disagree.

The answers start as a generated province's (two pages for the listings) and are
spoiled: every field of a record of each kind (the province's own, a unit, a metric)
set in turn to each value of a palette of the troublesome for its kind (wrong types,
numbers at and past each limit, texts with control characters, blank, too long, only
dots, NaN), or removed; and, at random, several such changes at once, a unit or a
metric repeated.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import indicators
from service.periods import Period
from service.portal import api
from service.portal.api import PROVINCE_ENDPOINTS
from service.portal.checks import ParseError
from service.portal.client import PortalError, joined
from service.portal.parse import ParsedProvince, parse_province
from service.portal.plain import read_plain
from service.simulator.generated import GeneratedSource
from service.simulator.queries import PortalQuery
from service.sync import Province, prepare

SOURCE = GeneratedSource(seed=11, provinces=1, communes=2, agencies=1)
PROVINCE = SOURCE.provinces[0].department.department_id
PAGE_SIZE = 2  # the listings come in two pages


def generated_pages() -> dict[str, list[Any]]:
    """Each endpoint's pages (decoded envelopes) for the generated province."""
    pages: dict[str, list[Any]] = {}
    for endpoint in PROVINCE_ENDPOINTS:
        query = PortalQuery(endpoint, Period.parse("2026-08"), PROVINCE, page_size=PAGE_SIZE)
        first = json.loads(SOURCE.answer(query).body)
        total = first["data"].get("pagination", {}).get("totalPages", 1)
        pages[endpoint] = [first] + [
            json.loads(SOURCE.answer(query.__class__(**{**vars(query), "page": page})).body)
            for page in range(2, total + 1)
        ]
    return pages


PAGES = generated_pages()
FIELDS = sorted(
    {
        "departmentId", "departmentName", "departmentCode", "childGroup", "level",
        "departmentLevel", "totalScore", "totalMaxScore", "score", "maxScore", "ratio",
        "metrics", "code", "numerator", "denominator", "dataQualityStatus",
        "dataQualityMessage", "stt",
        *(key for count in indicators.COUNTS.values() for key in count.portal),
        "totalFeeDossierFormality", "totalFeeFormality",
    }
)  # fmt: skip
TEXTS: list[Any] = [
    None, 5, [], {}, "", " ", "\u00a0", "x\n", "x\r\ny", "x\t", "x\x7f", "x\x85", "x\u2028",
    "Sở", "x" * 64, "x" * 65, "x" * 255, "x" * 256, "x" * 2000, "x" * 2001, ".", "...", "a.b",
    "a b", "a/b", "a;b", "a'b", 'a"b', "a`b", "a\\b",
]  # fmt: skip
NUMBERS: list[Any] = [
    None, True, "5", [], 0, -1, -0.0, 5, 5.0, 5.5, 1e-5, 100, 100.0, 100.5, 10**15, 10**15 + 1,
    1e15, 1e16, 10**20, 2**64, math.nan, math.inf,
]  # fmt: skip
GROUPS: list[Any] = [None, 0, "", False, 1, [], {"a": 1}, "AGENCY", "COMMUNE", "PROVINCE", "x"]
PALETTES = {
    **dict.fromkeys(
        ["departmentName", "dataQualityStatus", "dataQualityMessage", "departmentId",
         "departmentCode", "code", "stt"], TEXTS
    ),
    **dict.fromkeys(["childGroup", "level", "departmentLevel"], GROUPS),
    "metrics": [None, [], {}, [1], "x", [{}]],
}  # fmt: skip
VALUES: list[Any] = [
    None, True, False, 0, -1, 5, 5.0, 5.5, -0.0, 1e-5, 100, 100.0, 100.5, 10**15, 10**15 + 1,
    1e15, 1e16, 10**20, 2**64, math.nan, math.inf, "", " ", "\u00a0", ".", "...", "a.b", "a b",
    "a/b", "a;b", "a'b", "a\\b", "x\n", "x\r\ny", "x\t", "x\x7f", "x\x85", "x\u2028", "Sở",
    "x" * 64, "x" * 65, "x" * 255, "x" * 256, "x" * 2001, "AGENCY", "COMMUNE", "PROVINCE",
    "H01", [], {}, [1], {"a": 1},
]  # fmt: skip


def records(page: Any) -> list[dict[str, Any]]:
    """Every object of a page a field of the checks lives in: the root, the units, the
    units' metrics."""
    data = page.get("data") if isinstance(page, dict) else None
    if not isinstance(data, dict):
        return []
    found = [value for value in data.values() if isinstance(value, dict)]
    for value in data.values():
        if isinstance(value, list):
            found += [unit for unit in value if isinstance(unit, dict)]
    for unit in list(found):
        metrics = unit.get("metrics")
        if isinstance(metrics, list):
            found += [metric for metric in metrics if isinstance(metric, dict)]
    return found


def spoil(draw: Callable[..., Any], pages: dict[str, list[Any]]) -> None:
    """One change to the answers, drawn."""
    endpoint = draw(st.sampled_from(PROVINCE_ENDPOINTS))
    page = draw(st.sampled_from(pages[endpoint]))
    targets = records(page)
    if not targets:
        return
    target = draw(st.sampled_from(targets))
    action = draw(st.sampled_from(["set", "set", "set", "remove", "repeat"]))
    if action == "repeat":  # the record again beside itself: a unit or a metric twice
        for value in page["data"].values():
            if isinstance(value, list) and target in value:
                value.append(copy.deepcopy(target))
        for unit in records(page):
            if isinstance(unit.get("metrics"), list) and target in unit["metrics"]:
                unit["metrics"].append(copy.deepcopy(target))
        return
    key = draw(st.sampled_from(FIELDS + sorted(target)))
    if action == "remove":
        target.pop(key, None)
    else:
        target[key] = copy.deepcopy(draw(st.sampled_from(VALUES)))


def kinds_of_record(pages: dict[str, list[Any]]) -> list[tuple[str, int, list[str]]]:
    """(endpoint, index in `records` of its first page, keys to spoil) of one record of
    each kind: a unit, a unit's metric, and the province's own (of two endpoints: it is
    read by the checks in both ways). The keys are the record's and those a record of
    its kind may lack."""
    found = []
    for endpoint, listed in pages.items():
        data, shape = listed[0]["data"], api.ENDPOINTS[endpoint]
        unit = data[shape.list_key][0]
        roots = [data[shape.root_key]] if endpoint in ROOTS_SPOILED else []
        optional = ["departmentCode", "childGroup", "level", "departmentLevel"]
        kinds = [(record, optional) for record in [*roots, unit]]
        kinds += [
            (metric, ["dataQualityStatus", "dataQualityMessage"])
            for metric in unit.get("metrics", [])[:1]
        ]
        every = records(listed[0])
        for record, lacking in kinds:
            index = next(i for i, known in enumerate(every) if known is record)
            found.append((endpoint, index, sorted({*record, *lacking})))
    return found


ROOTS_SPOILED = (api.SERVICE_RESULTS.name, api.DVC_PROGRESS_TREE.name)


def agree(bodies: dict[str, list[bytes]]) -> bool:
    """Whether `read_plain` reads `bodies` as the checks do, or leaves them to them; True
    also when it reads them plainly."""
    expected = parsed_by_checks(bodies)
    try:
        plain: ParsedProvince | Exception | None = read_plain(PROVINCE, bodies)
    except ParseError as exc:
        plain = exc
    if plain is None:
        return False
    assert outcome(plain) == outcome(expected)
    return True


def test_each_field_spoiled_in_turn_is_read_as_the_checks_read_it():
    """Every field of one record of each kind, set to each value of its palette (numbers
    for the fields not named in `PALETTES`), or removed."""
    plainly = spoiled = 0
    for endpoint, index, keys in kinds_of_record(PAGES):
        for key in keys:
            for value in [*PALETTES.get(key, NUMBERS), "removed"]:
                pages = {**PAGES, endpoint: copy.deepcopy(PAGES[endpoint])}
                target = records(pages[endpoint][0])[index]
                if value == "removed":
                    target.pop(key, None)
                else:
                    target[key] = copy.deepcopy(value)
                plainly += agree(bodies_of(pages))
                spoiled += 1
    assert spoiled > 2000
    assert 0 < plainly < spoiled  # both paths were taken


def bodies_of(pages: dict[str, list[Any]]) -> dict[str, list[bytes]]:
    return {
        endpoint: [json.dumps(page, ensure_ascii=False).encode() for page in listed]
        for endpoint, listed in pages.items()
    }


def parsed_by_checks(bodies: dict[str, list[bytes]]) -> ParsedProvince | Exception:
    try:
        datasets = {endpoint: joined(endpoint, pages) for endpoint, pages in bodies.items()}
        return parse_province(PROVINCE, datasets)
    except (ParseError, PortalError) as exc:
        return exc


def outcome(result: ParsedProvince | Exception) -> object:
    """What a reading gave, as text: a record's repr tells 5 from 5.0 and -0.0 from 0.0,
    which `==` does not, and which would be stored as other bytes."""
    if isinstance(result, ParseError):
        return [str(problem) for problem in result.problems]
    return repr(result) if isinstance(result, ParsedProvince) else str(result)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_plain_reading_is_the_checked_one_or_leaves_it_to_the_checks(data):
    pages = copy.deepcopy(PAGES)
    for _ in range(data.draw(st.integers(0, 3))):
        spoil(data.draw, pages)
    agree(bodies_of(pages))


def test_unspoiled_answers_are_read_plainly_and_as_the_checks_read_them():
    bodies = bodies_of(PAGES)
    assert sum(len(pages) > 1 for pages in bodies.values()) >= 3  # pages joined too
    plain = read_plain(PROVINCE, bodies)
    assert plain is not None
    assert plain == parsed_by_checks(bodies)
    assert len(plain.units) == 3 and plain.province.figures


@pytest.mark.parametrize(
    ("before", "after", "plainly"),
    [
        # json and orjson keep a repeated key's last value; so does msgspec, which
        # checks a number's range at each (then leaves the answers to the checks).
        (b'"departmentName":', b'"departmentName":"\\u0001","departmentName":', True),
        (b'"departmentName":', b'"departmentName":"Sai","departmentName":', True),
        (b'"totalScore":', b'"totalScore":-1,"totalScore":', False),
    ],
)
def test_a_key_given_twice_is_read_by_its_last_value(before, after, plainly):
    bodies = bodies_of(PAGES)
    endpoint = api.SERVICE_RESULTS.name
    unit_at = bodies[endpoint][0].index(b'"evaluation"')
    head, tail = bodies[endpoint][0][:unit_at], bodies[endpoint][0][unit_at:]
    bodies[endpoint][0] = head + tail.replace(before, after, 1)
    assert after in bodies[endpoint][0]
    plain = read_plain(PROVINCE, bodies)
    assert (plain is not None) == plainly
    expected = parsed_by_checks(bodies)
    assert isinstance(expected, ParsedProvince)
    assert plain in (None, expected)


def test_what_the_checks_would_name_is_left_to_them():
    pages = copy.deepcopy(PAGES)
    unit = pages[api.DVC_PROGRESS_TREE.name][0]["data"]["children"][0]
    unit["totalOverdue"] = 2.5
    bodies = bodies_of(pages)
    assert read_plain(PROVINCE, bodies) is None
    problems = outcome(parsed_by_checks(bodies))
    assert isinstance(problems, list)
    assert any("totalOverdue" in problem and "2.5" in problem for problem in problems)


@pytest.mark.parametrize(
    ("endpoint", "key"),
    [
        (api.SERVICE_RESULTS.name, "departmentName"),  # a text
        (api.SERVICE_RESULTS.name, "departmentCode"),  # a code
        (api.TRANSPARENCY.name, "dataQualityMessage"),  # a note (lines allowed)
    ],
)
def test_a_lone_surrogate_in_a_text_is_a_problem_named_not_a_crash(endpoint, key):
    """JSON may spell "\\ud800", which no UTF-8 holds: storing it failed with a
    UnicodeEncodeError (a traceback) after every check had passed."""
    bodies = bodies_of(PAGES)
    body = bodies[endpoint][0]
    named = f'"{key}": "'.encode()
    if named in body[body.index(b"[") :]:  # the text of a unit, spoiled
        field = body.index(named, body.index(b"[")) + len(named)
        bodies[endpoint][0] = body[:field] + b"x\\ud800" + body[field:]
    else:  # a unit's first metric given the field
        field = body.index(b'"metrics": [{') + len(b'"metrics": [{')
        bodies[endpoint][0] = body[:field] + named + b'x\\ud800", ' + body[field:]
    assert read_plain(PROVINCE, bodies) is None
    with pytest.raises(ParseError) as raised:
        prepare(Province(PROVINCE, "H01", "P"), bodies)
    assert [str(p) for p in raised.value.problems] == outcome(parsed_by_checks(bodies))
    assert any(key in str(p) and "a lone surrogate" in str(p) for p in raised.value.problems)


@pytest.mark.parametrize("depth", [200, 990, 1020])
def test_values_nested_deeper_than_msgspec_reads_are_left_to_the_checks(depth):
    """msgspec stops at Python's recursion limit, orjson reads 1,024 levels: a value that
    deep where nothing reads it is the checks' to accept, not a crash."""
    pages = copy.deepcopy(PAGES)
    pages[api.TRANSPARENCY.name][0]["data"]["evaluation"][0]["extra"] = "DEEP"
    bodies = bodies_of(pages)
    nested = b"[" * depth + b"]" * depth
    bodies[api.TRANSPARENCY.name][0] = bodies[api.TRANSPARENCY.name][0].replace(b'"DEEP"', nested)
    expected = parsed_by_checks(bodies)
    assert isinstance(expected, ParsedProvince)
    assert read_plain(PROVINCE, bodies) in (None, expected)
