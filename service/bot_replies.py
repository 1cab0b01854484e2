"""What the bot answers, decided over the database: who may see a unit's figures
(`status_reply`) and who may acknowledge an alert (`acknowledge`), and the
button's data read strictly (`alert_id_of`). Texts are Vietnamese; the
wiring into python-telegram-bot is `service/bot.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import signal
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.alerts.messages import TOPIC_NAMES, period_words
from service.alerts.models import Alert, AlertEvent, AlertState
from service.alerts.summary_text import TITLES
from service.channels.base import ChannelUnauthorized, DeliveryError, Incoming
from service.channels.messages import escape_html
from service.clock import to_local, utcnow
from service.delivery.compose import ACK_PREFIX
from service.delivery.directory import Coverage, Directory, coverage, find_by_address
from service.delivery.fanout import province_of
from service.delivery.models import Delivery, DeliveryStatus
from service.indicators import NATIONAL
from service.models import Unit
from service.notices.names import official_name
from service.periods import Period
from service.scoring.book import SchemeBook
from service.scoring.report import score_rows
from service.vnformat import capitalised, compact_date, number, period_short
from service.vnformat import rank as rank_text

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
EVERY_UNIT = (
    "Bạn theo dõi tất cả các đơn vị. Hãy gửi /status kèm mã đơn vị hoặc mã tỉnh, "
    "ví dụ /status H44.116."
)
NOT_RECIPIENT = "Bạn không nhận cảnh báo này nên không thể xác nhận."
NOT_ASSIGNED = "Xin lỗi, chỉ người được phân công theo dõi đơn vị này mới xác nhận được cảnh báo."
MALFORMED_PRESS = "Xin lỗi, nút này không hợp lệ. Hãy nhấn «Đã tiếp nhận» dưới tin cảnh báo."
FAILED_PRESS = "Xin lỗi, dvcwatch chưa xử lý được yêu cầu này. Xin thử lại sau ít phút."
ACCEPTED = "Đã ghi nhận."
REPLY_HELP = (
    "dvcwatch theo dõi Bộ chỉ số phục vụ người dân, doanh nghiệp.\n"
    "/status [mã đơn vị]: điểm, thay đổi và cảnh báo đang mở của đơn vị bạn phụ trách\n"
    "/start: cho biết mã chat để đăng ký nhận cảnh báo\n"
    "Trả lời «OK <số>» theo hướng dẫn dưới một cảnh báo để báo đã nhận việc."
)
YOUR_CHAT = (
    "Mã chat của bạn: {chat_id}. Gửi mã này cho Văn phòng để được thêm vào danh bạ nhận cảnh báo."
)
_LARGEST_ID = 2**63 - 1
log = logging.getLogger("dvcwatch.bot")  # the widest integer key the databases hold


@dataclass(frozen=True)
class Press:
    """A press of the acknowledge button (or a reply "OK <id>" where a channel has no
    buttons): which alert, in which chat, by which user, through which channel."""

    alert_id: int
    chat_id: str
    user_id: str
    user_name: str
    channel: str = "telegram"  # the kind of the chat, as the directory names it


@dataclass(frozen=True)
class Acknowledgement:
    accepted: bool
    answer: str
    note_html: str = ""  # appended to the message when accepted
    subject: str = ""  # which alert: "UBND xã Bình Phú (H44.116), quá hạn"


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
    presser = find_by_address(directory, press.channel, press.user_id)
    if press.user_id != press.chat_id:  # a group chat: anyone may be in it
        view = coverage(directory, presser, provinces) if presser else Coverage()
        if not view.includes(alert.unit_code, alert.province_code):
            return Acknowledgement(False, NOT_ASSIGNED)
    who = presser or directory.person(delivery.person_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = who.name if who else press.user_name
    moment = to_local(alert.acknowledged_at)
    when = f"{moment:%H:%M} ngày {compact_date(moment.date())}"
    by = escape_html(alert.acknowledged_by or press.user_name)
    subject = f"{alert.label}, {TOPIC_NAMES.get(alert.topic, alert.topic)}"
    return Acknowledgement(True, ACCEPTED, f"\n\n✅ Đã tiếp nhận bởi {by} lúc {when}", subject)


def status_reply(
    session: Session, book: SchemeBook, view: Coverage, requested: str | None, period: Period | None
) -> str:
    """The national scores, changes, ranks and open alerts of the units asked for (or,
    with none asked, of the person's own units and provinces), in Vietnamese HTML; a
    polite refusal for a unit outside `view`."""
    codes = own_units(view) if requested is None else [requested]
    if not codes:
        return EVERY_UNIT if "*" in view.units else NO_UNITS
    if period is None:
        return "Chưa có số liệu nào được đồng bộ."
    rows = _rows_of_sets(session, book, codes, period)
    if requested is not None:
        row = rows.get(requested)
        if not view.includes(requested, row["parent_code"] if row else None):
            return NOT_COVERED.format(code=escape_html(requested))
    parts = []
    for code in codes:
        row = rows.get(code)
        members = [r for r in rows.values() if r.get("parent_code") == code]
        if row is None and members:
            parts.append(_set_status(session, code, members))
        elif row is None:
            parts.append(f"{escape_html(code)}: không có số liệu {period_short(period)}.")
        else:
            parts.append(_unit_status(row, _open_alerts(session, code)))
    return "\n\n".join(parts)


def _rows_of_sets(
    session: Session, book: SchemeBook, codes: Sequence[str], period: Period
) -> dict[str, dict[str, Any]]:
    """The national score rows of the sets `codes` belong to, by unit code: each set is
    scored alone (a unit's rank and averages are its set's), not the whole country."""
    parents = sorted({p for p in (province_of(session, code) for code in codes) if p})
    return {
        row["unit_code"]: row
        for parent in parents
        for row in score_rows(session, book, NATIONAL, period, parent=parent)
    }


def own_units(view: Coverage) -> list[str]:
    """The units a bare `/status` reports: the person's own, then their provinces."""
    return sorted(view.units - {"*"}) + sorted(view.provinces - view.units)


def _figures_when(row: dict[str, Any]) -> str:
    """ "Tháng 8/2026", or "Tháng 8/2026, tạm tính đến ngày 20/8/2026" for a running month."""
    return capitalised(period_words(str(row["period"]), row))


def _unit_status(row: dict[str, Any], alert_lines: list[str]) -> str:
    delta = row.get("total_delta")
    change = "" if delta is None else f" ({'+' if delta >= 0 else ''}{number(delta)} điểm)"
    place = f", xếp hạng {rank_text(row['rank'], row['rank_of'])}" if row.get("rank") else ""
    lines = [
        f"<b>{escape_html(official_name(str(row['unit_name'])))}</b> "
        f"({escape_html(str(row['unit_code']))})",
        f"{_figures_when(row)}: {number(row['total'])}/100 điểm{change}{place}",
    ]
    lines += [f"• {line}" for line in alert_lines] or ["Không có cảnh báo đang mở."]
    return "\n".join(lines)


#: What an alert's stored line starts with that /status does not repeat: its sign, and
#: the words of a reminder ("⚠️ Nhắc lại: vẫn còn 7 hồ sơ quá hạn").
_LINE_START = re.compile(r"^[^\wÀ-ỹ]*(?:Nhắc lại: (?:vẫn còn )?)?")


def _open_alerts(session: Session, unit_code: str) -> list[str]:
    """What each open alert of the unit says, from its latest message's first line
    (escaped HTML), without its sign, a reminder's words or its period (the status's
    heading names the period)."""
    latest = (
        select(AlertEvent.text_html, Alert.period)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(Alert.unit_code == unit_code, Alert.state == AlertState.FIRING)
        .where(AlertEvent.sequence == Alert.sequence)
        .order_by(Alert.id)
    )
    lines = []
    for text, period in session.execute(latest):
        line = text.splitlines()[0] if text else ""
        if period:
            line = re.sub(rf" \({re.escape(period_short(period))}[^)]*\)", "", line)
        lines.append(capitalised(_LINE_START.sub("", line)))
    return lines


def _set_status(session: Session, code: str, rows: list[dict[str, Any]]) -> str:
    """A province (or any set's head) asked by its code: how many of its units were
    scored, and how many have each kind of open alert; /status of a unit for the rest."""
    name = session.scalar(
        select(Unit.name).where(Unit.code == code).order_by(Unit.last_seen.desc()).limit(1)
    )
    heading = f"<b>{escape_html(official_name(str(name)))}</b> ({escape_html(code)})"
    newest = max(rows, key=lambda r: str(r.get("as_of") or ""))
    lines = [heading, f"{_figures_when(newest)}: {len(rows)} đơn vị có số liệu."]
    open_units = session.execute(
        select(Alert.topic, func.count(func.distinct(Alert.unit_code)))
        .where(
            Alert.province_code == code,
            Alert.state == AlertState.FIRING,
            Alert.unit_code.is_not(None),
        )
        .group_by(Alert.topic)
        .order_by(Alert.topic)
    ).all()
    lines += [f"• {units} đơn vị có {TITLES.get(topic, topic)}" for topic, units in open_units]
    if not open_units:
        lines.append("Không có cảnh báo đang mở.")
    example = escape_html(str(min(rows, key=lambda r: str(r["unit_code"]))["unit_code"]))
    lines.append(f"Xem từng đơn vị: gửi /status kèm mã, ví dụ /status {example}.")
    return "\n".join(lines)


def province_codes(session: Session, watched: Sequence[str]) -> list[str]:
    """The watched provinces as codes: a portal departmentId becomes its unit's code."""
    codes = []
    for province in watched:
        code = session.scalar(select(Unit.code).where(Unit.department_id == province))
        codes.append(code or province)
    return codes


class BotUnavailable(Exception):
    """The bot cannot answer; the message is one line for the operator, free of the token."""


@runtime_checkable
class Replies(Protocol):
    """A channel without buttons that reads people's replies (Zalo)."""

    name: str

    async def updates(self, timeout: float = ...) -> list[Incoming]: ...

    async def reply(self, chat_id: str, text_html: str) -> None: ...

    async def close(self) -> None: ...


class ReplyBot:
    """The bot of a channel without buttons: `/start`, `/help`, `/status [unit]` as the
    Telegram bot answers them, and a reply "OK <id>" acknowledging an alert by the same
    rule as the button (the recipient, or in a group a person listed for the unit).
    Every message gets an answer."""

    def __init__(
        self,
        channel: Replies,
        sessions: sessionmaker[Session],
        directory: Directory,
        book: SchemeBook,
        provinces: Sequence[str] = (),
    ) -> None:
        self.channel, self.sessions, self.directory, self.book = channel, sessions, directory, book
        self.provinces = tuple(provinces)

    async def poll(self, timeout: float) -> int:
        """One long poll: answers what came; returns how many messages. Raises
        `BotUnavailable` when the channel rejects the token."""
        try:
            found = await self.channel.updates(timeout)
        except ChannelUnauthorized as exc:
            raise BotUnavailable(str(exc)) from None
        for incoming in found:
            try:
                answer = await asyncio.to_thread(self.answer, incoming)
            except Exception:  # noqa: BLE001 - a reply is still answered
                log.exception("the %s bot could not answer a message", self.channel.name)
                answer = escape_html(FAILED_PRESS)
            try:
                await self.channel.reply(incoming.chat_id, answer)
            except DeliveryError as exc:
                log.warning(
                    "could not answer %s on %s: %s", incoming.chat_id, self.channel.name, exc
                )
        return len(found)

    async def run(self, stopping: asyncio.Event, timeout: float = 30.0) -> None:
        """Poll until `stopping` is set; a failed poll waits a few seconds and goes on."""
        while not stopping.is_set():
            try:
                await self.poll(timeout)
            except BotUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - the network; try again shortly
                log.warning("%s bot: polling failed: %s", self.channel.name, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 5.0)

    def answer(self, incoming: Incoming) -> str:
        """What the bot answers `incoming`, as HTML (the channel sends its plain text)."""
        words = incoming.text.split()
        command = words[0].lower() if words else ""
        if command == "/start":
            return escape_html(YOUR_CHAT.format(chat_id=incoming.chat_id))
        if incoming.ack_id is not None:
            return self._acknowledge(incoming)
        person = find_by_address(self.directory, self.channel.name, incoming.chat_id)
        if person is None:
            return escape_html(NOT_REGISTERED)
        if command != "/status":
            return escape_html(REPLY_HELP)
        from service.alerts.engine import latest_period

        requested = words[1].strip() if len(words) > 1 else None
        with self.sessions() as session:
            view = coverage(self.directory, person, province_codes(session, self.provinces))
            return status_reply(session, self.book, view, requested, latest_period(session))

    def _acknowledge(self, incoming: Incoming) -> str:
        alert_id = alert_id_of(f"{ACK_PREFIX}{incoming.ack_id}")
        if alert_id is None:
            return escape_html(MALFORMED_PRESS)
        press = Press(
            alert_id, incoming.chat_id, incoming.user_id, incoming.user_name, self.channel.name
        )
        with self.sessions.begin() as session:
            provinces = province_codes(session, self.provinces)
            result = acknowledge(session, self.directory, provinces, press, utcnow())
        if not result.accepted:
            return escape_html(result.answer)
        # a reply of its own, away from the alert: it says which alert it took
        subject = escape_html(result.subject)
        return f"Đã ghi nhận cảnh báo số {alert_id}: {subject}.{result.note_html}"


async def answer_replies_until_stopped(
    bot: ReplyBot, stopping: asyncio.Event | None = None, timeout: float = 30.0
) -> None:
    """`dvcwatch bot` for a channel without buttons: answer until SIGINT or SIGTERM (or
    `stopping`), then close the channel; `BotUnavailable` when it rejects the token."""
    if stopping is None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop_signal, stopping.set)
    polling = asyncio.ensure_future(bot.run(stopping, timeout))
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if polling in done:
            polling.result()  # raises BotUnavailable
    finally:
        for task in (polling, stopped):
            task.cancel()  # a long poll in progress ends now
        await asyncio.gather(polling, stopped, return_exceptions=True)
        await bot.channel.close()
