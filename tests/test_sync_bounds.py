"""Hostile portal answers end the sync as a recorded failure: one line, no traceback, nothing
stored, memory bounded; on SQLite and PostgreSQL, in process and as a real `dvcwatch sync`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.app import App
from service.cli import main
from service.config import Settings
from service.models import FetchRun, RawResponse, Snapshot, Unit
from service.periods import Period
from service.portal.client import ARCHIVED_PREFIX_BYTES
from service.simulator.simulator import Fault, PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")
PEAK_RSS_LIMIT_MB = 300
#: Small bounds, so that each hostile answer is cut quickly whatever the machine.
PORTAL_TOML = """[portal]
pause_seconds = [0, 0]
backoff_seconds = 0
retries = 1
timeout_seconds = 5
request_deadline_seconds = 1.5
max_body_bytes = 5000000
max_redirects = 3
"""

HOSTILE = {
    "trickle": (Fault("trickle", "transparency", -1, seconds=0.2), "request deadline of 1.5 s"),
    "huge": (Fault("huge", "transparency", -1), "larger than the limit of 5000000 bytes"),
    "gzip_bomb": (Fault("gzip_bomb", "transparency", -1), "larger than the limit of 5000000"),
    "reset": (Fault("reset", "transparency", -1), "connection broke after"),
    "redirect_loop": (Fault("redirect_loop", "transparency", -1), "more than 3 redirects"),
    "nan": (
        Fault("nan", "dvc-progress-tree", field="totalReceived"),
        "field 'totalReceived': expected a finite number, got NaN",
    ),
    "infinity": (
        Fault("infinity", "dvc-progress-tree", field="score"),
        "field 'score': expected a finite number, got Infinity",
    ),
    "object": (
        Fault("object", "dossier-digitized", field="metrics.dataQualityStatus"),
        "field 'dataQualityStatus': expected a non-empty string, got {'status'",
    ),
    "long_code": (
        Fault("long_text", "dvc-progress-tree", field="departmentCode"),
        "field 'departmentCode': longer than 64 characters (300)",
    ),
}


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    with PortalSimulator(ReplaySource(PHU_THO)) as running:
        yield running


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "dvcwatch.toml"
    path.write_text(PORTAL_TOML, encoding="utf-8")
    return path


def sync_command(db_url: str, config: Path, simulator: PortalSimulator) -> list[str]:
    return ["sync", "--province", "H44", "--period", "2026-08", "--portal-url",
            simulator.base_url, "--db", db_url, "--config", str(config)]  # fmt: skip


def stored(db_url: str) -> tuple[list[FetchRun], int, int, list[RawResponse]]:
    """The runs, the snapshot and unit counts and the archived answers in `db_url`."""
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        runs = list(session.scalars(select(FetchRun).order_by(FetchRun.id)))
        snapshots = int(session.scalar(select(func.count()).select_from(Snapshot)) or 0)
        units = int(session.scalar(select(func.count()).select_from(Unit)) or 0)
        raw = list(session.scalars(select(RawResponse).order_by(RawResponse.id)))
        session.expunge_all()
    app.engine.dispose()
    return runs, snapshots, units, raw


def assert_failed_cleanly(db_url: str, code: int, err: str, reason: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("dvcwatch: sync H44 2026-08: failed: ") and reason in line, line
    [run], snapshots, units, raw = stored(db_url)
    assert (run.status, run.finished_at is not None) == ("failed", True)
    assert reason in str(run.error)
    assert snapshots == 0 and units == 0
    assert raw and all(r.body_size <= ARCHIVED_PREFIX_BYTES for r in raw)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_answer_fails_the_run_with_one_line_and_stores_nothing(
    db_url, config, simulator, capsys, name
):
    fault, reason = HOSTILE[name]
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    capsys.readouterr()
    simulator.inject(fault)
    code = main(sync_command(db_url, config, simulator))
    assert_failed_cleanly(db_url, code, capsys.readouterr().err, reason)


def high_water_mb(pid: int) -> float:
    """The process's own peak resident memory (VmHWM), 0 once it has gone. Not ru_maxrss:
    Linux carries a parent's high-water mark into a child across fork and exec, so under a
    large pytest process every child would seem as large."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


@pytest.mark.parametrize("name", ["trickle", "huge", "gzip_bomb"])
def test_a_real_dvcwatch_sync_survives_a_hostile_answer_in_bounded_memory(
    db_url, config, simulator, tmp_path, name
):
    fault, reason = HOSTILE[name]
    assert main(["db", "upgrade", "--db", db_url, "--config", str(config)]) == 0
    simulator.inject(fault)
    err_path = tmp_path / "stderr.txt"
    with err_path.open("wb") as err, open(os.devnull, "wb") as out:
        process = subprocess.Popen(
            [DVCWATCH, *sync_command(db_url, config, simulator)], stdout=out, stderr=err
        )
        peak_mb = 0.0
        while process.poll() is None:
            peak_mb = max(peak_mb, high_water_mb(process.pid))
            time.sleep(0.02)  # sampling the child's own high-water mark, not waiting on time
        code = process.returncode
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
    assert_failed_cleanly(db_url, code, err_path.read_text(encoding="utf-8"), reason)


def test_a_province_that_is_not_a_code_is_bad_input(db_url, config, simulator, capsys):
    command = sync_command(db_url, config, simulator)
    command[command.index("H44")] = "H44/../../etc"
    assert main(command) == 2
    assert "expected a code (H44) or a departmentId" in capsys.readouterr().err


class Exploding(requests.Session):
    """A transport that fails as no portal can: what a bug in our code would look like."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def request(self, *args: object, **kwargs: object) -> requests.Response:  # type: ignore[override]
        raise self.error


def the_only_run(sessions: sessionmaker[Session]) -> FetchRun:
    with sessions() as session:
        [run] = session.scalars(select(FetchRun)).all()
        return run


@pytest.mark.parametrize(
    ("error", "kind", "recorded"),
    [
        (RuntimeError("a bug"), "internal", "RuntimeError: a bug"),
        (KeyboardInterrupt(), "interrupted", "interrupted by Ctrl-C (SIGINT)"),
    ],
)
def test_an_unexpected_error_is_recorded_then_raised(sessions, error, kind, recorded):
    settings = FAST_PORTAL.model_copy(update={"base_url": "http://127.0.0.1:9"})
    with pytest.raises(type(error)):
        sync_province(
            sessions, settings, "H44", Period.parse("2026-08"), dt.date(2026, 11, 22),
            http=Exploding(error),
        )  # fmt: skip
    run = the_only_run(sessions)
    assert (run.status, run.error_kind) == ("failed", kind)
    assert run.finished_at is not None and recorded in str(run.error)
