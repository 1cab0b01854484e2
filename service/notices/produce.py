"""Write one notice to files: read its figures, build it, chart it, render it, archive it.

The edge of the notices: the database is read here (never by a template),
the document is built by the pure `congvan` / `baocao`, rendered by
`render`, and every file is recorded in `notice_files` with its sha256 and
the snapshots it was built from. A notice already written for the period is
not written again unless `force` is given; then it becomes a new version.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, SessionTransaction

from service.clock import utcnow
from service.config import IssuerSettings, NoticeSettings
from service.files import Together
from service.indicators import NATIONAL
from service.notices import placing
from service.notices.baocao import baocao, members_of_set
from service.notices.congvan import comparable, congvan
from service.notices.documents import Issuer, Notice
from service.notices.models import NoticeFile
from service.notices.notice_charts import baocao_charts, congvan_charts
from service.notices.paths import notice_folder
from service.notices.render import (
    PdfConversionFailed,
    PdfUnavailable,
    docx_bytes,
    find_template,
    render_html,
    render_pdf,
)
from service.notices.sets import notice_set
from service.notices.texts import NoticeTexts, load_texts
from service.notices.tt01_notice import period_problem, tt01_notice
from service.notices.tt01_texts import load_tt01_texts
from service.periods import Period
from service.scoring.book import SchemeBook
from service.scoring.report import score_rows
from service.scoring.tt01 import TT01_KIND
from service.snapshots import StoredUnit, latest_units

log = logging.getLogger(__name__)

HISTORY_MONTHS = 12
#: `Session.info`'s key of the notice lock file a SQLite transaction holds.
NOTICE_LOCK = "dvcwatch.notice_lock"
NATIONAL_TITLE = (
    "Quyết định số 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ phê duyệt Bộ chỉ số chỉ "
    "đạo, điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp trong thực hiện thủ "
    "tục hành chính, dịch vụ công theo thời gian thực trên môi trường điện tử"
)
TT01_TITLE = (
    "Thông tư số 01/2018/TT-VPCP ngày 23/11/2018 của Văn phòng Chính phủ hướng dẫn thi hành "
    "một số quy định của Nghị định số 61/2018/NĐ-CP"
)


class NoticeError(ValueError):
    """The notice cannot be written as asked (unknown unit, no figures); says which."""


@dataclass(frozen=True)
class Request:
    kind: str  # "congvan" or "baocao"
    unit: str  # a unit code (congvan) or a comparison set's parent code (baocao)
    period: Period
    scheme: str = NATIONAL
    issuer: IssuerSettings = IssuerSettings()


@dataclass(frozen=True)
class Written:
    """One file of a notice."""

    path: Path
    format: str
    sha256: str
    version: int
    new: bool  # False: the archived file of an earlier run, left as it was


@dataclass(frozen=True)
class Outcome:
    files: list[Written]
    problem: str | None = None  # e.g. no PDF: LibreOffice is not installed


def write_notice(
    session: Session,
    book: SchemeBook,
    settings: NoticeSettings,
    request: Request,
    out_dir: Path,
    formats: Sequence[str],
    force: bool = False,
) -> Outcome:
    """The notice's files (new, or the archived ones when already written and not forced).

    A format asked for that the archive lacks (or whose file is gone) makes a new
    version of every format asked for, so one version's files always agree.

    A PDF that cannot be made (no LibreOffice, a failed conversion) does not undo
    the other formats: they are written and archived, and `problem` says why.

    A version's files are in its folder together or not at all: each is written whole
    into a hidden folder first and moved into place once all are (`files.Together`);
    a failure (a full disk: an `OSError` naming the file) or a kill before then leaves
    no file named as a version, and one while archiving (or a transaction that does not
    commit) takes them away again. A kill after placing, before the commit, leaves them
    to the next writer of the notice, which takes them away (`placing`).

    Files go to a folder of `out_dir` named from sanitised parts (see `paths`);
    `UnsafeOutputPath` when it would resolve elsewhere. Files and folders are
    created with the process's umask.
    """
    problem = period_problem(request.kind, request.scheme, request.period)
    if problem:
        raise NoticeError(problem)
    locked = _one_writer(session, request)
    archived = _archived(session, request)
    complete = {w.format for w in archived if w.path.exists()} >= set(formats)
    if archived and complete and not force:
        return Outcome([w for w in archived if w.format in formats])
    document, charts, snapshots = _build(session, book, settings, request)
    folder = notice_folder(out_dir, request.kind, request.scheme, request.unit, str(request.period))
    if locked:  # a version a killed writer never archived (unlocked, it may be alive)
        placing.undo_left_behind(session, folder)
    version = _free_version(folder, 1 + max((w.version for w in archived), default=0))
    with Together(folder) as together:
        problem = _render(document, charts, settings, request.kind, together, version, formats)
        _settled_at_the_end(session)
        digests = placing.announce(session, folder, together.staged_files())
        written = together.place()
        for path in written:
            _archive(session, request, path, digests[path.name], version, snapshots)
    files = [Written(p, p.suffix.lstrip("."), digests[p.name], version, True) for p in written]
    return Outcome(files, problem)


def _one_writer(session: Session, request: Request) -> bool:
    """Wait (until this transaction ends) for any other process writing a notice of this
    database: it then reads that one's archive, and says "already written" instead of
    writing the same notice again as the next version. PostgreSQL holds an advisory lock
    on the notice; SQLite, whose one write lock comes only with the archive's insert
    (after the files are placed), a lock on the file `notice_lock_path` names, for every
    notice of the database (one notice is written at a time there). Whether a lock is
    held (none for a SQLite database in memory or named by a `file:` URI)."""
    connection = session.connection()  # this transaction: its end releases the lock
    if connection.dialect.name == "postgresql":
        key = notice_lock_key(request)
        if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}):
            log.warning(
                "another process is writing the %s of %s for %s: waiting for it",
                request.kind, request.unit, request.period,
            )  # fmt: skip
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        return True
    path = notice_lock_path(connection.engine.url.database)
    if path is None:
        return False
    _locked_until_the_transaction_ends(session, path)
    return True


def notice_lock_key(request: Request) -> int:
    """PostgreSQL's advisory lock of a notice: of its kind, unit and period, so two writers
    of one folder always meet. The scheme, which its folder and archive name too, is left
    out: a province's own Báo cáo and the national one of the same month wait for each
    other (a lock wider than needed, never narrower)."""
    name = f"notice:{request.kind}:{request.unit}:{request.period}"
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


def notice_lock_path(database: str | None) -> Path | None:
    """The lock file of a SQLite database's notice writers, beside it ("….db-notices.lock");
    None for a database in memory (one process alone sees it) or named by a `file:` URI."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}-notices.lock")


