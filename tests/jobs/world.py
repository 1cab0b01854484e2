"""Helpers of the service tests: start, wait for and stop `dvcwatch run`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.fakes.telegram_server import DEFAULT_TOKEN

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")
CHAT = "100000777"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(config: Path, db_url: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`dvcwatch run`; its stderr (the log) goes to `log` when given."""
    env = {**os.environ, "DVCWATCH_TELEGRAM_TOKEN": DEFAULT_TOKEN}
    command = [DVCWATCH, "run", "--config", str(config), "--db", db_url]
    if log is None:
        return subprocess.Popen(command, env=env)
    with log.open("ab") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    return time.monotonic() - started
