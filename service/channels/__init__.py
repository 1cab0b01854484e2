"""Delivery channels behind one interface: Telegram and the console.

`send(recipient, message) -> receipt`, `send_document`, `edit`; errors classified as
permanent, transient or a migrated chat (see `base`). Message text is Telegram HTML,
built with `escape_html` for anything user-supplied (see `messages`).
"""

from service.channels.base import (
    CALLBACK_DATA_MAX_BYTES,
    Button,
    Channel,
    ChannelLimits,
    ChannelUnauthorized,
    ChatMigrated,
    DeliveryError,
    Document,
    Message,
    PermanentDeliveryError,
    PermanentReason,
    RateLimiter,
    Receipt,
    Recipient,
    TransientDeliveryError,
)
from service.channels.console import CONSOLE_LIMITS, ConsoleChannel
from service.channels.messages import (
    TELEGRAM_MESSAGE_LIMIT,
    escape_html,
    plain_text,
    split_message,
    utf16_length,
)
from service.channels.telegram import TELEGRAM_LIMITS, TelegramChannel, redact_token_in_logs

__all__ = [
    "CALLBACK_DATA_MAX_BYTES",
    "CONSOLE_LIMITS",
    "TELEGRAM_LIMITS",
    "TELEGRAM_MESSAGE_LIMIT",
    "Button",
    "Channel",
    "ChannelLimits",
    "ChannelUnauthorized",
    "ChatMigrated",
    "ConsoleChannel",
    "DeliveryError",
    "Document",
    "Message",
    "PermanentDeliveryError",
    "PermanentReason",
    "RateLimiter",
    "Receipt",
    "Recipient",
    "TelegramChannel",
    "TransientDeliveryError",
    "escape_html",
    "plain_text",
    "redact_token_in_logs",
    "split_message",
    "utf16_length",
]
