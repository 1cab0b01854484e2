"""Each channel's limits, as data, by the channel's name: what the outbox composes
messages within when they are queued, before (or without) a channel being built."""

from __future__ import annotations

from service.channels.base import ChannelLimits

TELEGRAM_LIMITS = ChannelLimits(
    max_message_chars=4096,
    max_caption_chars=1024,
    max_buttons=100,
    max_buttons_per_row=8,
    max_markup_bytes=10 * 1024,  # past this Telegram answers "reply markup is too long"
    max_document_bytes=50 * 1024 * 1024,  # what a bot may upload through the public API
    messages_per_second=30,
    per_chat_per_second=1,
    per_group_per_minute=20,
)
CONSOLE_LIMITS = ChannelLimits()  # a terminal takes any length at any pace

LIMITS: dict[str, ChannelLimits] = {"telegram": TELEGRAM_LIMITS, "console": CONSOLE_LIMITS}
