"""The soak: dvcwatch run for weeks of simulated time while everything around it fails.

`python -m bench.soak [--days 60] [--seed N] [--pg URL]` (the test suite runs a short
one: tests/test_soak.py). The portal is the simulator in daily mode
(`service.simulator.daily`: the generated country, 34 provinces by default, whose
running figures drift a little every day for a set share of units); Telegram is the
fake Bot API (`tests/fakes/telegram_server.py`, imported from here: one fake for
the tests and the soak). The dvcwatch process is `bench/soak_worker.py`: the
service's own `run --once` cycle and outbox passes, on a clock this driver sets
(the service's clock module), day by day: at 09:00 (Asia/Ho_Chi_Minh) a cycle
(sync of every watched province, catch-up of finals, notices and missed syncs, a
pass of the outbox), then outbox passes at 09:05, 09:15, 09:35 and 10:35.

Faults, drawn from the printed seed (the same seed gives the same plan): portal
503, timeouts, truncated JSON, 429 and the firewall's page; Telegram 429, 5xx and
slow answers, and a recipient who blocked the bot; the worker SIGKILLed at a random
request (portal or Telegram) and started again at the phase it did not finish; on
PostgreSQL the worker's connections terminated (`pg_terminate_backend`) while it
syncs. Every kind is planned at least once; more come at random.

At the end the checker reads the database and the fake's log and prints:
- snapshots: for every unit and month, exactly the snapshots the snapshot intervals
  design expects from the days its province was synced (one at the first reading,
  one more on each synced day whose figures changed since the previous synced day,
  each lasting to the last synced day before the next change; one `final` per
  closed month whose final figures were fetched, also where the last day's running
  reading had the same figures) and no other;
- messages: every outbox part Telegram acknowledged (`sent`) arrived exactly once,
  every `uncertain` one at most once (and is listed by `dvcwatch status`), nothing
  else arrived; no part left pending or sending; every alert event reached each
  recipient the directory names for it (its own line or a summary), or went to a
  recipient whose address delivery gave up (the blocked user);
- notices: each monthly notice written once (version 1) and sent once per recipient;
- runs: none left `running`, no job claim left `running`;
- the worker's peak memory (ru_maxrss of each process, bounded by --max-rss-mb) and
  the database's bytes per unit per day.
It exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from service.clock import LOCAL_TZ
from service.periods import Period
from service.portal.api import ENDPOINTS
from service.simulator.daily import DailySource, changes_until
from service.simulator.faults import Fault
from service.simulator.queries import Answer, PortalQuery
from service.simulator.server import PortalSimulator
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

PROJECT = Path(__file__).resolve().parent.parent
SOURCE = "portal-766"
TABLES = (
    "units",
    "fetch_runs",
    "raw_responses",
    "raw_bodies",
    "snapshots",
    "figure_sets",
    "alerts",
    "alert_events",
    "deliveries",
    "outbox_messages",
    "notice_files",
    "job_claims",
)
CYCLE_AT = dt.time(9, 0)
DELIVER_AFTER = (5, 15, 35, 95)  # minutes after the cycle: the outbox's passes
CLOSING_AFTER = (180, 600)  # after the last day's cycle: the last passes, then status
PORTAL_TIMEOUT = 1.0
TELEGRAM_TIMEOUT = 3.0
PORTAL_FAULTS = ("5xx", "timeout", "truncated", "429", "firewall")
TELEGRAM_FAULTS = ("retry_after", "server_error", "slow")
MAX_ATTEMPTS = 8  # of one phase, before the soak says it never finished
CHATS = {"vp": "1001", "xa": "1002", "chan": "1003"}


@dataclasses.dataclass(frozen=True)
class Options:
    seed: int
    days: int
    start: dt.date
    provinces: int
    communes: int
    agencies: int
    share: float
    watch: int  # provinces dvcwatch watches (the first ones)
    kill_rate: float
    fault_rate: float
    max_rss_mb: float
    broken: str | None = None
    faults: bool = True  # False: a quiet run (no fault at all), for the checker's own test


# --- the world: portal, Telegram, configuration -------------------------------------


class Tripwire:
    """Counts the requests of each kind ("portal", "telegram") in the current phase and
    does an armed action at the Nth; armed and cleared by the driver between phases. An
    action armed for the next request of a kind waits for it across phases."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._armed: list[tuple[str, int, Callable[[], None]]] = []
        self._next: list[tuple[str, Callable[[], None]]] = []

    def arm(self, kind: str, nth: int, action: Callable[[], None]) -> None:
        with self._lock:
            self._armed.append((kind, nth, action))

    def arm_next(self, kind: str, action: Callable[[], None]) -> None:
        with self._lock:
            self._next.append((kind, action))

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._armed.clear()

    def hit(self, kind: str) -> None:
        with self._lock:
            self._counts[kind] += 1
            due = [a for k, n, a in self._armed if k == kind and n == self._counts[kind]]
            due += [a for k, a in self._next if k == kind]
            self._next = [(k, a) for k, a in self._next if k != kind]
        for action in due:
            action()


