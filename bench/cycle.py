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
(timed around the service's functions, nothing reimplemented). The floor is Floor A
of that province, measured in the same run: the sync's requests (read back from the
raw archive) sent with a plain `requests.Session` and `json.loads`-ed, the best of three.

The ratio is large by nature: the floor fetches eight answers (~20 ms) while the cycle
also writes a hundred documents and sends two hundred messages at Telegram's rate (30
a second: ~3.3 s per hundred, a wait no code removes). The target, 1,000 x Floor A
(~20 s), is what the steps cost when each does its own work once: the sync and alerts
~2 s, a Công văn ~0.1 s of rendering each (`bench.notices`), the two outbox drains at
the rate. Measured first (2026-12-06) at ~2,000 x: each notice scores the province's
set again, three times (`score_rows` for the notice, its previous month and its
caption), which is two thirds of the cycle.

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
from bench.telegram_digest import start_server
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
#: cycle ÷ Floor A at most: each step doing its own work once (see above)
TARGET_RATIO = 1000.0
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
    finally:
        for process in (simulator, telegram):
            process.terminate()
            process.wait(timeout=10)
    floor = min(floors)  # the quietest of three: the floor is milliseconds
    ratio = wall / floor
    database = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"one cycle for {PROVINCE} ({len(communes)} communes, {database}): {wall:.2f} s, "
        f"{len(requests_made)} portal requests, {written} notices written, {sent} messages "
        f"sent; peak memory {peak:.0f} MB"
    )
    print(f"Floor A (the same requests with plain requests + json.loads): {floor * 1000:.0f} ms")
    shares = {**steps.seconds}
    shares["the rest (claims, term, pacing waits outside the steps)"] = wall - sum(shares.values())
    for step, seconds in shares.items():
        print(f"  {step}: {seconds:.2f} s ({100 * seconds / wall:.0f}%)")
    print(f"ratio: {ratio:.0f} x Floor A (target <= {TARGET_RATIO:.0f})")
    met = ratio <= TARGET_RATIO and written == len(communes)
    emit(
        Result(
            f"one end-to-end cycle for one province, {database}: sync, alerts, "
            f"{written} notices, {sent} messages to the fake Telegram",
            f"{wall:.2f} s",
            f"Floor A {floor * 1000:.0f} ms",
            ratio,
            f"<= {TARGET_RATIO:.0f} x Floor A",
            met,
            peak,
            "python -m bench.cycle" + (" --pg URL" if args.pg else ""),
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
