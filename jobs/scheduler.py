"""`dvcwatch run`: the scheduler, the leader lock, the catch-up pass and a clean stop.

One event loop holds everything: APScheduler 3 (in-memory job store, fixed
job ids; state lives in our tables), the outbox worker, the health server's
data, and the bots when enabled (only the leader polls the tokens): Telegram's,
and the reply poller of each channel without buttons (Zalo: «OK <id>» replies).
Every instance sends the outbox (its rows are claimed); only the leader
schedules syncs, finals, notices and housekeeping. A standby retries the
lock every few seconds and takes over when the leader's lock is freed.

A leader checks its lock before every job and every few seconds besides;
its jobs' writes commit only under its leadership term. When either says
it no longer leads (its lock session was ended, the database has a newer
term), it steps down at once: the leader's jobs are removed, the bot stops
polling, the lock is let go, one WARNING says why, and the process stays a
standby (it keeps sending the outbox and serving /healthz, and may lead
again later). Staying up rather than exiting keeps the outbox going and
avoids a restart loop when the database itself went away.
On SIGTERM/SIGINT the running step is allowed to finish (up to 25 s), the
lock is released, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import OperationalError

from jobs import work
from jobs.leader import LeaderLock, LockHeld, take_term
from jobs.steps import beat, catch_up, deliver, overdue, sync_now
from service import claims
from service.bot_replies import BotUnavailable, Replies, ReplyBot
from service.clock import LOCAL_TZ
from service.delivery import setup as delivery_setup
from service.health import HealthServer

log = logging.getLogger("dvcwatch.scheduler")
STANDBY_RETRY_SECONDS = 5.0
#: After stepping down, leave the lock to a standby for this long: the process that
#: just lost its session is the likelier one to be in trouble.
STEPPED_DOWN_SECONDS = 3 * STANDBY_RETRY_SECONDS
STOP_GRACE_SECONDS = 25.0
HEARTBEAT_SECONDS = 30
LEADER_JOBS = ("heartbeat", "sync", "catch-up", "finals-and-notices", "housekeeping")


class Service:
    """The long-running process (see module doc)."""

    def __init__(self, context: work.Context) -> None:
        self.context = context
        self.lock = LeaderLock(context.app.engine, context.owner)
        self.scheduler = AsyncIOScheduler(timezone=LOCAL_TZ)
        self.stopping = asyncio.Event()
        self.running: set[asyncio.Task[Any]] = set()
        self.bot: Any = None
        self.reply_bots: list[tuple[asyncio.Event, asyncio.Task[None]]] = []
        self.leading: work.Context | None = None  # the leader's jobs' context, while leading
        self.calm_until = 0.0  # (event-loop time) no leading again before, after a step-down

    async def run_once(self) -> int:
        """One full cycle: sync now, catch up, send; then exit."""
        if not self.lock.acquire():
            log.error("another dvcwatch instance schedules: not running a cycle")
            return 1
        try:
            context = self._new_term()
            if context is None:
                return 1
            await sync_now(context)
            await catch_up(context)
            report = await deliver(self.context)
        except claims.Deposed as exc:
            log.warning("%s stopped its cycle: %s", self.context.owner, exc)
            return 1
        finally:
            self.lock.release()
        failed = claims.failed_in_term(self.context.app.sessions(), context.term)
        if failed:
            log.warning("the cycle ended with %d failed job(s): %s", len(failed), "; ".join(failed))
        if report.waiting_note():
            log.warning("the cycle's delivery: %s", report.waiting_note())
        trouble = report.trouble()
        if trouble:  # what cron must see, as `dvcwatch deliver` says it
            log.warning("the cycle's delivery: %s", trouble)
        return 1 if failed or trouble else 0

    async def run_forever(self) -> int:
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop_signal, self.stopping.set)
        if not self.lock.acquire():  # SQLite: a second instance stops here (LockHeld)
            log.info("%s is a standby: another instance schedules", self.context.owner)
        health = self._health_server()
        every = self._schedules.deliver_every_seconds
        self._add("deliver", IntervalTrigger(seconds=every), lambda: deliver(self.context))
        self.scheduler.start()
        try:
            while not self.stopping.is_set():
                await self._keep_or_take_lead()
                await self._wait(STANDBY_RETRY_SECONDS)
        finally:
            await self._stop(health)
        return 0

    @property
    def _schedules(self) -> Any:
        return self.context.app.settings.schedules

    async def _keep_or_take_lead(self) -> None:
        """Every few seconds: a leader checks its lock, anyone else tries to take it."""
        leading = self.leading
        if leading is not None:
            reason = await asyncio.to_thread(self.lock.lost)
            if reason is not None:  # a refused job may have stepped down meanwhile: its term
                await self._step_down(reason, leading.term)
            return
        if asyncio.get_running_loop().time() < self.calm_until:
            return
        with contextlib.suppress(LockHeld):  # SQLite: another process holds the file now
            if await asyncio.to_thread(self.lock.acquire):
                await self._lead()

    def _new_term(self) -> work.Context | None:
        """Take the next leadership term (the lock is held) and abandon the claims earlier
        terms left running; the leader's jobs' context, or None to try again later."""
        sessions, owner = self.context.app.sessions(), self.context.owner
        try:
            term = take_term(sessions, owner, self.context.clock())
        except OperationalError as exc:  # the old leader's last commit holds the row
            log.warning("%s holds the lock but cannot start a term yet: %s", owner, exc.orig)
            return None
        context = dataclasses.replace(self.context, term=term, lost=self.lock.lost)
        left = claims.abandon_earlier(sessions, owner, term, self.context.clock())
        if left:
            log.warning("%d job run(s) left unfinished by the previous leader will run again", left)
        return context

    async def _lead(self) -> None:
        context = await asyncio.to_thread(self._new_term)
        if context is None:
            return
        self.leading = context
        log.info("%s leads the scheduling (term %d)", context.owner, context.term)
        schedules = self._schedules
        sync_trigger: BaseTrigger = (
            IntervalTrigger(seconds=schedules.sync_every_seconds)
            if schedules.sync_every_seconds
            else CronTrigger.from_crontab(schedules.sync, timezone=LOCAL_TZ)
        )
        self._add("heartbeat", IntervalTrigger(seconds=HEARTBEAT_SECONDS), lambda: beat(context))
        self._add("sync", sync_trigger, lambda: sync_now(context))
        catch_up_every = IntervalTrigger(seconds=schedules.catch_up_every_seconds)
        self._add("catch-up", catch_up_every, lambda: catch_up(context))
        self._add(
            "finals-and-notices",
            CronTrigger(hour="6,8", minute=5, timezone=LOCAL_TZ),
            lambda: catch_up(context),
        )
        self._add(
            "housekeeping",
            CronTrigger(hour=2, minute=15, timezone=LOCAL_TZ),
            lambda: asyncio.to_thread(work.housekeeping, context, context.today().isoformat()),
        )
        await self._start_bot()
        # In the background, so that the lock is still checked every few seconds meanwhile.
        first = asyncio.ensure_future(self._tracked(catch_up(context)))
        self.running.add(first)
        first.add_done_callback(self.running.discard)

    async def _step_down(self, reason: str, term: int) -> None:
        """Stop scheduling at once (see module doc); nothing when `term` is not the current."""
        if self.leading is None or self.leading.term != term:
            return
        self.leading = None
        self.calm_until = asyncio.get_running_loop().time() + STEPPED_DOWN_SECONDS
        log.warning(
            "%s steps down from leadership term %d: %s; it stops scheduling and stays a standby",
            self.context.owner,
            term,
            reason,
        )
        for job_id in LEADER_JOBS:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id)
        await asyncio.to_thread(self.lock.release)
        await self._stop_bot()

    def _add(self, job_id: str, trigger: BaseTrigger, step: Callable[[], Awaitable[Any]]) -> None:
        async def run() -> None:
            await self._tracked(step())

        self.scheduler.add_job(
            run,
            trigger,
            id=job_id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            replace_existing=True,
        )

    async def _tracked(self, step: Awaitable[Any]) -> None:
        """Run a step so that a stop waits for it (`running`). The scheduler's shutdown
        cancels the job awaiting it; the shield keeps that from cancelling the step
        itself (a message in flight, a sync's transaction), which `_stop` lets finish."""
        task = asyncio.ensure_future(self._guarded(step))
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    async def _guarded(self, step: Awaitable[Any]) -> None:
        """A step's errors are logged, never fatal. A step refused because its leadership
        term is over makes this process step down."""
        try:
            await step
        except claims.Deposed as exc:
            log.info("a job of leadership term %d was refused: %s", exc.term, exc)
            await self._step_down(str(exc), exc.term)
        except Exception:
            log.exception("a scheduled step failed")

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    def _health_server(self) -> HealthServer | None:
        address = self._schedules.health_address
        if address is None:
            return None
        sessions = self.context.app.sessions()
        try:
            server = HealthServer(address, sessions, lambda now: overdue(self.context, now))
        except OSError as exc:
            log.error("no /healthz and /metrics: cannot listen on %s: %s", address, exc)
            return None
        return server.start()

    async def _start_bot(self) -> None:
        """Start answering the bots: Telegram's, and the replies of each channel without
        buttons (Zalo). A rejected token or an unreachable API is one error line and a
        failed `bot` run in `status`, and the other jobs go on."""
        await self._start_telegram_bot()
        if not self._schedules.run_bot:
            return
        for channel in self.context.channels.values():
            if isinstance(channel, Replies):
                self._start_replies(channel)

    async def _start_telegram_bot(self) -> None:
        settings = self.context.app.settings
        telegram = settings.channels.telegram
        token = settings.secret(telegram.token_env)
        if not (telegram.enabled and token and self._schedules.run_bot):
            return
        from service.bot import build_application, record_start, start_polling

        application = build_application(
            token,
            telegram.base_url,
            self.context.app.sessions(),
            delivery_setup.directory(settings),
            self.context.app.schemes,
            [watch.province for watch in settings.watch],
        )
        error = None
        try:
            await start_polling(application, telegram.token_env)
            self.bot = application
        except BotUnavailable as exc:
            error = str(exc)
            log.error("%s; the bot is off, the other jobs go on", exc)
        record_start(self.context.app.sessions(), self.context.owner, self.context.clock(), error)

    def _start_replies(self, channel: Replies) -> None:
        """Poll `channel` for replies in the background until a stop or a step-down."""
        settings = self.context.app.settings
        replies = ReplyBot(
            channel,
            self.context.app.sessions(),
            delivery_setup.directory(settings),
            self.context.app.schemes,
            [watch.province for watch in settings.watch],
        )
        stopping = asyncio.Event()

        async def answer() -> None:
            from service.bot import record_start

            error = None
            try:
                await replies.poll(0)  # the token checked, what waits answered
            except BotUnavailable as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - the network: the bot is off
                error = f"cannot reach the {channel.name} bot API: {exc}"
            sessions, owner = self.context.app.sessions(), self.context.owner
            await asyncio.to_thread(
                record_start, sessions, owner, self.context.clock(), error, channel.name
            )
            try:
                if error is None:
                    await replies.run(stopping)
            except BotUnavailable as exc:
                error = str(exc)
            if error is not None:
                log.error("%s; the %s bot is off, the other jobs go on", error, channel.name)

        task = asyncio.ensure_future(answer())
        self.reply_bots.append((stopping, task))

    async def _stop(self, health: HealthServer | None) -> None:
        self.scheduler.shutdown(wait=False)
        if self.running:
            log.info(
                "%s stopping: %d running step(s) may finish (up to %g s)",
                self.context.owner,
                len(self.running),
                STOP_GRACE_SECONDS,
            )
            await asyncio.wait(self.running, timeout=STOP_GRACE_SECONDS)
        await self._stop_bot()
        for channel in self.context.channels.values():
            await channel.close()
        if health is not None:
            health.stop()
        self.lock.release()
        log.info("%s stopped", self.context.owner)

    async def _stop_bot(self) -> None:
        """Stop polling (only the leader polls the tokens): at a stop or a step-down."""
        bot, self.bot = self.bot, None
        if bot is not None:
            await bot.updater.stop()
            await bot.stop()
            await bot.shutdown()
        reply_bots, self.reply_bots = self.reply_bots, []
        for stopping, task in reply_bots:
            stopping.set()
            task.cancel()  # a long poll in progress ends now
            with contextlib.suppress(asyncio.CancelledError):
                await task
