"""The tables of the data spine: units, fetch runs, raw responses, snapshots, figures.

Times are stored as naive UTC (`utcnow()`); they are shown in
Asia/Ho_Chi_Minh at the edges. Keys make writes idempotent: a unit is unique by
its portal `department_id`, a snapshot by (source, scheme, unit, period,
as_of, revision), a figure by (snapshot, code).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.clock import utcnow
from service.states import RunStatus


class Base(DeclarativeBase):
    pass


class UnitGroup(StrEnum):
    """Where a unit sits since the 2025 reform: a province, its agencies, its communes."""

    PROVINCE = "PROVINCE"
    AGENCY = "AGENCY"
    COMMUNE = "COMMUNE"
    UNKNOWN = "UNKNOWN"  # an imported unit whose kind the table does not say


class FigureKind(StrEnum):
    """What a figure is: the portal's total, an axis (trục), a sub-indicator, a count."""

    TOTAL = "total"
    AXIS = "axis"
    METRIC = "metric"
    COUNT = "count"
    INDICATOR = "indicator"
    REPORTED = "reported"


class Unit(Base):
    """A scored unit: the portal's department, with its code, name and parent."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    code: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    unit_group: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FetchRun(Base):
    """One attempt of a job on a scope and period, with its outcome and reason."""

    __tablename__ = "fetch_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    units_seen: Mapped[int] = mapped_column(Integer, default=0)
    snapshots_written: Mapped[int] = mapped_column(Integer, default=0)
    # who runs it (see service.runs): a run past its lease, or of a dead local process,
    # is closed by the next command; a live one renews its lease as it works
    owner_host: Mapped[str | None] = mapped_column(String(255))
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    owner_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # the run whose archived answers this run received again, byte for byte (it keeps
    # no copy of their metadata; see service.raw_archive)
    answers_as_run: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_fetch_runs_job_scope_period", "job", "scope", "period"),
        Index("ix_fetch_runs_status", "status"),
    )


class RawBody(Base):
    """A portal answer's bytes (zlib-compressed), stored once however often it is
    received: responses name it by the SHA-256 of the uncompressed bytes."""

    __tablename__ = "raw_bodies"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)


class RawResponse(Base):
    """A portal response as received, archived before parsing: its bytes are the
    `RawBody` of `body_sha256` (`body` holds them only in rows archived before
    migration 0009)."""

    __tablename__ = "raw_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    fetch_run_id: Mapped[int] = mapped_column(ForeignKey("fetch_runs.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(64))
    request_body: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(128))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64), index=True)
    body_size: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class Snapshot(Base):
    """The figures of one unit for one period as read from `as_of` to `last_seen`.

    `source` names the data series (the portal's 2026 API, an import, ...);
    changes are never computed across two sources. A reading identical to the
    newest one (same figures, same completeness) only moves `last_seen` and
    `seen_at` forward: an unchanged day costs an update, not a copy. A changed
    figure for the same as-of date becomes a new `revision`, never an overwrite.
    The figures are the `FigureSet` named by `content_sha256`, shared by every
    snapshot (of any unit or day) that read exactly those figures.
    """

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    scheme: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[dt.date] = mapped_column(Date)
    last_seen: Mapped[dt.date] = mapped_column(Date)  # the last day read with these figures
    revision: Mapped[int] = mapped_column(Integer, default=1)
    completeness: Mapped[str] = mapped_column(String(16))
    content_sha256: Mapped[str] = mapped_column(  # its figures
        ForeignKey("figure_sets.sha256", name="fk_snapshots_content_sha256_figure_sets")
    )
    fetch_run_id: Mapped[int | None] = mapped_column(ForeignKey("fetch_runs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # when last read

    __table_args__ = (
        UniqueConstraint(
            "source", "scheme", "unit_id", "period", "as_of", "revision", name="uq_snapshot_key"
        ),
        Index("ix_snapshots_scheme_period", "scheme", "period"),
    )


class FigureSet(Base):
    """The figures of one or more snapshots, stored once under their fingerprint.

    `figures` is the canonical JSON of `service.figures.canonical_figures`: an array
    of rows in `FIGURE_FIELDS` order (code, kind, value, max_value, axis, numerator,
    denominator, ratio, text_value, quality_status, quality_message), sorted by
    code; `sha256` is its SHA-256, the `content_sha256` of every snapshot holding
    these figures. A null value is the portal's "no data": never read it as 0.
    """

    __tablename__ = "figure_sets"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    figures: Mapped[str] = mapped_column(Text)
