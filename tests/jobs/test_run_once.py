"""`dvcwatch run --once` against a portal that refuses connections: exit 1 naming the
failed jobs, warnings without tracebacks, and `status` showing failed runs, none running;
against a Telegram refusing its token: exit 1 saying so."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import PROJECT
from tests.jobs.world import DVCWATCH, free_port


def test_a_cycle_against_a_refusing_portal_exits_1_and_leaves_no_run_running(tmp_path: Path):
    config = tmp_path / "dvcwatch.toml"
    (tmp_path / "directory.toml").write_text(
        '[[people]]\nid = "lan"\nname = "Nguyễn Thị Lan"\nunits = ["*"]\ntopics = ["notice"]\n'
        'channel = "console"\naddress = "lan"\n',
        encoding="utf-8",
    )
    config.write_text(
        f"""
[portal]
base_url = "http://127.0.0.1:{free_port()}"
pause_seconds = [0, 0]
retries = 0
[[watch]]
province = "H01"
[schedules]
catch_up_days = 31
run_bot = false
[scoring]
schemes_dir = "{PROJECT / "config" / "schemes"}"
[alerts]
rules_file = "{PROJECT / "config" / "rules.toml"}"
holidays_file = "{PROJECT / "config" / "holidays.toml"}"
directory_file = "{tmp_path / "directory.toml"}"
[notices]
out_dir = "{tmp_path / "out"}"
formats = ["docx"]
[[notices.units]]
unit = "H01.101"
""",
        encoding="utf-8",
    )
    options = ["--config", str(config), "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    upgrade = subprocess.run([DVCWATCH, *options, "db", "upgrade"], capture_output=True)
    assert upgrade.returncode == 0

    cycle = subprocess.run(
        [DVCWATCH, *options, "run", "--once"], capture_output=True, text=True, timeout=120
    )
    log = cycle.stderr
    assert cycle.returncode == 1, log
    assert "Traceback" not in log and "--unit" not in log
    summary = [line for line in log.splitlines() if "failed job(s)" in line]
    assert len(summary) == 1 and "sync H01" in summary[0]
    assert "notices congvan:H01.101" in summary[0]
    assert "WARNING dvcwatch.jobs: sync H01" in log and "ERROR" not in log
    assert "WARNING dvcwatch.jobs: notices congvan:H01.101" in log

    status = subprocess.run(
        [DVCWATCH, *options, "status", "--format", "json"], capture_output=True, text=True
    )
    report = json.loads(status.stdout)
    assert report["runs"] and {run["status"] for run in report["runs"]} == {"failed"}
    assert all("connection failed: Connection refused" in run["error"] for run in report["runs"])
    assert report["jobs"]["sync"]["last_failure"] is not None

    # Under systemd (stderr is the journal stream): each failure carries priority 4, so
    # `journalctl -u dvcwatch -p warning` finds it; nothing is an error (priority 3).
    journal = tmp_path / "journal"
    with journal.open("w") as stream:
        identity = os.fstat(stream.fileno())
        again = subprocess.run(
            [DVCWATCH, *options, "run", "--once"],
            stderr=stream,
            env={**os.environ, "JOURNAL_STREAM": f"{identity.st_dev}:{identity.st_ino}"},
            timeout=120,
        )
    assert again.returncode == 1
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("<4>dvcwatch.jobs: sync H01") for line in lines)
    assert any(line.startswith("<4>dvcwatch.scheduler: the cycle ended with") for line in lines)
    assert not [line for line in lines if line.startswith(("<3>", "<2>"))]


def test_a_cycle_whose_messages_cannot_go_exits_1_saying_why(world, tmp_path: Path):
    """A cycle that synced and queued its alerts, with Telegram refusing the bot token:
    `run --once` (a cron job) exits 1 with the delivery's one line, never the token."""
    from tests.alerts.test_deliver_command import REVOKED

    _, telegram, config = world
    options = ["--config", str(config), "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    upgrade = subprocess.run([DVCWATCH, *options, "db", "upgrade"], capture_output=True)
    assert upgrade.returncode == 0
    env = {**os.environ, "DVCWATCH_TELEGRAM_TOKEN": REVOKED}
    cycle = subprocess.run(
        [DVCWATCH, *options, "run", "--once"], capture_output=True, text=True, timeout=120, env=env
    )
    assert telegram.calls("sendMessage") == []
    log = cycle.stderr
    assert cycle.returncode == 1, log
    assert "Traceback" not in log and REVOKED.split(":")[1] not in log
    said = [line for line in log.splitlines() if "the cycle's delivery" in line]
    assert len(said) == 1 and said[0].endswith(
        "the cycle's delivery: telegram rejected its bot token, nothing went through it "
        "(see dvcwatch status)"
    )
    assert "failed job(s)" not in log  # the sync, the alerts and the notice did their work
