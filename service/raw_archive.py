"""The raw archive: every portal response of a run, kept before anyone parses it.

A response's metadata is a `RawResponse` row; its bytes are a `RawBody` named by
their SHA-256, stored once however many runs receive the same answer (a second
identical sync adds a few hundred bytes of metadata, not another copy).

Each response is committed as it arrives, before anything is parsed, with the
run's lease: a run that fails later, or a process killed mid-sync, keeps what it
received. (Committing in batches saved a few tenths of a second of a national sync
with no pause between requests, and cost a killed process its evidence.)

A run whose answers are all, byte for byte, those of the previous run of the same
job, scope and period (same requests, statuses, content types, bodies; the
steady state of a portal that did not change) keeps no copy of their metadata:
when the run ends (`finish`), its rows give way to that run's id in
`fetch_runs.answers_as_run`. `answers_of` reads either.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import cast

from sqlalchemy import Table, delete, exists, insert, select
from sqlalchemy.orm import Session, sessionmaker

from service.models import FetchRun, RawBody, RawResponse
from service.portal.client import PortalResponse
from service.runs import renew
from service.shared_rows import delete_unheld, held, insert_and_hold

_RESPONSES = cast(Table, RawResponse.__table__)
_BODIES = cast(Table, RawBody.__table__)


class RawArchive:
    """Keeps every response of a run as it arrives (see module doc)."""

    def __init__(self, sessions: sessionmaker[Session], run_id: int) -> None:
        self.sessions = sessions
        self.run_id = run_id

    def __call__(self, response: PortalResponse) -> None:
        row = _metadata(self.run_id, response)
        with self.sessions.begin() as session:  # one commit per response
            session.execute(insert(_RESPONSES), row)  # a write first (`shared_rows`)
            keep_body(session, str(row["body_sha256"]), response.body)
            renew(session, self.run_id)

    def finish(self) -> None:
        """The run receives nothing more: if its answers were exactly the previous
        run's, name that run instead of keeping a copy of their rows."""
        with self.sessions.begin() as session:
            own = answers_of(session, self.run_id)
            repeated = _repeated(session, self.run_id, own) if own else None
            if repeated is not None:
                session.execute(delete(RawResponse).where(RawResponse.fetch_run_id == self.run_id))
                session.get_one(FetchRun, self.run_id).answers_as_run = repeated


def answers_of(session: Session, run_id: int) -> list[RawResponse]:
    """The answers a run received, in order, wherever their metadata is kept."""
    run = session.get_one(FetchRun, run_id)
    holder = run.answers_as_run or run.id
    query = select(RawResponse).where(RawResponse.fetch_run_id == holder).order_by(RawResponse.id)
    return list(session.scalars(query))


def _identity(row: RawResponse) -> tuple[object, ...]:
    return (
        row.endpoint,
        row.request_body,
        row.http_status,
        row.content_type,
        row.body_sha256,
        row.error,
    )


def _repeated(session: Session, run_id: int, rows: list[RawResponse]) -> int | None:
    """The run holding the previous run's answers if they are exactly `rows`."""
    run = session.get_one(FetchRun, run_id)
    previous = session.scalars(
        select(FetchRun)
        .where(
            FetchRun.job == run.job,
            FetchRun.scope == run.scope,
            FetchRun.period == run.period,
            FetchRun.id < run_id,
        )
        .order_by(FetchRun.id.desc())
        .limit(1)
    ).first()
    if previous is None:
        return None
    holder = previous.answers_as_run or previous.id
    earlier = answers_of(session, previous.id)
    if [_identity(row) for row in earlier] != [_identity(row) for row in rows]:
        return None
    return holder


def _metadata(run_id: int, response: PortalResponse) -> dict[str, object]:
    """The `raw_responses` row of a response (its bytes go to `raw_bodies`)."""
    return {
        "fetch_run_id": run_id,
        "endpoint": response.endpoint,
        "request_body": json.dumps(response.request_body, ensure_ascii=False),
        "http_status": response.status,
        "content_type": response.content_type,
        "fetched_at": response.fetched_at,
        "body": None,
        "body_sha256": hashlib.sha256(response.body).hexdigest(),
        "body_size": len(response.body),
        "error": response.error,
    }


def keep_body(session: Session, digest: str, body: bytes) -> None:
    """Store `body` under `digest` unless it is there already, and hold it until the
    transaction ends (`shared_rows`: a housekeeping pass cannot take it away under the
    response that names it). Compressed only when missing."""
    if held(session, _BODIES, [digest]):
        return
    row = {"sha256": digest, "body": zlib.compress(body), "size": len(body)}
    insert_and_hold(session, _BODIES, {digest: row})


def body_of(session: Session, response: RawResponse) -> bytes:
    """The bytes `response` received, wherever they are kept."""
    if response.body is not None:
        return zlib.decompress(response.body)
    stored = session.get_one(RawBody, response.body_sha256)
    return zlib.decompress(stored.body)


def drop_unreferenced_bodies(session: Session) -> int:
    """Delete the bodies no response names any more (after a retention pass)."""
    named = exists().where(RawResponse.body_sha256 == RawBody.sha256)
    return delete_unheld(session, _BODIES, ~named)


__all__ = ["RawArchive", "answers_of", "body_of", "drop_unreferenced_bodies", "keep_body"]