class WatchedSource:
    """The daily source, telling the tripwire of every portal request before answering."""

    def __init__(self, source: DailySource, tripwire: Tripwire) -> None:
        self.source, self.tripwire = source, tripwire

    def answer(self, query: PortalQuery) -> Answer:
        self.tripwire.hit("portal")
        return self.source.answer(query)


def write_config(folder: Path, options: Options, portal: str, telegram: str) -> Path:
    codes = [f"H{n:02d}" for n in range(1, options.watch + 1)]
    first_commune = f"{codes[0]}.101"
    offices = {codes[0]: "vp"} | ({codes[-1]: "chan"} if len(codes) > 1 else {})
    office_lines = "".join(f'{code} = "{person}"\n' for code, person in offices.items())
    people = [
        ("vp", "Văn phòng UBND tỉnh", codes[0], "notice"),  # and the office of the first
        ("xa", "Nguyễn Thị Lan", first_commune, "*"),
        ("chan", "Trần Văn Khoa", codes[-1], "notice"),  # blocked the bot; the last's office
    ]
    entries = "".join(
        f'[[people]]\nid = "{key}"\nname = "{name}"\nunits = ["{unit}"]\ntopics = ["{topic}"]\n'
        f'channel = "telegram"\naddress = "{CHATS[key]}"\n'
        for key, name, unit, topic in people
    )
    (folder / "directory.toml").write_text(
        f'operators = ["vp"]\n[offices]\n{office_lines}{entries}', encoding="utf-8"
    )
    watch = "".join(f'[[watch]]\nprovince = "{code}"\n' for code in codes)
    config = folder / "dvcwatch.toml"
    config.write_text(
        f"""[portal]
base_url = "{portal}"
pause_seconds = [0, 0]
timeout_seconds = {PORTAL_TIMEOUT}
backoff_seconds = 0
{watch}[schedules]
sync = "{CYCLE_AT.minute} {CYCLE_AT.hour} * * *"
catch_up_days = 2
run_bot = false
[channels]
console = false
[channels.telegram]
enabled = true
base_url = "{telegram}"
timeout_seconds = {TELEGRAM_TIMEOUT}
[scoring]
schemes_dir = "{PROJECT / "config" / "schemes"}"
[alerts]
rules_file = "{PROJECT / "config" / "rules.toml"}"
directory_file = "{folder / "directory.toml"}"
holidays_file = "{PROJECT / "config" / "holidays.toml"}"
quiet_start = 00:00:00
quiet_end = 00:00:00
quiet_weekends = false
[notices]
out_dir = "{folder / "out"}"
formats = ["docx"]
[[notices.units]]
unit = "{first_commune}"
[[notices.units]]
unit = "{codes[-1]}.101"
""",
        encoding="utf-8",
    )
    return config


def phases_of(options: Options) -> list[tuple[str, dt.datetime]]:
    """(kind, naive UTC time) of every phase: each day's cycle and outbox passes, then
    the last passes and the status."""
    phases: list[tuple[str, dt.datetime]] = []
    for offset in range(options.days):
        day = options.start + dt.timedelta(days=offset)
        cycle = dt.datetime.combine(day, CYCLE_AT, LOCAL_TZ).astimezone(dt.UTC)
        phases.append(("cycle", cycle))
        phases += [("deliver", cycle + dt.timedelta(minutes=m)) for m in DELIVER_AFTER]
    last = phases[0][1] + dt.timedelta(days=options.days - 1)
    phases += [("deliver", last + dt.timedelta(minutes=m)) for m in CLOSING_AFTER]
    phases.append(("status", last + dt.timedelta(minutes=CLOSING_AFTER[-1] + 1)))
    return [(kind, at.replace(tzinfo=None)) for kind, at in phases]


# --- databases --------------------------------------------------------------------------


