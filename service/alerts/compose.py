"""What a person reads: one message for a group of deliveries, with its buttons.

A digest groups a person's alerts by unit under one header; each alert that
still awaits acknowledgement gets a "Đã tiếp nhận" button whose callback
data (`ack:<alert id>`) the bot answers. Unit names are escaped here; the
alert lines were escaped when they were rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.alerts.models import Delivery, EventKind
from service.channels.base import Button, Message
from service.channels.messages import escape_html

ACK_PREFIX = "ack:"
ACK_TEXT = "Đã tiếp nhận"
BUTTON_TEXT_MAX = 60
#: The short names of the topics, for the buttons of a digest ("H44.116 quá hạn").
TOPIC_NAMES = {
    "overdue": "quá hạn",
    "not_digitised": "chưa số hóa",
    "not_paid_online": "chưa thanh toán trực tuyến",
    "unsynced": "chưa đồng bộ",
    "falling": "điểm giảm",
    "rank": "thứ hạng",
    "band": "dưới ngưỡng",
    "operator": "dữ liệu",
}
ACKNOWLEDGEABLE = (EventKind.FIRED, EventKind.CHANGED, EventKind.REPEATED, EventKind.ESCALATED)


def compose(group: Sequence[Delivery], acknowledgeable: Mapping[int, str]) -> Message:
    """One message for a group: alerts grouped by unit, an acknowledge button per alert."""
    by_unit: dict[str, list[str]] = {}
    for delivery in group:
        by_unit.setdefault(delivery.unit_label, []).append(delivery.text_html)
    parts = [f"<b>dvcwatch: {len(group)} cảnh báo</b>"] if len(group) > 1 else []
    for label, lines in by_unit.items():
        parts.append("\n".join([f"<b>{escape_html(label)}</b>", *lines]))
    alert_ids = list(dict.fromkeys(d.alert_id for d in group if d.alert_id in acknowledgeable))
    single = len(alert_ids) == 1
    buttons = tuple(
        Button(
            ACK_TEXT if single else f"{ACK_TEXT}: {acknowledgeable[alert_id]}"[:BUTTON_TEXT_MAX],
            f"{ACK_PREFIX}{alert_id}",
        )
        for alert_id in alert_ids
        if alert_id is not None
    )
    return Message("\n\n".join(parts), buttons)
