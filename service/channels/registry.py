"""The channels dvcwatch can deliver through, one row each, by kind ("telegram", "zalo",
"console"): the row gives the kind's settings model (`[channels.<kind>]`), its factory
(settings and secret → `Channel`), its address validator (the staff directory uses it)
and its declared limits. The core composes and paces within the limits; a channel only
speaks its protocol. Where a kind has no buttons, its `reply_prompt` says, in the text,
how to acknowledge by a reply, and the core writes it in place of the button.

Nothing here imports a channel's client library: factories import it when called.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from pydantic import BaseModel

from service.channels import zalo
from service.channels.base import BotSettings, Button, Channel, ChannelLimits

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
_TELEGRAM_CHAT = re.compile(r"-?\d+|@[A-Za-z][A-Za-z0-9_]{4,}")


class TelegramSettings(BotSettings):
    """`[channels.telegram]`."""

    token_env: str = "DVCWATCH_TELEGRAM_TOKEN"
    base_url: str = "https://api.telegram.org/bot"


def _telegram_address(address: str) -> str:
    if not _TELEGRAM_CHAT.fullmatch(address):
        raise ValueError(
            f"address: {address!r} is not a Telegram chat id "
            "(a number such as 123456789 or -1001234567890, or @channelname)"
        )
    return address


def _bot(path: str) -> Callable[[BotSettings, str], Channel]:
    """The factory of the bot channel class at `path` ("module:Class"), which takes the
    token and the settings' base_url, timeout_seconds and token_env; the module is
    imported when a channel is first built (a client library is slow to import)."""

    def build(settings: BotSettings, token: str) -> Channel:
        module, _, name = path.partition(":")
        channel_class = getattr(importlib.import_module(module), name)
        channel: Channel = channel_class(
            token,
            base_url=settings.base_url,
            timeout_seconds=settings.timeout_seconds,
            token_env=settings.token_env,
        )
        return channel

    return build


def _console(stream: TextIO | None) -> Channel:
    from service.channels.console import ConsoleChannel

    return ConsoleChannel(stream or sys.stdout)


@dataclass(frozen=True)
class ChannelKind:
    """One way of reaching people. `settings` is the model of `[channels.<name>]` (a
    `BotSettings`: enabled, token_env, base_url, timeout_seconds), or None for a kind
    switched by a plain boolean (`console = true`) and built with `local`. `chats`: an
    address is a chat that leads back to one person (the console's is only a label)."""

    name: str
    title: str  # as a person reads it: "Telegram", "Zalo"
    limits: ChannelLimits
    check_address: Callable[[str], str]
    settings: type[BotSettings] | None = None
    build: Callable[[BotSettings, str], Channel] | None = None  # (settings, token) -> channel
    local: Callable[[TextIO | None], Channel] | None = None
    reply_prompt: Callable[[Button], str] | None = None  # for kinds without buttons
    chats: bool = True


KINDS: dict[str, ChannelKind] = {
    kind.name: kind
    for kind in (
        ChannelKind("console", "console", CONSOLE_LIMITS, str, local=_console, chats=False),
        ChannelKind(
            "telegram",
            "Telegram",
            TELEGRAM_LIMITS,
            _telegram_address,
            TelegramSettings,
            _bot("service.channels.telegram:TelegramChannel"),
        ),
        ChannelKind(
            "zalo",
            "Zalo",
            zalo.ZALO_LIMITS,
            zalo.check_address,
            zalo.ZaloSettings,
            _bot("service.channels.zalo:ZaloChannel"),
            reply_prompt=zalo.reply_prompt,
        ),
    )
}
LIMITS: dict[str, ChannelLimits] = {name: kind.limits for name, kind in KINDS.items()}


def kind(name: str) -> ChannelKind:
    """The row of `name`; ValueError naming the known kinds for anything else."""
    found = KINDS.get(name)
    if found is None:
        raise ValueError(f"{name!r} is not a channel; known: {', '.join(sorted(KINDS))}")
    return found


def bot_settings(channels: BaseModel) -> dict[str, BotSettings]:
    """The bot kinds' sections of `[channels]` (a model with a field per kind)."""
    found = {}
    for name, row in KINDS.items():
        section = getattr(channels, name, None)
        if row.settings is not None and isinstance(section, BotSettings):
            found[name] = section
    return found
