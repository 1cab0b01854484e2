"""How a test waits: for the event it expects, never for a length of time.

A test that sleeps a fixed time and then looks is a bet that the machine was fast
enough; on a busy machine it loses. Instead a test waits for what proves the thing
happened (a request at a fake server, a row in the database, a file, a line in a log)
with `wait_until`, whose patience only bounds a failure: it is never what makes a
test pass, and is set far beyond what the event takes on the slowest machine.

A slow answer is held by a `Gate` standing in for the server's `time.sleep`: the
request waits at the gate, the test sees it waiting (`gate.held`), acts, and opens
the gate. Nothing then depends on how long anything took.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import text

T = TypeVar("T")

PATIENCE = 120.0  # seconds before a wait is a failure: a bound, never a measurement
POLL = 0.02  # seconds between looks; only how soon the test notices, not what it proves


def wait_until(condition: Callable[[], T], what: str, patience: float = PATIENCE) -> T:
    """Poll `condition` until it returns something true, and return that. After
    `patience` seconds the test fails with `what` (the event that never came)."""
    deadline = time.monotonic() + patience
    while not (found := condition()):
        assert time.monotonic() < deadline, f"still waiting, after {patience:g} s, for {what}"
        time.sleep(POLL)
    return found


def blocks_another(sessions: Any, blocker: int) -> bool:
    """Whether some PostgreSQL session now waits for a lock the session `blocker` holds."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    with sessions() as session:
        return bool(session.scalar(query, {"pid": blocker}))


async def until(condition: Callable[[], T], what: str, patience: float = PATIENCE) -> T:
    """`wait_until` inside an event loop: the loop runs on while the test waits."""
    deadline = time.monotonic() + patience
    while not (found := condition()):
        assert time.monotonic() < deadline, f"still waiting, after {patience:g} s, for {what}"
        await asyncio.sleep(POLL)
    return found


class Gate:
    """A stand-in for `time.sleep` that holds its caller until the test opens it.

    Each call records the seconds it was asked to sleep in `held`, then blocks until
    `open()`; a gate once open lets every later call through at once. Used as a
    context manager it opens on exit, so a failing test leaves no thread held.
    """

    def __init__(self) -> None:
        self.held: list[float] = []
        self._lock = threading.Lock()
        self._opened = threading.Event()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.held.append(seconds)
        self._opened.wait()

    def open(self) -> None:
        self._opened.set()

    def __enter__(self) -> Gate:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.open()
