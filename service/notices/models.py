"""The archive of the documents dvcwatch writes (notices and reports)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.clock import utcnow
from service.models import Base


class NoticeFile(Base):
    """A document dvcwatch wrote, archived with its fingerprint and its sources.

    Unique per (kind, scheme, unit, period, format, version): regenerating
    (`--force`) adds a version, never overwrites one; the Báo cáo of a province's
    own index and the national one of the same units and month are two notices.
    `snapshot_ids` (comma-separated) are the snapshots the figures came from.
    """

    __tablename__ = "notice_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    scheme: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer, default=1)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    snapshot_ids: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "kind", "scheme", "unit_code", "period", "format", "version", name="uq_notice_file"
        ),
    )
