"""Raw portal datasets of one province-period → one `UnitRecord` per unit.

Input: the `data` of each of the seven endpoints (`PROVINCE_ENDPOINTS`),
already taken out of the API envelope. Output: the province and its units,
each with every figure the datasets give: the portal's total, the six axis
scores with their maxima, the sub-indicators (numerator, denominator, ratio,
score, max, data-quality flags) and the counts people act on (`domain.md`).
Every unit must appear in every dataset exactly once; any problem raises
`ParseError` listing them all. Unknown extra fields are ignored here (they
stay in the raw archive).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service import indicators
from service.figures import FigureValue, UnitRecord
from service.models import FigureKind, UnitGroup
from service.portal import api
from service.portal.api import PROVINCE_ENDPOINTS
from service.portal.checks import (
    CODE_LENGTH,
    MESSAGE_LENGTH,
    ParseError,
    ParseProblem,
    RecordReader,
    as_text,
    plain_numbers,
    shown,
)


def _part_whole(count: indicators.Count) -> tuple[str, str, str | None]:
    """A shortfall count's portal fields as (numerator, denominator), and its code."""
    whole, part = count.portal
    return part, whole, count.code


_LEVEL_GROUPS = {"PROVINCE": UnitGroup.AGENCY, "COMMUNE": UnitGroup.COMMUNE}
#: metric code → the count that is its (denominator - numerator).
SHORTFALL_COUNTS = {
    count.portal[0]: count.code
    for count in (indicators.UNSYNCED, indicators.NOT_DIGITISED, indicators.NO_E_RESULT)
}
#: payment metric code → (numerator field, denominator field, shortfall count code).
PAYMENT_METRICS = {
    "ONLINE_PAYMENT": _part_whole(indicators.NOT_PAID_ONLINE),
    "FEE_FORMALITY_INTEGRATED": ("totalFeeDossierFormality", "totalFeeFormality", None),
    "FEE_FORMALITY_PAID_ONLINE": _part_whole(indicators.FEE_FORMALITY_NOT_PAID_ONLINE),
}


@dataclass(frozen=True)
class ParsedProvince:
    province: UnitRecord
    units: tuple[UnitRecord, ...]


@dataclass
class Node:
    """What the datasets say about one unit, merged as they are read."""

    department_id: str
    name: str
    code: str | None = None
    group: str | None = None
    figures: tuple[FigureValue, ...] = ()

    def merge(self, node: Node) -> None:
        """Fold what one dataset says about the unit into what the others said.

        Figure codes are distinct across endpoints by construction (each axis
        endpoint brings its own axis and metrics), so figures simply concatenate.
        """
        self.name = self.name or node.name
        self.code = self.code or node.code
        self.group = self.group or node.group
        self.figures += node.figures


FigureReader = Callable[[RecordReader, dict[str, Any], str, bool], list[FigureValue]]


def parse_province(province_id: str, datasets: Mapping[str, Any]) -> ParsedProvince:
    """Check and merge the seven datasets of one province-period (see module doc)."""
    problems: list[ParseProblem] = []
    seen: dict[str, dict[str, Node]] = {}
    province = Node(province_id, "")
    for endpoint in PROVINCE_ENDPOINTS:
        reader = RecordReader(endpoint)
        root, children = _split(reader, datasets.get(endpoint))
        seen[endpoint] = _read_children(reader, children)
        if root is not None and root.get("departmentId") == province_id:
            province.merge(read_node(reader, root, is_root=True))
        problems.extend(reader.problems)
    return assemble(province, seen, problems)


def assemble(
    province: Node, seen: dict[str, dict[str, Node]], problems: list[ParseProblem]
) -> ParsedProvince:
    """The province and its units from what each endpoint's records said (`seen`: the
    units' nodes by endpoint, in order) and the `problems` found reading them; raises
    `ParseError` with those and the units' disagreements across the datasets."""
    problems = [*problems, *_presence_problems(seen)]
    units = _merge_units(seen)
    problems.extend(
        ParseProblem(
            api.SERVICE_RESULTS.name, _label(node), "childGroup", "AGENCY or COMMUNE is unknown"
        )
        for node in units
        if node.group is None
    )
    if problems:
        raise ParseError(problems)
    records = tuple(_record(node, str(node.group)) for node in units)
    return ParsedProvince(_record(province, UnitGroup.PROVINCE), records)


def _split(reader: RecordReader, data: Any) -> tuple[dict[str, Any] | None, list[Any]]:
    """The dataset's root (the province) and its list of units."""
    if not isinstance(data, dict):
        reader.problem("-", "data", f"expected an object, got {type(data).__name__}")
        return None, []
    endpoint = api.ENDPOINTS[reader.endpoint]
    children = data.get(endpoint.list_key)
    if not isinstance(children, list):
        reader.problem("-", endpoint.list_key, "the list of units is missing")
        return None, []
    root = data.get(endpoint.root_key)
    return (root if isinstance(root, dict) else None), children


