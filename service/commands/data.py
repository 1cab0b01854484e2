"""Commands about the data: db upgrade, sync, import, scores, status, demo."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from typing import Any

from service.app import App
from service.clock import local_today
from service.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    parse_period,
    tolerance,
)
from service.indicators import NATIONAL
from service.periods import Period

# Each command imports what only it uses (in its function): `dvcwatch status` does not load
# the portal client, the sync or the scoring layer.


def run_db_upgrade(app: App, _args: argparse.Namespace) -> int:
    app.upgrade()
    print(f"database {app.safe_url} is up to date")
    return EXIT_OK


def run_sync(app: App, args: argparse.Namespace) -> int:
    from service.commands.progress import Progress
    from service.portal.api import PROVINCE_ENDPOINTS
    from service.portal.checks import is_code
    from service.sync import UnknownProvince, sync_provinces
    from service.urls import shown, web_address

    provinces = args.province or [watch.province for watch in app.settings.watch]
    if not provinces:
        raise UsageError("no province to sync: pass --province or list [[watch]] in the config")
    for province in provinces:
        if not is_code(province):
            raise UsageError(f"province {province!r:.80}: expected a code (H44) or a departmentId")
    period = parse_period(args.period)
    portal = app.settings.portal
    if args.portal_url is not None:
        try:
            web_address(args.portal_url)
        except ValueError as exc:
            raise UsageError(f"--portal-url {shown(args.portal_url)!r}: {exc}") from None
        portal = portal.model_copy(update={"base_url": args.portal_url})
    sessions = app.sessions()
    failed = unknown = 0
    steps = len(PROVINCE_ENDPOINTS)
    with Progress(len(provinces) * steps, f"sync {period}") as progress:
        said = [0] * len(provinces)  # the steps each province's sync told so far

        def told(index: int) -> Callable[[str], None]:
            def show(message: str) -> None:
                said[index] += 1
                progress.advance()
                progress.step(message)

            return show

        outcomes = sync_provinces(sessions, portal, provinces, period, local_today(), told)
        with contextlib.closing(outcomes):  # here, even if Ctrl-C comes while a line prints
            for index, (province, outcome) in enumerate(zip(provinces, outcomes, strict=True)):
                progress.advance(max(0, steps - said[index]))
                if outcome.kind == UnknownProvince.kind:
                    unknown += 1
                    source = "--province" if args.province else "[[watch]]"
                    progress.line(f"dvcwatch: {source}: {outcome.error}", sys.stderr)
                elif outcome.error:
                    failed += 1
                    line = f"dvcwatch: sync {province} {period}: {outcome.status}: {outcome.error}"
                    progress.line(line, sys.stderr)
                else:
                    progress.line(
                        f"{province} {period}: ok, {outcome.units} units, {outcome.written} new "
                        f"snapshots ({outcome.revised} revisions), {outcome.unchanged} unchanged"
                    )
    return EXIT_USAGE if unknown else EXIT_FAILED if failed else EXIT_OK


def run_scores(app: App, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from service.models import Unit
    from service.output import render, scores_table
    from service.scoring.national import RANK_NOTE
    from service.scoring.report import UnknownScheme, score_rows

    period = parse_period(args.period)
    with app.sessions()() as session:
        if args.parent and session.scalar(select(Unit.id).where(Unit.code == args.parent)) is None:
            raise UsageError(f"--parent {args.parent}: unknown unit (no unit has this code)")
        try:
            rows = score_rows(
                session,
                app.schemes,
                args.scheme,
                period,
                args.parent,
                args.scale,
                tolerance(app, args),
            )
        except UnknownScheme as exc:
            raise UsageError(str(exc)) from None
    if args.format == "xlsx" or (args.out is not None and args.format == "csv"):
        return _write_scores_file(app, rows, args)
    if args.out is not None:
        raise UsageError(f"--out goes with --format xlsx or csv, not {args.format}")
    if not rows:
        where = f" of {args.parent}" if args.parent else ""
        print(f"dvcwatch: no {args.scheme} figures{where} for {period}", file=sys.stderr)
    if args.format == "table":
        if rows:
            print(scores_table(rows, _set_names(app, rows)))
            print(f"\nRanks: {RANK_NOTE}.")
        return EXIT_OK
    print(render(rows, args.format))
    return EXIT_OK


def _write_scores_file(app: App, rows: list[dict[str, Any]], args: argparse.Namespace) -> int:
    from service.output import write_csv_file

    if args.out is None:
        raise UsageError(f"--format {args.format} with a file needs --out FILE.{args.format}")
    if args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a folder; give the file to write")
    if args.format == "xlsx":
        from service.workbook import write_workbook

        titles = {name: scheme.title for name, scheme in app.schemes.provincial.items()}
        write_workbook(rows, args.out, _set_names(app, rows), titles)
    else:
        write_csv_file(rows, args.out)
    print(f"{args.out}: {len(rows)} units")
    return EXIT_OK


def _set_names(app: App, rows: list[dict[str, Any]]) -> dict[str, str]:
    """How titles name each comparison set's parent: its stored name ("UBND tỉnh Phú Thọ")."""
    from sqlalchemy import select

    from service.models import Unit

    codes = {str(row["parent_code"]) for row in rows if row.get("parent_code")}
    if not codes:
        return {}
    with app.sessions()() as session:
        found = session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))
        return {code: name for code, name in found if code and name}


