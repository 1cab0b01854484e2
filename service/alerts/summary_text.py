"""A summary's words: its label, the worst units ranked per level, the rest counted.

Pure rendering for `summaries`: the firing alerts of a topic that reached a person, worst
first (by magnitude, then by the lowest score), at most `SHOWN_PER_LEVEL` of each level
(agencies, communes) named, each as its unit's official name, code and first line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service import indicators
from service.alerts.messages import TOPIC_NAMES, alert_line, period_words
from service.alerts.models import Alert, EventKind
from service.alerts.rules import Rule
from service.channels.messages import escape_html
from service.notices.names import official_name
from service.notices.texts import default_texts
from service.vnformat import capitalised, number

#: How many units of each level a summary names (alerts.summary_shown_agencies / _communes).
SHOWN_PER_LEVEL = {"AGENCY": 3, "COMMUNE": 10}
SHOWN_OTHERWISE = 10
TITLES = {
    **indicators.count_nouns(),
    "falling": "điểm giảm",
    "rank": "thứ hạng giảm",
    "band": "điểm dưới ngưỡng",
}
#: Only what the person can do from the chat: no spreadsheet reaches them through it.
SEE_MORE = "Xem từng đơn vị: gửi /status kèm mã, ví dụ /status {code}."
_MARKER = re.compile(r"^[^\wÀ-ỹ]+")  # the line's emoji and spaces


@dataclass(frozen=True)
class Ranked:
    alert: Alert
    group: str
    total: float | None
    text: str  # escaped HTML: "<b>UBND xã Bình Phú</b> (H44.116): 95 hồ sơ quá hạn"


def summary_label(
    topic: str, units: int, period: str | None, figures: Mapping[str, Any] | None = None
) -> str:
    """ "Tóm tắt: 161 đơn vị có hồ sơ quá hạn (tháng 8/2026)"; `figures` (`figures_of`)
    says whether they are a running month's, as of which day."""
    title = TITLES.get(topic, TOPIC_NAMES.get(topic, topic))
    when = f" ({period_words(period, figures or {})})" if period else ""
    return f"Tóm tắt: {units} đơn vị có {title}{when}" if units else f"Tóm tắt: {title}"


def figures_of(ranked: Sequence[Ranked]) -> dict[str, Any]:
    """Whether the ranked alerts' figures are a running month's, and the newest day they
    were read: what `summary_label` says of its period."""
    running = [
        str(context["as_of"])
        for context in (json.loads(r.alert.context_json) for r in ranked)
        if context.get("completeness") == "running" and context.get("as_of")
    ]
    return {"completeness": "running", "as_of": max(running)} if running else {}


def rank(alerts: Sequence[Alert], rules: Mapping[str, Rule]) -> list[Ranked]:
    """`alerts` as a summary lists them, worst first."""
    found = []
    for alert in alerts:
        context = json.loads(alert.context_json)
        total = context.get("total")
        found.append(
            Ranked(
                alert,
                str(context.get("group") or ""),
                float(total) if isinstance(total, int | float) else None,
                _unit_line(alert, rules.get(alert.rule_id), context, total),
            )
        )
    return sorted(
        found,
        key=lambda r: (
            -(r.alert.magnitude or 0.0),
            r.total if r.total is not None else math.inf,
            r.alert.unit_code or "",
        ),
    )


def _unit_line(alert: Alert, rule: Rule | None, context: Mapping[str, Any], total: object) -> str:
    name = official_name(str(context.get("unit_name") or alert.unit_code))
    what = ""
    if rule is not None:
        line = alert_line(EventKind.FIRED, rule, alert.magnitude, None, alert.period, context)
        what = _MARKER.sub("", line.splitlines()[0])
        if alert.period:
            what = what.replace(f" ({period_words(alert.period, context)})", "")
        what = what.rstrip(".")
    if isinstance(total, int | float) and "điểm" not in what.lower():
        what += f"; {number(total, keep_zeros=True)} điểm"
    code = escape_html(str(alert.unit_code))
    return f"<b>{escape_html(name)}</b> ({code}): {what}" if what else f"<b>{escape_html(name)}</b>"


def summary_text(topic: str, ranked: Sequence[Ranked]) -> str:
    """A summary's text (Telegram HTML), under its label: per level, how many units
    and the worst of them; the rest counted, and how to see them."""
    if not ranked:
        return f"Không còn đơn vị nào có {TITLES.get(topic, topic)}."
    lines = []
    levels = default_texts().set_names
    shown = 0
    for group in sorted({r.group for r in ranked}, key=lambda g: (g != "AGENCY", g)):
        members = [r for r in ranked if r.group == group]
        most = SHOWN_PER_LEVEL.get(group, SHOWN_OTHERWISE)
        heading = levels.get(group, "đơn vị khác")
        worst = ", nặng nhất" if len(members) > most else ""
        heading = f"{capitalised(heading)}: {len(members)} đơn vị{worst}"
        lines.append(f"<i>{escape_html(heading)}</i>")
        lines += [f"{n}. {r.text}" for n, r in enumerate(members[:most], 1)]
        shown += min(most, len(members))
    if len(ranked) > shown:
        lines.append(f"và {len(ranked) - shown} đơn vị khác.")
    lines.append(escape_html(SEE_MORE.format(code=ranked[0].alert.unit_code)))
    return "\n".join(lines)
