"""`dvcwatch notice`: write a Công văn or a Báo cáo."""

from __future__ import annotations

import argparse
import sys

from service.app import App
from service.commands.common import EXIT_FAILED, EXIT_OK, UsageError, parse_period
from service.config import IssuerSettings


def run_notice(app: App, args: argparse.Namespace) -> int:
    from service.notices.paths import UnsafeOutputPath
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
        except (NoticeError, UnsafeOutputPath) as exc:
            raise UsageError(str(exc)) from None
    for item in outcome.files:
        note = "" if item.new else " (already written; --force writes a new version)"
        print(f"{item.path}{note}")
    if outcome.problem:
        print(f"dvcwatch: {outcome.problem}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
