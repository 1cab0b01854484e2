"""Fakes that speak real protocols or keep simulated time, for tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator

from service.channels.base import ChannelLimits
from service.channels.pacing import RateLimiter
from tests.waiting import PATIENCE


class FakeClock:
    """Monotonic seconds that move only when something sleeps: `clock()` reads it,
    `await clock.sleep(s)` records `s` in `sleeps` and moves the time on at once."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def limiter(self, limits: ChannelLimits) -> RateLimiter:
        """A rate limiter keeping `limits` on this clock."""
        return RateLimiter(limits, self, self.sleep)


class PacingClock(FakeClock):
    """A FakeClock for a sender and a fake server enforcing limits on the same clock,
    on which a request is answered at the instant it leaves.

    A plain FakeClock moves whenever any sender sleeps, even while another sender's
    request is out: the server then stamps that request later than it left, and its
    answer comes later still, so what the server sees is not what the limiter decided.
    Here time holds still from a request's departure until its answer (a sleeper waits,
    in real time that decides nothing, for every request out to be answered), and
    sleepers wake in the order of their wake times, never before them. Pace a channel
    with `limiter()`, which tells the clock when a request leaves and is answered.
    """

    def __init__(self, start: float = 1000.0) -> None:
        super().__init__(start)
        self._out: set[asyncio.Task[object] | None] = set()  # tasks with a request out
        self._sleepers: set[tuple[float, int]] = set()  # (wake time, order of arrival)
        self._order = itertools.count()

    def limiter(self, limits: ChannelLimits) -> RateLimiter:
        out = self._out

        class Telling(RateLimiter):
            async def depart(self) -> float:
                waited = await super().depart()
                out.add(asyncio.current_task())
                return waited

            @contextlib.asynccontextmanager
            async def turn(self, chat: str, *, group: bool = False) -> AsyncIterator[float]:
                async with super().turn(chat, group=group) as waited:
                    try:
                        yield waited
                    finally:  # answered (or failed): the limiter reads the time next
                        out.discard(asyncio.current_task())

        return Telling(limits, self, self.sleep)

    async def sleep(self, seconds: float) -> None:
        """Wake when no request is out and no other sleeper is due sooner."""
        me = (self.now + seconds, next(self._order))
        self.sleeps.append(seconds)
        self._sleepers.add(me)
        deadline = time.monotonic() + PATIENCE
        try:
            while self._out or min(self._sleepers) != me:
                assert time.monotonic() < deadline, "a request that left was never answered"
                await asyncio.sleep(0.001)
        finally:
            self._sleepers.discard(me)
        self.now = max(self.now, me[0])
