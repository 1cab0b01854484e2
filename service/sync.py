"""Sync one province-period of the national index from the portal into snapshots.

The run is recorded first (so even a crash leaves a trace), every response is
archived raw, committed in the client's pauses and before anything is parsed
(`raw_archive.RawArchive`), and the snapshots are written in one transaction
together with the run's success, only after all seven datasets were fetched
and parsed. Any failure stores no snapshot and records the reason and its
kind: blocked, unavailable, bad_response, deadline (the run's own), parse,
unknown_province; and, raised after recording, internal (a bug) or
interrupted. A run records its owner and a lease (`service.runs`); runs of a
process that is gone are closed before a sync (of one province or several)
starts. A province the portal does not list is recorded as a `province-check`
run, not a `sync`, so that a mistyped code leaves no "never synced" scope behind
for the alerts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import logging
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import requests
from sqlalchemy import Table, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service import claims
from service.claims import Deposed
from service.clock import utcnow
from service.config import PortalSettings
from service.db import make_engine, session_factory
from service.dbfacts import DatabaseError, failure_line
from service.figures import UnitRecord
from service.indicators import NATIONAL
from service.models import FetchRun, RunStatus, Unit, UnitGroup
from service.periods import Period
from service.portal.api import PROVINCE_ENDPOINTS, SERVICE_RESULTS
from service.portal.checks import CODE_LENGTH, ParseError, RecordReader, as_text, is_code
from service.portal.client import (
    EnvironmentOnce,
    PortalClient,
    PortalError,
    joined,
)
from service.portal.parse import ParsedProvince, parse_province, read_identity
from service.portal.plain import read_plain
from service.raw_archive import RawArchive
from service.runs import close_abandoned, close_deposed, start_run
from service.second_process import SecondProcess
from service.snapshots import (
    NonFiniteFigure,
    SnapshotKey,
    StoreResult,
    figure_sets,
    store_snapshots,
)

log = logging.getLogger(__name__)

#: The series of the portal's 2026 evaluation API. The pre-2025 `rest.jsp`
#: API scores differently and would be another source: no change across them.
SOURCE = f"portal-{NATIONAL}"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

SCOPE_LENGTH = 64  # fetch_runs.scope
Say = Callable[[str], None]  # told each step as it starts


class UnknownProvince(Exception):
    kind = "unknown_province"


#: What the portal or its data can do to a run: recorded as its outcome, not raised.
EXPECTED_FAILURES = (PortalError, ParseError, NonFiniteFigure, UnknownProvince)


@dataclass(frozen=True)
class SyncOutcome:
    run_id: int
    status: str
    scope: str
    period: str
    units: int = 0
    written: int = 0
    unchanged: int = 0
    revised: int = 0
    error: str | None = None
    kind: str | None = None  # of the failure: blocked, unavailable, unknown_province...


@dataclass(frozen=True)
class Province:
    department_id: str
    code: str | None
    name: str


class ProvinceListing:
    """The portal's list of provinces, asked at most once per period by a run of several
    syncs (`dvcwatch sync` of many provinces): 1 + 7 requests a province, not 8. The
    answer is archived by the sync that asked for it."""

    def __init__(self) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def rows(self, client: PortalClient, period: Period) -> list[dict[str, Any]]:
        if str(period) not in self._rows:
            listed = client.fetch_provinces(period)
            rows = listed.get(SERVICE_RESULTS.list_key) if isinstance(listed, dict) else None
            rows = rows if isinstance(rows, list) else []
            self._rows[str(period)] = [row for row in rows if isinstance(row, dict)]
        return self._rows[str(period)]


def snapshot_key(period: Period, today: dt.date) -> SnapshotKey:
    """A closed period is read as final on its last day; a running one as of today."""
    if period.is_closed(today):
        return SnapshotKey(SOURCE, NATIONAL, str(period), period.last_day, "final")
    return SnapshotKey(SOURCE, NATIONAL, str(period), today, "running")


@dataclass(frozen=True)
class Answers:
    """What the portal answered for one province: the bodies of the seven datasets
    (each endpoint's pages in order), every one an answer the client accepted."""

    province: Province
    bodies: dict[str, list[bytes]]


@dataclass(frozen=True)
class Prepared:
    """A province's answers checked and read: its units (without their figures) and the
    figure set of each (`snapshots.figure_sets`), the province's own last."""

    province: UnitRecord
    units: tuple[UnitRecord, ...]
    sets: tuple[tuple[str, str], ...]


def prepare(province: Province, bodies: Mapping[str, list[bytes]]) -> Prepared:
    """Check and read a province's answers (`bodies`: each endpoint's pages, in order)
    into what is stored: `plain.read_plain`, else, where a record needs the checks that
    name a problem, `parse_province`. Raises `ParseError` or `NonFiniteFigure`. The
    garbage collector waits meanwhile: a province makes a hundred thousand objects and
    no cycle, and collecting as they are made took half the time of reading a national
    sync."""
    with _collector_waiting():
        parsed = read_plain(province.department_id, bodies)
        if parsed is None:
            datasets = {endpoint: joined(endpoint, pages) for endpoint, pages in bodies.items()}
            parsed = parse_province(province.department_id, datasets)
        return _prepare(province, parsed)


@contextlib.contextmanager
def _collector_waiting() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _prepare(province: Province, parsed: ParsedProvince) -> Prepared:
    own = UnitRecord(
        province.department_id,
        province.code,
        province.name,
        UnitGroup.PROVINCE,
        parsed.province.figures,
    )
    records = [*parsed.units, own] if own.figures else list(parsed.units)
    sets = tuple(figure_sets(records))
    return Prepared(_bare(own), tuple(map(_bare, parsed.units)), sets)


@dataclass(frozen=True)
class ReadAnswers:
    """The second process's part on SQLite: read a province's answers from the bodies
    themselves (`prepare`); the process that fetched them stores them."""

    province: Province
    bodies: dict[str, list[bytes]]

    def __call__(self) -> Prepared:
        return prepare(self.province, self.bodies)


@dataclass(frozen=True)
class StorePrepared:
    """The second process's part on PostgreSQL: `store` what the process that fetched the
    answers read, on a connection of its own (`database`: a URL, password included; it
    never leaves the pipe)."""

    database: str = field(repr=False)
    run_id: int
    key: SnapshotKey
    prepared: Prepared

    def __call__(self) -> Stored:
        """Stored; a database failure is a `DatabaseError` of one line (no password)."""
        try:
            return store(_sessions_of(self.database), self.run_id, self.key, self.prepared)
        except SQLAlchemyError as exc:
            raise DatabaseError(failure_line(self.database, exc)) from None


def _done(part: ReadAnswers | StorePrepared) -> Prepared | Stored:
    """What the second process does with each request: its part of a province."""
    return part()


@functools.cache
def _sessions_of(database: str) -> sessionmaker[Session]:
    """The second process's own sessions (what the fork inherited is this process's)."""
    return session_factory(make_engine(database))


@dataclass(frozen=True)
class Stored:
    units: int
    result: StoreResult


def store(
    sessions: sessionmaker[Session], run_id: int, key: SnapshotKey, prepared: Prepared
) -> Stored:
    """The snapshots and the run's success, in one transaction (the garbage collector
    waiting, as in `prepare`)."""
    own, units = prepared.province, len(prepared.units)
    with _collector_waiting(), sessions.begin() as session:
        result = store_snapshots(session, key, prepared.units, own, run_id, prepared.sets[:units])
        if prepared.sets[units:]:
            result += store_snapshots(session, key, [own], None, run_id, prepared.sets[units:])
        # Every field written, not only those changed since the row was read: a failure
        # recorded meanwhile (Ctrl-C, abandoned) is overwritten whole, as it did finish.
        session.execute(
            update(_RUNS)
            .where(_RUNS.c.id == run_id)
            .values(
                status=RunStatus.OK,
                finished_at=utcnow(),
                error_kind=None,
                error=None,
                units_seen=units,
                snapshots_written=result.written,
            )
        )
    return Stored(units, result)


_RUNS = cast(Table, FetchRun.__table__)


def _bare(record: UnitRecord) -> UnitRecord:
    """The record without its figures (they travel as a figure set)."""
    return UnitRecord(record.department_id, record.code, record.name, record.group)


def sync_province(
    sessions: sessionmaker[Session],
    settings: PortalSettings,
    province_ref: str,
    period: Period,
    today: dt.date,
    progress: Say | None = None,
    http: requests.Session | None = None,
    listing: ProvinceListing | None = None,
) -> SyncOutcome:
    """Fetch, check and store one province-period (see module doc).

    Never raises for portal or data problems: they are the outcome's `status` and
    `error`, recorded in the run. Anything else (a bug, the database gone, Ctrl-C)
    is recorded as the run's failure too, then raised: no run is left `running`
    unless the process itself dies. Pass one `listing` to the syncs of one run.
    """
    close_abandoned(sessions)
    run = _Run(sessions, settings, province_ref, period, today, progress, http, listing)
    answers = run.guarded(run.fetch)
    if isinstance(answers, SyncOutcome):
        return answers
    prepared = run.guarded(lambda: prepare(answers.province, answers.bodies))
    if isinstance(prepared, SyncOutcome):
        return prepared
    return run.guarded(lambda: run.store(prepared))


def sync_provinces(
    sessions: sessionmaker[Session],
    settings: PortalSettings,
    province_refs: Sequence[str],
    period: Period,
    today: dt.date,
    progress: Callable[[int], Say | None] | None = None,
    http: requests.Session | None = None,
) -> Generator[SyncOutcome, None, None]:
    """`sync_province` of each of `province_refs` (one province list for them all), the
    outcomes in their order; `progress(i)` is told the steps of the i-th.

    With more than one province, a second process (`second_process`) takes a part of
    each province while this one fetches the next province's (`_Run.handed`): on
    SQLite it checks and reads the answers and this process stores them; on
    PostgreSQL this process reads them and it stores them, on a connection of its
    own. The portal still sees one request at a time, and every run is recorded as
    `sync_province` records it. A failure there that is the data's is the run's
    outcome; a bug there, or here, or Ctrl-C, ends every run still open as it ends
    the one it hit, except that a province the second process was storing is stored
    (it finishes the request in hand, and a run that finished is never recorded
    failed). For commands, not the leader's jobs: the second process's writes pass no
    leadership fence.
    """
    listing = ProvinceListing()
    told: Callable[[int], Say | None] = progress or (lambda _index: None)
    with contextlib.ExitStack() as stack:
        if http is None:  # one connection for them all
            http = stack.enter_context(EnvironmentOnce())
        if len(province_refs) < 2:
            for index, ref in enumerate(province_refs):
                yield sync_province(
                    sessions, settings, ref, period, today, told(index), http, listing
                )
            return
        yield from _pipelined(sessions, settings, province_refs, period, today, told, http, listing)


def _pipelined(
    sessions: sessionmaker[Session],
    settings: PortalSettings,
    province_refs: Sequence[str],
    period: Period,
    today: dt.date,
    told: Callable[[int], Say | None],
    http: requests.Session,
    listing: ProvinceListing,
) -> Iterator[SyncOutcome]:
    """`sync_provinces` with a second process taking its part of each province."""
    close_abandoned(sessions)  # once for them all
    expected = (ParseError, NonFiniteFigure, DatabaseError)
    with SecondProcess(_done, expected, "dvcwatch-sync") as reader:
        reading: _Run | None = None  # the run whose answers the second process reads
        open_runs: list[_Run] = []
        try:
            for index, ref in enumerate(province_refs):
                follows = index > 0
                run = _Run(
                    sessions, settings, ref, period, today, told(index), http, listing, follows
                )
                open_runs = [*(other for other in open_runs if not other.ended), run]
                fetched = run.guarded(run.fetch)
                part = (
                    run.guarded(functools.partial(run.handed, fetched))
                    if isinstance(fetched, Answers)
                    else fetched
                )
                del fetched  # the bodies are not needed any more
                previous, reading = reading, None
                read = previous.guarded(reader.receive) if previous else None
                if not isinstance(part, SyncOutcome):
                    reader.send(part)
                    reading = run
                if previous is not None and read is not None:
                    yield _outcome(previous, read)
                if isinstance(part, SyncOutcome):
                    yield part
            if reading is not None:
                yield _outcome(reading, reading.guarded(reader.receive))
        except BaseException as exc:
            for run in open_runs:
                run.end_by(exc)  # those not ended yet, as the run that failed
            raise


def _outcome(run: _Run, read: Stored | Prepared | SyncOutcome) -> SyncOutcome:
    """The run's outcome from what the second process answered: stored, read (this
    process stores it), or the run's failure."""
    if isinstance(read, Prepared):
        return run.guarded(lambda: run.store(read))
    return read if isinstance(read, SyncOutcome) else run.stored(read)


T = TypeVar("T")


class _Run:
    """One province's sync run: recorded, its answers fetched, then stored or failed.
    Every step goes through `guarded`, which records how the run ended."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: PortalSettings,
        province_ref: str,
        period: Period,
        today: dt.date,
        progress: Say | None,
        http: requests.Session | None,
        listing: ProvinceListing | None,
        follows: bool = False,
    ) -> None:
        """`follows`: another province's requests came just before (see `PortalClient`)."""
        self.sessions = sessions
        self.ref, self.period, self.today = province_ref, period, today
        self.say = progress or (lambda _message: None)
        self.listing = listing or ProvinceListing()
        self.ended = False
        self.id = start_run(sessions, "sync", province_ref[:SCOPE_LENGTH], str(period))
        self.archive = RawArchive(sessions, self.id)
        self.client = PortalClient(
            settings,
            self.archive.receive,
            session=http,
            before_wait=self.archive.commit,
            follows=follows,
        )

    def guarded(self, step: Callable[[], T]) -> T | SyncOutcome:
        """`step()`, or the outcome of the run it failed; a failure that is not the
        portal's or its data's is recorded, then raised."""
        try:
            return step()
        except EXPECTED_FAILURES as exc:
            self.archive.finish()  # before the failure is recorded
            status = RunStatus.BLOCKED if exc.kind == "blocked" else RunStatus.FAILED
            _finish_failed(self.sessions, self.id, status, exc.kind, str(exc))
            self.ended = True
            return SyncOutcome(
                self.id, status, self.ref, str(self.period), error=str(exc), kind=exc.kind
            )
        except BaseException as exc:
            self.end_by(exc)
            raise

    def end_by(self, exc: BaseException) -> None:
        """Record that the run ended by `exc` (a bug, Ctrl-C, a lost leadership), once."""
        if self.ended:
            return
        self.ended = True
        if isinstance(exc, Deposed):  # its sessions are fenced: nothing more would commit
            reason = f"this process lost the leadership during the sync: {exc}"
            close_deposed(claims.unfenced(self.sessions), self.id, reason)
            log.warning("sync run %s stopped: %s", self.id, reason)
            return
        stopped = KeyboardInterrupt | SystemExit | GeneratorExit
        kind = "interrupted" if isinstance(exc, stopped) else "internal"
        _record_crash(self.sessions, self.archive, kind, exc)

    def fetch(self) -> Answers:
        """The pages of the seven datasets, every answer kept before anything is read.
        Each page's envelope is checked without decoding its units (`checked_page`); one
        that must be decoded whole makes thousands of objects and no cycle, so the
        garbage collector waits meanwhile, as in `prepare`."""
        with _collector_waiting():
            return self._fetch()

    def _fetch(self) -> Answers:
        province = resolve_province(self.sessions, self.client, self.ref, self.period, self.listing)
        bodies: dict[str, list[bytes]] = {}
        label = f"{province.code or self.ref} {self.period}"
        for number, endpoint in enumerate(PROVINCE_ENDPOINTS, start=1):
            self.say(f"[{number}/{len(PROVINCE_ENDPOINTS)}] {label}: {endpoint}")
            bodies[endpoint] = self.client.fetch_pages(
                endpoint, province.department_id, self.period
            )
        self.archive.finish()  # every answer is already kept, before anything is read
        return Answers(province, bodies)

    def store(self, prepared: Prepared) -> SyncOutcome:
        """The snapshots and the run's success, in one transaction."""
        key = snapshot_key(self.period, self.today)
        return self.stored(store(self.sessions, self.id, key, prepared))

    def handed(self, answers: Answers) -> ReadAnswers | StorePrepared:
        """The second process's part of `answers`. On PostgreSQL it stores them, read
        here from what the fetch decoded: storing is the longer half there (the server's
        work) and reading the shorter. On SQLite it reads them and this process stores
        them: SQLite has one writer at a time, and a writer kept waiting retries after
        sleeps of up to 100 ms (with both processes writing, a national sync took 2.9 s
        instead of 2.4). Raises what `prepare` raises."""
        engine = self.sessions.kw["bind"]
        if engine.dialect.name == "sqlite":
            return ReadAnswers(answers.province, answers.bodies)
        prepared = prepare(answers.province, answers.bodies)
        database = engine.url.render_as_string(hide_password=False)
        return StorePrepared(database, self.id, snapshot_key(self.period, self.today), prepared)

    def stored(self, stored: Stored) -> SyncOutcome:
        """The outcome of the run whose snapshots are `stored`."""
        self.ended = True
        result = stored.result
        return SyncOutcome(
            self.id,
            RunStatus.OK,
            self.ref,
            str(self.period),
            stored.units,
            result.written,
            result.unchanged,
            result.revised,
        )


def resolve_province(
    sessions: sessionmaker[Session],
    client: PortalClient,
    ref: str,
    period: Period,
    listing: ProvinceListing,
) -> Province:
    """A province from its departmentId or its code (`H44`), asking the portal (once per
    `listing`) if needed."""
    with sessions() as session:
        column = Unit.department_id if _UUID.match(ref) else Unit.code
        known = session.scalars(
            select(Unit).where(column == ref, Unit.unit_group == UnitGroup.PROVINCE)
        ).first()
    if known is not None and known.department_id:
        return Province(known.department_id, known.code, known.name)
    if not is_code(ref):
        raise UnknownProvince(f"{ref!r:.80} is neither a province code nor a departmentId")
    rows = listing.rows(client, period)
    for row in rows:
        if ref in (row.get("departmentId"), row.get("departmentCode")):
            reader = RecordReader(SERVICE_RESULTS.name)
            department_id, code, name = read_identity(reader, row)
            if reader.problems:
                raise ParseError(reader.problems)
            return Province(department_id, code, name)
    if _UUID.match(ref):
        return Province(ref, None, "")
    codes = sorted(as_text(row.get("departmentCode"), CODE_LENGTH) for row in rows)
    raise UnknownProvince(
        f"province {ref!r} is not in the portal's list of {len(codes)} provinces "
        f"({', '.join(codes[:5])}{', ...' if len(codes) > 5 else ''})"
    )


def _record_crash(
    sessions: sessionmaker[Session], archive: RawArchive, kind: str, exc: BaseException
) -> None:
    """Keep what was received and record an unexpected end of the run without hiding
    it: if even that fails (the database may be what broke), say so in the log and let
    the first error go on."""
    run_id = archive.run_id
    if isinstance(exc, KeyboardInterrupt):
        reason = str(exc) if str(exc) else "Ctrl-C (SIGINT)"
        reason = f"interrupted by {reason}"
    elif isinstance(exc, GeneratorExit):  # `sync_provinces` closed before this run's turn
        reason = "the command stopped before this run's outcome was taken"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    try:
        archive.finish()
        _finish_failed(sessions, run_id, RunStatus.FAILED, kind, reason)
    except Exception:
        log.exception("sync run %s ended by %s and could not be recorded", run_id, kind)


def _finish_failed(
    sessions: sessionmaker[Session], run_id: int, status: str, kind: str, error: str
) -> None:
    """Record the run's failure, unless it finished meanwhile: a second process storing
    its snapshots while this one is interrupted commits them and the run's success."""
    values: dict[str, object] = {
        "status": status,
        "error_kind": kind,
        "error": error,
        "finished_at": utcnow(),
    }
    if kind == UnknownProvince.kind:
        values["job"] = "province-check"
    with sessions.begin() as session:
        session.execute(
            update(_RUNS).where(_RUNS.c.id == run_id, _RUNS.c.status != RunStatus.OK).values(values)
        )
