"""`dvcwatch bot`: chat commands and the "Đã tiếp nhận" (acknowledge) button.

- `/start` answers anyone with their chat id: that is how staff register.
- `/status [unit]` and `/help` answer only chats in the staff directory, and
  `/status` only about the units that chat covers (`directory.coverage`); a long
  answer goes as several messages, each within Telegram's limit. Any other command,
  or a text in a private chat, is answered with the help; in a group, only a command
  addressed to this bot (`/lenh@ten_bot`) is: the others are meant for other bots or
  for the people in it.
- A press of "Đã tiếp nhận" is accepted only from the recipient's own Telegram
  user or, in a group chat, from a member listed in the directory for the
  alert's unit; the acknowledgement is recorded and the message edited to say
  who and when. Every press is answered, a malformed one with a refusal.

The decisions are plain functions over the database (`service/bot_replies.py`:
`acknowledge`, `status_reply`); `build_application` wires them into python-telegram-bot and
`start_polling` starts it, turning a rejected token into `BotUnavailable`.
The token is a secret: it never reaches a log line or an error text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker
from telegram import Message as TelegramMessage
from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from service.bot_replies import (
    FAILED_PRESS,
    HELP,
    MALFORMED_PRESS,
    NOT_REGISTERED,
    YOUR_CHAT,
    BotUnavailable,
    Press,
    acknowledge,
    alert_id_of,
    province_codes,
    status_reply,
)
from service.channels.messages import TELEGRAM_MESSAGE_LIMIT, split_blocks
from service.channels.tokens import redact_token_in_logs, scrub
from service.claims import FAILED, OK, JobClaim
from service.clock import utcnow
from service.delivery.directory import Directory, Person, coverage, find_by_address
from service.scoring.book import SchemeBook

log = logging.getLogger("dvcwatch.bot")


class Bot:
    """The handlers, bound to the database, the directory, the schemes and the provinces
    this dvcwatch watches (the operators' provinces)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        directory: Directory,
        book: SchemeBook,
        provinces: Sequence[str] = (),
    ) -> None:
        self.sessions, self.directory, self.book = sessions, directory, book
        self.provinces = tuple(provinces)

    def person(self, update: Update) -> Person | None:
        chat = update.effective_chat
        return find_by_address(self.directory, "telegram", str(chat.id)) if chat else None

    async def start(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message and update.effective_chat:
            await update.effective_message.reply_text(
                YOUR_CHAT.format(chat_id=update.effective_chat.id)
            )

    async def help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message:
            await update.effective_message.reply_text(
                HELP if self.person(update) else NOT_REGISTERED
            )

    async def other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the bot does not know, or a text: the help, unless it was said in a
        group and not addressed to this bot."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        if chat.type == ChatType.PRIVATE or addressed_to(message.text, context.bot.username):
            await self.help(update, context)

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person = update.effective_message, self.person(update)
        if message is None:
            return
        if person is None:
            await message.reply_text(NOT_REGISTERED)
            return
        from service.alerts.engine import latest_period

        requested = context.args[0].strip() if context.args else None
        with self.sessions() as session:
            view = coverage(self.directory, person, province_codes(session, self.provinces))
            text = status_reply(session, self.book, view, requested, latest_period(session))
        for part in split_blocks(text, TELEGRAM_MESSAGE_LIMIT):  # many units: several
            await message.reply_html(part)

    async def acknowledge(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        alert_id = alert_id_of(query.data)
        if alert_id is None or update.effective_chat is None:
            await query.answer(MALFORMED_PRESS, show_alert=True)
            return
        user = query.from_user
        press = Press(alert_id, str(update.effective_chat.id), str(user.id), user.full_name)
        with self.sessions.begin() as session:
            provinces = province_codes(session, self.provinces)
            result = acknowledge(session, self.directory, provinces, press, utcnow())
        await query.answer(result.answer, show_alert=not result.accepted)
        message = query.message
        if result.accepted and isinstance(message, TelegramMessage) and message.text:
            await query.edit_message_text(message.text_html + result.note_html, parse_mode="HTML")

    async def failed(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any handler's error: one log line, and a press still gets its answer."""
        log.error("the bot could not answer an update: %r", context.error)
        query = update.callback_query if isinstance(update, Update) else None
        if query is not None:
            try:
                await query.answer(FAILED_PRESS, show_alert=True)
            except TelegramError as exc:  # already answered, or Telegram unreachable
                log.warning("could not answer the button press either: %s", exc.message)


def addressed_to(text: str | None, username: str | None) -> bool:
    """Whether `text` is a command naming the bot `username` ("/lenh@ten_bot ...")."""
    words = (text or "").split(maxsplit=1)
    _, at, name = (words[0] if words else "").partition("@")
    return bool(at and username) and name.casefold() == str(username).casefold()


def build_application(
    token: str,
    base_url: str,
    sessions: sessionmaker[Session],
    directory: Directory,
    book: SchemeBook,
    provinces: Sequence[str] = (),
) -> Application:  # type: ignore[type-arg]
    """A python-telegram-bot Application with dvcwatch's handlers (not yet started);
    `provinces` are the watched ones (codes or departmentIds), the operators' view.
    From here on no log line of this process shows `token`."""
    redact_token_in_logs(token)
    bot = Bot(sessions, directory, book, provinces)
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(CommandHandler("start", bot.start))
    application.add_handler(CommandHandler("help", bot.help))
    application.add_handler(CommandHandler("status", bot.status))
    # any other command, or a text in a private chat, may be answered with the help
    others = filters.COMMAND | (filters.TEXT & filters.ChatType.PRIVATE)
    application.add_handler(MessageHandler(others, bot.other))
    application.add_handler(CallbackQueryHandler(bot.acknowledge))  # every press is answered
    application.add_error_handler(bot.failed)
    return application


async def start_polling(application: Application, token_env: str) -> None:  # type: ignore[type-arg]
    """Check the token (getMe), start the handlers and poll for updates.

    Raises `BotUnavailable` when Telegram rejects the token (naming `token_env`, the
    variable to set) or cannot be reached; the application is then left shut down and
    the message never holds the token.
    """
    try:
        await application.initialize()
    except TelegramError as exc:
        await application.bot.shutdown()
        raise _unavailable(exc, application, token_env) from None
    try:
        await application.start()
        assert application.updater is not None  # the builder always makes one
        await application.updater.start_polling()  # deleteWebhook first: it may refuse
    except TelegramError as exc:
        await stop_polling(application)
        raise _unavailable(exc, application, token_env) from None


def _unavailable(exc: TelegramError, application: Application, token_env: str) -> BotUnavailable:  # type: ignore[type-arg]
    """The one line saying why the bot cannot start, never holding the token."""
    if isinstance(exc, InvalidToken):
        return BotUnavailable(
            f"Telegram rejected the bot token: set a new one in {token_env} and restart dvcwatch"
        )
    detail = scrub(exc.message, application.bot.token)
    if isinstance(exc, BadRequest | Forbidden):  # it answered, and said no
        return BotUnavailable(f"the Telegram Bot API refused to start the bot: {detail}")
    return BotUnavailable(f"cannot reach the Telegram Bot API: {detail}")


async def stop_polling(application: Application) -> None:  # type: ignore[type-arg]
    """Stop polling and the handlers, and release the connections."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


async def answer_until_stopped(application: Application, token_env: str) -> None:  # type: ignore[type-arg]
    """`dvcwatch bot`: answer until SIGINT or SIGTERM; `BotUnavailable` as `start_polling`."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stopping.set)
    await start_polling(application, token_env)
    try:
        await stopping.wait()
    finally:
        await stop_polling(application)


def record_start(
    sessions: sessionmaker[Session],
    owner: str,
    now: dt.datetime,
    error: str | None,
    channel: str = "telegram",
) -> None:
    """Note a start of the bot (and why it failed) as a run of the job `bot`, so that
    `dvcwatch status` and `/metrics` show whether the bot is answering."""
    with sessions.begin() as session:
        session.add(
            JobClaim(
                job="bot",
                scope=channel,
                period=now.isoformat(),  # one row per start
                status=FAILED if error else OK,
                owner=owner,
                claimed_at=now,
                finished_at=now,
                error=error,
            )
        )
