"""Benchmark: one end-to-end cycle of the service for one province.

The portal is the simulator serving the generated country (34 provinces, 3,321
communes, as `bench.national_sync`) and Telegram the fake Bot API enforcing
Telegram's rates, each in its own process. dvcwatch watches the first province; each
of its communes has a person (its own chat) in the directory and a monthly Công văn
in `notices.units`. The cycle is what `dvcwatch run` does for a province, through
the scheduler's own job functions (`jobs/work.py`) under a leadership term:
`run_sync` (the province's sync, then the alert rules: `evaluate_alerts`), an outbox
pass until nothing is pending (`deliver`), `run_notices` for each commune (the
month's Công văn as .docx, queued to its recipients) and the outbox again. The month
is the synced one (the service writes the previous month's notices, after its final
sync, on the notices' working day: the same work on the same figures).

Reported: the cycle's wall time, this process's peak memory, and each step's share
(timed around the service's functions, nothing reimplemented). The floor, measured in
the same run, is what no code removes from such a cycle: Floor A of that province (the
sync's requests, read back from the raw archive, sent with a plain `requests.Session`
and `json.loads`-ed, the best of three), plus the messages sent at Telegram's enforced
rate (30 a second: ~3.3 s a hundred), plus an empty docxtpl render for each notice
written (`bench.notices.empty_render_ms`, the quieter of two measurements).

The target, 2.5 x that floor, is the steps' own targets added up: a notice at most 5 x
its empty render and delivery at 0.85 of the rate come to about 2.2 x the floor, and the
sync, the alerts and the claims fit in the rest. Until 2026-12-07 the floor was Floor A
alone (eight answers, 15 to 35 ms) with a target of 1,000 x: the same cycle met it on a
slower machine (634 x of 35 ms) and missed it on a faster one (1,225 x of 15 ms), as
most of the cycle is the rate and the documents, not the portal. Measured first
(2026-12-06) at ~2,000 x Floor A: each notice scored the province's set again, three
times, which was two thirds of the cycle.

Run with `python -m bench.cycle [--pg URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select

from bench import Result, emit, peak_mb, pg_schema_url
from bench.national_sync import archived, floor_a, start_simulator
from bench.notices import FLOOR_DOCUMENTS, empty_render_ms
from bench.telegram_digest import ENFORCED_PER_SECOND, start_server
from jobs import work
from jobs.leader import take_term
from jobs.plan import Due
from service.app import App
from service.clock import LOCAL_TZ, local_today, utcnow
from service.config import PortalSettings, Settings
from service.delivery import setup
from service.delivery.models import DeliveryStatus, OutboxMessage
from service.models import Unit
from service.periods import Period
from service.sync import sync_province
from tests.fakes.telegram_server import DEFAULT_TOKEN

PROJECT = Path(__file__).resolve().parent.parent
PROVINCE = "H01"
#: cycle ÷ its floor at most: the steps' own targets added up (see above)
TARGET_RATIO = 2.5
OFFICE_CHAT, FIRST_COMMUNE_CHAT = 1000, 2000
Result_ = TypeVar("Result_")


def communes_of(portal: PortalSettings, folder: Path, period: Period) -> list[str]:
    """The province's commune codes, from a sync into a scratch database (the directory
    and the notices are configured before the cycle, as an office would)."""
    app = App(Settings.model_validate({"database": {"url": f"sqlite:///{folder / 'scout.db'}"}}))
    app.upgrade()
    outcome = sync_province(app.sessions(), portal, PROVINCE, period, local_today())
    if outcome.error:
        raise SystemExit(f"{PROVINCE}: {outcome.error}")
    with app.sessions()() as session:
        province = select(Unit.id).where(Unit.code == PROVINCE).scalar_subquery()
        codes = session.scalars(
            select(Unit.code)
            .where(Unit.parent_id == province, Unit.unit_group == "COMMUNE")
            .order_by(Unit.code)
        ).all()
    app.engine.dispose()
    return list(codes)


def office_settings(
    folder: Path, portal: str, telegram: str, communes: list[str], db_url: str
) -> Settings:
    """The office's configuration: the province watched, a person per commune (and the
    provincial office), a Công văn per commune; Telegram only, .docx only."""
    people = [("vp", "Văn phòng UBND tỉnh", PROVINCE, OFFICE_CHAT)] + [
        (f"xa{n}", f"Cán bộ xã {n}", code, FIRST_COMMUNE_CHAT + n)
        for n, code in enumerate(communes)
    ]
    entries = "".join(
        f'[[people]]\nid = "{key}"\nname = "{name}"\nunits = ["{unit}"]\ntopics = ["*"]\n'
        f'channel = "telegram"\naddress = "{chat}"\n'
        for key, name, unit, chat in people
    )
    directory = folder / "directory.toml"
    directory.write_text(
        f'operators = ["vp"]\nfallback = "vp"\n[offices]\n{PROVINCE} = "vp"\n{entries}',
        encoding="utf-8",
    )
    config = PROJECT / "config"
    settings = Settings.model_validate(
        {
            "database": {"url": db_url},
            "portal": {"base_url": portal, "pause_seconds": (0, 0)},
            "watch": [{"province": PROVINCE}],
            "schedules": {"run_bot": False},
            "channels": {"console": False, "telegram": {"enabled": True, "base_url": telegram}},
            "alerts": {
                "rules_file": config / "rules.toml",
                "directory_file": directory,
                "holidays_file": config / "holidays.toml",
                "quiet_start": "00:00",  # no quiet hours: the bench sends at once
                "quiet_end": "00:00",
                "quiet_weekends": False,
            },
            "notices": {
                "out_dir": folder / "out",
                "formats": ["docx"],
                "units": [{"unit": code} for code in communes],
            },
        }
    )
    token_env = settings.channels.telegram.token_env
    return settings.model_copy(update={"secrets": {token_env: DEFAULT_TOKEN}})


class Steps:
    """Wall seconds spent in each step, summed over its calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def timed(self, step: str, function: Callable[..., Result_]) -> Callable[..., Result_]:
        @functools.wraps(function)
        def measured(*args: Any, **kwargs: Any) -> Result_:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[step] += time.perf_counter() - started

        return measured

    async def drain(self, step: str, context: work.Context) -> int:
        """Outbox passes until nothing is pending (waiting for a paced part's time)."""
        started, sent = time.perf_counter(), 0
        while True:
            sent += (await work.deliver(context)).sent
            with context.app.sessions()() as session:
                next_due = session.scalar(
                    select(func.min(OutboxMessage.not_before)).where(
                        OutboxMessage.status == DeliveryStatus.PENDING
                    )
                )
            if next_due is None:
                break
            await asyncio.sleep(min(max((next_due - utcnow()).total_seconds(), 0), 60))
        self.seconds[step] += time.perf_counter() - started
        return sent


