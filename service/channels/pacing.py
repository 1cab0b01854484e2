"""Pacing by what was actually sent: a channel's rates kept from real departures.

Telegram answers 429 when a chat gets more than one message a second or the bot more
than thirty a second. Reserving slots ahead of time is not enough: a slot reserved for
12:00:01 whose request leaves at 12:00:01.3 (the database was slow) sits 0.7 s from the
next one. So the limiter counts from events, not plans:

- per chat, the gap runs from the moment the previous request to that chat was
  answered (or failed), and only one request to a chat is in flight at a time;
- overall, the gap runs from the moment the previous request left: a turn is given
  when the overall gap allows, and `depart()`, called right before the request is
  written, waits again if something (a slow database) let another request leave in
  between, so departures are never closer than the gap.

A turn is held with `async with limiter.turn(chat):` around exactly one request, and
`await limiter.depart()` is the last thing before that request.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from service.channels.base import (
    Channel,
    ChannelLimits,
    DeliveryError,
    Recipient,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from service.channels.tokens import redact_token_in_logs

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
FORGET_AFTER = 1024  # chats remembered before the ones that can no longer wait are dropped
T = TypeVar("T")


class RateLimiter:
    """Spaces requests so that no rate in `limits` is ever exceeded, counted from when
    requests really left and were answered (see the module doc).

    Spacing, not windows: at 30 messages a second overall two requests leave at least
    1/30 s apart; at 1 a second per chat a request to a chat leaves at least 1 s after
    the answer to the previous one; at 20 a minute per group, 3 s. A chat waiting for
    its gap does not hold up other chats. Coroutines of one event loop may share a
    limiter; it is not thread-safe. `clock` and `sleep` are injectable for tests.
    """

    def __init__(
        self, limits: ChannelLimits, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.limits = limits
        self._clock, self._sleep = clock, sleep
        self._global_gap = _gap(limits.messages_per_second, 1.0)
        self._chat_gap = _gap(limits.per_chat_per_second, 1.0)
        self._group_gap = max(self._chat_gap, _gap(limits.per_group_per_minute, 60.0))
        self._next_departure = float("-inf")  # earliest time the next turn may be given
        self._last_departure = float("-inf")  # when the last request really left
        self._chat_ready: dict[str, float] = {}  # chat -> earliest next request
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}  # chat -> turns waiting or held

    @contextlib.asynccontextmanager
    async def turn(self, chat: str, *, group: bool = False) -> AsyncIterator[float]:
        """Wait until a request to `chat` may leave, hold the chat while it is in flight,
        and count the chat's gap from the moment the block ends (the answer). Yields
        the seconds waited."""
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        self._users[chat] = self._users.get(chat, 0) + 1
        try:
            async with lock:  # one request in flight per chat, in arrival order
                waited = await self._wait_for(chat)
                try:
                    yield waited
                finally:
                    gap = self._group_gap if group else self._chat_gap
                    if gap:
                        self._chat_ready[chat] = self._clock() + gap
        finally:
            self._users[chat] -= 1
            self._forget()

    async def _wait_for(self, chat: str) -> float:
        """Sleep until both the chat's gap and the overall gap have passed, then take
        the departure; returns the seconds slept."""
        waited = 0.0
        while True:
            now = self._clock()
            ready = max(self._chat_ready.get(chat, now), self._next_departure)
            if ready <= now:
                self._next_departure = now + self._global_gap
                return waited
            await self._sleep(ready - now)  # another chat may take the slot meanwhile
            waited += ready - now

    async def depart(self) -> float:
        """Wait, if need be, until the overall gap since the last request that really
        left has passed, and record this departure; returns the seconds waited."""
        waited = 0.0
        while (delay := self._last_departure + self._global_gap - self._clock()) > 0:
            await self._sleep(delay)
            waited += delay
        self._last_departure = self._clock()
        return waited

    def _forget(self) -> None:
        """Drop the chats that can no longer hold anyone back, once many are known."""
        if len(self._chat_locks) <= FORGET_AFTER:
            return
        now = self._clock()
        for chat in list(self._chat_locks):
            if not self._users.get(chat) and self._chat_ready.get(chat, now) <= now:
                del self._chat_locks[chat]
                self._chat_ready.pop(chat, None)
                self._users.pop(chat, None)


def _gap(rate: float | None, per_seconds: float) -> float:
    return per_seconds / rate if rate else 0.0


class PacedChannel(Channel):
    """A network channel's turns: a request to an address waits for its turn under
    `limiter` (by default one honouring `limits` on the real clock), and the first one
    waits for `_check` (the credentials, checked once however many sends start at once).
    A channel makes each request through `_in_turn`."""

    def __init__(self, limits: ChannelLimits, limiter: RateLimiter | None) -> None:
        self.limits = limits
        self._limiter = limiter or RateLimiter(limits)
        self._holding: set[str] = set()  # addresses whose turn a caller holds
        self._checking = asyncio.Lock()
        self._ready = False
        self._failed_checks = 0  # how many checks failed, and the last one's error
        self._last_failure: DeliveryError | None = None

    @abc.abstractmethod
    async def _check(self, recipient: Recipient) -> None:
        """Check the credentials (getMe); raise the channel's `DeliveryError`s."""

    def _group(self, recipient: Recipient) -> bool:
        """True when `recipient` is a group chat, paced by `per_group_per_minute`."""
        return False

    @contextlib.asynccontextmanager
    async def turn(self, recipient: Recipient) -> AsyncIterator[None]:
        await self._ready_to_send(recipient)
        async with self._limiter.turn(recipient.address, group=self._group(recipient)):
            self._holding.add(recipient.address)
            try:
                yield
            finally:
                self._holding.discard(recipient.address)

    async def _in_turn(self, recipient: Recipient, request: Callable[[], Awaitable[T]]) -> T:
        """Runs `request` in the recipient's turn (the caller's, when it holds it), as
        the departure the limiter counts."""
        if recipient.address not in self._holding:
            async with self.turn(recipient):
                return await self._in_turn(recipient, request)
        await self._ready_to_send(recipient)
        await self._limiter.depart()
        return await request()

    async def _ready_to_send(self, recipient: Recipient) -> None:
        """Checks the credentials once. Nothing of a message has left yet, so any
        failure here proves it undelivered. Callers that waited while a check failed
        share its failure: one unreachable API costs one check, not one per address."""
        failed_before = self._failed_checks
        async with self._checking:
            if self._ready:
                return
            if self._failed_checks != failed_before and self._last_failure is not None:
                raise self._last_failure
            try:
                await self._check(recipient)
            except UncertainDeliveryError as error:  # the check carries no message
                failure: DeliveryError = TransientDeliveryError(
                    f"no answer it could read to the check of its token: {error.unsent()}",
                    address=recipient.address,
                )
            except DeliveryError as error:
                failure = error
            else:
                self._ready = True
                return
            self._failed_checks += 1
            self._last_failure = failure
            raise failure from None


class BotChannel(PacedChannel):
    """A bot API's channel: its token (refused if blank, kept out of every log line),
    the variable that holds it (named in errors), its address, timeout and clock."""

    title = "bot"  # "Telegram", "Zalo": as an operator reads it

    def __init__(
        self,
        token: str,
        token_env: str,
        base_url: str,
        timeout_seconds: float,
        limits: ChannelLimits,
        limiter: RateLimiter | None,
        now: Callable[[], datetime],
    ) -> None:
        if not token.strip():
            raise ValueError(f"a {self.title} bot token is required")
        redact_token_in_logs(token)
        self._token, self._token_env, self._base_url = token, token_env, base_url
        self.timeout_seconds = timeout_seconds
        self._now = now
        super().__init__(limits, limiter)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"
