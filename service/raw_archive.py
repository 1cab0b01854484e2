"""The raw archive: every portal response of a run, kept before anyone parses it.

A response's metadata is a `RawResponse` row; its bytes are a `RawBody` named by
their SHA-256, stored once however many runs receive the same answer (a second
identical sync adds a few hundred bytes of metadata, not another copy).

A run's answers are committed before the client next waits (its polite pause
between requests, a backoff) and, at the latest, when the run has received them
all (`finish`), before anything parses their figures or records a failure: a run
that fails keeps its evidence. With the portal's pause (seconds, by default) that
is each answer during the pause after it, so a process killed mid-sync keeps all
but the answer in hand; with no pause (a local mirror, the benchmarks) a
province's seven answers are one transaction instead of seven, and a process
killed mid-province keeps none of that province's answers (never a snapshot).

A run whose answers are all, byte for byte, those of the previous run of the same
job, scope and period (same requests, statuses, content types, bodies; the
steady state of a portal that did not change) keeps no copy of their metadata:
when the run ends (`finish`), its rows give way to that run's id in
`fetch_runs.answers_as_run`. `answers_of` reads either.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zlib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
    """Keeps every response of a run (see module doc): `receive` holds one, `commit`
    writes those held, `finish` writes the rest and ends the run's archive."""

    def __init__(self, sessions: sessionmaker[Session], run_id: int) -> None:
        self.sessions = sessions
        self.run_id = run_id
        self._held: list[tuple[PortalResponse, str]] = []  # with the body's sha256
        self._compressed: dict[str, Future[bytes]] = {}  # by digest, made meanwhile

    def __call__(self, response: PortalResponse) -> None:
        """Keep `response` now, in a transaction of its own."""
        self.receive(response)
        self.commit()

    def receive(self, response: PortalResponse) -> None:
        """Hold `response` until the next commit; a large body starts being compressed
        at once, beside whatever this thread does meanwhile (zlib releases the GIL)."""
        digest = hashlib.sha256(response.body).hexdigest()
        self._held.append((response, digest))
        if len(response.body) >= _COMPRESS_BESIDE_BYTES and digest not in self._compressed:
            self._compressed[digest] = _compressor().submit(zlib.compress, response.body)

    def commit(self) -> None:
        """Write the responses received since the last commit, in one transaction."""
        if self._held:
            with self.sessions.begin() as session:
                self._write(session)
            self._held, self._compressed = [], {}  # once committed: a failed commit keeps them

    def finish(self) -> None:
        """The run receives nothing more: write what it holds and, if its answers were
        exactly the previous run's, name that run instead of keeping a copy of their rows."""
        with self.sessions.begin() as session:
            self._write(session)
            own = answers_of(session, self.run_id)
            repeated = _repeated(session, self.run_id, own) if own else None
            if repeated is not None:
                session.execute(delete(RawResponse).where(RawResponse.fetch_run_id == self.run_id))
                session.get_one(FetchRun, self.run_id).answers_as_run = repeated
        self._held, self._compressed = [], {}

    def _write(self, session: Session) -> None:
        """The held responses' rows and bodies, in `session`'s transaction."""
        if not self._held:
            return
        rows = [_metadata(self.run_id, response, digest) for response, digest in self._held]
        session.execute(insert(_RESPONSES), rows)  # a write first (`shared_rows`)
        bodies = {digest: response.body for response, digest in self._held}
        keep_bodies(session, bodies, self._compressed)
        renew(session, self.run_id)


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


def _metadata(run_id: int, response: PortalResponse, digest: str) -> dict[str, object]:
    """The `raw_responses` row of a response whose body has the sha256 `digest` (its
    bytes go to `raw_bodies`)."""
    return {
        "fetch_run_id": run_id,
        "endpoint": response.endpoint,
        "request_body": json.dumps(response.request_body, ensure_ascii=False),
        "http_status": response.status,
        "content_type": response.content_type,
        "fetched_at": response.fetched_at,
        "body": None,
        "body_sha256": digest,
        "body_size": len(response.body),
        "error": response.error,
    }


def keep_bodies(
    session: Session,
    bodies: Mapping[str, bytes],
    compressed: Mapping[str, Future[bytes]] | None = None,
) -> None:
    """Store each body under its digest unless it is there already, and hold them all
    until the transaction ends (`shared_rows`: a housekeeping pass cannot take one away
    under the response that names it). Compressed only when missing, unless
    `compressed` has it already."""
    missing = set(bodies) - held(session, _BODIES, bodies)
    compressed = compressed or {}
    rows = {
        digest: {
            "sha256": digest,
            "body": compressed[digest].result() if digest in compressed else zlib.compress(body),
            "size": len(body),
        }
        for digest, body in sorted(bodies.items())
        if digest in missing
    }
    if rows:
        insert_and_hold(session, _BODIES, rows)


#: From this size on, a body is compressed in a thread as soon as it is received.
_COMPRESS_BESIDE_BYTES = 16_384


@functools.cache
def _compressor() -> ThreadPoolExecutor:
    """One thread compressing bodies while the archive's thread goes on (made once)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="dvcwatch-zlib")


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


__all__ = [
    "RawArchive",
    "answers_of",
    "body_of",
    "drop_unreferenced_bodies",
    "keep_bodies",
]
