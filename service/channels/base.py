"""The channel interface: what a delivery channel takes, returns and raises, and its limits.

Every channel (Telegram, console, …) implements `Channel`. Callers (the outbox) see
plain values in, a `Receipt` out, and these failures, classified where the channel
meets the network so nothing upstream parses an error text:

- `PermanentDeliveryError`: never retry this delivery. Its `reason` says whether the
  address is gone (blocked, chat not found, kicked, user deactivated) or only this
  message can never be sent (bad request).
- `TransientDeliveryError`: nothing was delivered (the service said so, or the request
  never left); retry later, after `retry_after` seconds when the service named a delay.
- `UncertainDeliveryError`: the request may have reached the service (a timeout after
  it left, a connection reset, an answer that is not the service's own): maybe
  delivered. Never retried blindly: a message delivered twice is worse than one a
  person is told may be missing.
- `ChannelUnauthorized`: the service rejected our credentials (a wrong or revoked bot
  token). Nothing was delivered and no address is at fault; nothing more can go
  through this channel until an operator sets new credentials.
- `ChatMigrated`: the address moved (a Telegram group became a supergroup); update it
  and send again.
"""

from __future__ import annotations

import abc
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.urls import web_address

CALLBACK_DATA_MAX_BYTES = 64  # Telegram's limit for a button's callback data


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to. `address` is the channel's own (Telegram: the chat id, a
    negative number for groups); `name` is for people reading logs and the console."""

    address: str
    name: str


@dataclass(frozen=True)
class Button:
    """An inline button; pressing it sends `callback_data` (1 to 64 UTF-8 bytes) back."""

    text: str
    callback_data: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a button needs a text")
        size = len(self.callback_data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
            raise ValueError(
                f"callback_data must be 1 to {CALLBACK_DATA_MAX_BYTES} bytes of UTF-8, "
                f"not {size}: {self.callback_data!r}"
            )


@dataclass(frozen=True)
class Message:
    """A message in Telegram's HTML (user text escaped with `escape_html`), any length:
    a channel splits what is too long for it. Buttons go under the (last) message."""

    text_html: str
    buttons: tuple[Button, ...] = ()

    def __post_init__(self) -> None:
        if not self.text_html.strip():
            raise ValueError("a message needs a text")
        object.__setattr__(self, "buttons", tuple(self.buttons))


@dataclass(frozen=True)
class Document:
    """A file to send, with an HTML caption (possibly empty)."""

    filename: str
    content: bytes = field(repr=False)
    caption_html: str = ""

    def __post_init__(self) -> None:
        if not self.filename.strip() or "/" in self.filename or "\\" in self.filename:
            raise ValueError(f"a document needs a plain file name, not {self.filename!r}")
        if not self.content:
            raise ValueError(f"{self.filename} is empty")


@dataclass(frozen=True)
class Receipt:
    """Proof of delivery: the channel's ids of every message sent, in order, and when
    (naive UTC, as the database stores times). The last id carries the buttons."""

    channel: str
    message_ids: tuple[str, ...]
    sent_at: datetime

    @property
    def last_message_id(self) -> str:
        return self.message_ids[-1]


@dataclass(frozen=True)
class Incoming:
    """A person's text message to a bot: the chat, who wrote it (in a private chat, the
    chat itself), the text, and `ack_id`: where a channel without buttons takes a reply
    instead, the id the reply acknowledges (its button's data after the prefix: "123"
    for "ack:123")."""

    chat_id: str
    user_id: str
    user_name: str
    text: str
    ack_id: str | None = None


class PermanentReason(StrEnum):
    """Why a delivery can never succeed; stored as the plain string."""

    BLOCKED = "blocked"  # the person blocked the bot
    CHAT_NOT_FOUND = "chat_not_found"  # no such chat, or the bot was never started there
    KICKED = "kicked"  # the bot was removed from the group
    USER_DEACTIVATED = "user_deactivated"  # the account was deleted
    BAD_REQUEST = "bad_request"  # this message is refused; the address itself is fine

    @property
    def address_gone(self) -> bool:
        """True when the address should be deactivated, not just this delivery dropped."""
        return self is not PermanentReason.BAD_REQUEST


class DeliveryError(Exception):
    """A delivery failed. `address` is the recipient's; `delivered_ids` the ids of the
    parts of a split message that did go out before the failure (usually empty)."""

    def __init__(self, detail: str, *, address: str | None = None) -> None:
        super().__init__(f"{address}: {detail}" if address else detail)
        self.detail = detail
        self.address = address
        self.delivered_ids: tuple[str, ...] = ()


class PermanentDeliveryError(DeliveryError):
    """Never retry this delivery; see `reason.address_gone` for the address."""

    def __init__(self, reason: PermanentReason, detail: str, *, address: str | None = None):
        super().__init__(f"{detail} [{reason}]", address=address)
        self.detail = detail
        self.reason = reason


class TransientDeliveryError(DeliveryError):
    """Retry later: not before `retry_after` seconds when the service named a delay."""

    def __init__(
        self, detail: str, *, retry_after: float | None = None, address: str | None = None
    ) -> None:
        super().__init__(detail, address=address)
        self.retry_after = retry_after


class UncertainDeliveryError(DeliveryError):
    """The request may have reached the service and been acted on: maybe delivered."""

    def unsent(self) -> str:
        """What it says of a request known to have carried no message (a token's check):
        its detail without the closing "maybe delivered"."""
        return self.detail.removesuffix(": maybe delivered")


class ChannelUnauthorized(DeliveryError):
    """The service rejected our credentials. Its text says where to set new ones and
    never contains them; stop using the channel until an operator acts."""


class ChatMigrated(DeliveryError):
    """The chat moved to `new_address`: store it and send the same delivery there."""

    def __init__(self, new_address: str, *, address: str | None = None) -> None:
        super().__init__(f"the chat moved to {new_address}", address=address)
        self.new_address = new_address


@dataclass(frozen=True)
class ChannelLimits:
    """What a channel allows, as data; None means no limit. The outbox composes every
    message within them; the channel only speaks its protocol.

    Lengths are in the channel's own unit (Telegram: UTF-16 code units of the text).
    `max_markup_bytes` bounds the serialised keyboard (Telegram's reply_markup).
    """

    max_message_chars: int | None = None
    max_caption_chars: int | None = None
    max_buttons: int | None = None
    max_buttons_per_row: int | None = None
    max_markup_bytes: int | None = None
    max_document_bytes: int | None = None
    messages_per_second: float | None = None
    per_chat_per_second: float | None = None
    per_group_per_minute: float | None = None


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class BotSettings(BaseModel):
    """A bot channel's section of the settings (`[channels.<kind>]`). The token is never
    in the file: only the name of the environment variable holding it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    token_env: str
    base_url: str
    # How long to wait for the API's answer. A send that times out after the request
    # left is never retried blindly (it is `uncertain`), so keep it generous.
    timeout_seconds: Annotated[float, Field(ge=1)] = 30.0

    @field_validator("token_env")
    @classmethod
    def _is_a_variable_name(cls, value: str) -> str:
        if not _VARIABLE_NAME.fullmatch(value):  # a token pasted here must not be echoed
            raise ValueError(
                "not the name of an environment variable (letters, digits and _): put the "
                "token in the environment and the variable's name here"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _is_a_web_address(cls, value: str) -> str:
        return web_address(value)


class Channel(abc.ABC):
    """A way to reach people. Use it as an async context manager (or call `close`) in
    the event loop that sends: network channels hold connections bound to that loop.

    Every method either returns a `Receipt` or raises one of the `DeliveryError`s
    above; anything else is a bug in the caller or the channel.
    """

    name: str
    limits: ChannelLimits

    @abc.abstractmethod
    async def send(self, recipient: Recipient, message: Message) -> Receipt:
        """Deliver `message`, split into several if it is too long for the channel."""

    @abc.abstractmethod
    async def send_document(self, recipient: Recipient, document: Document) -> Receipt:
        """Deliver a file with its caption."""

    @abc.abstractmethod
    async def edit(self, recipient: Recipient, target: Receipt | str, message: Message) -> Receipt:
        """Replace the text and buttons of a message sent before: `target` is its id or
        the receipt of its sending (whose last message, the one with buttons, is
        edited). The new text must fit in one message."""

    @contextlib.asynccontextmanager
    async def turn(self, recipient: Recipient) -> AsyncIterator[None]:
        """Hold the channel's turn to `recipient`: entering waits until a request to it
        may leave (its rate limits), and the one request made inside goes at once. The
        outbox claims a row inside its turn, so a worker killed while waiting leaves
        nothing in doubt. Channels without rates enter at once."""
        yield

    async def close(self) -> None:  # noqa: B027 - optional: most channels hold nothing
        """Release what the channel holds open; it may not be used afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()


def target_message_id(target: Receipt | str, channel: str) -> str:
    """The message id an edit of `target` changes, checking a receipt is `channel`'s."""
    if isinstance(target, str):
        return target
    if target.channel != channel:
        raise ValueError(f"a {target.channel} receipt cannot be edited through {channel}")
    return target.last_message_id
