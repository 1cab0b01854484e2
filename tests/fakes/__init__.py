"""Fakes that speak real protocols or keep simulated time, for tests."""

from __future__ import annotations


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