def _read_children(reader: RecordReader, children: list[Any]) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for index, record in enumerate(children, start=1):
        if not isinstance(record, dict):
            reader.problem(f"#{index}", "-", f"expected an object, got {shown(record)}")
            continue
        node = read_node(reader, record, is_root=False)
        if node.department_id in nodes:
            reader.problem(_label(node), "departmentId", "the unit appears twice")
        elif node.department_id:
            nodes[node.department_id] = node
    return nodes


def read_identity(reader: RecordReader, record: dict[str, Any]) -> tuple[str, str | None, str]:
    """A unit record's checked `departmentId`, `departmentCode` (None if absent) and
    `departmentName`; a refused field is "" (or None) and a problem in `reader`."""
    department_id = reader.code(record, "departmentId", f"#{as_text(record.get('stt', '?'), 12)}")
    name = reader.text(record, "departmentName", department_id or "?")
    code = reader.code(record, "departmentCode", f"{department_id} ({name})", required=False)
    return department_id, code or None, name


def read_node(reader: RecordReader, record: dict[str, Any], is_root: bool) -> Node:
    department_id, code, name = read_identity(reader, record)
    unit = f"{code or department_id} ({name})"
    figures = FIGURE_READERS[reader.endpoint](reader, record, unit, is_root)
    return Node(department_id, name, code, _group_of(record), tuple(figures))


def _group_of(record: dict[str, Any]) -> str | None:
    return group_of(record.get("childGroup"), record.get("level") or record.get("departmentLevel"))


def group_of(child_group: Any, level: Any) -> str | None:
    """A unit's group from its `childGroup`, else from its level (any JSON values)."""
    if child_group in (UnitGroup.AGENCY, UnitGroup.COMMUNE):
        return str(child_group)
    group = _LEVEL_GROUPS.get(str(level))
    return str(group) if group else None


def _axis_score(
    reader: RecordReader, record: dict[str, Any], unit: str, is_root: bool
) -> FigureValue:
    axis = api.AXIS_OF[reader.endpoint]
    keys = api.ENDPOINTS[reader.endpoint].scores(is_root)
    return FigureValue(
        code=axis,
        kind=FigureKind.AXIS,
        axis=axis,
        value=reader.number(record, keys.score, unit),
        max_value=reader.number(record, keys.maximum, unit),
        ratio=reader.number(record, "ratio", unit, "ratio", required=False),
    )


def _read_metrics(
    reader: RecordReader, record: dict[str, Any], unit: str, is_root: bool
) -> list[FigureValue]:
    """An axis with a `metrics[]` list (transparency, satisfaction, digitisation)."""
    figures = [_axis_score(reader, record, unit, is_root)]
    metrics = record.get("metrics")
    if not isinstance(metrics, list):
        reader.problem(unit, "metrics", "missing or not a list")
        return figures
    codes: set[str] = set()
    for metric in metrics:
        if not isinstance(metric, dict):
            reader.problem(unit, "metrics", f"expected an object, got {shown(metric)}")
            continue
        code = reader.code(metric, "code", unit)
        if not code:
            continue
        if code in codes:
            reader.problem(unit, f"metrics.{code}", "the metric appears twice")
        codes.add(code)
        figures.extend(_metric(reader, metric, code, f"{unit} metric {code}"))
    return figures


#: A metric's numbers and their kinds, in the order their problems are named.
_METRIC_NUMBERS = (
    ("numerator", "count"),
    ("denominator", "count"),
    ("score", "score"),
    ("maxScore", "score"),
    ("ratio", "ratio"),
)


def _metric(
    reader: RecordReader, metric: dict[str, Any], code: str, where: str
) -> list[FigureValue]:
    numbers = plain_numbers(metric, _METRIC_NUMBERS)
    if numbers is None:  # one of them is refused: each read again to name the problem
        numbers = [reader.number(metric, key, where, kind) for key, kind in _METRIC_NUMBERS]
    numerator, denominator, value, max_value, ratio = numbers
    quality_status = quality_message = None
    if "dataQualityStatus" in metric or "dataQualityMessage" in metric:
        quality_status = reader.text(metric, "dataQualityStatus", where, False, CODE_LENGTH) or None
        quality_message = reader.note(metric, "dataQualityMessage", where, MESSAGE_LENGTH)
    figure = FigureValue(
        code=code,
        kind=FigureKind.METRIC,
        axis=api.AXIS_OF[reader.endpoint],
        value=value,
        max_value=max_value,
        numerator=numerator,
        denominator=denominator,
        ratio=ratio,
        quality_status=quality_status,
        quality_message=quality_message,
    )
    if code not in SHORTFALL_COUNTS:
        return [figure]
    shortfall = reader.difference(where, "numerator", denominator, numerator)
    return [figure, _count(SHORTFALL_COUNTS[code], shortfall)]


