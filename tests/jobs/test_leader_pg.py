"""Two `dvcwatch run` on PostgreSQL: one schedules; kill it and the other takes over."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from service.app import App
from service.claims import JobClaim, Leadership
from service.cli import main
from service.config import Settings
from tests.jobs.world import CHAT, free_port, wait_for


def second_config(config: Path) -> Path:
    text = config.read_text(encoding="utf-8")
    other = config.with_name("dvcwatch-b.toml")
    start = text.index("health_address")
    end = text.index("\n", start)
    other.write_text(
        text[:start] + f'health_address = "127.0.0.1:{free_port()}"' + text[end:], encoding="utf-8"
    )
    return other


def leader(app: App) -> str | None:
    with app.sessions()() as session:
        row = session.get(Leadership, "scheduler")
        return row.owner if row else None


def test_one_leader_schedules_and_a_standby_takes_over_within_a_minute(world, db_url, launch):
    if not db_url.startswith("postgresql"):
        pytest.skip("leader election by advisory lock is a PostgreSQL test")
    _simulator, telegram, config = world
    main(["db", "upgrade", "--db", db_url, "--config", str(config)])
    first = launch(config, db_url)
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    wait_for(lambda: leader(app) is not None)
    second = launch(second_config(config), db_url)
    try:
        time.sleep(6)
        assert leader(app) == f"{os.uname().nodename}:{first.pid}"
        with app.sessions()() as session:
            owners = set(session.scalars(select(JobClaim.owner)))
        assert owners == {f"{os.uname().nodename}:{first.pid}"}  # the standby scheduled nothing
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        wait_for(lambda: leader(app) == f"{os.uname().nodename}:{second.pid}", 60)
        assert time.monotonic() - killed_at < 60
        wait_for(lambda: telegram.calls("sendDocument") != [], 30)
        time.sleep(4)
    finally:
        if second.poll() is None:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
        app.engine.dispose()
    assert len(telegram.calls("sendDocument")) == 1
    texts = Counter(telegram.sent_texts(CHAT))
    assert texts and set(texts.values()) == {1}
