"""Telegram delivery through python-telegram-bot: HTML messages, inline buttons, files,
edits, Telegram's limits, and its errors classified into the channel interface's.

What an error proves. Only an answer from the Bot API itself (its JSON error body: 400,
403, 429 with retry_after, 5xx with `ok: false`), or a failure before the request left
(connection refused, no connection from the pool, a connect timeout), proves nothing was
delivered; those are transient or permanent. A timeout after the request left, a
connection reset, an answer that is not the Bot API's (a proxy's HTML 502) or that
cannot be read: the message may have been delivered, so the error is uncertain.

The bot token is a secret, and it is part of every Bot API URL. The channel keeps it out
of its repr, scrubs it from every error text it raises, and, when built, registers it
with `redact_token_in_logs` so httpx's request lines ("HTTP Request: POST …/bot<token>/
sendMessage") and python-telegram-bot's debug lines never show it.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram import error as tg_error
from telegram.constants import ParseMode
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from service.channels.base import (
    ChannelLimits,
    ChannelUnauthorized,
    ChatMigrated,
    DeliveryError,
    Document,
    Message,
    PermanentDeliveryError,
    PermanentReason,
    Receipt,
    Recipient,
    TransientDeliveryError,
    UncertainDeliveryError,
    target_message_id,
)
from service.channels.messages import TELEGRAM_MESSAGE_LIMIT, split_message, utf16_length
from service.channels.pacing import BotChannel, RateLimiter
from service.channels.registry import TELEGRAM_LIMITS
from service.channels.tokens import scrub
from service.clock import utcnow
from service.urls import shown

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_TIMEOUT_SECONDS = 30.0  # a slow but successful answer must not read as a failure
DEFAULT_TOKEN_ENV = "DVCWATCH_TELEGRAM_TOKEN"

# Telegram's 403 descriptions, and what each says about the address.
_FORBIDDEN_REASONS = (
    ("blocked by the user", PermanentReason.BLOCKED),
    ("kicked", PermanentReason.KICKED),
    ("user is deactivated", PermanentReason.USER_DEACTIVATED),
)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # a portal link's preview card is noise
# PTB 22 warns from inside RetryAfter() that `retry_after` will become a timedelta; we read
# it either way (`_seconds`), so the warning says nothing to us and would fill the logs.
warnings.filterwarnings(
    "ignore", message=r".*`retry_after` will be of type", category=PTBDeprecationWarning
)
T = TypeVar("T")


class TelegramChannel(BotChannel):
    """Sends through the Bot API at `base_url` ("…/bot", the token is appended) with
    `timeout_seconds` for connecting, reading, writing and waiting for a pooled
    connection (uploads get three times that to write). Lengths follow `limits`;
    pacing follows `limiter`, by default one honouring `limits` on the real clock
    (inject one with a fake clock in tests). `token_env` names where the token comes
    from, for the one line an operator reads when Telegram rejects it.

    Messages go in HTML mode without link previews; one longer than a message is split
    (see `split_message`) and its buttons go under the last part (the outbox composes
    parts that fit, so it never relies on this). The first call checks the token
    (getMe). Failures raise the `DeliveryError`s of `service.channels.base`.
    """

    name = "telegram"
    title = "Telegram"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        base_file_url: str = DEFAULT_BASE_FILE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        token_env: str = DEFAULT_TOKEN_ENV,
        limits: ChannelLimits = TELEGRAM_LIMITS,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(token, token_env, base_url, timeout_seconds, limits, limiter, now)
        self._bot = Bot(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=_http(timeout_seconds, pool_size=64),
            get_updates_request=_http(timeout_seconds, pool_size=1),
        )

    async def send(self, recipient: Recipient, message: Message) -> Receipt:
        parts = split_message(message.text_html, self._max_chars())
        ids: list[str] = []
        with _noting_delivered(ids):
            for index, part in enumerate(parts):
                markup = _keyboard(message) if index == len(parts) - 1 else None
                request = partial(
                    self._bot.send_message,
                    _chat_id(recipient),
                    part,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=_NO_PREVIEW,
                )
                ids.append(str((await self._call(recipient, request)).message_id))
        return Receipt(self.name, tuple(ids), self._now())

    async def send_document(self, recipient: Recipient, document: Document) -> Receipt:
        """Sends the file with its caption; a caption too long for one is sent first as
        a message of its own and the file follows without one."""
        self._check_size(recipient, document)
        ids: list[str] = []
        caption, most = document.caption_html, self.limits.max_caption_chars
        if caption and most is not None and utf16_length(caption) > most:
            ids.extend((await self.send(recipient, Message(caption))).message_ids)
            caption = ""
        with _noting_delivered(ids):
            request = partial(
                self._bot.send_document,
                _chat_id(recipient),
                document.content,
                filename=document.filename,
                caption=caption or None,
                parse_mode=ParseMode.HTML,
            )
            ids.append(str((await self._call(recipient, request)).message_id))
        return Receipt(self.name, tuple(ids), self._now())

    async def edit(self, recipient: Recipient, target: Receipt | str, message: Message) -> Receipt:
        """Edits text and buttons (no buttons: the keyboard is removed). Editing to the
        very same content succeeds, so a repeated acknowledgement is harmless."""
        message_id = target_message_id(target, self.name)
        if len(split_message(message.text_html, self._max_chars())) > 1:
            detail = f"an edited message must fit in {self._max_chars()} characters"
            raise PermanentDeliveryError(
                PermanentReason.BAD_REQUEST, detail, address=recipient.address
            )
        try:
            request = partial(
                self._bot.edit_message_text,
                message.text_html,
                chat_id=_chat_id(recipient),
                message_id=int(message_id),
                parse_mode=ParseMode.HTML,
                reply_markup=_keyboard(message),
                link_preview_options=_NO_PREVIEW,
            )
            await self._call(recipient, request)
        except PermanentDeliveryError as error:
            if "message is not modified" not in error.detail.lower():
                raise
        return Receipt(self.name, (message_id,), self._now())

    async def close(self) -> None:
        await self._bot.shutdown()
        self._ready = False

    def _group(self, recipient: Recipient) -> bool:
        return _is_group(recipient)

    async def _call(self, recipient: Recipient, request: Callable[[], Awaitable[T]]) -> T:
        """Runs one Bot API request in its turn, the errors classified and scrubbed."""
        return await self._in_turn(recipient, partial(self._classified, recipient, request))

    async def _classified(self, recipient: Recipient, request: Callable[[], Awaitable[T]]) -> T:
        try:
            return await request()
        except tg_error.TelegramError as error:
            # `from None`: the original's text and chained causes may hold the token.
            raise classify(error, recipient.address, self._token, self._token_env) from None

    async def _check(self, recipient: Recipient) -> None:
        """The token, by getMe (an answer it cannot read is a channel not ready:
        `PacedChannel._ready_to_send`)."""
        try:
            await self._bot.initialize()
        except tg_error.TelegramError as error:
            failure = classify(error, recipient.address, self._token, self._token_env)
            if isinstance(failure, ChannelUnauthorized) and self._base_url != DEFAULT_BASE_URL:
                # the Bot API answers a wrong token with 404: so does any other web server
                failure = ChannelUnauthorized(
                    f"{failure} (or {shown(self._base_url)}, channels.telegram.base_url, "
                    "is not a Bot API server)"
                )
            raise failure from None

    def _max_chars(self) -> int:
        return self.limits.max_message_chars or TELEGRAM_MESSAGE_LIMIT

    def _check_size(self, recipient: Recipient, document: Document) -> None:
        most = self.limits.max_document_bytes
        if most is not None and len(document.content) > most:
            detail = f"{document.filename} has {len(document.content)} bytes, over {most}"
            raise PermanentDeliveryError(
                PermanentReason.BAD_REQUEST, detail, address=recipient.address
            )


def classify(
    error: tg_error.TelegramError, address: str, token: str, token_env: str = DEFAULT_TOKEN_ENV
) -> DeliveryError:
    """The channel error for python-telegram-bot's `error`, its text free of `token`
    (see the module doc for what each proves)."""
    detail = scrub(error.message, token)
    if isinstance(error, tg_error.ChatMigrated):
        return ChatMigrated(str(error.new_chat_id), address=address)
    if isinstance(error, tg_error.RetryAfter):
        return TransientDeliveryError(detail, retry_after=_seconds(error), address=address)
    if isinstance(error, tg_error.InvalidToken):
        return ChannelUnauthorized(f"Telegram rejected the bot token: set a new one in {token_env}")
    if isinstance(error, tg_error.Forbidden):
        return PermanentDeliveryError(_forbidden_reason(detail), detail, address=address)
    if isinstance(error, tg_error.BadRequest):  # before NetworkError, its base class
        reason = (
            PermanentReason.CHAT_NOT_FOUND
            if "chat not found" in detail.lower()
            else PermanentReason.BAD_REQUEST
        )
        return PermanentDeliveryError(reason, detail, address=address)
    if _never_left(error) or _refused_by_the_api(error):
        return TransientDeliveryError(detail, address=address)
    return UncertainDeliveryError(f"{detail}: maybe delivered", address=address)


# httpx failures that happen before a request's first byte is written.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _never_left(error: tg_error.TelegramError) -> bool:
    """True when the request failed before it was sent: refused, or no connection.
    PTB chains the httpx error it wraps (`raise TimedOut from err`)."""
    return isinstance(error.__cause__, _BEFORE_SENDING)


def _refused_by_the_api(error: tg_error.TelegramError) -> bool:
    """True for an error answer that is the Bot API's own JSON (`ok: false`), such as
    a 500 or 502 with its description: the API says it did not do it. PTB raises those
    as a plain NetworkError with no cause; transport failures and unreadable bodies
    (a proxy's HTML page) carry their cause, and timeouts are TimedOut."""
    return (
        type(error) is tg_error.NetworkError
        and error.__cause__ is None
        and not error.message.startswith("Unknown error in HTTP implementation")
    )


def _http(timeout_seconds: float, pool_size: int) -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=pool_size,
        connect_timeout=timeout_seconds,
        read_timeout=timeout_seconds,
        write_timeout=timeout_seconds,
        pool_timeout=timeout_seconds,  # waiting for a connection: nothing has left yet
        media_write_timeout=3 * timeout_seconds,
    )


def _keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """One button per row: Vietnamese labels are long and a row would cut them."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.callback_data)] for b in message.buttons]
    )


def _chat_id(recipient: Recipient) -> int | str:
    """Numeric chat ids go as numbers, "@channel" names as they are."""
    address = recipient.address.strip()
    return int(address) if address.lstrip("-").isdigit() else address


def _is_group(recipient: Recipient) -> bool:
    """Groups, supergroups and channels have negative ids (or an "@name")."""
    return recipient.address.strip().startswith(("-", "@"))


def _forbidden_reason(detail: str) -> PermanentReason:
    lowered = detail.lower()
    for phrase, reason in _FORBIDDEN_REASONS:
        if phrase in lowered:
            return reason
    return PermanentReason.BLOCKED  # any other 403: the bot may not write there


def _seconds(error: tg_error.RetryAfter) -> float:
    """RetryAfter's delay in seconds, whether PTB gives an int or (with PTB_TIMEDELTA
    set) a timedelta."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@contextmanager
def _noting_delivered(ids: list[str]) -> Iterator[None]:
    """Attaches the ids sent so far to a DeliveryError raised in the block."""
    try:
        yield
    except DeliveryError as error:
        error.delivered_ids = tuple(ids)
        raise
