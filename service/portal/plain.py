"""A province's answers read in their common case: every record passes every check.

`parse.parse_province` reads the portal's datasets field by field, naming each
problem it finds; a national sync is 141,925 figures read that way. Almost always
nothing is wrong, so `read_plain` first decodes the answers' bodies with msgspec
into records whose types are the checks (a code, a one-line text, a count, a ratio
from 0 to 100...), verified in C as they are decoded, and builds the same units and
figures from them. Whatever those types refuse (a wrong type, a number out of
range or not whole, a missing field, a text with a control character, a unit or a
metric twice, a part larger than its whole, JSON msgspec does not read) makes it
answer None, and the province is read again by `parse_province`, which names every
problem; so do the province's own records, which are few and read by it anyway.
`tests/portal/test_plain.py` shows the two read any answers the same.

Kept in step with `parse.FIGURE_READERS`: each endpoint's fields here are the ones
its reader there reads, with the same kinds and the same figures made of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Annotated, Any

import msgspec

from service import indicators
from service.figures import FigureValue
from service.models import FigureKind
from service.portal import api
from service.portal.api import PROVINCE_ENDPOINTS
from service.portal.checks import (
    CODE_LENGTH,
    CONTROL,
    CONTROL_BUT_LINES,
    MAX_MAGNITUDE,
    MESSAGE_LENGTH,
    NAME_LENGTH,
    NOT_IN_A_CODE,
    RecordReader,
)
from service.portal.parse import (
    PAYMENT_METRICS,
    SHORTFALL_COUNTS,
    Node,
    ParsedProvince,
    assemble,
    group_of,
    read_node,
)

# Texts are limited in length as they are decoded; what they hold is checked after,
# a page's texts at once (`_Texts`).
_Code = Annotated[str, msgspec.Meta(max_length=CODE_LENGTH)]
_Name = Annotated[str, msgspec.Meta(max_length=NAME_LENGTH)]
_Status = Annotated[str, msgspec.Meta(max_length=CODE_LENGTH)]
_Note = Annotated[str, msgspec.Meta(max_length=MESSAGE_LENGTH)]
# `RecordReader.number` by kind, null being "no data"; a count is a whole number (5 or
# 5.0), decoded as a float, as the checks read every number.
_Count = Annotated[float, msgspec.Meta(ge=0, le=MAX_MAGNITUDE, multiple_of=1)] | None
_Score = Annotated[float, msgspec.Meta(ge=0, le=MAX_MAGNITUDE)] | None
_Ratio = Annotated[float, msgspec.Meta(ge=0, le=100)] | None


class _Metric(msgspec.Struct):
    """A `metrics[]` entry as `parse._metric` reads it."""

    code: _Code
    numerator: _Count
    denominator: _Count
    score: _Score
    maxScore: _Score  # noqa: N815 (the portal's name)
    ratio: _Ratio
    dataQualityStatus: _Status | None = None  # noqa: N815
    dataQualityMessage: _Note | None = None  # noqa: N815


Field = tuple[str, Any] | tuple[str, Any, Any]  # name, type[, default]
_IDENTITY: list[Field] = [
    ("departmentId", _Code),
    ("departmentName", _Name),
    ("departmentCode", _Code | None, None),
    ("childGroup", Any, None),
    ("level", Any, None),
    ("departmentLevel", Any, None),
]


def _unit_fields(endpoint: api.Endpoint) -> list[Field]:
    """The fields a unit's record of `endpoint` must hold (`parse.FIGURE_READERS`)."""
    scores = endpoint.unit_scores
    if endpoint is api.SERVICE_RESULTS:
        return [(scores.score, _Score)]
    axis: list[Field] = [(scores.score, _Score), (scores.maximum, _Score)]
    if endpoint is api.DVC_PROGRESS_TREE:
        counts = (indicators.RECEIVED, indicators.ON_TIME, indicators.OVERDUE)
        return [*axis, ("ratio", _Ratio), *((count.portal[0], _Count) for count in counts)]
    axis.append(("ratio", _Ratio, None))
    if endpoint is api.FORMALITY_ONLINE_PAYMENT_TREE:
        keys = (key for part, whole, _ in PAYMENT_METRICS.values() for key in (part, whole))
        return [*axis, *((key, _Count) for key in dict.fromkeys(keys))]
    if endpoint is api.PROVIDE_ONLINE_TREE:
        return axis
    return [*axis, ("metrics", list[_Metric])]


