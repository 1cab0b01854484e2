"""The index's vocabulary has one home, `service/indicators.py`; the portal's API one,
`service/portal/api.py`.

The walk reads every Python module of `service/` (the simulator's included), `jobs/` and
`bench/` (string constants, by `ast`) and every Jinja template of `templates/` (quoted
words), and fails where an axis code, a count's figure code or key, or the national
scheme's id is spelled anywhere but the registry, or an endpoint's path anywhere but
the API's table. Out of its scope: `templates/notices/texts.toml`, an office's editable
prose keyed by the registry's words, which the loader checks against the registry
(tested below), like `config/rules.toml`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service import indicators
from service.alerts.messages import alert_line
from service.alerts.rules import Rule
from service.notices.texts import TextsError, load_texts
from service.portal import api
from service.scoring.effort import FORMULAS
from service.scoring.national import EFFORT_FIGURES
from service.snapshots import latest_units
from tests.test_sync import capture

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "service/indicators.py"
API = "service/portal/api.py"


def domain_words() -> set[str]:
    counts = indicators.COUNTS.values()
    return (
        {indicators.NATIONAL}
        | set(indicators.AXES)
        | {count.code for count in counts}
        | {count.key for count in counts}
    )


def endpoint_words() -> set[str]:
    """An endpoint's name and the paths the API's table owns."""
    return set(api.ENDPOINTS) | {api.API_PREFIX, api.PAGE_PATH}


def python_literals(path: Path, words: set[str]) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in words:
            yield node.lineno, node.value


def template_literals(path: Path, words: set[str]) -> Iterator[tuple[int, str]]:
    quoted = re.compile(r"""["']([\w.]+)["']""")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for word in quoted.findall(line):
            if word in words:
                yield number, word


def spelled_words(words: set[str], home: str) -> dict[str, list[str]]:
    """File (relative) → the `words` it spells (sorted), outside their `home`."""
    found: dict[str, set[str]] = {}
    modules = [
        path for folder in ("service", "jobs", "bench") for path in (ROOT / folder).rglob("*.py")
    ]
    templates = list((ROOT / "templates").rglob("*.j2"))
    for path in [*modules, *templates]:
        name = path.relative_to(ROOT).as_posix()
        if name == home:
            continue
        read = python_literals if path.suffix == ".py" else template_literals
        for _line, word in read(path, words):
            found.setdefault(name, set()).add(word)
    return {name: sorted(spelled) for name, spelled in found.items()}


def test_no_domain_word_is_spelled_outside_the_registry():
    assert spelled_words(domain_words(), REGISTRY) == {}, "spell these through service.indicators"


def test_no_endpoint_is_spelled_outside_the_api_table():
    assert spelled_words(endpoint_words(), API) == {}, "spell these through service.portal.api"


def test_the_walk_finds_a_word_spelled_again(tmp_path):
    module = tmp_path / "again.py"
    module.write_text('LATE = {"overdue": 1}\nSCHEME = "766"\n"""CKMB in prose is fine."""\n')
    template = tmp_path / "again.j2"
    template.write_text('{{ fields["TDGQ"] }} {{ counts.get("unsynced") }} CKMB\n')
    words = domain_words()
    assert sorted(python_literals(module, words)) == [(1, "overdue"), (2, "766")]
    assert sorted(template_literals(template, words)) == [(1, "TDGQ"), (1, "unsynced")]


def test_the_walk_finds_an_endpoint_spelled_again(tmp_path):
    module = tmp_path / "again.py"
    module.write_text(
        'URL = "/api/v1/reporting/evaluation/" + "transparency"\n'
        'READERS = {"dossier-digitized": None}\n"""dvc-progress-tree in prose is fine."""\n'
    )
    assert sorted(python_literals(module, endpoint_words())) == [
        (1, "/api/v1/reporting/evaluation/"),
        (1, "transparency"),
        (2, "dossier-digitized"),
    ]


def test_the_six_axes_make_the_hundred_points_of_the_national_index():
    assert list(indicators.AXES) == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH"]
    assert sum(axis.maximum for axis in indicators.AXES.values()) == 100
    assert {axis.scheme for axis in indicators.AXES.values()} == {indicators.NATIONAL}


@pytest.mark.parametrize("axis", ["CKMB", "MDHL", "MDSH"])
def test_an_axis_s_metrics_share_its_points(axis):
    metrics = [m for m in indicators.METRICS.values() if m.axis == axis]
    assert sum(metric.maximum for metric in metrics) == indicators.AXES[axis].maximum
    assert {metric.axis for metric in indicators.METRICS.values()} == {"CKMB", "MDHL", "MDSH"}


def test_every_count_belongs_to_an_axis_and_its_estimate_is_one_dvcwatch_makes():
    counts = list(indicators.COUNTS.values())
    assert len({c.key for c in counts}) == len({c.code for c in counts}) == len(counts)
    assert all(count.axis in indicators.AXES for count in counts)
    for count in (c for c in counts if c.effort):
        assert count.effort in FORMULAS and count.effort in EFFORT_FIGURES, count.code


def test_a_rule_may_count_only_what_the_registry_says_alerts():
    assert Rule(id="x", kind="count_above", topic="t", count=indicators.OVERDUE.key).count
    with pytest.raises(ValueError, match="unknown count 'received'"):
        Rule(id="x", kind="count_above", topic="t", count=indicators.RECEIVED.key)


@pytest.mark.parametrize("count", list(indicators.ALERTING.values()), ids=lambda c: c.key)
def test_an_alert_about_a_count_says_the_registry_s_noun(count):
    rule = Rule(id=count.key, kind="count_above", topic=count.key, count=count.key)
    fired = alert_line("fired", rule, 1174, None, "2026-08", {"what_it_takes": []})
    resolved = alert_line("resolved", rule, 0, 1174, "2026-08", {})
    assert fired == f"⚠️ 1.174 {count.noun} (tháng 8/2026)."
    assert resolved == f"✅ Đã khắc phục: không còn {count.noun} (tháng 8/2026)."


@pytest.mark.parametrize("axis", list(indicators.AXES.values()), ids=lambda a: a.code)
def test_an_alert_about_a_falling_axis_names_it_as_the_registry_does(axis):
    rule = Rule(id="fell", kind="fell_by", topic="falling", field=axis.code, points=0.5)
    line = alert_line("fired", rule, 0.6, None, "2026-08", {"what_it_takes": []})
    assert line == f"⚠️ {axis.name} giảm 0,6 điểm so với kỳ trước (tháng 8/2026)."


@pytest.mark.parametrize(
    ("table", "entry"),
    [
        ("[congvan.outstanding]", 'late = "- Còn {count} hồ sơ."'),
        ("[baocao.count_phrases]", 'late = "Còn hồ sơ trễ"'),
        ("[axis_names]", 'CKBM = "Công khai minh bạch"'),
        ("[congvan.fell]", 'CKBM = ["- Công khai."]'),
    ],
)
def test_texts_keyed_by_a_word_the_registry_does_not_know_are_refused(tmp_path, table, entry):
    (tmp_path / "texts.toml").write_text(f"{table}\n{entry}\n", encoding="utf-8")
    with pytest.raises(TextsError, match=r"(late|CKBM): unknown; known: "):
        load_texts(tmp_path)


def test_a_summary_row_counting_an_unknown_figure_is_refused(tmp_path):
    rows = "".join(
        f'[[congvan.summary_rows]]\ncode = "{code}"\nkind = "count"\nlabel = "x"\n'
        for code in ("OVERDUE", "LATE")
    )
    (tmp_path / "texts.toml").write_text(rows, encoding="utf-8")
    with pytest.raises(TextsError, match=r"summary_rows\[2\]\.code: unknown count 'LATE'"):
        load_texts(tmp_path)


def test_every_count_is_stored_as_its_registry_row_says_the_portal_gives_it(phu_tho):
    """A field is taken as it is; a metric or a (whole, part) pair is what is missing."""
    with phu_tho() as session:
        units = latest_units(session, indicators.NATIONAL, "2026-08")
    answers = {axis.code: capture(api.BY_AXIS[axis.code].name) for axis in indicators.AXES.values()}
    checked = 0
    for unit in units:
        for count in indicators.COUNTS.values():
            record = answers[count.axis].get(unit.department_id or "")
            if record is None:
                continue
            assert unit.figures[count.code].value == portal_count(record, count), count.code
            checked += 1
    assert checked == 163 * len(indicators.COUNTS)


def portal_count(record: dict[str, object], count: indicators.Count) -> float:
    if len(count.portal) == 2:
        whole, part = (float(str(record[field])) for field in count.portal)
        return whole - part
    if count.portal[0] in record:
        return float(str(record[count.portal[0]]))
    metrics = record["metrics"]
    assert isinstance(metrics, list)
    [metric] = [m for m in metrics if m["code"] == count.portal[0]]
    return float(metric["denominator"]) - float(metric["numerator"])
