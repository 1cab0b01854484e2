"""The systemd unit is valid (checked by systemd-analyze where it is installed) and hardened."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT

UNIT = PROJECT / "systemd" / "dvcwatch.service"


def settings_of(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )


def test_the_unit_runs_as_its_own_user_hardened_and_restarts_on_failure():
    unit = settings_of(UNIT.read_text(encoding="utf-8"))
    assert unit["User"] == "dvcwatch" and unit["Restart"] == "on-failure"
    assert unit["EnvironmentFile"].startswith("/etc/dvcwatch/")
    assert unit["NoNewPrivileges"] == "yes" and unit["ProtectSystem"] == "strict"
    assert unit["ReadWritePaths"] == "/var/lib/dvcwatch" and unit["ProtectHome"] == "yes"
    assert unit["PrivateTmp"] == "yes" and unit["CapabilityBoundingSet"] == ""
    assert unit["ExecStart"].endswith("dvcwatch run")


def test_the_unit_keeps_what_dvcwatch_writes_from_other_users():
    unit = settings_of(UNIT.read_text(encoding="utf-8"))
    assert unit["UMask"] == "0027"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path):
    installed = Path(sys.executable).parent / "dvcwatch"
    text = UNIT.read_text(encoding="utf-8").replace(
        "/opt/dvcwatch/.venv/bin/dvcwatch", str(installed)
    )
    copy = tmp_path / "dvcwatch.service"
    copy.write_text(text.replace("/opt/dvcwatch", str(PROJECT)), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_systemd_analyze_would_catch_a_broken_unit(tmp_path: Path):
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nExecStart=/nonexistent/dvcwatch run\n", encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
