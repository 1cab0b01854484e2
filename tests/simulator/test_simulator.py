"""The simulator's command line: `python -m service.simulator.simulator`."""

from __future__ import annotations

import re
import select
import signal
import subprocess
import sys

import pytest

from service.simulator.simulator import main
from tests.conftest import PROJECT
from tests.simulator.conftest import fetch, period_body, post
from tests.waiting import PATIENCE


def test_the_cli_serves_until_sigterm_then_exits_0() -> None:
    command = [
        sys.executable,
        "-m",
        "service.simulator.simulator",
        "--generate",
        "--seed",
        "2",
        "--port",
        "0",
        "--fault",
        "429:transparency:1",
    ]
    with subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 15)
            assert ready, "the simulator printed nothing"
            line = process.stdout.readline()
            match = re.fullmatch(
                r"dvcwatch portal simulator listening on "
                r"(http://127\.0\.0\.1:\d+)\n",
                line,
            )
            assert match, line
            url = match.group(1)
            ranking = fetch(url, "service-results", None)
            assert len(ranking["evaluation"]) == 1
            province = ranking["evaluation"][0]["departmentId"]
            body = {**period_body("transparency"), "rootDepartmentId": province}
            assert [post(url, "transparency", body).status_code for _ in range(2)] == [429, 201]
        finally:
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=PATIENCE) == 0
        assert process.stdout.read() == ""


def test_the_cli_refuses_a_host_outside_the_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--generate", "--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err