def _decoder(endpoint: api.Endpoint) -> msgspec.json.Decoder[Any]:
    """A decoder of one page of `endpoint`'s answer: its root as JSON values (read by
    `parse`) and its units as typed records."""
    fields = sorted(_IDENTITY + _unit_fields(endpoint), key=len)  # required ones first
    unit = msgspec.defstruct(f"{endpoint.name}-unit", fields)
    data = msgspec.defstruct(
        f"{endpoint.name}-data",
        [(endpoint.list_key, list[unit]), (endpoint.root_key, Any, None)],  # type: ignore[valid-type]
    )
    return msgspec.json.Decoder(msgspec.defstruct(f"{endpoint.name}-page", [("data", data)]))


_DECODERS = {name: _decoder(endpoint) for name, endpoint in api.ENDPOINTS.items()}


def read_plain(province_id: str, bodies: Mapping[str, Sequence[bytes]]) -> ParsedProvince | None:
    """The province (as `parse.parse_province` reads the answers `bodies`: each
    endpoint's pages in order), or None when a record needs the checks that name a
    problem. Raises `ParseError` as `parse_province` would where every record passes
    and the units do not agree across the datasets."""
    province = Node(province_id, "")
    seen: dict[str, dict[str, Node]] = {}
    for endpoint in PROVINCE_ENDPOINTS:
        pages = bodies.get(endpoint)
        if not pages:
            return None
        try:
            decoded = [_DECODERS[endpoint].decode(page).data for page in pages]
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return None  # RecursionError: nested deeper than msgspec reads, not orjson
        list_key, root_key = api.ENDPOINTS[endpoint].list_key, api.ENDPOINTS[endpoint].root_key
        units = [unit for page in decoded for unit in getattr(page, list_key)]
        nodes = _nodes(endpoint, units) if _texts_pass(units) else None
        if nodes is None or not _read_root(endpoint, getattr(decoded[0], root_key), province):
            return None
        seen[endpoint] = nodes
    return assemble(province, seen, [])


def _texts_pass(units: list[Any]) -> bool:
    """Whether every text of `units` passes `RecordReader`'s checks of its kind (their
    lengths were checked as they were decoded): each code `checks.is_code`, each name
    and status one line and not blank, each note without a control character but line
    breaks. Each check runs once over all the texts of its kind, joined."""
    metrics = [metric for unit in units for metric in getattr(unit, "metrics", ())]
    codes = [unit.departmentId for unit in units]
    codes += [unit.departmentCode for unit in units if unit.departmentCode is not None]
    codes += [metric.code for metric in metrics]
    texts = [unit.departmentName for unit in units]
    texts += [m.dataQualityStatus for m in metrics if m.dataQualityStatus is not None]
    notes = "".join(m.dataQualityMessage for m in metrics if m.dataQualityMessage is not None)
    return (
        not NOT_IN_A_CODE.search("".join(codes))
        and all(map(str.strip, codes, repeat(".")))  # not "" nor only dots
        and not CONTROL.search("".join(texts))
        and all(map(str.strip, texts))  # not blank
        and not CONTROL_BUT_LINES.search(notes)
    )


def _read_root(endpoint: str, root: Any, province: Node) -> bool:
    """Fold the province's own record into `province` as `parse` reads it; False if
    that names a problem."""
    if not isinstance(root, dict) or root.get("departmentId") != province.department_id:
        return True  # not the province's: `parse` leaves it too
    reader = RecordReader(endpoint)
    node = read_node(reader, root, is_root=True)
    if reader.problems:
        return False
    province.merge(node)
    return True


def _nodes(endpoint: str, units: list[Any]) -> dict[str, Node] | None:
    """Each unit's node by its departmentId, in order; None if a unit appears twice or
    its figures need the checks."""
    figures_of = _FIGURES[endpoint]
    nodes: dict[str, Node] = {}
    for unit in units:
        figures = figures_of(unit)
        if figures is None or unit.departmentId in nodes:
            return None
        group = group_of(unit.childGroup, unit.level or unit.departmentLevel)
        nodes[unit.departmentId] = Node(
            unit.departmentId, unit.departmentName, unit.departmentCode, group, figures
        )
    return nodes


def _axis(endpoint: api.Endpoint) -> Callable[[Any], FigureValue]:
    """`parse._axis_score` of a unit's record of `endpoint`."""
    axis = api.AXIS_OF[endpoint.name]
    score, maximum = endpoint.unit_scores.score, endpoint.unit_scores.maximum

    def figure(unit: Any) -> FigureValue:
        return FigureValue(
            axis,
            FigureKind.AXIS,
            getattr(unit, score),
            getattr(unit, maximum),
            axis,
            ratio=unit.ratio,
        )

    return figure


