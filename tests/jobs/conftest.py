"""Fixtures of the service tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.simulator.simulator import GeneratedSource, PortalSimulator
from tests.conftest import PROJECT
from tests.fakes.telegram_server import FakeTelegram
from tests.jobs.world import CHAT, free_port, start
from tests.waiting import PATIENCE


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[PortalSimulator, FakeTelegram, Path]]:
    with (
        PortalSimulator(GeneratedSource(seed=11, provinces=1, communes=5, agencies=1)) as sim,
        FakeTelegram() as telegram,
    ):
        (tmp_path / "directory.toml").write_text(
            f'[[people]]\nid = "lan"\nname = "Nguyễn Thị Lan"\nunits = ["*"]\n'
            f'topics = ["overdue", "notice"]\nchannel = "telegram"\naddress = "{CHAT}"\n',
            encoding="utf-8",
        )
        (tmp_path / "dvcwatch.toml").write_text(
            f"""
[portal]
base_url = "{sim.base_url}"
pause_seconds = [0, 0]
[[watch]]
province = "H01"
[schedules]
sync_every_seconds = 1
deliver_every_seconds = 0.5
catch_up_days = 31
health_address = "127.0.0.1:{free_port()}"
run_bot = false
[channels]
console = false
[channels.telegram]
enabled = true
base_url = "{telegram.base_url}"
[scoring]
schemes_dir = "{PROJECT / "config" / "schemes"}"
[alerts]
rules_file = "{PROJECT / "config" / "rules.toml"}"
directory_file = "{tmp_path / "directory.toml"}"
holidays_file = "{PROJECT / "config" / "holidays.toml"}"
quiet_start = 00:00:00
quiet_end = 00:00:00
quiet_weekends = false
[notices]
out_dir = "{tmp_path / "out"}"
formats = ["docx"]
[[notices.units]]
unit = "H01.101"
""",
            encoding="utf-8",
        )
        yield sim, telegram, tmp_path / "dvcwatch.toml"


@pytest.fixture
def launch() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `dvcwatch run` processes (`launch(config, db_url, log=None)`); any still alive
    when the test ends is killed."""
    started: list[subprocess.Popen[bytes]] = []

    def launch_one(config: Path, db_url: str, log: Path | None = None) -> subprocess.Popen[bytes]:
        process = start(config, db_url, log)
        started.append(process)
        return process

    yield launch_one
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=PATIENCE)
