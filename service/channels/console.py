"""The console channel: messages printed as readable text, for the demo and for machines
that have no bot token. Same interface and receipts as Telegram, nothing to fail."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from service.channels.base import (
    Channel,
    Document,
    Message,
    Receipt,
    Recipient,
    target_message_id,
)
from service.channels.messages import plain_text
from service.channels.registry import CONSOLE_LIMITS
from service.clock import utcnow
from service.vnformat import number


class ConsoleChannel(Channel):
    """Writes each message to `stream` (standard output when None, looked up at each
    write so captured output works) under a header naming the recipient, as plain text:
    tags dropped, entities decoded, buttons shown as "[Đã tiếp nhận]". Receipts carry
    increasing synthetic ids "1", "2", … counted per channel."""

    name = "console"
    limits = CONSOLE_LIMITS

    def __init__(
        self, stream: TextIO | None = None, *, now: Callable[[], datetime] = utcnow
    ) -> None:
        self._stream = stream
        self._now = now
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"ConsoleChannel(stream={self._stream!r})"

    async def send(self, recipient: Recipient, message: Message) -> Receipt:
        message_id = str(next(self._ids))
        self._write([_header(message_id, recipient), *_body(message)])
        return self._receipt(message_id)

    async def send_document(self, recipient: Recipient, document: Document) -> Receipt:
        message_id = str(next(self._ids))
        size = number(len(document.content), decimals=0)
        attachment = f"[Tệp đính kèm: {document.filename}, {size} byte]"
        lines = [_header(message_id, recipient), attachment]
        if document.caption_html:
            lines.append(plain_text(document.caption_html))
        self._write(lines)
        return self._receipt(message_id)

    async def edit(self, recipient: Recipient, target: Receipt | str, message: Message) -> Receipt:
        message_id = target_message_id(target, self.name)
        self._write([_header(message_id, recipient, note="đã sửa"), *_body(message)])
        return self._receipt(message_id)

    def _write(self, lines: list[str]) -> None:
        """One block per message, blank line after; empty lines of `lines` left out."""
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write("".join(line.rstrip("\n") + "\n" for line in lines if line) + "\n")
        stream.flush()

    def _receipt(self, message_id: str) -> Receipt:
        return Receipt(self.name, (message_id,), self._now())


def _header(message_id: str, recipient: Recipient, note: str = "") -> str:
    suffix = f" · {note}" if note else ""
    return f"── #{message_id} → {recipient.name} ({recipient.address}){suffix} ──"


def _body(message: Message) -> list[str]:
    """The message as a reader sees it, then its buttons on one line (if any)."""
    buttons = " ".join(f"[{button.text}]" for button in message.buttons)
    return [plain_text(message.text_html), buttons]
