"""A real `dvcwatch deliver` through Zalo, killed (SIGKILL) at random requests, sends
nothing twice, and every message it lost is one `dvcwatch status` lists as uncertain:
the outbox's guarantee holds for a second channel (see test_outbox_crash.py)."""

from __future__ import annotations

import os
import random

from sqlalchemy import select

from service.channels.messages import plain_text
from service.delivery.models import DeliveryStatus, OutboxMessage
from tests.alerts.test_outbox import queue
from tests.alerts.test_outbox_crash import Killer, run_killed_senders
from tests.fakes.zalo_server import DEFAULT_TOKEN, FakeZalo

KILLS = 8
SINGLE_CHATS = 40
DIGEST_CHATS = 3  # 60 alerts each: over 2,000 characters, so several parts


def test_killed_zalo_senders_double_nothing_and_every_loss_is_listed_uncertain(app, tmp_path):
    seed = int(os.environ.get("DVCWATCH_KILL_SEED", random.randrange(10**6)))
    print(f"kill seed: {seed}")
    rng = random.Random(seed)
    for number in range(SINGLE_CHATS):
        queue(app.sessions(), person=f"s{number}", address=f"zs{number}", channel="zalo")
    for number in range(DIGEST_CHATS):
        queue(
            app.sessions(),
            count=60,
            digest=f"d{number}:zalo:run",
            person=f"d{number}",
            address=f"zd{number}",
            unit=f"UBND xã Thử {number}",
            channel="zalo",
        )
    killer = Killer()
    with FakeZalo(on_request=killer) as zalo:
        runs = run_killed_senders(
            app, zalo, killer, "[channels.zalo]", ("DVCWATCH_ZALO_TOKEN", DEFAULT_TOKEN),
            KILLS, 8, rng, tmp_path,
        )  # fmt: skip
    kills, listed, received = runs.kills, runs.uncertain, runs.received
    assert kills >= KILLS - 2, f"only {kills} kills landed (seed {seed})"
    with app.sessions()() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    expected = {row.id: (row.address, plain_text(row.text_html)) for row in rows}
    doubled = {key: n for key, n in received.items() if n > 1}
    lost = {mid for mid, key in expected.items() if key not in received}
    assert len(set(expected.values())) == len(expected)
    assert len(expected) > SINGLE_CHATS + DIGEST_CHATS and doubled == {}, f"seed {seed}"
    assert lost <= listed, f"lost but not listed as uncertain: {lost - listed} (seed {seed})"
    assert {row.status for row in rows} <= {DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN}
    assert all(len(text) <= 2000 for _, text in received)
