"""`dvcwatch run` as a real process: sync, alerts and the notice each delivered once,
across SIGTERM and restart; a sync killed midway is completed by the next run.

The test waits for what the service records (its sync slots claimed, its outbox
emptied, a request held at the portal), never for a number of seconds."""

from __future__ import annotations

import signal

from sqlalchemy import func, select

from service.app import App
from service.claims import JobClaim
from service.cli import main
from service.config import Settings
from service.delivery.models import DeliveryStatus, OutboxMessage
from service.models import FetchRun
from service.simulator.simulator import Fault, PortalSimulator
from tests.jobs.world import CHAT, stop
from tests.waiting import PATIENCE, Gate, wait_until


def sync_slots(app: App) -> int:
    """The interval sync slots claimed so far: the next is claimed only once the one
    before has ended, its alerts evaluated and queued."""
    with app.sessions()() as session:
        return session.scalar(select(func.count()).where(JobClaim.job == "sync")) or 0


def outbox_empty(app: App) -> bool:
    with app.sessions()() as session:
        waiting = select(OutboxMessage.id).where(OutboxMessage.status == DeliveryStatus.PENDING)
        return session.scalar(waiting.limit(1)) is None


def settle(app: App) -> None:
    """Until a whole sync slot has run after this moment and its outbox is sent."""
    slots = sync_slots(app)
    wait_until(lambda: sync_slots(app) >= slots + 2, "a whole sync slot run after this one")
    wait_until(lambda: outbox_empty(app), "the outbox sent")


def latest_run(app: App) -> FetchRun | None:
    with app.sessions()() as session:
        return session.scalars(select(FetchRun).order_by(FetchRun.id.desc()).limit(1)).first()


def hold_next_sync(simulator: PortalSimulator, gate: Gate) -> None:
    """Until the next sync's transparency request is held at the portal (mid-sync)."""
    simulator.sleep = gate
    simulator.inject(Fault("delay", endpoint="transparency", times=1, seconds=30))
    wait_until(lambda: gate.held, "a sync's request held at the portal")


def test_the_service_delivers_once_across_restarts_and_completes_a_killed_sync(
    world, db_url, launch
):
    simulator, telegram, config = world
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    first = launch(config, db_url)
    try:
        wait_until(
            lambda: telegram.calls("sendDocument") and telegram.sent_texts(CHAT),
            "the alerts and the notice delivered",
        )
        settle(app)  # more sync slots pass: nothing changed, nothing is sent again
    finally:
        stop(first)
    messages, documents = len(telegram.sent_texts(CHAT)), len(telegram.calls("sendDocument"))
    assert documents == 1 and "hồ sơ quá hạn" in " ".join(telegram.sent_texts(CHAT))

    second = launch(config, db_url)
    with Gate() as gate:
        settle(app)  # the restarted service caught up and synced: nothing sent again
        hold_next_sync(simulator, gate)
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=PATIENCE)
    assert len(telegram.sent_texts(CHAT)) == messages
    assert len(telegram.calls("sendDocument")) == documents
    killed = latest_run(app)
    assert killed is not None and killed.status == "running"  # killed mid-sync

    third = launch(config, db_url)
    try:

        def completed() -> bool:
            run = latest_run(app)
            return run is not None and run.id > killed.id and run.status == "ok"

        wait_until(completed, "a sync after the killed one completed")
    finally:
        stop(third)
    app.engine.dispose()
    assert len(telegram.calls("sendDocument")) == documents


def test_a_stop_lets_the_message_in_flight_finish_and_logs_no_traceback(
    world, db_url, launch, tmp_path
):
    """SIGTERM while Telegram holds the answer to a message: the outbox step is not
    cancelled under it (the message is `sent`, not left in flight), and the stop is
    lines in the log, never a traceback."""
    simulator, telegram, config = world
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    telegram.fail("sendMessage", kind="hold", times=1)
    log = tmp_path / "run.log"
    service = launch(config, db_url, log)
    wait_until(
        lambda: [c for c in telegram.calls("sendMessage") if c.status is None],
        "a message held at Telegram",
    )
    service.send_signal(signal.SIGTERM)
    wait_until(lambda: "running step(s) may finish" in log.read_text(), "the stop begun")
    telegram.release()
    assert service.wait(timeout=PATIENCE) == 0
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        rows = session.execute(select(OutboxMessage.text_html, OutboxMessage.status)).all()
        statuses = {text: status for text, status in rows}
    app.engine.dispose()
    held = telegram.calls("sendMessage")[0]
    assert held.status == 200 and statuses[held.params["text"]] == DeliveryStatus.SENT
    assert not {DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN} & set(statuses.values())
    assert "Traceback" not in log.read_text()