async def cycle(context: work.Context, communes: list[str], steps: Steps) -> tuple[int, int]:
    """The province's cycle; (messages sent, notices written)."""
    moment = dt.datetime.now(LOCAL_TZ)
    month = str(Period.month_of(context.today()))
    if not work.run_sync(context, Due("sync", PROVINCE, f"bench-{moment:%H%M%S}", moment)):
        raise SystemExit(f"the sync of {PROVINCE} failed: see the log above")
    sent = await steps.drain("deliver the alerts", context)
    written = sum(
        work.run_notices(context, Due("notices", f"congvan:{code}", month, moment))
        for code in communes
    )

    sent += await steps.drain("deliver the notices", context)
    for channel in context.channels.values():
        await channel.close()
    return sent, written


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pg", help="a PostgreSQL URL: the bench uses a new schema of it")
    parser.add_argument("--seed", type=int, default=766)
    args = parser.parse_args()
    period = Period.month_of(local_today())
    simulator, portal_url = start_simulator(args.seed)
    telegram, telegram_url = start_server()
    steps = Steps()
    try:
        with tempfile.TemporaryDirectory(prefix="dvcwatch-cycle-") as name:
            folder = Path(name)
            portal = PortalSettings(base_url=portal_url, pause_seconds=(0.0, 0.0))
            communes = communes_of(portal, folder, period)
            db_url = pg_schema_url(args.pg) if args.pg else f"sqlite:///{folder / 'cycle.db'}"
            app = App(office_settings(folder, portal_url, telegram_url, communes, db_url))
            app.upgrade()
            context = work.Context(app, "bench-cycle", setup.channels(app.settings))
            context.term = take_term(app.sessions(), context.owner)
            work.sync_province = steps.timed("sync", work.sync_province)
            work.evaluate_alerts = steps.timed("alerts", work.evaluate_alerts)
            work.write_batch = steps.timed("notices", work.write_batch)
            started = time.perf_counter()
            sent, written = asyncio.run(cycle(context, communes, steps))
            wall = time.perf_counter() - started
            peak = peak_mb()
            requests_made = archived(app)
            app.engine.dispose()
            floors = [floor_a(portal_url, requests_made) for _ in range(3)]
            (folder / "empty").mkdir()
            renders = [empty_render_ms(folder / "empty", FLOOR_DOCUMENTS) for _ in range(2)]
    finally:
        for process in (simulator, telegram):
            process.terminate()
            process.wait(timeout=10)
    fetch = min(floors)  # the quietest of three: Floor A is milliseconds
    rate, render = sent / ENFORCED_PER_SECOND, written * min(renders) / 1000
    floor = fetch + rate + render
    ratio = wall / floor
    database = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"one cycle for {PROVINCE} ({len(communes)} communes, {database}): {wall:.2f} s, "
        f"{len(requests_made)} portal requests, {written} notices written, {sent} messages "
        f"sent; peak memory {peak:.0f} MB"
    )
    print(
        f"floor {floor:.2f} s: Floor A (the same requests with plain requests + json.loads) "
        f"{fetch * 1000:.0f} ms, {sent} messages at {ENFORCED_PER_SECOND:.0f} a second "
        f"{rate:.2f} s, {written} empty docxtpl renders {render:.2f} s"
    )
    shares = {**steps.seconds}
    shares["the rest (claims, term, pacing waits outside the steps)"] = wall - sum(shares.values())
    for step, seconds in shares.items():
        print(f"  {step}: {seconds:.2f} s ({100 * seconds / wall:.0f}%)")
    print(f"ratio: {ratio:.2f} x the floor (target <= {TARGET_RATIO})")
    met = ratio <= TARGET_RATIO and written == len(communes)
    emit(
        Result(
            f"one end-to-end cycle for one province, {database}: sync, alerts, "
            f"{written} notices, {sent} messages to the fake Telegram",
            f"{wall:.2f} s",
            f"{floor:.2f} s: Floor A {fetch * 1000:.0f} ms + {sent} messages at "
            f"{ENFORCED_PER_SECOND:.0f}/s {rate:.2f} s + {written} empty renders {render:.2f} s",
            ratio,
            f"<= {TARGET_RATIO} x the floor",
            met,
            peak,
            "python -m bench.cycle" + (" --pg URL" if args.pg else ""),
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
