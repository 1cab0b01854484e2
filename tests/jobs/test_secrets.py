"""A bot token Telegram rejects: `dvcwatch run` goes on without the bot, `dvcwatch bot`
stops with one line, and the token appears in no output, log, status or table."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import String, Text, create_engine, func, inspect, select, table, text
from sqlalchemy import column as sql_column

from service.cli import main
from tests.jobs.world import DVCWATCH, stop, wait_for

# Not the fake's token, so the fake answers 401 "Unauthorized", as Telegram does for a
# revoked one; distinctive, to be found wherever it would leak.
REJECTED = "7000000001:AAH-dvcwatch-rejected-SECRET-x9Qz"
REFUSAL = (
    "Telegram rejected the bot token: set a new one in DVCWATCH_TELEGRAM_TOKEN and restart dvcwatch"
)


def leaks(text: str) -> list[str]:
    """The forms of the token (whole, URL-quoted, its secret half) found in `text`."""
    forms = (REJECTED, quote(REJECTED, safe=""), REJECTED.split(":")[1])
    return [form for form in forms if form.lower() in text.lower()]  # in any letter case


def database_text(db_url: str) -> str:
    """Every text value of every table, one per line."""
    engine = create_engine(db_url)
    values: list[str] = []
    try:
        schema = inspect(engine)
        with engine.connect() as connection:
            for name in schema.get_table_names():
                columns = [
                    c["name"]
                    for c in schema.get_columns(name)
                    if isinstance(c["type"], String | Text)
                ]
                if not columns:
                    continue
                names = ", ".join(f'"{c}"' for c in columns)
                for row in connection.execute(text(f'SELECT {names} FROM "{name}"')):
                    values += [str(value) for value in row if value is not None]
    finally:
        engine.dispose()
    return "\n".join(values)


def ok_syncs(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            runs = table("fetch_runs", sql_column("status"))
            query = select(func.count()).select_from(runs).where(sql_column("status") == "ok")
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def with_bot(config: Path) -> Path:
    config.write_text(
        config.read_text(encoding="utf-8").replace("run_bot = false", "run_bot = true"),
        encoding="utf-8",
    )
    return config


def dvcwatch(*arguments: str, out: Path, db_url: str, config: Path) -> subprocess.Popen[bytes]:
    """`dvcwatch <arguments>` with the rejected token, its output in `out`.out/.err."""
    env = {**os.environ, "DVCWATCH_TELEGRAM_TOKEN": REJECTED}
    return subprocess.Popen(
        [DVCWATCH, *arguments, "--config", str(config), "--db", db_url],
        env=env,
        stdout=out.with_suffix(".out").open("wb"),
        stderr=out.with_suffix(".err").open("wb"),
    )


def output(out: Path) -> str:
    return out.with_suffix(".out").read_text() + out.with_suffix(".err").read_text()


def test_run_goes_on_without_the_bot_when_telegram_rejects_the_token(world, db_url, tmp_path):
    _simulator, telegram, config = world
    config = with_bot(config)
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    log = tmp_path / "run"
    service = dvcwatch("run", out=log, db_url=db_url, config=config)
    try:
        wait_for(lambda: REFUSAL in output(log))
        after_refusal = ok_syncs(db_url)
        wait_for(lambda: ok_syncs(db_url) >= after_refusal + 2)  # its syncs go on
        assert service.poll() is None  # no exit, hence no restart loop under systemd
        [address] = re.findall(r'health_address = "([^"]+)"', config.read_text())
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=30) as answer:
            metrics = answer.read().decode()
        status = subprocess.run(
            [DVCWATCH, "status", "--config", str(config), "--db", db_url],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DVCWATCH_TELEGRAM_TOKEN": REJECTED},
        )
    finally:
        stop(service)
    assert 'dvcwatch_job_runs_total{job="bot",outcome="failed"} 1.0' in metrics
    assert re.search(r"bot: last success -, last failure \d{4}-", status.stdout)
    assert output(log).count(REFUSAL) == 1
    assert telegram.calls("getMe"), "the token was tried against the fake Bot API"
    everything = "\n".join([output(log), metrics, status.stdout, status.stderr])
    stored = database_text(db_url)
    assert "H01" in stored  # the tables were read: the runs name their province
    assert leaks(everything) == [] and leaks(stored) == []


def test_bot_stops_with_one_line_when_telegram_rejects_the_token(world, db_url, tmp_path):
    _simulator, telegram, config = world
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    log = tmp_path / "bot"
    bot = dvcwatch("bot", out=log, db_url=db_url, config=config)
    assert bot.wait(timeout=60) == 1
    assert output(log) == f"dvcwatch: {REFUSAL}\n"
    assert [call.method for call in telegram.calls()] == ["getMe"]
    assert leaks(database_text(db_url)) == []
