"""`dvcwatch bot`: chat commands and the "Đã tiếp nhận" (acknowledge) button.

- `/start` answers anyone with their chat id: that is how staff register.
- `/status [unit]` and `/help` answer only chats in the staff directory.
- A press of "Đã tiếp nhận" is accepted only from a chat the alert was sent to;
  the acknowledgement is recorded and the message edited to say who and when.

The decisions are plain functions over the database (`acknowledge`,
`status_text`); `build_application` wires them into python-telegram-bot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Message as TelegramMessage
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from service.alerts.compose import ACK_PREFIX
from service.alerts.directory import Directory, Person, find_by_address
from service.alerts.models import Alert, AlertEvent, AlertState, Delivery, DeliveryStatus
from service.channels.messages import escape_html
from service.clock import to_local, utcnow
from service.notices.vnformat import number, period_short
from service.periods import Period
from service.scoring.book import SchemeBook
from service.scoring.report import score_rows

HELP = (
    "dvcwatch theo dõi Bộ chỉ số phục vụ người dân, doanh nghiệp.\n"
    "/status [mã đơn vị]: điểm, thay đổi và cảnh báo đang mở của đơn vị\n"
    "/start: cho biết mã chat (chat id) để đăng ký nhận cảnh báo\n"
    "Nhấn «Đã tiếp nhận» dưới một cảnh báo để báo đã nhận việc."
)
NOT_REGISTERED = "Chat này chưa có trong danh bạ dvcwatch. Gửi /start để lấy mã chat đăng ký."


@dataclass(frozen=True)
class Acknowledgement:
    accepted: bool
    answer: str
    note_html: str = ""  # appended to the message when accepted


def acknowledge(
    session: Session, alert_id: int, address: str, who: str, now: dt.datetime
) -> Acknowledgement:
    """Record that `who` (in chat `address`) took alert `alert_id`, if the alert was sent
    to that chat; the first acknowledgement stands."""
    alert = session.get(Alert, alert_id)
    sent_here = session.scalar(
        select(Delivery.id)
        .where(
            Delivery.alert_id == alert_id,
            Delivery.address == address,
            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN]),
        )
        .limit(1)
    )
    if alert is None or sent_here is None:
        return Acknowledgement(False, "Bạn không nhận cảnh báo này nên không thể xác nhận.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, who
    when = to_local(alert.acknowledged_at).strftime("%H:%M %d/%m/%Y")
    by = escape_html(alert.acknowledged_by or who)
    return Acknowledgement(True, "Đã ghi nhận.", f"\n\n✅ Đã tiếp nhận bởi {by} lúc {when}")


def status_text(
    session: Session, book: SchemeBook, unit_codes: list[str], period: Period | None
) -> str:
    """The units' latest national scores, changes, ranks and open alerts, in Vietnamese."""
    if period is None:
        return "Chưa có số liệu nào được đồng bộ."
    rows = {row["unit_code"]: row for row in score_rows(session, book, "766", period)}
    parts = []
    for code in unit_codes:
        row = rows.get(code)
        if row is None:
            parts.append(f"{escape_html(code)}: không có số liệu {period_short(period)}.")
            continue
        parts.append(_unit_status(row, _open_alerts(session, code)))
    return "\n\n".join(parts) or "Không có đơn vị nào để báo cáo."


def _unit_status(row: dict[str, Any], alert_lines: list[str]) -> str:
    delta = row.get("total_delta")
    change = "" if delta is None else f" ({'+' if delta >= 0 else ''}{number(delta)} điểm)"
    rank = f", xếp hạng {row['rank']:02d}/{row['rank_of']}" if row.get("rank") else ""
    lines = [
        f"<b>{escape_html(str(row['unit_name']))}</b> ({escape_html(str(row['unit_code']))})",
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


def units_of(person: Person, requested: str | None) -> list[str]:
    if requested:
        return [requested.strip()]
    return sorted(code for code in person.units if code != "*")


class Bot:
    """The handlers, bound to the database, the directory and the schemes."""

    def __init__(
        self, sessions: sessionmaker[Session], directory: Directory, book: SchemeBook
    ) -> None:
        self.sessions, self.directory, self.book = sessions, directory, book

    def person(self, update: Update) -> Person | None:
        chat = update.effective_chat
        return find_by_address(self.directory, "telegram", str(chat.id)) if chat else None

    async def start(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message and update.effective_chat:
            await update.effective_message.reply_text(
                f"Mã chat của bạn: {update.effective_chat.id}. Gửi mã này cho Văn phòng để "
                "được thêm vào danh bạ nhận cảnh báo."
            )

    async def help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message:
            await update.effective_message.reply_text(
                HELP if self.person(update) else NOT_REGISTERED
            )

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person = update.effective_message, self.person(update)
        if message is None:
            return
        if person is None:
            await message.reply_text(NOT_REGISTERED)
            return
        from service.alerts.engine import latest_period

        with self.sessions() as session:
            codes = units_of(person, context.args[0] if context.args else None)
            text = status_text(session, self.book, codes, latest_period(session))
        await message.reply_html(text)

    async def acknowledge(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None or update.effective_chat is None:
            return
        person = self.person(update)
        who = person.name if person else (query.from_user.full_name if query.from_user else "?")
        alert_id = int(query.data.removeprefix(ACK_PREFIX))
        with self.sessions.begin() as session:
            result = acknowledge(session, alert_id, str(update.effective_chat.id), who, utcnow())
        await query.answer(result.answer, show_alert=not result.accepted)
        message = query.message
        if result.accepted and isinstance(message, TelegramMessage) and message.text:
            await query.edit_message_text(message.text_html + result.note_html, parse_mode="HTML")


def build_application(
    token: str,
    base_url: str,
    sessions: sessionmaker[Session],
    directory: Directory,
    book: SchemeBook,
) -> Application:  # type: ignore[type-arg]
    """A python-telegram-bot Application with dvcwatch's handlers (not yet started)."""
    bot = Bot(sessions, directory, book)
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(CommandHandler("start", bot.start))
    application.add_handler(CommandHandler("help", bot.help))
    application.add_handler(CommandHandler("status", bot.status))
    application.add_handler(CallbackQueryHandler(bot.acknowledge, pattern=f"^{ACK_PREFIX}\\d+$"))
    return application
