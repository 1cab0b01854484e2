"""A sender killed mid-queue (a real `dvcwatch deliver`, SIGKILL) sends nothing twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from service.alerts.models import Delivery, DeliveryStatus
from service.alerts.outbox import PARALLEL_SENDS, Outbox
from service.clock import utcnow
from tests.alerts.test_outbox import queue
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")
CHATS = [str(100000100 + number) for number in range(12)]


def test_every_delivery_is_sent_exactly_once_across_a_killed_sender(app, tmp_path):
    for number, chat in enumerate(CHATS):
        queue(app.sessions(), person=f"p{number}", address=chat)
    with FakeTelegram() as telegram:
        config = tmp_path / "dvcwatch.toml"
        config.write_text(
            f"[channels]\nconsole = false\n[channels.telegram]\nenabled = true\n"
            f'base_url = "{telegram.base_url}"\n',
            encoding="utf-8",
        )
        command = [DVCWATCH, "deliver", "--db", app.settings.database.url, "--config", str(config)]
        env = {**os.environ, "DVCWATCH_TELEGRAM_TOKEN": DEFAULT_TOKEN}
        telegram.fail("sendMessage", "delay", seconds=0.3, times=None)
        sender = subprocess.Popen(command, env=env)
        deadline = time.monotonic() + 30
        while len(telegram.calls("sendMessage")) < 5:
            assert time.monotonic() < deadline and sender.poll() is None
            time.sleep(0.02)
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=10)
        telegram.clear_failures()
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        time.sleep(0.5)  # let the fake finish the request the killed sender left in flight
        received = Counter(call.chat_id for call in telegram.calls("sendMessage"))
    assert set(received) == set(CHATS)  # nothing lost ...
    assert set(received.values()) == {1}  # ... and nothing sent twice
    with app.sessions()() as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
    in_flight = statuses[DeliveryStatus.SENDING]  # the requests in flight when killed
    assert in_flight <= PARALLEL_SENDS and statuses[DeliveryStatus.SENT] == len(CHATS) - in_flight
    # After the lease, a row left in flight is marked uncertain, never re-sent.
    later = Outbox(app.sessions(), {}, "later", clock=lambda: utcnow() + dt.timedelta(hours=1))
    assert later.recover() == statuses[DeliveryStatus.SENDING]
