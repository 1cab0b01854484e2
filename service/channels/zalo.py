"""Zalo delivery through the Zalo Bot Platform API: plain-text messages, replies
instead of buttons, Zalo's limits, and its errors classified into the channel
interface's.

The API. `POST https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>` with a JSON body
(`getMe`, `getUpdates`, `sendMessage {chat_id, text}`, `sendPhoto`, `setWebhook`), each
answered `{ok, result}` or `{ok: false, error_code, description}`. A small client on
httpx, not the `python-zalo-bot` package: that package is python-telegram-bot renamed
(its metadata still names "yourusername" and an example e-mail, it carries Telegram's
passport, stickers and migrated chats, its default address is the older
bot-api.zapps.me), and it turns every failure into one of a few exceptions without
saying whether the request left, which is what the outbox must know.

What an error proves, as for Telegram: an answer in the API's own JSON (`ok: false`),
or a failure before the request left (refused, a connect or pool timeout), proves
nothing was delivered. A timeout after the request left, a reset, an answer that is not
the API's JSON: maybe delivered, so `UncertainDeliveryError`. The codes (assumed, see
`ERRORS`): 401 a rejected token; 403 the person blocked the bot or may not be written
to; 404, or a 400 saying the chat or user is not found, an address that is gone; 429
too many requests (`retry_after` when the answer names one); other 4xx a message
refused; 5xx and anything else the API's own refusal, so retried.

Zalo has no HTML and no buttons. Messages are composed as Telegram HTML; this channel
sends their plain text (tags removed, entities decoded, a link's address after its
words). Where a message carries acknowledge buttons the core has already written a
reply prompt ("Trả lời «OK 123» để xác nhận đã tiếp nhận", `reply_prompt`) into the text
(the registry declares no buttons for Zalo, so the core never attaches a keyboard); a
message given with buttons anyway gets the prompts under it. People acknowledge by
replying "OK 123"; `updates()` long-polls getUpdates for those replies. A file cannot
be sent (sendPhoto takes only an image address): a document goes as its caption, the
summary the outbox composed, with a line naming the file.

The token is part of every URL: it is kept out of repr, scrubbed from every error text
and registered with `redact_token_in_logs`, as for Telegram.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from service.channels.base import (
    BotSettings,
    Button,
    ChannelLimits,
    ChannelUnauthorized,
    DeliveryError,
    Document,
    Incoming,
    Message,
    PermanentDeliveryError,
    PermanentReason,
    Receipt,
    Recipient,
    TransientDeliveryError,
    UncertainDeliveryError,
    target_message_id,
)
from service.channels.messages import plain_text, split_message
from service.channels.pacing import BotChannel, RateLimiter
from service.channels.tokens import scrub
from service.clock import utcnow

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
DEFAULT_TOKEN_ENV = "DVCWATCH_ZALO_TOKEN"
ZALO_TEXT_LIMIT = 2000  # characters; what the platform's adapters split at (assumed)
ZALO_LIMITS = ChannelLimits(
    max_message_chars=ZALO_TEXT_LIMIT,
    max_caption_chars=ZALO_TEXT_LIMIT - 200,  # room for the line naming the file
    max_buttons=0,  # no buttons: acknowledgement is a reply ("OK 123")
    messages_per_second=5,  # none published: a conservative guess
    per_chat_per_second=1,
)
REPLY_PROMPT = "Trả lời «OK {id}» để xác nhận đã tiếp nhận"
FILE_NOTE = (
    "(Tệp «{filename}» không gửi được qua Zalo; văn bản đầy đủ được lưu trên máy chủ dvcwatch.)"
)
POLL_SECONDS = 30  # how long one getUpdates waits for a reply
# The error codes assumed (the platform publishes none): code -> what it says.
ERRORS = {
    400: "a bad request; 'chat not found' or 'user not found' in its description: the address",
    401: "the bot token is rejected",
    403: "the person blocked the bot, or it may not write there",
    404: "no such chat or user",
    408: "getUpdates: no update within its timeout (not an error)",
    429: "too many requests (parameters.retry_after when given)",
    500: "the platform failed (any 5xx): nothing sent, retried",
}
_ADDRESS = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_GONE = re.compile(r"(chat|user|recipient)[^.]*not (found|exist)", re.IGNORECASE)
_REPLY = re.compile(r"\s*OK\s+(\d{1,19})\s*[.!]?\s*", re.IGNORECASE)
_NO_UPDATE = 408


class ZaloSettings(BotSettings):
    """`[channels.zalo]`: the bot's token variable, the API's address and patience."""

    token_env: str = DEFAULT_TOKEN_ENV
    base_url: str = DEFAULT_BASE_URL


def check_address(address: str) -> str:
    """A Zalo chat id as the bot sees it (letters, digits, "_", ".", "-"), else ValueError."""
    if not _ADDRESS.fullmatch(address):
        raise ValueError(
            f"address: {address!r} is not a Zalo chat id (the id the bot's /start reply gives)"
        )
    return address


def reply_prompt(button: Button) -> str:
    """The line that replaces an acknowledge button (data "ack:123"): what to reply."""
    _, _, alert_id = button.callback_data.rpartition(":")
    return REPLY_PROMPT.format(id=alert_id)


def acknowledged_id(text: str) -> str | None:
    """The id a reply "OK 123" acknowledges ("123": its button's data after the
    prefix), or None for any other text."""
    found = _REPLY.fullmatch(text)
    return found.group(1) if found else None


class ZaloChannel(BotChannel):
    """Sends through the Zalo Bot API at `base_url` ("…/bot", the token is appended)
    with `timeout_seconds` for connecting, reading, writing and waiting for a pooled
    connection. Lengths follow `limits`; pacing follows `limiter` (inject one on a fake
    clock in tests). `token_env` names where the token comes from, for the one line an
    operator reads when Zalo rejects it. The first call checks the token (getMe).
    """

    name = "zalo"
    title = "Zalo"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_seconds: float = 30.0,
        token_env: str = DEFAULT_TOKEN_ENV,
        limits: ChannelLimits = ZALO_LIMITS,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        import httpx

        super().__init__(token, token_env, base_url, timeout_seconds, limits, limiter, now)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=64),
        )

    async def send(self, recipient: Recipient, message: Message) -> Receipt:
        """Sends the plain text, split where longer than a message (cut as HTML, so a
        cut never falls in an entity), and the reply prompts under the last part."""
        prompts = "".join(f"\n{reply_prompt(button)}" for button in message.buttons)
        parts = [
            plain_text(part)
            for part in split_message(message.text_html, self._max_chars() - len(prompts))
        ]
        parts[-1] += prompts
        ids: list[str] = []
        try:
            for part in parts:
                ids.append(await self._send_text(recipient, part))
        except DeliveryError as error:
            error.delivered_ids = tuple(ids)
            raise
        return Receipt(self.name, tuple(ids), self._now())

    async def send_document(self, recipient: Recipient, document: Document) -> Receipt:
        """Zalo's bots cannot send a file: the caption goes as text, naming the file."""
        note = FILE_NOTE.format(filename=document.filename[:100])
        caption = plain_text(document.caption_html).strip()
        text = f"{caption}\n\n{note}" if caption else note
        return await self.send(recipient, Message(html.escape(text, quote=False)))

    async def edit(self, recipient: Recipient, target: Receipt | str, message: Message) -> Receipt:
        """Zalo's bots cannot edit a message: the new text is sent as a message of its own."""
        target_message_id(target, self.name)  # a receipt of another channel is a bug
        return await self.send(recipient, message)

    async def close(self) -> None:
        await self._http.aclose()
        self._ready = False

    async def updates(self, timeout: float = POLL_SECONDS) -> list[Incoming]:
        """The text messages people sent the bot: one long poll of getUpdates (empty
        when none came within `timeout` seconds). Raises the `DeliveryError`s."""
        result = await self._call("getUpdates", {"timeout": str(int(timeout))}, timeout + 10)
        found = result if isinstance(result, list) else [result] if result else []
        return [incoming for update in found if (incoming := _incoming(update))]

    async def reply(self, chat_id: str, text_html: str) -> None:
        """Answer a person in their chat (paced like any message)."""
        await self.send(Recipient(chat_id, chat_id), Message(text_html))

    async def _send_text(self, recipient: Recipient, text: str) -> str:
        body = {"chat_id": recipient.address, "text": text}
        result = await self._in_turn(
            recipient, partial(self._request, recipient, "sendMessage", body)
        )
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""

    async def _request(self, recipient: Recipient, method: str, body: dict[str, Any]) -> Any:
        import httpx

        try:
            return await self._call(method, body, None)
        except DeliveryError as error:
            error.address = recipient.address
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            detail = scrub(self._said(error), self._token)
            raise TransientDeliveryError(detail, address=recipient.address) from None
        except httpx.HTTPError as error:
            detail = scrub(self._said(error), self._token)
            raise UncertainDeliveryError(
                f"{detail}: maybe delivered", address=recipient.address
            ) from None

    def _said(self, error: Exception) -> str:
        """ "ReadTimeout: no answer within 30 s": httpx's timeouts have no words of their own."""
        import httpx

        words = str(error).strip()
        if not words and isinstance(error, httpx.TimeoutException):
            words = f"no answer within {self.timeout_seconds:g} s"
        return f"{type(error).__name__}: {words}" if words else type(error).__name__

    async def _call(self, method: str, body: dict[str, Any], read_timeout: float | None) -> Any:
        """One API call; the answer's `result`, or the classified error of the API's JSON.
        Transport errors are left to the caller (they mean different things per call)."""
        import httpx

        read = self.timeout_seconds if read_timeout is None else read_timeout
        timeout = httpx.Timeout(self.timeout_seconds, read=read)
        url = f"{self._base_url}{self._token}/{method}"
        response = await self._http.post(url, json=body, timeout=timeout)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "ok" not in answer:
            raise UncertainDeliveryError(
                f"HTTP {response.status_code} with an answer that is not the Zalo API's: "
                "maybe delivered"
            )
        if answer["ok"]:
            return answer.get("result")
        if method == "getUpdates" and answer.get("error_code") == _NO_UPDATE:
            return None  # the long poll ended with nothing new
        raise classify(answer, response.status_code, self._token, self._token_env)

    async def _check(self, recipient: Recipient) -> None:
        """The token, by getMe."""
        await self._request(recipient, "getMe", {})

    def _max_chars(self) -> int:
        return self.limits.max_message_chars or ZALO_TEXT_LIMIT


