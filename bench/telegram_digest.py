"""Benchmark: multi-part digests to many chats, through the outbox, to a fake Bot API
running in a process of its own that enforces Telegram's limits (30 messages/s
overall, 1/s per chat, 20/min per group).

Each of `--chats` people gets one digest of `--alerts` long alert lines, which the
outbox splits into several parts when it queues them. Reported: messages a second as
a ratio to the server's enforced 30/s, 429 answers, and parts lost or received twice
(counted at the server). Exit 1 on any 429, loss or duplicate, or a ratio under 0.85.
Run with `make bench` or `python -m bench.telegram_digest [--chats N --alerts M]`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections import Counter

import requests
from sqlalchemy import func, select

from bench import Result, emit, peak_mb
from service.alerts.lines import alert_lines
from service.app import App
from service.channels.telegram import TelegramChannel
from service.clock import utcnow
from service.config import Settings
from service.delivery.models import Delivery, DeliveryStatus, OutboxMessage
from service.delivery.outbox import Outbox, SendReport
from tests.fakes.telegram_server import DEFAULT_TOKEN

ENFORCED_PER_SECOND = 30.0
TARGET_RATIO = 0.85


def queue_digests(app: App, chats: int, alerts: int) -> None:
    """One digest of `alerts` lines for each of `chats` people, spread over ten units."""
    now = utcnow()
    with app.sessions().begin() as session:
        for person in range(chats):
            for line in range(alerts):
                session.add(
                    Delivery(
                        idempotency_key=f"bench:{person}:{line}",
                        person_id=f"p{person}",
                        channel="telegram",
                        address=str(200_000_000 + person),
                        unit_label=f"UBND xã Thử {line % 10}",
                        digest_key=f"p{person}:run",
                        text_html=f"⚠️ Hồ sơ H44.{line:05d}: quá hạn {line % 30 + 1} ngày, "
                        "cần xử lý và cập nhật trên Cổng dịch vụ công (tháng 8/2026).",
                        not_before=now,
                    )
                )


async def drain(app: App, base_url: str) -> SendReport:
    """Outbox passes until nothing is pending (a retried part is waited for)."""
    total = SendReport()
    async with TelegramChannel(DEFAULT_TOKEN, base_url=base_url) as channel:
        outbox = Outbox(app.sessions(), {"telegram": channel}, "bench", describe=alert_lines)
        while True:
            report = await outbox.send_due()
            for field in ("sent", "retried", "failed", "uncertain"):
                setattr(total, field, getattr(total, field) + getattr(report, field))
            with app.sessions()() as session:
                next_due = session.scalar(
                    select(func.min(OutboxMessage.not_before)).where(
                        OutboxMessage.status == DeliveryStatus.PENDING
                    )
                )
            if next_due is None:
                return total
            await asyncio.sleep(min(max((next_due - utcnow()).total_seconds(), 0), 60))


def start_server() -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "tests.fakes.telegram_server", "--enforce-limits"]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=120)
    args = parser.parse_args()
    server, base_url = start_server()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = App(Settings.model_validate({"database": {"url": f"sqlite:///{folder}/b.db"}}))
            app.upgrade()
            queue_digests(app, args.chats, args.alerts)
            composing = time.perf_counter()
            Outbox(
                app.sessions(), {}, "bench", describe=alert_lines
            ).queue()  # split into parts, as queued
            composed = time.perf_counter() - composing
            started = time.perf_counter()
            report = asyncio.run(drain(app, base_url))
            elapsed = time.perf_counter() - started
            with app.sessions()() as session:
                parts = session.execute(
                    select(OutboxMessage.address, OutboxMessage.text_html)
                ).all()
            app.engine.dispose()
        origin = base_url.removesuffix("/bot")
        calls = requests.get(f"{origin}/fake/calls", timeout=60).json()["calls"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    sends = [c for c in calls if c["method"] == "sendMessage"]
    statuses = Counter(c["status"] for c in sends)
    received = Counter((c["chat_id"], c["text"]) for c in sends if c["status"] == 200)
    doubled = sum(1 for n in received.values() if n > 1)
    lost = sum(1 for part in parts if (part.address, part.text_html) not in received)
    rate = statuses[200] / elapsed
    ratio = rate / ENFORCED_PER_SECOND
    print(
        f"{len(parts)} parts ({len(parts) / args.chats:.1f} per digest, composed in "
        f"{composed:.1f} s) to {args.chats} chats, sent in {elapsed:.1f} s: "
        f"{rate:.1f} messages/s = {ratio:.2f} of the enforced "
        f"{ENFORCED_PER_SECOND:.0f}/s; 429 answers: {statuses[429]}; lost: {lost}; "
        f"doubled: {doubled}; retried: {report.retried}; uncertain: {report.uncertain}"
    )
    ok = statuses[429] == 0 and lost == 0 and doubled == 0 and ratio >= TARGET_RATIO
    emit(
        Result(
            f"delivery: {args.chats} digests of {args.alerts} alerts = {len(parts)} parts "
            "through the outbox to a fake Bot API in its own process",
            f"{rate:.1f} messages/s in {elapsed:.1f} s; 429: {statuses[429]}, lost: {lost}, "
            f"doubled: {doubled}",
            f"the fake's enforced {ENFORCED_PER_SECOND:.0f}/s",
            ratio,
            f">= {TARGET_RATIO} of the limit, no 429, none lost or doubled",
            ok,
            peak_mb(),
            "python -m bench.telegram_digest",
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
