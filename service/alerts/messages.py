"""Alert messages in Vietnamese, rendered from `templates/telegram/*.html.j2`.

Jinja2 with autoescape: whatever comes from data (unit names, error texts)
is escaped for Telegram's HTML mode. A message says the unit, what is
wrong, how many, the change since last time, the period, and what it takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from service import indicators
from service.alerts.rules import Rule
from service.vnformat import number, period_short

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "telegram"
METRIC_NAMES = {
    "ONLINE_PAYMENT": "hồ sơ thanh toán trực tuyến",
    "PROCESSED_ON_TIME": "hồ sơ giải quyết đúng hạn",
    "DOSSIER_SYNC": "hồ sơ đồng bộ lên Cổng DVCQG",
    "SO_HOA_GIAY_TO_GIAI_QUYET": "hồ sơ được số hóa",
    "ORIGINAL_RESULT_AVAILABLE": "hồ sơ có kết quả điện tử",
}
#: The short names of the topics, for the buttons of a digest ("H44.116 quá hạn").
TOPIC_NAMES = {
    **{key: count.topic_name for key, count in indicators.ALERTING.items()},
    "falling": "điểm giảm",
    "rank": "thứ hạng",
    "band": "dưới ngưỡng",
    "operator": "dữ liệu",
}
#: which what-it-takes estimates a count rule's message shows: the count's own indicator.
EFFORTS_BY_COUNT = {
    key: (count.effort,) for key, count in indicators.ALERTING.items() if count.effort
}
EFFORT_NOUNS = {
    indicators.TDGQ.code: "hồ sơ giải quyết đúng hạn",
    "ONLINE_PAYMENT": "hồ sơ thanh toán trực tuyến",
    "SO_HOA_GIAY_TO_GIAI_QUYET": "hồ sơ được số hóa",
    "DOSSIER_SYNC": "hồ sơ được đồng bộ",
}
RESOLVED = {
    "count_above": "không còn {noun}",
    "ratio_below": "tỷ lệ {metric} đã đạt ngưỡng",
    "fell_by": "{field} không còn giảm",
    "rank_fell": "thứ hạng không còn giảm",
    "total_below": "điểm tổng hợp đã vượt ngưỡng",
    "falling_for": "điểm tổng hợp đã ngừng giảm",
}


def _resolved_text(
    _rule_id: str, rule: Rule, counts: Mapping[str, str], fields: Mapping[str, str]
) -> str:
    if rule.kind not in RESOLVED:
        return f"sự cố dữ liệu ({rule.id})"
    return RESOLVED[rule.kind].format(
        noun=counts.get(rule.count or "", ""),
        metric=METRIC_NAMES.get(rule.metric or "", rule.metric or ""),
        field=fields.get(rule.field, rule.field).lower(),
    )


def _efforts_for(rule: Rule) -> Sequence[str]:
    if rule.kind == "count_above":
        return EFFORTS_BY_COUNT.get(rule.count or "", ())
    if rule.kind in ("fell_by", "rank_fell", "total_below", "falling_for"):
        return tuple(EFFORT_NOUNS)
    return ()


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["j2", "html"], default=True),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    environment.filters.update(
        vn_number=lambda value: number(value),
        vn_percent=lambda value: f"{number(value)}%",
        count_text=lambda value: number(value, 0),
        period_label=period_short,
        metric_name=lambda code: METRIC_NAMES.get(code, code),
        effort_for=_efforts_for,
        effort_noun=lambda code: EFFORT_NOUNS.get(code, code),
        resolved_text=_resolved_text,
    )
    return environment


_ENVIRONMENT = _environment()
_COUNT_NOUNS = indicators.count_nouns()
_FIELD_NAMES = {"TOTAL": "Điểm tổng hợp", **indicators.axis_names()}


def alert_line(
    event: str,
    rule: Rule,
    magnitude: float | None,
    previous: float | None,
    period: str | None,
    context: Mapping[str, Any],
) -> str:
    """One alert event as Telegram HTML, without the unit (the composer adds it)."""
    template = _ENVIRONMENT.get_template("alert.html.j2")
    return template.render(
        event=event,
        rule=rule,
        magnitude=magnitude,
        previous=previous,
        period=period,
        context=context,
        counts=_COUNT_NOUNS,
        fields=_FIELD_NAMES,
    ).strip()
