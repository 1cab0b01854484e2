"""A leader steps down once, whichever notices first that its lock is gone: the check of
the lock every few seconds, or a job of its term refused meanwhile."""

from __future__ import annotations

import asyncio
import logging

from jobs.scheduler import Service
from jobs.work import Context


class LostWhileAsked:
    """The leader's lock, gone: while the service asks (in a thread), a refused job of the
    term steps the service down on its loop, as `work._claim`'s `Deposed` does."""

    def __init__(self, service: Service, loop: asyncio.AbstractEventLoop) -> None:
        self.service, self.loop, self.released = service, loop, 0

    def lost(self) -> str:
        stepped = self.service._step_down("a job of the term was refused", term=1)
        asyncio.run_coroutine_threadsafe(stepped, self.loop).result()
        return "its lock session on PostgreSQL ended"

    def release(self) -> None:
        self.released += 1


def test_a_lost_lock_found_after_a_job_stepped_down_is_not_a_crash(app, caplog):
    service = Service(Context(app, "test-owner"))

    async def check_the_lock() -> LostWhileAsked:
        lock = LostWhileAsked(service, asyncio.get_running_loop())
        service.lock = lock  # type: ignore[assignment]
        service.leading = Context(app, "test-owner", term=1)
        await service._keep_or_take_lead()
        return lock

    with caplog.at_level(logging.WARNING, logger="dvcwatch.scheduler"):
        lock = asyncio.run(check_the_lock())
    assert service.leading is None and lock.released == 1
    stepped = [r.getMessage() for r in caplog.records if "steps down" in r.getMessage()]
    assert stepped == [
        "test-owner steps down from leadership term 1: a job of the term was refused; "
        "it stops scheduling and stays a standby"
    ]
