"""The `dvcwatch` command (the contract is in docs/architecture.md).

Every command takes `--config PATH` and `--db URL`. Exit codes: 0 done,
1 failed, 2 bad usage or bad input (the message names the file, line or field).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service import status as status_report
from service.app import App
from service.clock import local_today, to_local, utcnow
from service.config import ConfigError, IssuerSettings, load_settings
from service.db import DatabaseError
from service.imports import import_file
from service.output import FILE_FORMATS, FORMATS, render, write_xlsx
from service.periods import Period
from service.scoring.national import RANK_NOTE
from service.scoring.report import UnknownScheme, score_rows
from service.scoring.schemes import SchemeError
from service.sources.interchange import InterchangeError
from service.sync import Progress, sync_province

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
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


class UsageError(Exception):
    """Bad input from the person at the keyboard: exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulator":
        from service.portal.simulator import main as simulator_main

        return simulator_main(args.simulator_args)
    try:
        settings = load_settings(args.config, os.environ, args.db)
        result: int = args.handler(App(settings), args)
        return result
    except (ConfigError, UsageError, SchemeError) as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML settings (default config/dvcwatch.toml)")
    common.add_argument("--db", help="database URL (default: env DVCWATCH_DB_URL, then the config)")
    parser = argparse.ArgumentParser(prog="dvcwatch", parents=[common], description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", parents=[common], help="the whole pipeline on the simulator")
    demo.add_argument("--out", type=Path, default=Path("out"), help="where documents go")
    demo.set_defaults(handler=run_demo)

    sync = commands.add_parser("sync", parents=[common], help="fetch and store snapshots")
    sync.add_argument("--province", action="append", help="departmentId or code (H44); repeatable")
    sync.add_argument("--period", help="YYYY-MM, YYYY-Qn or YYYY (default: this month)")
    sync.add_argument("--portal-url", help="the portal's base URL (e.g. the simulator's)")
    sync.set_defaults(handler=run_sync)

    scores = commands.add_parser("scores", parents=[common], help="stored scores of a period")
    scores.add_argument("--period", required=True, help="YYYY-MM, YYYY-Qn or YYYY")
    scores.add_argument("--parent", help="only the units of this comparison set (code)")
    scores.add_argument("--scheme", default="766", help="766, tt01 or provincial:NAME")
    scores.add_argument("--scale", type=int, choices=(10, 100), help="converted score's scale")
    scores.add_argument("--tolerance", type=float, help="allowed reported/computed difference")
    scores.add_argument("--out", type=Path, help="with --format xlsx: the file to write")
    scores.add_argument("--format", choices=FORMATS + FILE_FORMATS, default="table")
    scores.set_defaults(handler=run_scores)

    status = commands.add_parser("status", parents=[common], help="last runs and data freshness")
    status.add_argument("--format", choices=("json", "table"), default="table")
    status.set_defaults(handler=run_status)

    imports = commands.add_parser("import", parents=[common], help="load a table of figures")
    imports.add_argument("file", type=Path, help="interchange table: .csv, .xlsx or .json")
    imports.add_argument("--scheme", help="refuse rows of any other scheme")
    imports.add_argument("--tolerance", type=float, help="allowed reported/computed difference")
    imports.set_defaults(handler=run_import)

    alerts = commands.add_parser("alerts", parents=[common], help="evaluate the alert rules")
    alerts.add_argument("--dry-run", action="store_true", help="show, change nothing")
    alerts.add_argument("--period", help="the month to judge (default: the newest synced)")
    alerts.add_argument("--format", choices=("json", "table"), default="table")
    alerts.set_defaults(handler=run_alerts)

    run = commands.add_parser("run", parents=[common], help="the service: scheduler and jobs")
    run.add_argument("--once", action="store_true", help="one full cycle, then exit")
    run.set_defaults(handler=run_service)

    deliver = commands.add_parser("deliver", parents=[common], help="send the queued messages")
    deliver.set_defaults(handler=run_deliver)

    notice = commands.add_parser("notice", parents=[common], help="write a Công văn or Báo cáo")
    notice.add_argument("--unit", required=True, help="the unit (congvan) or set (baocao) code")
    notice.add_argument("--period", required=True, help="the month, YYYY-MM")
    notice.add_argument("--kind", choices=("congvan", "baocao"), default="congvan")
    notice.add_argument("--scheme", default="766", help="766 or provincial:NAME (baocao)")
    notice.add_argument("--out", type=Path, help="folder (default: notices.out_dir)")
    notice.add_argument("--to", default=None, help="formats, e.g. docx,html,pdf")
    notice.add_argument("--force", action="store_true", help="write a new version")
    notice.set_defaults(handler=run_notice)

    bot = commands.add_parser("bot", parents=[common], help="answer chat commands and buttons")
    bot.set_defaults(handler=run_bot)

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", parents=[common], help="apply migrations").set_defaults(
        handler=run_db_upgrade
    )

    simulator = commands.add_parser("simulator", help="serve the portal simulator (for tests)")
    simulator.add_argument("simulator_args", nargs=argparse.REMAINDER)
    return parser


def parse_period(text: str | None) -> Period:
    if text is None:
        return Period.month_of(local_today())
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from None


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
                _tolerance(app, args),
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


