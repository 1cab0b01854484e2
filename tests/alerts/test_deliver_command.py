"""`dvcwatch deliver` as an operator runs it, against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from service.delivery.models import DeliveryStatus, OutboxMessage
from tests.alerts.test_outbox import queue
from tests.fakes.telegram_server import FakeTelegram

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")
REVOKED = "777000111:AAThisTokenWasRevokedAndMustNeverBePrinted"


def test_a_rejected_token_is_one_clear_line_never_the_token_and_nothing_is_lost(app, tmp_path):
    for number in range(3):
        queue(app.sessions(), person=f"p{number}", address=str(100000020 + number))
    with FakeTelegram() as telegram:
        config = tmp_path / "dvcwatch.toml"
        config.write_text(
            f"[channels]\nconsole = false\n[channels.telegram]\nenabled = true\n"
            f'base_url = "{telegram.base_url}"\n',
            encoding="utf-8",
        )
        command = [DVCWATCH, "deliver", "--db", app.settings.database.url, "--config", str(config)]
        env = {**os.environ, "DVCWATCH_TELEGRAM_TOKEN": REVOKED}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        sends = telegram.calls("sendMessage")
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in output  # cron must see it
    assert REVOKED not in output and REVOKED.split(":")[1] not in output
    rejected = [line for line in done.stderr.splitlines() if "rejected the bot token:" in line]
    assert rejected == [
        "Telegram rejected the bot token: set a new one in DVCWATCH_TELEGRAM_TOKEN; "
        "nothing goes through telegram until then"
    ]
    assert done.stderr.splitlines()[-1] == (
        "dvcwatch: deliver: telegram rejected its bot token, nothing went through it "
        "(see dvcwatch status)"
    )
    assert sends == []
    with app.sessions()() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {DeliveryStatus.PENDING}  # kept for when the token is fixed