@contextmanager
def database(pg: str | None, folder: Path, label: str) -> Iterator[tuple[str, str]]:
    """(the worker's URL, the driver's URL) of a fresh database: a SQLite file, or a
    scratch schema of `pg` (dropped at the end) whose worker connections carry an
    application name of their own (so they can be terminated and nobody else's)."""
    if pg is None:
        url = f"sqlite:///{folder / f'{label}.db'}"
        yield url, url
        return
    schema = f"soak_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in pg else "?"
    driver = f"{pg}{joiner}options=-csearch_path%3D{schema}"
    try:
        yield f"{driver}&application_name={schema}", driver
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": schema},
            )
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def drop_connections(driver_url: str, worker_url: str) -> Callable[[], None]:
    """An action terminating the worker's PostgreSQL backends (its application name)."""
    name = worker_url.rsplit("application_name=", 1)[1]

    def act() -> None:
        engine = create_engine(driver_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": name},
            )
        engine.dispose()

    return act


def size_of(url: str) -> tuple[int, dict[str, int]]:
    """The database's bytes (the SQLite file after VACUUM, or the schema's tables) and
    each table's share, its indexes included (SQLite's `dbstat`, PostgreSQL's
    `pg_total_relation_size`)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text("VACUUM"))
                pages = connection.execute(text("PRAGMA page_count")).scalar_one()
                total = int(pages) * int(connection.execute(text("PRAGMA page_size")).scalar_one())
                rows = connection.execute(
                    text(
                        "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d "
                        "JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name"
                    )
                )
                shares = {str(table): int(size) for table, size in rows if table in TABLES}
                return total, shares
            shares = {
                t: int(
                    connection.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one()
                )
                for t in TABLES
            }
            return sum(shares.values()), shares
    finally:
        engine.dispose()


# --- the plan of faults -----------------------------------------------------------------


@dataclasses.dataclass
class Planned:
    """What happens in one phase: portal and Telegram faults, a kill, a dropped session."""

    portal: list[str] = dataclasses.field(default_factory=list)
    telegram: list[str] = dataclasses.field(default_factory=list)
    kill: tuple[str, int] | None = None  # (request kind, nth)
    kill_sending: bool = False  # at the next message sent, in this phase or a later one
    drop: int | None = None  # nth portal request


def plan_faults(
    options: Options, phases: list[tuple[str, dt.datetime]], pg: bool
) -> dict[int, Planned]:
    """Every kind at least once on a phase drawn from the seed, then more at random."""
    if not options.faults:
        return {}
    rng = random.Random(f"soak:{options.seed}")
    cycles = [i for i, (kind, _) in enumerate(phases) if kind == "cycle"]
    passes = [i for i, (kind, _) in enumerate(phases) if kind != "status"]
    plan: dict[int, Planned] = defaultdict(Planned)
    requests = 7 * options.watch
    for kind in PORTAL_FAULTS:
        plan[rng.choice(cycles)].portal.append(kind)
    for kind in TELEGRAM_FAULTS:
        plan[rng.choice(passes)].telegram.append(kind)
    plan[rng.choice(cycles[1:] or cycles)].kill = ("portal", rng.randint(2, requests))
    plan[rng.choice(passes[: len(passes) // 2])].kill_sending = True
    if pg:
        plan[rng.choice(cycles)].drop = rng.randint(2, requests)
    for index in cycles:
        if rng.random() < options.fault_rate:
            plan[index].portal.append(rng.choice(PORTAL_FAULTS))
        if rng.random() < options.kill_rate:
            plan[index].kill = ("portal", rng.randint(1, requests))
        if pg and rng.random() < options.kill_rate:
            plan[index].drop = rng.randint(1, requests)
    for index in passes:
        if rng.random() < options.fault_rate / 2:
            plan[index].telegram.append(rng.choice(TELEGRAM_FAULTS))
        if phases[index][0] == "deliver" and rng.random() < options.kill_rate / 4:
            plan[index].kill = ("telegram", rng.randint(1, 3))
    return dict(plan)


def portal_fault(kind: str, rng: random.Random) -> Fault:
    endpoint = rng.choice([None, *ENDPOINTS])
    if kind == "timeout":
        return Fault("delay", endpoint, seconds=PORTAL_TIMEOUT + 0.5)
    return Fault(kind, endpoint)


def telegram_fault(fake: FakeTelegram, kind: str) -> None:
    if kind == "retry_after":
        fake.fail("sendMessage", "retry_after", retry_after=30)
    elif kind == "server_error":
        fake.fail("sendMessage", "server_error")
    else:
        fake.fail("sendMessage", "delay", seconds=0.2)


# --- the driver -------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """What the run did and what the checker found."""

    label: str
    seed: int
    failures: list[str] = dataclasses.field(default_factory=list)
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)
    counts: Counter[str] = dataclasses.field(default_factory=Counter)


class Driver:
    """Starts the worker, answers its phases, arms the faults, kills and restarts it."""

    def __init__(
        self,
        options: Options,
        folder: Path,
        config: Path,
        urls: tuple[str, str],
        source: DailySource,
        fake: FakeTelegram,
        simulator: PortalSimulator,
        tripwire: Tripwire,
    ) -> None:
        self.options, self.folder, self.config = options, folder, config
        self.worker_url, self.driver_url = urls
        self.source, self.fake, self.simulator, self.tripwire = source, fake, simulator, tripwire
        self.phases = phases_of(options)
        self.plan = plan_faults(options, self.phases, urls[0] != urls[1])
        self.counts: Counter[str] = Counter()
        self.peaks: list[int] = []
        self.status: dict[str, Any] = {}
        self.failures: list[str] = []
        self.armed: Counter[int] = Counter()  # phases started (faults armed the first time)
        self.took: dict[str, float] = defaultdict(float)  # seconds per kind of phase
        self.process: subprocess.Popen[str] | None = None
        self.killed = False

    def run(self) -> None:
        file = self.folder / "phases.json"
        file.write_text(
            json.dumps([[k, at.isoformat()] for k, at in self.phases]), encoding="utf-8"
        )
        following = 0
        while following < len(self.phases):
            if self.armed[following] >= MAX_ATTEMPTS:
                self.failures.append(f"phase {following} never finished")
                return
            following = self._one_process(file, following)
            if self.counts["worker crashed"]:
                return  # a crash is a bug to read in the log, not a fault to resume from

    def _one_process(self, file: Path, start: int) -> int:
        """Run the worker from phase `start` until it ends or is killed; the next phase."""
        command = [sys.executable, "-m", "bench.soak_worker", "--config", str(self.config)]
        command += ["--db", self.worker_url, "--phases", str(file), "--start", str(start)]
        if self.options.broken:
            command += ["--break", self.options.broken]
        env = {**os.environ, "DVCWATCH_TELEGRAM_TOKEN": DEFAULT_TOKEN}
        with (self.folder / "worker.log").open("a", encoding="utf-8") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                env=env, cwd=PROJECT,
            )  # fmt: skip
        self.process, self.killed = process, False
        following, began = start, time.perf_counter()
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            words = line.rstrip("\n").split(" ", 2)
            if words[0] != "@soak":
                continue
            if words[1] == "ready":
                index = int(words[2])
                self._arm(index)
                began = time.perf_counter()
                try:
                    process.stdin.write("go\n")
                    process.stdin.flush()
                except BrokenPipeError:
                    break
            elif words[1] == "done":
                following = int(words[2]) + 1
                self.tripwire.reset()
                self.took[self.phases[following - 1][0]] += time.perf_counter() - began
            elif words[1] == "status":
                self.status = json.loads(words[2])
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        self.peaks.append(usage.ru_maxrss)
        self.tripwire.reset()
        if not self.killed and process.returncode != 0:
            self.counts["worker crashed"] += 1
            self.failures.append(
                f"the worker exited {process.returncode} at phase {following} "
                f"(see {self.folder / 'worker.log'})"
            )
        return following

    def _kill(self) -> None:
        if self.process is not None and self.process.returncode is None and not self.killed:
            self.killed = True
            os.kill(self.process.pid, signal.SIGKILL)
            self.counts["worker killed (SIGKILL)"] += 1

    def _arm(self, index: int) -> None:
        """The phase's day for the portal; its faults and kill the first time it starts."""
        kind, at = self.phases[index]
        self.source.set_day(at.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ).date())
        self.tripwire.reset()
        self.armed[index] += 1
        planned = self.plan.get(index)
        if planned is None or self.armed[index] > 1:
            return
        rng = random.Random(f"soak:{self.options.seed}:{index}")
        for fault in planned.portal:
            self.simulator.inject(portal_fault(fault, rng))
            self.counts[f"portal {fault}"] += 1
        for fault in planned.telegram:
            telegram_fault(self.fake, fault)
            self.counts[f"telegram {fault}"] += 1
        if planned.kill is not None:
            self.tripwire.arm(planned.kill[0], planned.kill[1], self._kill)
            self.counts["kill planned"] += 1
        if planned.kill_sending:
            self.tripwire.arm_next("telegram", self._kill)
            self.counts["kill planned"] += 1
        if planned.drop is not None:
            action = drop_connections(self.driver_url, self.worker_url)

            def drop() -> None:
                self.counts["postgresql sessions terminated"] += 1
                action()

            self.tripwire.arm("portal", planned.drop, drop)


