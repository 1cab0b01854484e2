"""Commands about the data: db upgrade, sync, import, scores, status, demo."""

from __future__ import annotations

import argparse
import sys

from service import status as status_report
from service.app import App
from service.clock import local_today
from service.commands.common import EXIT_FAILED, EXIT_OK, UsageError, parse_period, tolerance
from service.imports import import_file
from service.output import render, write_xlsx
from service.periods import Period
from service.scoring.national import RANK_NOTE
from service.scoring.report import UnknownScheme, score_rows
from service.sources.interchange import InterchangeError
from service.sync import Progress, sync_province

SCORE_COLUMNS = (
    "rank",
    "rank_of",
    "unit_code",
    "unit_name",
    "total",
    "total_delta",
    "rank_change",
    "CKMB",
    "TDGQ",
    "CLGQ",
    "TTTT",
    "MDHL",
    "MDSH",
    "overdue",
    "not_digitised",
    "not_paid_online",
    "unsynced",
)


def run_db_upgrade(app: App, _args: argparse.Namespace) -> int:
    app.upgrade()
    print(f"database {app.safe_url} is up to date")
    return EXIT_OK


def run_sync(app: App, args: argparse.Namespace) -> int:
    provinces = args.province or [watch.province for watch in app.settings.watch]
    if not provinces:
        raise UsageError("no province to sync: pass --province or list [[watch]] in the config")
    period = parse_period(args.period)
    portal = app.settings.portal
    if args.portal_url:
        portal = portal.model_copy(update={"base_url": args.portal_url})
    sessions = app.sessions()
    progress = _progress_printer() if sys.stderr.isatty() else None
    failed = 0
    for province in provinces:
        outcome = sync_province(sessions, portal, province, period, local_today(), progress)
        if outcome.error:
            failed += 1
            print(f"{province} {period}: {outcome.status}: {outcome.error}", file=sys.stderr)
        else:
            print(
                f"{province} {period}: ok, {outcome.units} units, {outcome.written} new "
                f"snapshots ({outcome.revised} revisions), {outcome.unchanged} unchanged"
            )
    return EXIT_FAILED if failed else EXIT_OK


def _progress_printer() -> Progress:
    def show(message: str) -> None:
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)

    return show


def run_scores(app: App, args: argparse.Namespace) -> int:
    period = parse_period(args.period)
    with app.sessions()() as session:
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
    if args.format == "xlsx":
        if args.out is None:
            raise UsageError("--format xlsx needs --out FILE.xlsx")
        write_xlsx(rows, args.out)
        print(f"{args.out}: {len(rows)} units")
        return EXIT_OK
    print(render(rows, args.format, SCORE_COLUMNS if args.format == "table" else None))
    if args.format == "table" and rows:
        print(f"\nRanks: {RANK_NOTE}.")
    return EXIT_OK


def run_import(app: App, args: argparse.Namespace) -> int:
    try:
        summary = import_file(app.sessions(), args.file, app.schemes, args.scheme)
    except InterchangeError as exc:
        raise UsageError(f"nothing imported:\n{exc}") from None
    print(
        f"{args.file}: {summary.rows} rows, {summary.units} units; {summary.written} new "
        f"snapshots ({summary.revised} revisions), {summary.unchanged} unchanged"
    )
    found = 0
    with app.sessions()() as session:
        for scheme, period in summary.tables:
            rows = score_rows(
                session, app.schemes, scheme, Period.parse(period), tolerance=tolerance(app, args)
            )
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
    with app.sessions()() as session:
        report = status_report.collect(session)
    print(status_report.render_report(report, args.format))
    return EXIT_OK


def run_demo(app: App, args: argparse.Namespace) -> int:
    from service.demo import run

    return run(args.out, sys.stdout)