def _total(unit: Any) -> tuple[FigureValue, ...]:
    """`parse._read_total` of a unit's record."""
    total = getattr(unit, api.SERVICE_RESULTS.unit_scores.score)
    return (FigureValue("TOTAL", FigureKind.TOTAL, total, max_value=100.0),)


def _metrics(endpoint: api.Endpoint) -> Callable[[Any], tuple[FigureValue, ...] | None]:
    """`parse._read_metrics` of a unit's record of `endpoint`."""
    axis_of, axis = _axis(endpoint), api.AXIS_OF[endpoint.name]

    def figures(unit: Any) -> tuple[FigureValue, ...] | None:
        made = [axis_of(unit)]
        codes: set[str] = set()
        for metric in unit.metrics:
            code, numerator, denominator = metric.code, metric.numerator, metric.denominator
            if code in codes:
                return None
            codes.add(code)
            made.append(
                _new_figure(
                    FigureValue,
                    (
                        code,
                        FigureKind.METRIC,
                        metric.score,
                        metric.maxScore,
                        axis,
                        numerator,
                        denominator,
                        metric.ratio,
                        None,
                        metric.dataQualityStatus,
                        metric.dataQualityMessage or None,
                    ),
                )
            )
            if code in SHORTFALL_COUNTS:
                shortfall = _shortfall(denominator, numerator)
                if shortfall is False:
                    return None
                made.append(FigureValue(SHORTFALL_COUNTS[code], FigureKind.COUNT, shortfall))
        return tuple(made)

    return figures


def _shortfall(whole: float | None, part: float | None) -> float | None | bool:
    """`RecordReader.difference`, or False where it names a problem."""
    if whole is None or part is None:
        return None
    return False if part > whole else whole - part


def _progress(unit: Any) -> tuple[FigureValue, ...]:
    """`parse._read_progress` of a unit's record."""
    received = getattr(unit, indicators.RECEIVED.portal[0])
    on_time = getattr(unit, indicators.ON_TIME.portal[0])
    overdue = getattr(unit, indicators.OVERDUE.portal[0])
    return (
        _PROGRESS_AXIS(unit),
        FigureValue(
            "PROCESSED_ON_TIME",
            FigureKind.METRIC,
            None,
            axis=indicators.TDGQ.code,
            numerator=on_time,
            denominator=received,
            ratio=unit.ratio,
        ),
        FigureValue(indicators.RECEIVED.code, FigureKind.COUNT, received),
        FigureValue(indicators.ON_TIME.code, FigureKind.COUNT, on_time),
        FigureValue(indicators.OVERDUE.code, FigureKind.COUNT, overdue),
    )


def _payment(unit: Any) -> tuple[FigureValue, ...] | None:
    """`parse._read_payment` of a unit's record."""
    made = [_PAYMENT_AXIS(unit)]
    for code, (part_key, whole_key, shortfall_code) in PAYMENT_METRICS.items():
        part, whole = getattr(unit, part_key), getattr(unit, whole_key)
        made.append(
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
            shortfall = _shortfall(whole, part)
            if shortfall is False:
                return None
            made.append(FigureValue(shortfall_code, FigureKind.COUNT, shortfall))
    return tuple(made)


def _online(unit: Any) -> tuple[FigureValue, ...]:
    return (_ONLINE_AXIS(unit),)


#: `_new_figure(FigureValue, fields)`: a figure of all eleven fields, made without the
#: keyword handling of `FigureValue(...)` (a national sync makes 65,000 metrics).
_new_figure: Callable[[type[FigureValue], tuple[Any, ...]], FigureValue] = tuple.__new__
_PROGRESS_AXIS = _axis(api.DVC_PROGRESS_TREE)
_PAYMENT_AXIS = _axis(api.FORMALITY_ONLINE_PAYMENT_TREE)
_ONLINE_AXIS = _axis(api.PROVIDE_ONLINE_TREE)
#: Each endpoint's figures of a unit's record, by the endpoint's name (None: a problem).
_FIGURES: dict[str, Callable[[Any], tuple[FigureValue, ...] | None]] = {
    api.SERVICE_RESULTS.name: _total,
    api.TRANSPARENCY.name: _metrics(api.TRANSPARENCY),
    api.DVC_PROGRESS_TREE.name: _progress,
    api.PROVIDE_ONLINE_TREE.name: _online,
    api.FORMALITY_ONLINE_PAYMENT_TREE.name: _payment,
    api.HANDLING_SATISFACTION.name: _metrics(api.HANDLING_SATISFACTION),
    api.DOSSIER_DIGITIZED.name: _metrics(api.DOSSIER_DIGITIZED),
}
