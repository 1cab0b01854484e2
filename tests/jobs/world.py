"""Helpers of the service tests: start, wait for and stop `dvcwatch run`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.fakes.telegram_server import DEFAULT_TOKEN
from tests.waiting import PATIENCE, wait_until

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


def wait_for(condition: Callable[[], object], seconds: float = PATIENCE) -> None:
    """Until `condition()` is true; failing after `seconds` (a bound, not a measurement)."""
    wait_until(condition, "the service's next step", seconds)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then the clean exit (0) the service owes it."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=PATIENCE) == 0
