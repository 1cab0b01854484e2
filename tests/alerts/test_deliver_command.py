"""`dvcwatch deliver` as an operator runs it, against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select, text

from service import db
from service.cli import main
from service.clock import utcnow
from service.delivery.models import DeliveryStatus, OutboxMessage
from service.models import FetchRun
from service.runs import LEASE, start_run
from tests.alerts.test_outbox import claimed_by, queue
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram
from tests.waiting import PATIENCE, wait_until

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")
REVOKED = "777000111:AAThisTokenWasRevokedAndMustNeverBePrinted"


def deliver_command(app, tmp_path: Path, base_url: str, token: str) -> tuple[list[str], dict]:
    """`dvcwatch deliver` through Telegram at `base_url` with `token`, the console off."""
    config = tmp_path / "dvcwatch.toml"
    config.write_text(
        "[channels]\nconsole = false\n[channels.telegram]\nenabled = true\n"
        f'base_url = "{base_url}"\n',
        encoding="utf-8",
    )
    command = [DVCWATCH, "deliver", "--db", app.settings.database.url, "--config", str(config)]
    return command, {**os.environ, "DVCWATCH_TELEGRAM_TOKEN": token}


def test_a_rejected_token_is_one_clear_line_never_the_token_and_nothing_is_lost(app, tmp_path):
    for number in range(3):
        queue(app.sessions(), person=f"p{number}", address=str(100000020 + number))
    with FakeTelegram() as telegram:
        base_url = telegram.base_url
        command, env = deliver_command(app, tmp_path, base_url, REVOKED)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        sends = telegram.calls("sendMessage")
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in output  # cron must see it
    assert REVOKED not in output and REVOKED.split(":")[1] not in output
    rejected = [line for line in done.stderr.splitlines() if "rejected the bot token:" in line]
    assert rejected == [
        "Telegram rejected the bot token: set a new one in DVCWATCH_TELEGRAM_TOKEN (or "
        f"{base_url}, channels.telegram.base_url, is not a Bot API server); "
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
    assert status_lines(app, "pending on telegram") == [
        "3 pending on telegram since {}: Telegram rejected the bot token: set a new one in "
        f"DVCWATCH_TELEGRAM_TOKEN (or {base_url}, channels.telegram.base_url, is not a Bot API "
        "server)"
    ]


def status_lines(app, marker: str) -> list[str]:
    """The lines of `dvcwatch status` holding `marker`, their time as "{}"."""
    command = [DVCWATCH, "status", "--db", app.settings.database.url]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return [
        re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "{}", line.strip())
        for line in shown.stdout.splitlines()
        if marker in line
    ]


class _NotTheBotApi(BaseHTTPRequestHandler):
    """A web server at the configured address that is not the Bot API: 200 and HTML."""

    status = 200
    asked: list[str] = []  # the paths asked, in order (one server per test)

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.asked.append(self.path)
        page = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *_args: object) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A web server of `handler` on 127.0.0.1 while the block runs; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return int(free.getsockname()[1])


@pytest.mark.parametrize("answer", ["nothing listens", "not the Bot API"])
def test_a_channel_that_cannot_be_reached_fails_the_pass_and_keeps_every_message(
    app, tmp_path, answer
):
    """cron must see it (exit 1, one line counting what did not go); each message stays
    pending, never `uncertain` (nothing was sent: getMe failed); no library traceback."""
    for number in range(3):
        queue(app.sessions(), person=f"p{number}", address=str(100000020 + number))
    _NotTheBotApi.asked.clear()
    with serving(_NotTheBotApi) as served:
        port = _closed_port() if answer == "nothing listens" else served
        command, env = deliver_command(app, tmp_path, f"http://127.0.0.1:{port}/bot", REVOKED)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert REVOKED.split(":")[1].lower() not in (done.stdout + done.stderr).lower()
    assert "maybe delivered" not in done.stderr
    unavailable = [line for line in done.stderr.splitlines() if "unavailable in this pass" in line]
    assert len(unavailable) == 1  # said once for the channel, not once per person
    last = done.stderr.splitlines()[-1]
    assert last.startswith(
        "dvcwatch: deliver: 3 message part(s) not sent: telegram could not be reached ("
    )
    assert last.endswith("); they stay pending (see dvcwatch status)")
    with app.sessions()() as session:
        statuses = list(session.scalars(select(OutboxMessage.status)))
    assert statuses == [DeliveryStatus.PENDING] * 3
    [waiting] = status_lines(app, "pending on telegram")
    assert waiting.startswith("3 pending on telegram since {}: ")
    assert "100000020" not in waiting  # the channel's reason, not the first person's
    if answer == "not the Bot API":  # the three waited for one check, not one each
        assert [path.rsplit("/", 1)[-1] for path in _NotTheBotApi.asked] == ["getMe"]


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_a_message_in_flight_when_deliver_stopped_is_listed_by_status_at_once(app, tmp_path, stop):
    """cron's `deliver` killed (or stopped by SIGTERM) while Telegram holds its request:
    the message may have arrived. `status` lists it as uncertain straight away, not
    only after the next pass."""
    queue(app.sessions(), person="lan", address="100000020")
    with FakeTelegram() as telegram:
        telegram.fail("sendMessage", "hold")
        command, env = deliver_command(app, tmp_path, telegram.base_url, DEFAULT_TOKEN)
        sender = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_until(lambda: telegram.calls("sendMessage"), "the message's request at Telegram")
            sender.send_signal(stop)
            sender.wait(timeout=PATIENCE)
        finally:
            if sender.poll() is None:
                sender.kill()
            telegram.release()
    [listed] = status_lines(app, "to lan (telegram 100000020)")
    assert listed.endswith("the sender stopped during the request: maybe delivered")
    with app.sessions()() as session:
        assert list(session.scalars(select(OutboxMessage.status))) == [DeliveryStatus.UNCERTAIN]


@contextlib.contextmanager
def another_process_holding_the_lock(app) -> Iterator[None]:
    """What `status` would need to settle a stopped process's leftovers, held by another
    connection: SQLite's one write lock (a long import, a sync), PostgreSQL's lock of the
    runs' rows. Let go when the block ends, or after PATIENCE at the latest, so a
    `status` that waited for it out of turn would find it free and settle everything."""
    if app.engine.dialect.name == "sqlite":
        writer = sqlite3.connect(app.engine.url.database, isolation_level=None,
                                 check_same_thread=False)  # fmt: skip
        writer.execute("BEGIN IMMEDIATE")
        release = writer.close
    else:
        connection = app.engine.connect()
        connection.begin()
        connection.execute(text("SELECT id FROM fetch_runs FOR UPDATE"))
        release = connection.close
    lock, released = threading.Lock(), threading.Event()

    def release_once() -> None:
        with lock:
            if not released.is_set():
                released.set()
                release()

    timer = threading.Timer(PATIENCE, release_once)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        release_once()


def test_status_reports_while_another_process_holds_a_lock_and_settles_later(
    app, monkeypatch, capsys, caplog
):
    """`status` settles what a stopped process left: its run, never finished, and its
    message, whose request may have arrived. While another process holds the lock that
    needs, it waits briefly (not SQLite's busy timeout, nor forever on PostgreSQL),
    reports both as they were left and says so in one line; the next `status`, the lock
    free, closes the run and lists the message as uncertain."""
    queue(app.sessions(), person="lan", address="100000020")
    claimed_by(app.sessions(), "elsewhere:1")  # its lease passed long ago
    run_id = start_run(app.sessions(), "sync", "H44", "2026-08")
    with app.sessions().begin() as session:  # an older dvcwatch's: no owner, long silent
        run = session.get_one(FetchRun, run_id)
        run.owner_host, run.owner_pid = None, None
        run.started_at = utcnow() - LEASE - dt.timedelta(hours=1)
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 10 * PATIENCE)  # the long wait, outlasted
    monkeypatch.setattr(db, "COURTESY_WAIT_SECONDS", 0.05)
    status = ["status", "--db", app.settings.database.url, "--format", "json"]
    capsys.readouterr()
    with another_process_holding_the_lock(app):
        assert main(status) == 0
        shown = capsys.readouterr()
    report = json.loads(shown.out)
    assert shown.err == (
        "dvcwatch: the database could not be written to (another process holds its lock, or "
        "this user may only read): a run or message that a stopped process left is shown as "
        "it was left; a later status or pass settles it\n"
    )
    assert [run["status"] for run in report["runs"]] == ["running"]
    assert report["outbox"]["sending"] == 1 and report["uncertain"] == []
    assert main(status) == 0
    shown = capsys.readouterr()
    report = json.loads(shown.out)
    assert [(run["status"], run["error"]) for run in report["runs"]] == [
        ("failed", "no owner recorded and no sign of life since it started")
    ]
    assert report["outbox"]["sending"] == 0 and len(report["uncertain"]) == 1
    assert "1 run(s) left running by a process that is gone were closed" in caplog.messages


class _NotFound(_NotTheBotApi):
    status = 404


def test_a_web_server_answering_404_is_not_only_blamed_on_the_token(app, tmp_path):
    """The Bot API answers a wrong token with 404, as any web server answers a path it
    does not have: an operator whose base_url is wrong must not only be told to get a
    new token."""
    queue(app.sessions(), person="lan", address="100000020")
    with serving(_NotFound) as port:
        base_url = f"http://127.0.0.1:{port}/bot"
        command, env = deliver_command(app, tmp_path, base_url, REVOKED)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert (
        "Telegram rejected the bot token: set a new one in DVCWATCH_TELEGRAM_TOKEN (or "
        f"{base_url}, channels.telegram.base_url, is not a Bot API server)" in done.stderr
    )
