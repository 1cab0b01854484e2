"""Sync one province-period of the national index from the portal into snapshots.

The run is recorded first (so even a crash leaves a trace), every response is
archived raw, committed in the client's pauses and before anything is parsed
(`raw_archive.RawArchive`), and the snapshots are written in one transaction
together with the run's success, only after all seven datasets were fetched
and parsed. Any failure stores no snapshot and records the reason and its
kind: blocked, unavailable, bad_response, deadline (the run's own), parse,
unknown_province; and, raised after recording, internal (a bug) or
interrupted. A run records its owner and a lease (`service.runs`); runs of a
process that is gone are closed before a new one starts. A province the portal
does not list is recorded as a `province-check` run, not a `sync`, so that a
mistyped code leaves no "never synced" scope behind for the alerts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service import claims
from service.claims import Deposed
from service.clock import utcnow
from service.config import PortalSettings
from service.figures import UnitRecord
from service.indicators import NATIONAL
from service.models import FetchRun, RunStatus, Unit, UnitGroup
from service.periods import Period
from service.portal.api import PROVINCE_ENDPOINTS, SERVICE_RESULTS
from service.portal.checks import CODE_LENGTH, ParseError, RecordReader, as_text, is_code
from service.portal.client import PortalClient, PortalError
from service.portal.parse import parse_province, read_identity
from service.raw_archive import RawArchive
from service.runs import close_abandoned, close_deposed, start_run
from service.snapshots import NonFiniteFigure, SnapshotKey, store_snapshots

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
    say = progress or (lambda _message: None)
    close_abandoned(sessions)
    run_id = start_run(sessions, "sync", province_ref[:SCOPE_LENGTH], str(period))
    archive = RawArchive(sessions, run_id)
    client = PortalClient(settings, archive.receive, session=http, before_wait=archive.commit)
    try:
        return _sync(
            sessions,
            client,
            archive,
            listing or ProvinceListing(),
            province_ref,
            period,
            today,
            say,
        )
    except Deposed as exc:  # its sessions are fenced: nothing more it writes would commit
        reason = f"this process lost the leadership during the sync: {exc}"
        close_deposed(claims.unfenced(sessions), run_id, reason)
        log.warning("sync run %s stopped: %s", run_id, reason)
        raise
    except EXPECTED_FAILURES as exc:
        archive.finish()  # before the failure is recorded
        status = RunStatus.BLOCKED if exc.kind == "blocked" else RunStatus.FAILED
        _finish_failed(sessions, run_id, status, exc.kind, str(exc))
        return SyncOutcome(run_id, status, province_ref, str(period), error=str(exc), kind=exc.kind)
    except BaseException as exc:
        kind = "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "internal"
        _record_crash(sessions, archive, kind, exc)
        raise


def _sync(
    sessions: sessionmaker[Session],
    client: PortalClient,
    archive: RawArchive,
    listing: ProvinceListing,
    province_ref: str,
    period: Period,
    today: dt.date,
    say: Say,
) -> SyncOutcome:
    run_id = archive.run_id
    province = resolve_province(sessions, client, province_ref, period, listing)
    datasets: dict[str, Any] = {}
    label = f"{province.code or province_ref} {period}"
    for number, endpoint in enumerate(PROVINCE_ENDPOINTS, start=1):
        say(f"[{number}/{len(PROVINCE_ENDPOINTS)}] {label}: {endpoint}")
        datasets[endpoint] = client.fetch_province(endpoint, province.department_id, period)
    archive.finish()  # every answer is already kept, before anything is read
    parsed = parse_province(province.department_id, datasets)
    own = UnitRecord(
        province.department_id,
        province.code,
        province.name,
        UnitGroup.PROVINCE,
        parsed.province.figures,
    )
    key = snapshot_key(period, today)
    with sessions.begin() as session:
        result = store_snapshots(session, key, parsed.units, own, run_id)
        if own.figures:
            result += store_snapshots(session, key, [own], None, run_id)
        run = session.get_one(FetchRun, run_id)
        run.status, run.finished_at = RunStatus.OK, utcnow()
        run.error_kind = run.error = None  # closed meanwhile as abandoned: it did finish
        run.units_seen, run.snapshots_written = len(parsed.units), result.written
    return SyncOutcome(
        run_id,
        RunStatus.OK,
        province_ref,
        str(period),
        len(parsed.units),
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
    with sessions.begin() as session:
        run = session.get_one(FetchRun, run_id)
        run.status, run.error_kind, run.error, run.finished_at = status, kind, error, utcnow()
        if kind == UnknownProvince.kind:
            run.job = "province-check"
