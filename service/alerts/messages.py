"""Alert messages in Vietnamese, rendered from `templates/telegram/*.html.j2`.

Jinja2 with autoescape: whatever comes from data (unit names, error texts)
is escaped for Telegram's HTML mode. A message says the unit, what is
wrong, how many, the change since last time, the period, and what it takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from service import indicators
from service.alerts.rules import Rule
from service.periods import Period
from service.vnformat import compact_date, number, period_short

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
    "stale_sync": "đã đồng bộ lại được số liệu {scope}",
    "run_blocked": "Cổng DVCQG không còn chặn việc đồng bộ số liệu {scope}",
    "parse_error": "số liệu {scope} đã đồng bộ lại bình thường",
    "delivery_failed": "địa chỉ của «{person}» đã nhận tin trở lại",
}
#: Why a chat address was given up (`channels.base.PermanentReason`), as an operator reads it.
DELIVERY_REASONS = {
    "blocked": "người nhận đã chặn bot",
    "chat_not_found": "không tìm thấy cuộc trò chuyện (mã chat sai, hoặc người nhận chưa nhắn "
    "cho bot)",
    "kicked": "bot đã bị mời ra khỏi nhóm",
    "user_deactivated": "tài khoản của người nhận đã bị xóa",
}
#: How much of a sync's technical error an operator's message quotes (the rest: `status`).
DETAIL_LINES, DETAIL_CHARS = 3, 300
MORE_DETAIL = " … (đầy đủ: lệnh dvcwatch status và nhật ký)"


def _resolved_text(
    _rule_id: str,
    rule: Rule,
    counts: Mapping[str, str],
    fields: Mapping[str, str],
    context: Mapping[str, Any],
) -> str:
    if rule.kind not in RESOLVED:
        return "sự cố đã hết"
    return RESOLVED[rule.kind].format(
        noun=counts.get(rule.count or "", ""),
        metric=METRIC_NAMES.get(rule.metric or "", rule.metric or ""),
        field=fields.get(rule.field, rule.field).lower(),
        scope=context.get("scope_name") or context.get("scope") or "",
        person=context.get("person") or "",
    )


def period_words(period: str, context: Mapping[str, Any]) -> str:
    """The period an alert's figures are of: "tháng 8/2026", or, when they are a running
    month's (`context["completeness"]`), "tháng 8/2026, tạm tính đến ngày 20/8/2026" (the
    day they were read, `context["as_of"]`, at most the period's last day)."""
    words = period_short(period)
    as_of = context.get("as_of")
    if context.get("completeness") != "running" or not as_of:
        return words
    day = min(dt.date.fromisoformat(str(as_of)[:10]), Period.parse(period).last_day)
    return f"{words}, tạm tính đến ngày {compact_date(day)}"


def _detail(error: object) -> str:
    """The start of a technical error text: its first lines, at most `DETAIL_CHARS`."""
    text = str(error).strip()
    lines = text.splitlines()
    short = " ".join(line.strip() for line in lines[:DETAIL_LINES])
    if len(short) > DETAIL_CHARS:
        short = short[:DETAIL_CHARS].rsplit(" ", 1)[0]
    return short + (MORE_DETAIL if short != " ".join(x.strip() for x in lines) else "")


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
        period_words=period_words,
        detail=_detail,
        delivery_reason=lambda reason: DELIVERY_REASONS.get(str(reason), str(reason) or "lỗi"),
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
