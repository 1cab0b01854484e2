"""What the bot answers, decided over the database: who may see a unit's figures
(`status_reply`) and who may acknowledge an alert (`acknowledge`), and the
button's data read strictly (`alert_id_of`). Texts are Vietnamese; the
wiring into python-telegram-bot is `service/bot.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.alerts.compose import ACK_PREFIX
from service.alerts.directory import Coverage, Directory, coverage, find_by_address
from service.alerts.models import Alert, AlertEvent, AlertState, Delivery, DeliveryStatus
from service.channels.messages import escape_html
from service.clock import to_local
from service.models import Unit
from service.notices.names import official_name
from service.notices.vnformat import number, period_short
from service.periods import Period
from service.scoring.book import SchemeBook
from service.scoring.report import score_rows

HELP = (
    "dvcwatch theo dõi Bộ chỉ số phục vụ người dân, doanh nghiệp.\n"
    "/status [mã đơn vị]: điểm, thay đổi và cảnh báo đang mở của đơn vị bạn phụ trách\n"
    "/start: cho biết mã chat (chat id) để đăng ký nhận cảnh báo\n"
    "Nhấn «Đã tiếp nhận» dưới một cảnh báo để báo đã nhận việc."
)
NOT_REGISTERED = "Chat này chưa có trong danh bạ dvcwatch. Gửi /start để lấy mã chat đăng ký."
NOT_COVERED = (
    "Xin lỗi, theo danh bạ dvcwatch bạn không phụ trách đơn vị {code} "
    "nên không xem được số liệu của đơn vị này."
)
NO_UNITS = (
    "Danh bạ chưa ghi đơn vị nào cho bạn. Hãy gửi /status kèm mã đơn vị, ví dụ /status H44.116."
)
NOT_RECIPIENT = "Bạn không nhận cảnh báo này nên không thể xác nhận."
NOT_ASSIGNED = "Xin lỗi, chỉ người được phân công theo dõi đơn vị này mới xác nhận được cảnh báo."
MALFORMED_PRESS = "Xin lỗi, nút này không hợp lệ. Hãy nhấn «Đã tiếp nhận» dưới tin cảnh báo."
FAILED_PRESS = "Xin lỗi, dvcwatch chưa xử lý được yêu cầu này. Xin thử lại sau ít phút."
ACCEPTED = "Đã ghi nhận."
_LARGEST_ID = 2**63 - 1  # the widest integer key the databases hold


@dataclass(frozen=True)
class Press:
    """A press of the acknowledge button: which alert, in which chat, by which user."""

    alert_id: int
    chat_id: str
    user_id: str
    user_name: str


@dataclass(frozen=True)
class Acknowledgement:
    accepted: bool
    answer: str
    note_html: str = ""  # appended to the message when accepted


def alert_id_of(data: str | None) -> int | None:
    """The alert id in the button's data `ack:<id>`, or None for anything else
    (another prefix, non-ASCII digits, zero, an id no table can hold)."""
    if data is None or not data.startswith(ACK_PREFIX):
        return None
    digits = data.removeprefix(ACK_PREFIX)
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(_LARGEST_ID)):
        return None
    alert_id = int(digits)
    return alert_id if 0 < alert_id <= _LARGEST_ID else None


def acknowledge(
    session: Session,
    directory: Directory,
    provinces: Collection[str],
    press: Press,
    now: dt.datetime,
) -> Acknowledgement:
    """Record that the presser took the alert; the first acknowledgement stands.

    Accepted when the alert was sent to the chat and the presser is its recipient
    (their own chat) or, in a group chat, a person of the directory whose coverage
    (with `provinces` as the operators' provinces) includes the alert's unit.
    """
    alert = session.get(Alert, press.alert_id)
    delivery = session.scalars(
        select(Delivery)
        .where(
            Delivery.alert_id == press.alert_id,
            Delivery.address == press.chat_id,
            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN]),
        )
        .limit(1)
    ).first()
    if alert is None or delivery is None:
        return Acknowledgement(False, NOT_RECIPIENT)
    presser = find_by_address(directory, "telegram", press.user_id)
    if press.user_id != press.chat_id:  # a group chat: anyone may be in it
        view = coverage(directory, presser, provinces) if presser else Coverage()
        if not view.includes(alert.unit_code, alert.province_code):
            return Acknowledgement(False, NOT_ASSIGNED)
    who = presser or directory.person(delivery.person_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = who.name if who else press.user_name
    when = to_local(alert.acknowledged_at).strftime("%H:%M %d/%m/%Y")
    by = escape_html(alert.acknowledged_by or press.user_name)
    return Acknowledgement(True, ACCEPTED, f"\n\n✅ Đã tiếp nhận bởi {by} lúc {when}")


def status_reply(
    session: Session, book: SchemeBook, view: Coverage, requested: str | None, period: Period | None
) -> str:
    """The national scores, changes, ranks and open alerts of the units asked for (or,
    with none asked, of the person's own units and provinces), in Vietnamese HTML; a
    polite refusal for a unit outside `view`."""
    codes = own_units(view) if requested is None else [requested]
    if not codes:
        return NO_UNITS
    if period is None:
        return "Chưa có số liệu nào được đồng bộ."
    rows = {row["unit_code"]: row for row in score_rows(session, book, "766", period)}
    if requested is not None:
        row = rows.get(requested)
        if not view.includes(requested, row["parent_code"] if row else None):
            return NOT_COVERED.format(code=escape_html(requested))
    parts = []
    for code in codes:
        row = rows.get(code)
        if row is None:
            parts.append(f"{escape_html(code)}: không có số liệu {period_short(period)}.")
            continue
        parts.append(_unit_status(row, _open_alerts(session, code)))
    return "\n\n".join(parts)


def own_units(view: Coverage) -> list[str]:
    """The units a bare `/status` reports: the person's own, then their provinces."""
    return sorted(view.units - {"*"}) + sorted(view.provinces - view.units)


def _unit_status(row: dict[str, Any], alert_lines: list[str]) -> str:
    delta = row.get("total_delta")
    change = "" if delta is None else f" ({'+' if delta >= 0 else ''}{number(delta)} điểm)"
    rank = f", xếp hạng {row['rank']:02d}/{row['rank_of']}" if row.get("rank") else ""
    lines = [
        f"<b>{escape_html(official_name(str(row['unit_name'])))}</b> "
        f"({escape_html(str(row['unit_code']))})",
        f"{period_short(row['period']).capitalize()}: {number(row['total'])}/100 điểm"
        f"{change}{rank}",
    ]
    lines += [f"• {line}" for line in alert_lines] or ["Không có cảnh báo đang mở."]
    return "\n".join(lines)


def _open_alerts(session: Session, unit_code: str) -> list[str]:
    """The first line of the latest message of each open alert of the unit (escaped HTML)."""
    latest = (
        select(AlertEvent.text_html)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(Alert.unit_code == unit_code, Alert.state == AlertState.FIRING)
        .where(AlertEvent.sequence == Alert.sequence)
        .order_by(Alert.id)
    )
    return [text.splitlines()[0] for text in session.scalars(latest)]


def province_codes(session: Session, watched: Sequence[str]) -> list[str]:
    """The watched provinces as codes: a portal departmentId becomes its unit's code."""
    codes = []
    for province in watched:
        code = session.scalar(select(Unit.code).where(Unit.department_id == province))
        codes.append(code or province)
    return codes
