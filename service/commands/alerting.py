"""Commands about alerts: evaluate, deliver, and answer the bot."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from service.app import App
from service.clock import to_local, utcnow
from service.commands.common import EXIT_FAILED, EXIT_OK, UsageError, parse_period, worker_name


def run_alerts(app: App, args: argparse.Namespace) -> int:
    from service.alerts import setup
    from service.alerts.engine import (
        CONCURRENT_EVALUATION,
        evaluate,
        latest_period,
        lost_a_race,
    )
    from service.delivery import setup as delivery_setup

    period = parse_period(args.period) if args.period else None
    if period is not None and not args.dry_run:
        with app.sessions()() as session:
            newest = latest_period(session)
        if period != newest:  # alerts are live: judging an old month would resolve them
            raise UsageError(
                f"--period {period}: alerts are about the newest synced month "
                f"({newest or 'none yet'}); add --dry-run to see what the rules say of {period}"
            )
    rules, people, policy = (
        setup.rules(app.settings),
        delivery_setup.directory(app.settings),
        setup.policy(app.settings),
    )
    from sqlalchemy.exc import IntegrityError

    session = app.sessions()()
    try:
        result = evaluate(session, app.schemes, rules, people, policy, utcnow(), period)
        rows = [_delivery_row(d) for d in result.deliveries]
        session.rollback() if args.dry_run else session.commit()
    except IntegrityError as exc:  # the same alert recorded meanwhile by another evaluation
        if not lost_a_race(exc):
            raise
        print(f"dvcwatch: alerts: {CONCURRENT_EVALUATION}", file=sys.stderr)
        return EXIT_FAILED
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
    from service.channels.messages import plain_text

    for row in rows:  # as the person reads it (JSON keeps the HTML the channel sends)
        print(
            f"- to {row['person']} ({row['channel']}), from {row['not_before']}: "
            f"{row['unit']}: {plain_text(row['text'])}"
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
    from service.alerts.lines import alert_lines
    from service.delivery import setup as delivery_setup
    from service.delivery.outbox import Outbox

    async def send() -> Any:
        channels = delivery_setup.channels(app.settings)
        try:
            return await Outbox(
                app.sessions(), channels, worker_name(), describe=alert_lines
            ).send_due()
        finally:
            for channel in channels.values():
                await channel.close()

    report = asyncio.run(send())
    later = ""
    if report.later and report.next_due is not None:
        first = to_local(report.next_due)
        later = (
            f"; {report.later} not due yet (quiet hours or a retry), "
            f"the first at {first:%H:%M on %Y-%m-%d}"
        )
    print(
        f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
        f"migrated {report.migrated}, uncertain {report.uncertain}{later}"
    )
    waiting = report.waiting_note()
    if waiting:
        print(f"dvcwatch: deliver: {waiting}", file=sys.stderr)
    trouble = report.trouble()
    if trouble is None:
        return EXIT_OK
    print(f"dvcwatch: deliver: {trouble}", file=sys.stderr)
    return EXIT_FAILED


def run_bot(app: App, _args: argparse.Namespace) -> int:
    """`dvcwatch bot`: answer on Telegram when it is configured, else on the first
    channel that reads replies instead of buttons (Zalo). `dvcwatch run` answers on all."""
    from service.bot import answer_until_stopped, build_application
    from service.bot_replies import BotUnavailable, Replies, ReplyBot, answer_replies_until_stopped
    from service.delivery import setup as delivery_setup

    telegram = app.settings.channels.telegram
    token = app.settings.secret(telegram.token_env)
    provinces = [watch.province for watch in app.settings.watch]
    directory = delivery_setup.directory(app.settings)
    try:
        if telegram.enabled and token is not None:
            application = build_application(
                token, telegram.base_url, app.sessions(), directory, app.schemes, provinces
            )
            asyncio.run(answer_until_stopped(application, telegram.token_env))
            return EXIT_OK
        replies = [
            c for c in delivery_setup.channels(app.settings).values() if isinstance(c, Replies)
        ]
        if not replies:
            zalo = app.settings.channels.zalo
            raise UsageError(
                f"the bot needs channels.telegram.enabled = true and the token in "
                f"{telegram.token_env}, or channels.zalo.enabled = true and the token in "
                f"{zalo.token_env}"
            )
        bot = ReplyBot(replies[0], app.sessions(), directory, app.schemes, provinces)
        asyncio.run(answer_replies_until_stopped(bot))
    except BotUnavailable as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