# --- the checker ------------------------------------------------------------------------


def check(driver: Driver, outcome: Outcome) -> None:
    engine = create_engine(driver.driver_url)
    try:
        with engine.connect() as connection:
            _check_snapshots(connection, driver, outcome)
            _check_runs(connection, outcome)
            _check_messages(connection, driver, outcome)
            _check_events(connection, driver, outcome)
            _check_notices(connection, driver, outcome)
    finally:
        engine.dispose()


def _rows(connection: Any, sql: str, **params: Any) -> list[Any]:
    return list(connection.execute(text(sql), params).all())


def _local_day(stored: dt.datetime | str) -> dt.date:
    if isinstance(stored, str):  # SQLite through text(): ISO strings
        stored = dt.datetime.fromisoformat(stored)
    return stored.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ).date()


def _date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _check_snapshots(connection: Any, driver: Driver, outcome: Outcome) -> None:
    """Per unit and month: exactly the intervals the synced days and the drift imply."""
    source, options = driver.source, driver.options
    synced: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
    finals: set[tuple[str, str]] = set()
    for scope, period, started in _rows(
        connection, "SELECT scope, period, started_at FROM fetch_runs WHERE status = 'ok'"
    ):
        day = _local_day(started)
        if str(Period.month_of(day)) == period:
            synced[(scope, period)].add(day)
        else:
            finals.add((scope, period))
    ids = dict(_rows(connection, "SELECT code, id FROM units"))
    stored: dict[tuple[int, str], list[tuple[dt.date, dt.date, int, str]]] = defaultdict(list)
    for unit, period, as_of, last_seen, revision, completeness in _rows(
        connection,
        "SELECT unit_id, period, as_of, last_seen, revision, completeness FROM snapshots "
        "WHERE source = :source",
        source=SOURCE,
    ):
        stored[(unit, period)].append((_date(as_of), _date(last_seen), revision, completeness))
    expected_total = wrong = 0
    watched = source.provinces[: options.watch]
    periods = {period for _, period in synced} | {period for _, period in finals}
    for province in watched:
        code = province.department.code
        members = [u.department.code for u in province.units] + [code]
        for unit_code in members:
            for period in sorted(periods):
                days = sorted(synced.get((code, period), ()))
                intervals = _intervals(source.seed, source.share, unit_code, members, days)
                expected: list[tuple[Any, ...]] = [(a, b, 1, "running") for a, b in intervals]
                last_day = Period.parse(period).last_day
                # The final reading closes the month with a snapshot of its own, even where
                # the last day's running reading had the same figures.
                if (code, period) in finals:
                    expected.append((last_day, None, None, "final"))
                unit_id = ids.get(unit_code)
                got = sorted(stored.get((unit_id, period), [])) if unit_id else []
                expected_total += len(expected)
                if not _same(got, expected):
                    wrong += 1
                    if wrong <= 5:
                        outcome.failures.append(
                            f"snapshots of {unit_code} {period}: stored {got}, expected {expected}"
                        )
    outcome.figures["snapshots expected"] = expected_total
    outcome.figures["snapshots stored"] = sum(len(v) for v in stored.values())
    outcome.figures["units with wrong snapshots"] = wrong


