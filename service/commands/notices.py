"""`dvcwatch notice`: write a Công văn or a Báo cáo, or (`--all --parent`) the Công văn
of every unit of a comparison set, with progress and a summary.

The files are in `--out` (or `[notices] out_dir`) when the command ends, and the lines it
prints name them there: a notice already written into another folder (an earlier run's
`--out`) is copied into this one from the archive, never rewritten as a new version.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from service.app import App
from service.commands.common import EXIT_FAILED, EXIT_OK, UsageError, parse_period
from service.commands.progress import Progress
from service.config import IssuerSettings
from service.files import write_atomic
from service.models import Unit
from service.periods import Period

if TYPE_CHECKING:
    from service.notice_batch import Item
    from service.notices.produce import Request, Written

FORMATS = ("docx", "html", "pdf")


def run_notice(app: App, args: argparse.Namespace) -> int:
    period = parse_period(args.period)
    formats = _formats(app, args)
    out_dir: Path = args.out or app.settings.notices.out_dir
    if args.all:
        return _run_all(app, args, period, formats, out_dir)
    if args.unit is None:
        raise UsageError("notice: give --unit CODE, or --all --parent CODE for a whole set")
    if args.parent is not None:
        raise UsageError("--parent goes with --all (one notice: --unit CODE)")
    from service.notice_batch import FAILED, write_batch
    from service.notices.produce import Request

    _known_unit(app, "--unit", args.unit)
    configured = next(
        (u for u in app.settings.notices.units if (u.unit, u.kind) == (args.unit, args.kind)),
        None,
    )
    issuer = configured.issuer if configured else IssuerSettings()
    request = Request(args.kind, args.unit, period, args.scheme, issuer)
    batch = write_batch(
        app.sessions(), app.schemes, app.settings.notices, [request], out_dir, formats, args.force
    )
    item = batch.items[0]
    if item.error is not None:  # the disk's or the folder's: said as any command says it
        raise item.error
    try:
        placed = _placed(out_dir, request, item.files)
    except NotPlaced as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for written, source in placed:
        copied = f", copied from {source}" if source else ""
        note = f" (already written{copied}; --force writes a new version)"
        print(f"{written.path}{'' if written.new else note}")
    if item.result != FAILED:
        return EXIT_OK
    if not item.files:  # nothing could be written: the request itself cannot be met
        reason = str(item.reason)
        raise UsageError(reason if reason.startswith("--") else f"--unit {args.unit}: {reason}")
    print(f"dvcwatch: {item.reason}", file=sys.stderr)
    return EXIT_FAILED


def _run_all(
    app: App, args: argparse.Namespace, period: Period, formats: tuple[str, ...], out_dir: Path
) -> int:
    # the documents' libraries load only when documents are written
    from service.notice_batch import FAILED, WRITTEN, set_members, write_batch
    from service.notices.produce import Request

    if args.parent is None:
        raise UsageError("--all needs --parent CODE: the set whose units get a notice")
    if args.unit is not None:
        raise UsageError("--all writes every unit of --parent's set: leave out --unit")
    if args.kind != "congvan":
        raise UsageError("--all writes Công văn (--kind congvan); a Báo cáo is one per set")
    _known_unit(app, "--parent", args.parent)
    _has_units(app, args.parent)
    with app.sessions()() as session:
        members = set_members(session, app.schemes, args.scheme, args.parent, period)
    if not members:
        print(
            f"dvcwatch: no {args.scheme} figures of the units of {args.parent} for {period}: "
            "nothing to write",
            file=sys.stderr,
        )
        return EXIT_FAILED
    issuers = {u.unit: u.issuer for u in app.settings.notices.units if u.kind == "congvan"}
    requests = [
        Request("congvan", code, period, args.scheme, issuers.get(code, IssuerSettings()))
        for code in members
    ]
    unplaced: list[str] = []
    with Progress(len(requests), f"notices {args.parent} {period}") as progress:

        def tell(item: Item) -> None:
            progress.advance()
            unit = item.request.unit
            progress.step(unit)
            if item.reason is not None:
                progress.line(f"dvcwatch: notice {unit}: {item.reason}", sys.stderr)
            if item.result == FAILED:
                return
            try:
                placed = _placed(out_dir, item.request, item.files)
            except NotPlaced as exc:
                unplaced.append(unit)
                progress.line(f"dvcwatch: notice {unit}: {exc}", sys.stderr)
                return
            paths = ", ".join(str(written.path) for written, _ in placed)
            word = "written" if item.result == WRITTEN else "already written"
            progress.line(f"{unit}: {word}: {paths}")

        batch = write_batch(
            app.sessions(),
            app.schemes,
            app.settings.notices,
            requests,
            out_dir,
            formats,
            args.force,
            on_item=tell,
        )
    print(f"notices of {args.parent} {period}: {batch.summary()}")
    if batch.failed:
        units = ", ".join(item.request.unit for item in batch.failed)
        print(f"dvcwatch: {len(batch.failed)} notice(s) failed: {units}", file=sys.stderr)
    if unplaced:
        units = ", ".join(unplaced)
        print(f"dvcwatch: {len(unplaced)} notice(s) not in {out_dir}: {units}", file=sys.stderr)
    return EXIT_FAILED if batch.failed or unplaced else EXIT_OK


class NotPlaced(Exception):
    """An archived notice that could not be put into the folder asked for; says why."""


def _placed(
    out_dir: Path, request: Request, files: list[Written]
) -> list[tuple[Written, Path | None]]:
    """`files` as found in `out_dir`'s folder of the notice, each with the archived file it
    was copied from (None when it was there already).

    A file written by this run is there. An archived one written into another folder is
    copied (`write_atomic`) beside where this run would have written it, under the name
    its version has; a copy found there with the same bytes is kept. A different file
    under that name (an official's edit) is never replaced: NotPlaced, as for a folder
    that would lie outside `out_dir`.
    """
    from service.notices.paths import UnsafeOutputPath, notice_folder

    placed: list[tuple[Written, Path | None]] = []
    for written in files:
        if written.new:
            placed.append((written, None))
            continue
        try:
            folder = notice_folder(
                out_dir, request.kind, request.scheme, request.unit, str(request.period)
            )
        except UnsafeOutputPath as exc:
            raise NotPlaced(str(exc)) from exc
        target = folder / written.path.name
        data = written.path.read_bytes()
        if target.is_file() and not target.is_symlink():
            if target.samefile(written.path) or target.read_bytes() == data:
                placed.append((replace(written, path=target), None))
                continue
            raise NotPlaced(
                f"{target} differs from the notice archived as {written.path}: left as it "
                "is (another --out, or --force for a new version)"
            )
        write_atomic(target, data)
        digest = hashlib.sha256(data).hexdigest()
        placed.append((replace(written, path=target, sha256=digest), written.path))
    return placed


def _formats(app: App, args: argparse.Namespace) -> tuple[str, ...]:
    if args.to is None:
        return tuple(app.settings.notices.formats)
    formats = tuple(part.strip() for part in args.to.split(","))
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not all(formats):
        shown = ", ".join(repr(u) for u in unknown) or "an empty name"
        raise UsageError(f"--to {args.to!r}: unknown format {shown}: use docx, html, pdf")
    return formats


def _has_units(app: App, code: str) -> None:
    """A --parent must head a set: a commune or an agency has no units under it."""
    parents = select(Unit.id).where(Unit.code == code)
    with app.sessions()() as session:
        child = session.scalar(select(Unit.id).where(Unit.parent_id.in_(parents)).limit(1))
    if child is None:
        raise UsageError(
            f"--parent {code}: no unit lies under it, so it heads no set; "
            f"for its own notice use --unit {code}"
        )


def _known_unit(app: App, option: str, code: str) -> None:
    with app.sessions()() as session:
        if session.scalar(select(Unit.id).where(Unit.code == code).limit(1)) is None:
            raise UsageError(f"{option} {code}: unknown unit (no unit has this code)")
