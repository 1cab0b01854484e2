"""`dvcwatch run` as a real process: sync, alerts and the notice each delivered once,
across SIGTERM and restart; a sync killed midway is completed by the next run."""

from __future__ import annotations

import signal
import time

from sqlalchemy import select

from service.cli import main
from service.models import FetchRun
from service.simulator.simulator import Fault
from tests.jobs.world import CHAT, stop, wait_for


def test_the_service_delivers_once_across_restarts_and_completes_a_killed_sync(
    world, db_url, launch
):
    simulator, telegram, config = world
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    first = launch(config, db_url)
    try:
        wait_for(lambda: telegram.calls("sendDocument") and telegram.sent_texts(CHAT))
        time.sleep(3)  # more sync slots pass: nothing changed, nothing is sent again
    finally:
        assert stop(first) < 30
    messages, documents = len(telegram.sent_texts(CHAT)), len(telegram.calls("sendDocument"))
    assert documents == 1 and "hồ sơ quá hạn" in " ".join(telegram.sent_texts(CHAT))

    second = launch(config, db_url)
    time.sleep(6)
    simulator.inject(Fault("delay", endpoint="transparency", times=1, seconds=30))
    wait_for(lambda: simulator.requests_log[-1][0] == "transparency", 30)
    second.send_signal(signal.SIGKILL)
    second.wait(timeout=10)
    assert len(telegram.sent_texts(CHAT)) == messages  # nothing repeated after the restart
    assert len(telegram.calls("sendDocument")) == documents

    from service.app import App
    from service.config import Settings

    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        killed = max(session.scalars(select(FetchRun.id)).all())
    third = launch(config, db_url)
    try:

        def completed() -> bool:
            with app.sessions()() as session:
                return (
                    session.scalar(
                        select(FetchRun.id).where(FetchRun.id > killed, FetchRun.status == "ok")
                    )
                    is not None
                )

        wait_for(completed, 30)
    finally:
        stop(third)
    app.engine.dispose()
    assert len(telegram.calls("sendDocument")) == documents