def _read_progress(
    reader: RecordReader, record: dict[str, Any], unit: str, is_root: bool
) -> list[FigureValue]:
    received = reader.number(record, indicators.RECEIVED.portal[0], unit, "count")
    on_time = reader.number(record, indicators.ON_TIME.portal[0], unit, "count")
    overdue = reader.number(
        record, indicators.OVERDUE.portal[0], unit, "count", required=not is_root
    )
    on_time_metric = FigureValue(
        code="PROCESSED_ON_TIME",
        kind=FigureKind.METRIC,
        axis=indicators.TDGQ.code,
        value=None,
        numerator=on_time,
        denominator=received,
        ratio=reader.number(record, "ratio", unit, "ratio"),
    )
    counts = [
        _count(indicators.RECEIVED.code, received),
        _count(indicators.ON_TIME.code, on_time),
        _count(indicators.OVERDUE.code, overdue),
    ]
    return [_axis_score(reader, record, unit, is_root), on_time_metric, *counts]


def _read_payment(
    reader: RecordReader, record: dict[str, Any], unit: str, is_root: bool
) -> list[FigureValue]:
    figures = [_axis_score(reader, record, unit, is_root)]
    for code, (part_key, whole_key, shortfall_code) in PAYMENT_METRICS.items():
        part = reader.number(record, part_key, unit, "count")
        whole = reader.number(record, whole_key, unit, "count")
        figures.append(
            FigureValue(
                code,
                FigureKind.METRIC,
                None,
                axis=indicators.TTTT.code,
                numerator=part,
                denominator=whole,
            )
        )
        if shortfall_code:
            shortfall = reader.difference(unit, part_key, whole, part)
            figures.append(_count(shortfall_code, shortfall))
    return figures


def _read_online(
    reader: RecordReader, record: dict[str, Any], unit: str, is_root: bool
) -> list[FigureValue]:
    return [_axis_score(reader, record, unit, is_root)]


def _read_total(
    reader: RecordReader, record: dict[str, Any], unit: str, is_root: bool
) -> list[FigureValue]:
    total = reader.number(record, api.SERVICE_RESULTS.scores(is_root).score, unit)
    return [FigureValue("TOTAL", FigureKind.TOTAL, total, max_value=100.0)]


#: Each endpoint's reader of a record, by the endpoint's name (every row of `api.ENDPOINTS`).
FIGURE_READERS: dict[str, FigureReader] = {
    api.SERVICE_RESULTS.name: _read_total,
    api.TRANSPARENCY.name: _read_metrics,
    api.DVC_PROGRESS_TREE.name: _read_progress,
    api.PROVIDE_ONLINE_TREE.name: _read_online,
    api.FORMALITY_ONLINE_PAYMENT_TREE.name: _read_payment,
    api.HANDLING_SATISFACTION.name: _read_metrics,
    api.DOSSIER_DIGITIZED.name: _read_metrics,
}


def _count(code: str, value: float | None) -> FigureValue:
    return FigureValue(code, FigureKind.COUNT, value)


def _presence_problems(seen: dict[str, dict[str, Node]]) -> list[ParseProblem]:
    """A unit present in one dataset and missing from another is a problem."""
    everyone: dict[str, tuple[str, Node]] = {}
    for endpoint, nodes in seen.items():
        for department_id, node in nodes.items():
            everyone.setdefault(department_id, (endpoint, node))
    problems = []
    for endpoint, nodes in seen.items():
        for department_id, (found_in, node) in everyone.items():
            if department_id not in nodes:
                problems.append(
                    ParseProblem(
                        endpoint, _label(node), "departmentId", f"missing (present in {found_in})"
                    )
                )
    return problems


def _merge_units(seen: dict[str, dict[str, Node]]) -> list[Node]:
    merged: dict[str, Node] = {}
    for nodes in seen.values():
        for department_id, node in nodes.items():
            target = merged.setdefault(department_id, Node(department_id, node.name))
            target.merge(node)
    return list(merged.values())


def _record(node: Node, group: str) -> UnitRecord:
    return UnitRecord(node.department_id, node.code, node.name, group, node.figures)


def _label(node: Node) -> str:
    return f"{node.code or node.department_id} ({node.name})"
