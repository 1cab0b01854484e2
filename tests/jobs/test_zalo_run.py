"""`dvcwatch run` with Zalo as a person's channel: alerts and the notice (its summary as
text) reach the Zalo chat once, and a reply "OK <id>" read by the service's Zalo poller
acknowledges the alert, while the same reply from a stranger does not."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from service.alerts.models import Alert
from service.alerts.summaries import SUMMARY_RULE
from service.app import App
from service.cli import main
from service.clock import utcnow
from service.config import Settings
from tests.fakes.zalo_server import DEFAULT_TOKEN, FakeZalo
from tests.jobs.world import DVCWATCH, stop, wait_for

ZALO_CHAT = "lan-zalo-777"


@pytest.fixture
def zalo_world(world) -> Iterator[tuple[FakeZalo, Path]]:  # type: ignore[no-untyped-def]
    _simulator, _telegram, config = world
    with FakeZalo(chats={ZALO_CHAT, "stranger"}) as zalo:
        text = config.read_text(encoding="utf-8")
        text = text.replace("run_bot = false", "run_bot = true")
        text = text.replace(
            "[channels.telegram]\nenabled = true",
            f'[channels.zalo]\nenabled = true\nbase_url = "{zalo.base_url}"\n'
            "[channels.telegram]\nenabled = false",
        )
        config.write_text(text, encoding="utf-8")
        directory = config.parent / "directory.toml"
        entry = directory.read_text(encoding="utf-8")
        entry = re.sub(r'channel = "telegram"\naddress = "[^"]+"', "", entry)
        directory.write_text(
            entry + f'channel = "zalo"\naddress = "{ZALO_CHAT}"\n', encoding="utf-8"
        )
        yield zalo, config


def test_the_service_delivers_through_zalo_and_a_reply_acknowledges(zalo_world, db_url, tmp_path):
    zalo, config = zalo_world
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    env = {**os.environ, "DVCWATCH_ZALO_TOKEN": DEFAULT_TOKEN}
    env.pop("DVCWATCH_TELEGRAM_TOKEN", None)
    log = (tmp_path / "run.log").open("wb")
    service = subprocess.Popen(
        [DVCWATCH, "run", "--config", str(config), "--db", db_url],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def arrived() -> bool:
            texts = " ".join(zalo.sent_texts(ZALO_CHAT))
            return "hồ sơ quá hạn" in texts and "không gửi được qua Zalo" in texts

        wait_for(arrived)
        texts = zalo.sent_texts(ZALO_CHAT)
        [alert_id, *_] = re.findall(r"«OK (\d+)»", " ".join(texts))
        zalo.push_text("stranger", f"OK {alert_id}")
        wait_for(lambda: bool(zalo.sent_texts("stranger")))
        pressed = utcnow()
        zalo.push_text(ZALO_CHAT, f"OK {alert_id}")
        taken = f"Đã ghi nhận cảnh báo số {alert_id}: "
        wait_for(lambda: any(t.startswith(taken) for t in zalo.sent_texts(ZALO_CHAT)))
    finally:
        stop(service)
    assert zalo.sent_texts("stranger") == ["Bạn không nhận cảnh báo này nên không thể xác nhận."]
    assert all(len(text) <= 2000 and "<b>" not in text for text in zalo.sent_texts(ZALO_CHAT))
    notice = next(t for t in zalo.sent_texts(ZALO_CHAT) if "Tệp Word đính kèm" in t)
    assert "Công văn kết quả đánh giá" in notice and "Điểm tổng hợp" in notice  # what it says
    assert re.search(r"«congvan-H01\.\d+-\d{4}-\d{2}-v1\.docx»", notice), notice  # its file
    sent = [(c.chat_id, c.params["text"]) for c in zalo.calls("sendMessage") if c.status == 200]
    assert len(sent) == len(set(sent))  # nothing twice
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        alert = session.scalar(select(Alert).where(Alert.id == int(alert_id)))
        assert alert is not None
        # A summary whose text changed after the press (the next sync moved its units: the
        # month turned while the test ran) is a new message awaiting a new press, by design.
        rewritten = alert.rule_id == SUMMARY_RULE and alert.last_changed_at >= pressed
        assert alert.acknowledged_by == "Nguyễn Thị Lan" or rewritten
    app.engine.dispose()


def test_run_goes_on_when_zalo_rejects_the_token_and_never_shows_it(zalo_world, db_url, tmp_path):
    zalo, config = zalo_world
    rejected = "9000000001:zalo-rejected-SECRET-q7Wx"
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    env = {**os.environ, "DVCWATCH_ZALO_TOKEN": rejected}
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        service = subprocess.Popen(
            [DVCWATCH, "run", "--config", str(config), "--db", db_url],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    refusal = "Zalo rejected the bot token: set a new one in DVCWATCH_ZALO_TOKEN"
    try:
        wait_for(lambda: "the zalo bot is off" in log.read_text())
        status = subprocess.run(
            [DVCWATCH, "status", "--config", str(config), "--db", db_url],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert service.poll() is None  # the other jobs go on
    finally:
        stop(service)
    text = log.read_text()
    assert refusal in text and zalo.calls("getUpdates") and not zalo.sent_texts(ZALO_CHAT)
    assert re.search(r"bot: last success -, last failure \d{4}-", status.stdout)
    secret = rejected.split(":")[1]
    assert secret not in text + status.stdout + status.stderr


def test_the_bot_command_answers_on_zalo_when_telegram_is_off(zalo_world, db_url, tmp_path):
    """`dvcwatch bot` without Telegram: it answers Zalo's /start, and stops on SIGTERM."""
    zalo, config = zalo_world
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    env = {**os.environ, "DVCWATCH_ZALO_TOKEN": DEFAULT_TOKEN}
    env.pop("DVCWATCH_TELEGRAM_TOKEN", None)
    with (tmp_path / "bot.log").open("wb") as output:
        bot = subprocess.Popen(
            [DVCWATCH, "bot", "--config", str(config), "--db", db_url],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        zalo.push_text(ZALO_CHAT, "/start")
        wait_for(lambda: bool(zalo.sent_texts(ZALO_CHAT)))
    finally:
        stop(bot)
    assert bot.returncode == 0, (tmp_path / "bot.log").read_text()
    assert ZALO_CHAT in zalo.sent_texts(ZALO_CHAT)[0]  # the chat id to register