def _locked_until_the_transaction_ends(session: Session, path: Path) -> None:
    """An exclusive `flock` on `path` (made if missing), released when the session's
    transaction commits, rolls back or is closed, or when the process ends. A
    transaction that holds it already (several notices in one) does not wait for itself."""
    if NOTICE_LOCK in session.info:
        return
    handle = path.open("a")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning(
                "another process is writing notices of this database (%s): waiting for it", path
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
    except BaseException:
        handle.close()
        raise
    session.info[NOTICE_LOCK] = handle
    _settled_at_the_end(session)


def _settled_at_the_end(session: Session) -> None:
    """`_transaction_ended` listens to the session (once, however many notices it writes)."""
    if not event.contains(session, "after_transaction_end", _transaction_ended):
        event.listen(session, "after_transaction_end", _transaction_ended)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    """A session's listener, when the whole transaction ends (not a savepoint): the files
    it placed go if it did not commit (`placing`), then the notice lock it held is
    released, in that order (the next writer may place the same names)."""
    if transaction.parent is not None:
        return
    try:
        placing.settle_uncommitted(session)
    finally:
        if handle := session.info.pop(NOTICE_LOCK, None):
            handle.close()  # which releases the lock


def _free_version(folder: Path, version: int) -> int:
    """`version`, or the first after it of which the folder holds no file: a file there
    that the archive does not know (written from another database, a copy an official
    edited and signed) is never written over."""
    while any(folder.glob(f"v{version}.*")):
        version += 1
    return version


def _build(
    session: Session, book: SchemeBook, settings: NoticeSettings, request: Request
) -> tuple[Notice, dict[str, bytes], list[int]]:
    texts = load_texts(settings.templates_dir)
    issuer = _issuer(request.issuer)
    if request.scheme == TT01_KIND:
        rows = score_rows(session, book, request.scheme, request.period)
        words = load_tt01_texts(settings.templates_dir)
        wording = (issuer, scheme_title(book, request.scheme), texts, words)
        built = tt01_notice(session, rows, request.unit, request.period, wording)
        if built is None:
            raise NoticeError(
                f"--unit {request.unit}: no tt01 units in this set for {request.period}"
            )
        return built[0], {}, built[1]
    parent = notice_set(session, request.kind, request.scheme, request.unit)
    rows = score_rows(session, book, request.scheme, request.period, parent=parent)
    previous = request.period.previous()
    previous_rows = score_rows(session, book, request.scheme, previous, parent=parent)
    if request.kind == "baocao":
        return _baocao(session, book, request, issuer, texts, rows, previous_rows)
    return _congvan(session, request, issuer, texts, rows, previous_rows)


def _congvan(
    session: Session,
    request: Request,
    issuer: Issuer,
    texts: NoticeTexts,
    rows: list[dict[str, Any]],
    previous_rows: list[dict[str, Any]],
) -> tuple[Notice, dict[str, bytes], list[int]]:
    row = next((r for r in rows if r["unit_code"] == request.unit), None)
    if row is None:
        raise NoticeError(
            f"--unit {request.unit}: no {request.scheme} figures for {request.period}"
        )
    before = next((r for r in previous_rows if r["unit_code"] == request.unit), None)
    now_unit = _stored(session, request.scheme, request.period, request.unit)
    before_unit = _stored(session, request.scheme, request.period.previous(), request.unit)
    document = congvan(
        row,
        before,
        now_unit.figures if now_unit else {},
        before_unit.figures if before_unit else None,
        issuer,
        request.period,
        None,
        texts,
    )
    set_rows = [
        r for r in rows if (r["parent_code"], r["group"]) == (row["parent_code"], row["group"])
    ]
    history = _history(session, request.scheme, request.period, request.unit)
    drawn_before = before if comparable(before, row) else None
    charts = congvan_charts(row, drawn_before, set_rows, history, texts.axis_names)
    ids = [u.snapshot_id for u in (now_unit, before_unit) if u and u.snapshot_id]
    return document, charts, [i for i in ids if i is not None]


def _baocao(
    session: Session,
    book: SchemeBook,
    request: Request,
    issuer: Issuer,
    texts: NoticeTexts,
    rows: list[dict[str, Any]],
    previous_rows: list[dict[str, Any]],
) -> tuple[Notice, dict[str, bytes], list[int]]:
    members = members_of_set(rows, request.unit)
    if not members:
        raise NoticeError(f"--unit {request.unit}: no units of this set for {request.period}")
    earlier = [r for r in previous_rows if r["parent_code"] == request.unit]
    title = scheme_title(book, request.scheme)
    document = baocao(members, earlier or None, issuer, request.period, title, texts)
    codes = {r["unit_code"] for r in members}
    units = latest_units(session, request.scheme, str(request.period), parents={request.unit})
    ids = [u.snapshot_id for u in units if u.label in codes and u.snapshot_id is not None]
    return document, baocao_charts(members), [i for i in ids if i is not None]


def scheme_title(book: SchemeBook, scheme: str) -> str:
    """The legal act a Báo cáo applies ("Thực hiện {scheme_title}.")."""
    if scheme == NATIONAL:
        return NATIONAL_TITLE
    provincial = book.provincial.get(scheme)
    if provincial is not None:
        return f"{provincial.legal_basis} ban hành {provincial.title}"
    return TT01_TITLE


def _render(
    document: Notice,
    charts: dict[str, bytes],
    settings: NoticeSettings,
    kind: str,
    together: Together,
    version: int,
    formats: Sequence[str],
) -> str | None:
    """Write the notice's files of `version` into `together` (none is in place yet); what
    is missing from them (no PDF, and why), if anything."""
    docx, html = f"v{version}.docx", f"v{version}.html"
    if "docx" in formats or "pdf" in formats:
        template = find_template(kind, settings.templates_dir, "docx")
        together.write(docx, docx_bytes(document, template, charts))
    if "html" in formats:
        template = find_template(kind, settings.templates_dir, "html")
        together.write(html, render_html(document, template, charts).encode("utf-8"))
    if "pdf" not in formats:
        return None
    try:
        with together.writing(f"v{version}.pdf"):
            timeout = settings.pdf_timeout_seconds
            render_pdf(together.staged(docx), together.staging, timeout)
    except (PdfUnavailable, PdfConversionFailed) as exc:
        return f"no PDF: {exc}"
    return None


def _stored(session: Session, scheme: str, period: Period, code: str) -> StoredUnit | None:
    found = latest_units(session, scheme, str(period), unit_code=code)
    return found[0] if found else None


def _history(
    session: Session, scheme: str, period: Period, code: str
) -> list[tuple[str, float | None]]:
    points: list[tuple[str, float | None]] = []
    month = period
    for _ in range(HISTORY_MONTHS):
        unit = _stored(session, scheme, month, code)
        points.insert(0, (str(month), unit.values.get("TOTAL") if unit else None))
        month = month.previous()
    while points and points[0][1] is None:
        points.pop(0)  # months before the unit's first figures are not a fall to zero
    return points


def _issuer(settings: IssuerSettings) -> Issuer:
    return Issuer(**settings.model_dump())


def _archived(session: Session, request: Request) -> list[Written]:
    newest = session.scalar(select(func.max(NoticeFile.version)).where(*_same_notice(request)))
    if newest is None:
        return []
    files = session.scalars(
        select(NoticeFile).where(*_same_notice(request), NoticeFile.version == newest)
    )
    return [Written(Path(f.path), f.format, f.sha256, f.version, False) for f in files]


def _same_notice(request: Request) -> tuple[Any, ...]:
    return (
        NoticeFile.kind == request.kind,
        NoticeFile.scheme == request.scheme,
        NoticeFile.unit_code == request.unit,
        NoticeFile.period == str(request.period),
    )


def _archive(
    session: Session, request: Request, path: Path, sha256: str, version: int, snapshots: list[int]
) -> None:
    session.add(
        NoticeFile(
            kind=request.kind,
            scheme=request.scheme,
            unit_code=request.unit,
            period=str(request.period),
            format=path.suffix.lstrip("."),
            version=version,
            path=str(path.absolute()),  # found again from any working folder (cron's too)
            sha256=sha256,
            size=path.stat().st_size,
            snapshot_ids=",".join(str(i) for i in sorted(set(snapshots))),
            created_at=utcnow(),
        )
    )
    session.flush()