def _tolerance(app: App, args: argparse.Namespace) -> float:
    tolerance = app.settings.scoring.tolerance if args.tolerance is None else args.tolerance
    if tolerance < 0:
        raise UsageError(f"--tolerance: {tolerance} is negative")
    return float(tolerance)


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
                session, app.schemes, scheme, Period.parse(period), tolerance=_tolerance(app, args)
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


def run_alerts(app: App, args: argparse.Namespace) -> int:
    from service.alerts import setup
    from service.alerts.engine import evaluate

    period = parse_period(args.period) if args.period else None
    rules, people, policy = (
        setup.rules(app.settings),
        setup.directory(app.settings),
        setup.policy(app.settings),
    )
    session = app.sessions()()
    try:
        result = evaluate(session, app.schemes, rules, people, policy, utcnow(), period)
        rows = [_delivery_row(d) for d in result.deliveries]
        session.rollback() if args.dry_run else session.commit()
    finally:
        session.close()
    changes = [{"alert": t.fingerprint, "change": str(t.kind)} for t in result.transitions]
    if args.format == "json":
        print(
            json.dumps(
                {
                    "period": result.period,
                    "dry_run": args.dry_run,
                    "changes": changes,
                    "deliveries": rows,
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
        return EXIT_OK
    verb = "would queue" if args.dry_run else "queued"
    print(
        f"{len(changes)} alert change(s) for {result.period or 'no synced period'}; "
        f"{verb} {len(rows)} message(s)"
    )
    for row in rows:
        print(
            f"- to {row['person']} ({row['channel']}), from {row['not_before']}: "
            f"{row['unit']}: {row['text']}"
        )
    return EXIT_OK


def _delivery_row(delivery: Any) -> dict[str, Any]:
    return {
        "person": delivery.person_id,
        "channel": delivery.channel,
        "address": delivery.address,
        "unit": delivery.unit_label,
        "not_before": to_local(delivery.not_before).strftime("%Y-%m-%d %H:%M"),
        "text": delivery.text_html,
    }


def run_deliver(app: App, _args: argparse.Namespace) -> int:
    from service.alerts import setup
    from service.alerts.outbox import Outbox

    async def send() -> Any:
        channels = setup.channels(app.settings)
        try:
            return await Outbox(app.sessions(), channels, worker_name()).send_due()
        finally:
            for channel in channels.values():
                await channel.close()

    report = asyncio.run(send())
    print(
        f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
        f"migrated {report.migrated}, uncertain {report.uncertain}"
    )
    return EXIT_OK


def run_notice(app: App, args: argparse.Namespace) -> int:
    from service.notices.produce import NoticeError, Request, write_notice

    period = parse_period(args.period)
    if period.kind != "month":
        raise UsageError(f"--period: a notice is written for a month (YYYY-MM), not {period}")
    settings = app.settings.notices
    formats = tuple(args.to.split(",")) if args.to else settings.formats
    unknown = sorted(set(formats) - {"docx", "html", "pdf"})
    if unknown:
        raise UsageError(f"--to: unknown format(s) {', '.join(unknown)}: use docx, html, pdf")
    configured = next(
        (u for u in settings.units if (u.unit, u.kind) == (args.unit, args.kind)), None
    )
    issuer = configured.issuer if configured else IssuerSettings()
    request = Request(args.kind, args.unit, period, args.scheme, issuer)
    with app.sessions().begin() as session:
        try:
            outcome = write_notice(
                session,
                app.schemes,
                settings,
                request,
                args.out or settings.out_dir,
                formats,
                args.force,
            )
        except NoticeError as exc:
            raise UsageError(str(exc)) from None
    for item in outcome.files:
        note = "" if item.new else " (already written; --force writes a new version)"
        print(f"{item.path}{note}")
    if outcome.problem:
        print(f"dvcwatch: {outcome.problem}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run_bot(app: App, _args: argparse.Namespace) -> int:
    from service.alerts import setup
    from service.bot import build_application

    telegram = app.settings.channels.telegram
    token = app.settings.secret(telegram.token_env)
    if not telegram.enabled or token is None:
        raise UsageError(
            f"the bot needs channels.telegram.enabled = true and the token in {telegram.token_env}"
        )
    application = build_application(
        token, telegram.base_url, app.sessions(), setup.directory(app.settings), app.schemes
    )
    application.run_polling(drop_pending_updates=False)  # stops cleanly on SIGINT/SIGTERM
    return EXIT_OK


def run_service(app: App, args: argparse.Namespace) -> int:
    from jobs.leader import LockHeld
    from jobs.scheduler import Service
    from jobs.work import Context
    from service.alerts import setup

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    for chatty in ("apscheduler", "alembic", "httpx", "telegram"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # "skipped: maximum number of running instances" is the outbox doing its job.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    app.sessions()  # fails now, with its message, if the database is not migrated
    service = Service(Context(app, worker_name(), setup.channels(app.settings)))
    try:
        return asyncio.run(service.run_once() if args.once else service.run_forever())
    except LockHeld as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_FAILED


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_status(app: App, args: argparse.Namespace) -> int:
    with app.sessions()() as session:
        report = status_report.collect(session)
    print(status_report.render_report(report, args.format))
    return EXIT_OK


def run_demo(app: App, args: argparse.Namespace) -> int:
    from service.demo import run

    return run(args.out, sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