def _intervals(
    seed: int, share: float, code: str, members: list[str], days: list[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """(first, last day) of each snapshot a unit's synced `days` should leave: a new one
    on the first day and on each day its figures moved since the previous synced day."""

    def version(day: dt.date) -> int:
        own = members if code == members[-1] else [code]  # a province: its units' sum
        return sum(changes_until(seed, member, day, share) for member in own)

    intervals: list[tuple[dt.date, dt.date]] = []
    before = None
    for day in days:
        now = version(day)
        if now == before:
            intervals[-1] = (intervals[-1][0], day)
        else:
            intervals.append((day, day))
        before = now
    return intervals


def _same(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> bool:
    if len(got) != len(expected):
        return False
    running = sorted(g for g in got if g[3] == "running")
    final = [g for g in got if g[3] == "final"]
    want_running = [e for e in expected if e[3] == "running"]
    want_final = [e for e in expected if e[3] == "final"]
    return running == want_running and [(g[0], g[3]) for g in final] == [
        (e[0], e[3]) for e in want_final
    ]


def _check_runs(connection: Any, outcome: Outcome) -> None:
    for table in ("fetch_runs", "job_claims"):
        left = _rows(connection, f"SELECT COUNT(*) FROM {table} WHERE status = 'running'")[0][0]
        outcome.figures[f"{table} left running"] = left
        if left:
            outcome.failures.append(f"{left} row(s) of {table} left running")
    for status, count in _rows(
        connection, "SELECT status, COUNT(*) FROM fetch_runs GROUP BY status ORDER BY status"
    ):
        outcome.figures[f"fetch runs {status}"] = count


def _check_messages(connection: Any, driver: Driver, outcome: Outcome) -> None:
    """Each part Telegram took arrived once; uncertain ones at most once; nothing else."""
    arrived: Counter[tuple[str, str]] = Counter()
    for call in driver.fake.calls():
        if call.method.lower() in ("sendmessage", "senddocument") and call.status == 200:
            said = call.params.get("text", call.params.get("caption"))
            arrived[(str(call.chat_id), str(said))] += 1
    parts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    statuses: Counter[str] = Counter()
    for address, body, status in _rows(
        connection, "SELECT address, text_html, status FROM outbox_messages"
    ):
        key = (address, body)
        parts[key][status] += 1
        statuses[status] += 1
    for status, count in sorted(statuses.items()):
        outcome.figures[f"message parts {status}"] = count
    for status in ("pending", "sending"):
        if statuses[status]:
            outcome.failures.append(f"{statuses[status]} message part(s) left {status}")
    doubled = missing = stray = 0
    for key in set(parts) | set(arrived):
        sent, unsure, times = parts[key]["sent"], parts[key]["uncertain"], arrived[key]
        if times > sent + unsure:
            doubled += times > 0 and sent + unsure > 0
            stray += sent + unsure == 0
            outcome.failures.append(f"{key[0]} received {times}× a part sent {sent}×: {key[1]:.80}")
        elif times < sent:
            missing += 1
            outcome.failures.append(f"{key[0]} never received a part marked sent: {key[1]:.80}")
    uncertain = len(driver.status.get("uncertain", []))
    outcome.figures["uncertain listed by status"] = uncertain
    if uncertain < statuses["uncertain"]:
        outcome.failures.append(
            f"status lists {uncertain} uncertain part(s), the outbox holds {statuses['uncertain']}"
        )
    outcome.figures["parts received by Telegram"] = sum(arrived.values())


def _check_events(connection: Any, driver: Driver, outcome: Outcome) -> None:
    """Every alert event has a delivery to each person the directory routes it to (the
    blocked user's address aside, once given up), one each, each settled: sent, in a
    summary, uncertain, or failed on the blocked user's address."""
    events = _rows(connection, "SELECT id, kind FROM alert_events")
    routed = _routed(connection, driver)
    by_event: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for event, person, status in _rows(
        connection, "SELECT event_id, person_id, status FROM deliveries WHERE event_id IS NOT NULL"
    ):
        by_event[event].append((person, status))
    kinds = Counter(kind for _, kind in events)
    for kind, count in sorted(kinds.items()):
        outcome.figures[f"alert events {kind}"] = count
    settled: Counter[str] = Counter()
    unrouted = 0
    for event, _ in events:
        people = Counter(person for person, _ in by_event[event])
        if any(n > 1 for n in people.values()):
            outcome.failures.append(f"event {event} has two deliveries to one person: {people}")
        if set(people) - routed[event] or routed[event] - set(people) - {"chan"}:
            unrouted += 1
            if unrouted <= 5:
                wanted = sorted(routed[event])
                outcome.failures.append(f"event {event}: to {sorted(people)}, routed to {wanted}")
        for _, status in by_event[event]:
            settled[status] += 1
    for status, count in sorted(settled.items()):
        outcome.figures[f"event deliveries {status}"] = count
    outcome.figures["events not delivered as routed"] = unrouted
    unsettled = settled["pending"] + settled["sending"]
    if unsettled:
        outcome.failures.append(f"{unsettled} event deliveries left unsettled")
    blocked = [d for d in driver.status.get("deactivated_recipients", [])]
    outcome.figures["deactivated recipients"] = len(blocked)
    failed_elsewhere = _rows(
        connection,
        "SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND person_id != 'chan'",
    )[0][0]
    if failed_elsewhere:
        outcome.failures.append(f"{failed_elsewhere} deliveries failed to reachable people")


def _routed(connection: Any, driver: Driver) -> dict[int, set[str]]:
    """Who each event goes to, by the directory's routing (the engine's own rules: the
    recipients of a change, the summary's person, the targets of the nth escalation since
    the alert last fired)."""
    from service.config import load_settings
    from service.delivery import setup
    from service.delivery.directory import escalation_targets, recipients

    directory = setup.directory(load_settings(driver.config, {}, driver.driver_url))
    routed: dict[int, set[str]] = {}
    levels: Counter[int] = Counter()
    for event, kind, alert, fingerprint, rule, unit, province, topic in _rows(
        connection,
        "SELECT e.id, e.kind, a.id, a.fingerprint, a.rule_id, a.unit_code, a.province_code, "
        "a.topic FROM alert_events e JOIN alerts a ON a.id = e.alert_id ORDER BY e.id",
    ):
        summary = rule == "summary"
        owner = fingerprint.split("|")[1] if summary else None
        if kind == "fired" or (summary and kind != "escalated"):
            levels[alert] = 0  # escalation starts again (a summary's: at each new text)
        if kind == "escalated":
            levels[alert] += 1
            people = escalation_targets(directory, unit, province, levels[alert])
            routed[event] = {p.id for p in people if p.id != owner}
        elif summary:
            routed[event] = {str(owner)}
        else:
            routed[event] = {p.id for p in recipients(directory, unit, province, topic)}
    return routed


def _check_notices(connection: Any, driver: Driver, outcome: Outcome) -> None:
    """Each monthly notice due in the window: one file (v1), one delivery per recipient."""
    from jobs.plan import expected_notices, notice_scope
    from service.calendar import WorkCalendar
    from service.config import load_settings

    settings = load_settings(driver.config, {}, driver.driver_url)
    from service.alerts import setup

    calendar: WorkCalendar = setup.policy(settings).calendar
    start = dt.datetime.combine(driver.options.start, dt.time(0), LOCAL_TZ)
    end = start + dt.timedelta(days=driver.options.days)
    units = [notice_scope(u.kind, u.unit, u.scheme) for u in settings.notices.units]
    due = expected_notices(calendar, settings.notices.working_day, units, start, end)
    files = Counter(
        (notice_scope(kind, unit, scheme), period, version)
        for kind, scheme, unit, period, version in _rows(
            connection, "SELECT kind, scheme, unit_code, period, version FROM notice_files"
        )
    )
    outcome.figures["notices due"] = len(due)
    outcome.figures["notice files"] = sum(files.values())
    for notice in due:
        if files[(notice.scope, notice.period, 1)] != 1:
            outcome.failures.append(f"notice {notice.scope} {notice.period}: not written once")
    if any(version != 1 for (_, _, version) in files):
        outcome.failures.append("a notice was written again (a version above 1)")
    sends = _rows(
        connection,
        "SELECT idempotency_key, status FROM deliveries WHERE idempotency_key LIKE 'notice:%'",
    )
    outcome.figures["notice deliveries"] = len(sends)
    outcome.figures["notice documents received"] = len(
        [c for c in driver.fake.calls("sendDocument") if c.status == 200]
    )
    if len(due) and not sends:
        outcome.failures.append("no notice was queued to anybody")


# --- running it -------------------------------------------------------------------------


def soak(options: Options, pg: str | None, label: str, keep_log: bool = False) -> Outcome:
    """One soak on SQLite (`pg` None) or a scratch schema of `pg`; with `keep_log`, the
    worker's log of a failed soak is kept in the temporary folder."""
    outcome = Outcome(label, options.seed)
    started = time.perf_counter()
    source = DailySource(
        options.seed,
        options.provinces,
        options.communes,
        options.agencies,
        day=options.start,
        share=options.share,
    )
    tripwire = Tripwire()
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as name,
        PortalSimulator(WatchedSource(source, tripwire)) as simulator,
        FakeTelegram(
            on_request=lambda call: (
                tripwire.hit("telegram") if call.method.lower().startswith("send") else None
            )
        ) as fake,
        database(pg, Path(name), "soak") as urls,
    ):
        folder = Path(name)
        fake.fail("*", "blocked", chat_id=CHATS["chan"], times=None)
        config = write_config(folder, options, simulator.base_url, fake.base_url)
        _upgrade(urls[1])
        driver = Driver(options, folder, config, urls, source, fake, simulator, tripwire)
        driver.run()
        outcome.failures += driver.failures
        outcome.counts = driver.counts
        check(driver, outcome)
        units = _rows_count(urls[1], "SELECT COUNT(*) FROM units")
        size, shares = size_of(urls[1])
        outcome.figures["units"] = units
        outcome.figures["database bytes"] = size
        outcome.figures["database bytes by table"] = ", ".join(
            f"{table} {share / 2**20:.1f} MB"
            for table, share in sorted(shares.items(), key=lambda item: -item[1])
            if share
        )
        outcome.figures["bytes per unit per day"] = round(size / max(1, units * options.days))
        peak = max(driver.peaks) / 1024
        outcome.figures["worker processes"] = len(driver.peaks)
        outcome.figures["peak worker RSS MB"] = round(peak, 1)
        for kind, seconds in driver.took.items():
            outcome.figures[f"seconds in {kind} phases"] = round(seconds, 1)
        if peak > options.max_rss_mb:
            outcome.failures.append(f"the worker's peak RSS {peak:.0f} MB > {options.max_rss_mb}")
        if outcome.failures and keep_log:
            keep = Path(tempfile.gettempdir()) / f"soak-{label}-{options.seed}.log"
            keep.write_bytes((folder / "worker.log").read_bytes())
            outcome.figures["worker log"] = str(keep)
    outcome.figures["seconds"] = round(time.perf_counter() - started, 1)
    return outcome


def _upgrade(url: str) -> None:
    from service.app import App
    from service.config import Settings

    app = App(Settings.model_validate({"database": {"url": url}}))
    app.upgrade()
    app.engine.dispose()


def _rows_count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def report(outcome: Outcome) -> str:
    lines = [f"{outcome.label}: seed {outcome.seed}"]
    lines += [f"  fault {name}: {count}" for name, count in sorted(outcome.counts.items())]
    lines += [f"  {name}: {value}" for name, value in outcome.figures.items()]
    lines += [f"  FAILED: {failure}" for failure in outcome.failures]
    lines.append(f"  {'FAILED' if outcome.failures else 'passed'}")
    return "\n".join(lines)


def arguments(argv: list[str] | None = None) -> tuple[Options, str | None, bool]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seed", type=int, help="the plan's seed (default: drawn and printed)")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--start", default="2026-09-20", help="first simulated day")
    parser.add_argument("--provinces", type=int, default=34, help="generated provinces")
    parser.add_argument("--communes", type=int, default=3321)
    parser.add_argument("--agencies", type=int, default=700)
    parser.add_argument("--watch", type=int, default=3, help="provinces dvcwatch watches")
    parser.add_argument("--share", type=float, default=0.05, help="units changing a day")
    parser.add_argument("--kill-rate", type=float, default=0.1, help="of cycles killed")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="of cycles with a fault")
    parser.add_argument("--max-rss-mb", type=float, default=400.0)
    parser.add_argument("--pg", help="also soak on this PostgreSQL URL (a scratch schema)")
    parser.add_argument("--only-pg", action="store_true", help="skip the SQLite soak")
    parser.add_argument("--break", dest="broken", choices=("snapshots",), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    options = Options(
        seed,
        args.days,
        dt.date.fromisoformat(args.start),
        args.provinces,
        args.communes,
        args.agencies,
        args.share,
        min(args.watch, args.provinces),
        args.kill_rate,
        args.fault_rate,
        args.max_rss_mb,
        args.broken,
    )
    return options, args.pg, args.only_pg


def main(argv: list[str] | None = None) -> int:
    options, pg, only_pg = arguments(argv)
    # A stop (SIGTERM) unwinds: the scratch schema is dropped, the worker sees its input end.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(143))
    print(
        f"soak: seed {options.seed}; {options.days} days from {options.start}; "
        f"{options.provinces} provinces ({options.watch} watched); machine "
        f"{platform.machine()}, {os.cpu_count()} cpu, Python {platform.python_version()}",
        flush=True,
    )
    targets = ([] if only_pg else [("SQLite", None)]) + ([("PostgreSQL", pg)] if pg else [])
    failed = False
    for label, url in targets:
        outcome = soak(options, url, label, keep_log=True)
        print(report(outcome), flush=True)
        failed |= bool(outcome.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