def classify(answer: dict[str, Any], status: int, token: str, token_env: str) -> DeliveryError:
    """The channel error for an answer `{ok: false, error_code, description}` (see the
    module doc and `ERRORS`), its text free of `token`."""
    code = answer.get("error_code")
    code = code if isinstance(code, int) else status
    detail = scrub(f"{code} {answer.get('description') or ''}".strip(), token)
    if code == 401:
        return ChannelUnauthorized(f"Zalo rejected the bot token: set a new one in {token_env}")
    if code == 403:
        return PermanentDeliveryError(PermanentReason.BLOCKED, detail)
    if code == 404 or (code == 400 and _GONE.search(detail)):
        return PermanentDeliveryError(PermanentReason.CHAT_NOT_FOUND, detail)
    if code == 429:
        parameters = answer.get("parameters")
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        retry_after = float(wait) if isinstance(wait, int | float) else None
        return TransientDeliveryError(detail, retry_after=retry_after)
    if 400 <= code < 500 and code != _NO_UPDATE:
        return PermanentDeliveryError(PermanentReason.BAD_REQUEST, detail)
    return TransientDeliveryError(detail)


def _incoming(update: Any) -> Incoming | None:
    """A text message of an update, or None for anything else (stickers, images)."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return None
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    chat_id = str(chat.get("id", ""))
    # In a private chat the chat is the person; in a group the sender is named (and a
    # group message naming nobody is nobody's: it must not pass for the chat's own).
    group = str(chat.get("chat_type", "PRIVATE")).upper() == "GROUP"
    user_id = str(sender.get("id") or "?") if group else chat_id
    name = str(sender.get("display_name") or sender.get("name") or user_id)
    text = message["text"]
    return Incoming(chat_id, user_id, name, text, acknowledged_id(text)) if chat_id else None
