"""Benchmark: 3,400 digest messages through the outbox to a fake Bot API that enforces
Telegram's limits (30 messages/s overall, 1/s per chat, 20/min per group).

Target (docs/benchmarks.md): throughput within 10 % of 30 messages/s, and no 429.
Run with `make bench` or `python -m bench.telegram_digest [--messages N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter

from service.alerts.models import Delivery
from service.alerts.outbox import Outbox, SendReport
from service.app import App
from service.channels.telegram import TelegramChannel
from service.clock import utcnow
from service.config import Settings
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram


def queue_digests(app: App, count: int) -> None:
    """One digest (three alerts on one unit) for each of `count` people."""
    now = utcnow()
    with app.sessions().begin() as session:
        for person in range(count):
            for line in range(3):
                session.add(
                    Delivery(
                        idempotency_key=f"bench:{person}:{line}",
                        person_id=f"p{person}",
                        channel="telegram",
                        address=str(200_000_000 + person),
                        unit_label=f"UBND xã Thử {person}",
                        digest_key=f"p{person}:run",
                        text_html=f"⚠️ {line + 1} hồ sơ quá hạn (tháng 8/2026).",
                        not_before=now,
                    )
                )


async def drain(app: App, telegram: FakeTelegram) -> SendReport:
    total = SendReport()
    channel = TelegramChannel(
        DEFAULT_TOKEN, base_url=telegram.base_url, base_file_url=telegram.base_file_url
    )
    try:
        outbox = Outbox(app.sessions(), {"telegram": channel}, "bench")
        while True:
            report = await outbox.send_due()
            total.sent += report.sent
            total.retried += report.retried
            if report.sent == 0 and report.retried == 0:
                return total
    finally:
        await channel.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, FakeTelegram(enforce_limits=True) as telegram:
        app = App(Settings.model_validate({"database": {"url": f"sqlite:///{folder}/b.db"}}))
        app.upgrade()
        queue_digests(app, args.messages)
        started = time.perf_counter()
        report = asyncio.run(drain(app, telegram))
        elapsed = time.perf_counter() - started
        statuses = Counter(call.status for call in telegram.calls("sendMessage"))
        app.engine.dispose()
    rate = statuses[200] / elapsed
    print(
        f"{statuses[200]} digest messages ({report.sent} deliveries) in {elapsed:.1f} s: "
        f"{rate:.1f} messages/s (target 27-30); 429 answers: {statuses[429]}; "
        f"retried: {report.retried}"
    )
    return 0 if statuses[429] == 0 and rate >= 27 else 1


if __name__ == "__main__":
    sys.exit(main())
