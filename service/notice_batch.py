"""Writing several notices in one go: `dvcwatch notice --all` and the monthly job.

Each notice is written in its own transaction through `write_notice`, so one unit
that cannot be written (no figures, a PDF that failed, a full disk) neither undoes nor
stops the others; each ends as `written`, `already` (archived earlier, left as it was)
or `failed` with its reason. Files written in a transaction that does not commit are
removed: what is on disk as a version is what the archive holds. A bug is not an
outcome: it propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from service.config import NoticeSettings
from service.notices.paths import UnsafeOutputPath
from service.notices.produce import NoticeError, Outcome, Request, Written, write_notice
from service.periods import Period
from service.scoring.book import SchemeBook
from service.scoring.report import score_rows

WRITTEN, ALREADY, FAILED = "written", "already", "failed"


@dataclass(frozen=True)
class Item:
    request: Request
    result: str  # written, already or failed (nothing written)
    files: list[Written] = field(default_factory=list)
    reason: str | None = None  # why it failed, or what is missing (no PDF) from its files
    error: OSError | None = None  # the disk's or the folder's failure, naming the file


@dataclass
class Batch:
    items: list[Item] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(item.result == result for item in self.items)

    @property
    def failed(self) -> list[Item]:
        """Every notice not written whole: nothing written, or a format missing."""
        return [item for item in self.items if item.reason is not None]

    def summary(self) -> str:
        incomplete = len(self.failed) - self.count(FAILED)
        return (
            f"{self.count(WRITTEN)} written, {self.count(ALREADY)} already written, "
            f"{self.count(FAILED)} failed"
            + (f" ({incomplete} written without every format)" if incomplete else "")
        )


#: Called inside each notice's transaction once it is written (e.g. to queue its files).
AfterWrite = Callable[[Session, Request, list[Written]], None]


def set_members(
    session: Session, book: SchemeBook, scheme: str, parent: str, period: Period
) -> list[str]:
    """The codes of the units of `parent`'s set that have figures for `period`."""
    rows = score_rows(session, book, scheme, period, parent)
    return sorted({str(row["unit_code"]) for row in rows if row.get("unit_code")})


def write_batch(
    sessions: sessionmaker[Session],
    book: SchemeBook,
    settings: NoticeSettings,
    requests: Sequence[Request],
    out_dir: Path,
    formats: Sequence[str],
    force: bool = False,
    after: AfterWrite | None = None,
    on_item: Callable[[Item], None] | None = None,
) -> Batch:
    """Write every request's notice (see module doc); `on_item` hears each as it ends."""
    batch = Batch()
    for request in requests:
        item = _write_one(sessions, book, settings, request, out_dir, formats, force, after)
        batch.items.append(item)
        if on_item is not None:
            on_item(item)
    return batch


def _write_one(
    sessions: sessionmaker[Session],
    book: SchemeBook,
    settings: NoticeSettings,
    request: Request,
    out_dir: Path,
    formats: Sequence[str],
    force: bool,
    after: AfterWrite | None,
) -> Item:
    try:  # a failure after the files were placed takes them away (`placing`)
        with sessions.begin() as session:
            outcome: Outcome = write_notice(
                session, book, settings, request, out_dir, formats, force
            )
            if after is not None:
                after(session, request, outcome.files)
    except BaseException as exc:
        if isinstance(exc, NoticeError | UnsafeOutputPath):
            # said of the request, not of an option: a batch or a job typed no --unit
            reason = str(exc).removeprefix(f"--unit {request.unit}: ")
            return Item(request, FAILED, reason=reason)
        if isinstance(exc, OSError):
            return Item(request, FAILED, reason=_said(exc), error=exc)
        raise
    if not outcome.files:
        return Item(request, FAILED, reason=outcome.problem or "no file written")
    result = WRITTEN if any(item.new for item in outcome.files) else ALREADY
    return Item(request, result, outcome.files, outcome.problem)


def _said(error: OSError) -> str:
    """`error` in one line, naming its file: "…/v1.html: No space left on device"."""
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"