def run_import(app: App, args: argparse.Namespace) -> int:
    """Refusal: exit 2, each problem one line naming the file, the place and the column."""
    from service.imports import import_file
    from service.scoring.report import score_rows
    from service.sources.interchange import InterchangeError

    allowed = tolerance(app, args)  # before the file is stored: a bad one changes nothing
    try:
        summary = import_file(app.sessions(), args.file, app.schemes, args.scheme, local_today())
    except InterchangeError as exc:
        raise UsageError(f"nothing imported: {exc}") from None
    print(
        f"{args.file}: {summary.rows} rows, {summary.units} units; {summary.written} new "
        f"snapshots ({summary.revised} revisions), {summary.unchanged} unchanged"
    )
    found = 0
    with app.sessions()() as session:
        for scheme, period in summary.tables:
            if scheme == NATIONAL:
                continue  # a 766 table states the portal's figures: nothing to appraise
            rows = score_rows(session, app.schemes, scheme, Period.parse(period), tolerance=allowed)
            for row in rows:
                for mismatch in row["mismatches"]:
                    found += 1
                    print(
                        f"  mismatch {scheme} {period} {row['unit_code']} {mismatch['field']}: "
                        f"reported {mismatch['reported']}, computed {mismatch['computed']}"
                    )
    print(
        f"{found} reported figure(s) disagree with what dvcwatch computes"
        if found
        else "every reported figure agrees with what dvcwatch computes"
    )
    return EXIT_OK


def run_status(app: App, args: argparse.Namespace) -> int:
    from service import status as status_report
    from service.status_quick import read_quickly

    report = read_quickly(app.settings.database.url)
    if report is None:  # PostgreSQL, or something to settle, or something to say
        report = _settled_status(app)
    print(status_report.render_report(report, args.format))
    return EXIT_OK


def _settled_status(app: App) -> dict[str, Any]:
    """The report through SQLAlchemy, once what stopped processes left is settled: a run
    whose process is gone is not "running", nor is a message its sender held."""
    from sqlalchemy.exc import DBAPIError

    from service import status as status_report
    from service.clock import utcnow
    from service.db import waiting_briefly, write_refused_for_now
    from service.delivery import outcomes
    from service.runs import abandoned_closed, say_closed

    now = utcnow()
    try:
        with waiting_briefly(app.sessions()) as session:
            closed = abandoned_closed(session, now)
            outcomes.stopped_senders(session, now - outcomes.SEND_LEASE)
    except DBAPIError as exc:  # settling is a courtesy: another process's lock held past
        if not write_refused_for_now(exc):  # a brief wait, or a user who may only read,
            raise  # leaves it for later
        print(
            "dvcwatch: the database could not be written to (another process holds its "
            "lock, or this user may only read): a run or message that a stopped process "
            "left is shown as it was left; a later status or pass settles it",
            file=sys.stderr,
        )
    else:
        say_closed(closed)
    with app.sessions()() as session:
        return status_report.collect(status_report.Reader.of_session(session))


def run_demo(app: App, args: argparse.Namespace) -> int:
    """Only an explicit `--db` is used: never the configured (operator's) database."""
    from service.demo import DemoError, run

    try:
        return run(args.out, sys.stdout, db_url=args.db)
    except DemoError as exc:
        raise UsageError(str(exc)) from None
