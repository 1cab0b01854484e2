"""The `dvcwatch` command as users call it: sync, scores, status, db upgrade, errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service import clock
from service.app import App
from service.cli import main
from service.config import Settings
from service.models import FetchRun, RawResponse, Snapshot
from service.raw_archive import answers_of
from service.simulator.simulator import Fault, GeneratedSource, PortalSimulator, ReplaySource
from tests.conftest import PHU_THO
from tests.waiting import PATIENCE, Gate, wait_until

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")


@pytest.fixture
def simulator() -> Iterator[PortalSimulator]:
    """The portal replaying Phú Thọ; a "delay" holds its answer until the test ends."""
    gate = Gate()
    with PortalSimulator(ReplaySource(PHU_THO), sleep=gate) as running, gate:
        yield running


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Settings for a portal that answers at once (the simulator)."""
    path = tmp_path / "dvcwatch.toml"
    path.write_text("[portal]\npause_seconds = [0, 0]\nbackoff_seconds = 0\n", encoding="utf-8")
    return path


def dvcwatch(*args: str, db_url: str, config: Path) -> list[str]:
    return [*args, "--db", db_url, "--config", str(config)]


def sync_august(db_url: str, config: Path, simulator: PortalSimulator) -> list[str]:
    """The command syncing Phú Thọ's 2026-08 from the simulator."""
    return dvcwatch("sync", "--province", "H44", "--period", "2026-08", "--portal-url",
                    simulator.base_url, db_url=db_url, config=config)  # fmt: skip


def test_sync_then_scores_then_status(db_url, config, simulator, capsys):
    assert main(dvcwatch("db", "upgrade", db_url=db_url, config=config)) == 0
    assert main(sync_august(db_url, config, simulator)) == 0
    assert "H44 2026-08: ok, 163 units, 164 new snapshots" in capsys.readouterr().out
    assert (
        main(
            dvcwatch(
                "scores", "--period", "2026-08", "--format", "json", db_url=db_url, config=config
            )
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 163
    bình_phú = next(r for r in rows if r["unit_code"] == "H44.116")
    assert bình_phú["axes"]["TDGQ"] == {"score": 17.62, "max": 20.0, "delta": None}
    assert bình_phú["counts"]["overdue"] == 95 and bình_phú["period"] == "2026-08"
    assert bình_phú["counts"]["no_e_result"] == 796 - 629  # Phụ lục I: 629/796 with a result
    assert main(dvcwatch("status", "--format", "json", db_url=db_url, config=config)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["runs"][0]["status"] == "ok" and report["runs"][0]["scope"] == "H44"


def synced_august(db_url: str, config: Path, simulator: PortalSimulator) -> None:
    """A migrated database holding Phú Thọ's 2026-08 figures, through the command line."""
    assert main(dvcwatch("db", "upgrade", db_url=db_url, config=config)) == 0
    assert main(sync_august(db_url, config, simulator)) == 0


def test_scores_as_a_table_show_vietnamese_decimals(db_url, config, simulator, capsys):
    synced_august(db_url, config, simulator)
    capsys.readouterr()
    main(dvcwatch("scores", "--period", "2026-08", db_url=db_url, config=config))
    table = capsys.readouterr().out
    assert "UBND xã Bình Phú " in table and "- Tỉnh Phú Thọ" not in table and "17,62" in table


def test_a_bad_period_is_a_usage_error(db_url, config, capsys):
    main(dvcwatch("db", "upgrade", db_url=db_url, config=config))
    assert main(dvcwatch("scores", "--period", "2026-13", db_url=db_url, config=config)) == 2
    assert "--period: '2026-13' is not a period" in capsys.readouterr().err


def test_an_unmigrated_database_asks_for_db_upgrade(db_url, config, capsys):
    assert main(dvcwatch("scores", "--period", "2026-08", db_url=db_url, config=config)) == 1
    assert "`dvcwatch db upgrade`" in capsys.readouterr().err


def test_a_failed_sync_exits_1_with_the_reason(db_url, config, simulator, capsys):
    main(dvcwatch("db", "upgrade", db_url=db_url, config=config))
    simulator.inject(Fault("403", times=-1))
    code = main(sync_august(db_url, config, simulator))
    assert code == 1 and "blocked" in capsys.readouterr().err


@pytest.mark.parametrize("fault", ["firewall", "403"])
def test_a_password_in_the_portal_address_is_never_printed(
    db_url, config, simulator, fault, capsys
):
    """A mirror reached as http://user:password@host: the run's error (what `status` and
    the operators' alerts quote) and every line printed name the address without them."""
    main(dvcwatch("db", "upgrade", db_url=db_url, config=config))
    simulator.inject(Fault(fault, times=-1))
    with_password = simulator.base_url.replace("http://", "http://mirror:S3cretPW@")
    command = sync_august(db_url, config, simulator)
    command[command.index(simulator.base_url)] = with_password
    capsys.readouterr()
    assert main(command) == 1
    printed = [capsys.readouterr().err]
    for form in ("table", "json"):
        main(dvcwatch("status", "--format", form, db_url=db_url, config=config))
        printed.append(capsys.readouterr().out)
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        printed += [str(error) for error in session.scalars(select(FetchRun.error))]
    app.engine.dispose()
    assert "blocked" in printed[0]
    for text in printed:  # each names the address, without the user and password
        assert "***@127.0.0.1" in text and "S3cretPW" not in text and "mirror" not in text


def test_a_portal_address_with_a_query_is_refused_without_echoing_it(db_url, config, capsys):
    """A key in the query would be sent with every API path after it, and printed."""
    keyed = "http://127.0.0.1:1/?key=S3cretPW"
    command = dvcwatch("sync", "--province", "H44", "--period", "2026-08", "--portal-url", keyed,
                       db_url=db_url, config=config)  # fmt: skip
    assert main(command) == 2
    error = capsys.readouterr().err
    assert "query" in error and "S3cretPW" not in error and len(error.splitlines()) == 1
    config.write_text('[portal]\nbase_url = "http://127.0.0.1:1/api#S3cretPW"\n', encoding="utf-8")
    assert main(dvcwatch("status", db_url=db_url, config=config)) == 2
    error = capsys.readouterr().err
    assert "portal.base_url" in error and "S3cretPW" not in error and len(error.splitlines()) == 1


def counts(db_url: str) -> tuple[int, int]:
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        snapshots = session.scalar(select(func.count()).select_from(Snapshot)) or 0
        raw = session.scalar(select(func.count()).select_from(RawResponse)) or 0
    app.engine.dispose()
    return int(snapshots), int(raw)


def test_killing_a_sync_midway_leaves_no_partial_snapshot(db_url, config, simulator):
    """SIGKILL mid-sync: no snapshot half written, the answers committed in the portal's
    pauses are kept, and the next command closes the dead process's run; a concurrent
    live run is left alone, and SIGTERM records it interrupted with the answers it held."""
    main(dvcwatch("db", "upgrade", db_url=db_url, config=config))
    command = [DVCWATCH, *sync_august(db_url, config, simulator)]
    no_pause = config.read_text(encoding="utf-8")
    paused = no_pause.replace("pause_seconds = [0, 0]", "pause_seconds = [0.001, 0.001]")
    config.write_text(paused, encoding="utf-8")  # a pause between requests, as in production
    killed = _stuck_sync(command, simulator, 1)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=PATIENCE)
    snapshots, raw = counts(db_url)
    assert snapshots == 0 and raw >= 5  # each answer was committed in the pause after it
    config.write_text(no_pause, encoding="utf-8")  # answers committed together, before parsing
    live = _stuck_sync(command, simulator, 2)
    assert _answers_kept(db_url) == [raw, 0]  # the live run holds its answers uncommitted
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=PATIENCE)
    assert rerun.returncode == 0, rerun.stderr
    assert counts(db_url)[0] == 164
    runs = _runs(db_url)
    assert runs[:2] == [
        ("failed", "abandoned", killed.pid),  # its process is gone: closed by the rerun
        ("running", None, live.pid),  # alive, holding its lease: untouched
    ]
    assert runs[2][:2] == ("ok", None)
    live.send_signal(signal.SIGTERM)
    assert live.wait(timeout=PATIENCE) == 143
    assert [run[:2] for run in _runs(db_url)] == [
        ("failed", "abandoned"),
        ("failed", "interrupted"),
        ("ok", None),
    ]
    assert _answers_kept(db_url)[:2] == [raw, raw]  # held, then committed when recorded


def _answers_kept(db_url: str) -> list[int]:
    """The number of answers each run kept (`answers_of`), in the runs' order."""
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        runs = session.scalars(select(FetchRun.id).order_by(FetchRun.id)).all()
        kept = [len(answers_of(session, run)) for run in runs]
    app.engine.dispose()
    return kept


def _stuck_sync(
    command: list[str], simulator: PortalSimulator, nth: int
) -> subprocess.Popen[bytes]:
    """A sync process waiting on the portal's slow answer (its `nth` such request)."""
    simulator.inject(Fault("delay", endpoint="handling-satisfaction", times=1, seconds=60))
    process = subprocess.Popen(command, env=os.environ.copy(), stderr=subprocess.DEVNULL)

    def stuck() -> bool:
        assert process.poll() is None, "the sync ended instead of waiting on the portal"
        return sum(e == "handling-satisfaction" for e, _ in simulator.requests_log) >= nth

    wait_until(stuck, f"sync {nth} to wait on the portal's slow answer")
    return process


def _runs(db_url: str) -> list[tuple[str, str | None, int | None]]:
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    with app.sessions()() as session:
        rows = session.execute(
            select(FetchRun.status, FetchRun.error_kind, FetchRun.owner_pid).order_by(FetchRun.id)
        ).all()
    app.engine.dispose()
    return [(status, kind, pid) for status, kind, pid in rows]


#: [alerts] lines that make no hour quiet: what is queued is due at once.
NEVER_QUIET = "quiet_start = 00:00:00\nquiet_end = 00:00:00\nquiet_weekends = false\n"


def alerting_config(
    tmp_path: Path,
    units: str = "H44.116",
    channel: str = "console",
    address: str = "vp",
    quiet: str = NEVER_QUIET,
    channels: str = "[channels]\nconsole = true\n",
) -> Path:
    """A configuration whose staff directory has one person, "vp", told of the overdue
    dossiers of `units` on `channel`; `quiet` and `channels` as the settings' lines."""
    directory = tmp_path / "directory.toml"
    directory.write_text(
        f'[[people]]\nid = "vp"\nname = "Văn phòng"\nunits = ["{units}"]\n'
        f'topics = ["overdue"]\nchannel = "{channel}"\naddress = "{address}"\n',
        encoding="utf-8",
    )
    config = tmp_path / "alerts.toml"
    config.write_text(
        f'[portal]\npause_seconds = [0, 0]\n[alerts]\ndirectory_file = "{directory}"\n'
        f"{quiet}{channels}",
        encoding="utf-8",
    )
    return config


def test_alerts_dry_run_shows_without_queueing_and_deliver_sends(
    db_url, simulator, tmp_path, capsys
):
    config = alerting_config(tmp_path)
    synced_august(db_url, config, simulator)
    capsys.readouterr()
    assert (
        main(dvcwatch("alerts", "--dry-run", "--format", "json", db_url=db_url, config=config)) == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown["dry_run"] and shown["period"] == "2026-08"
    assert [d["person"] for d in shown["deliveries"]] == ["vp"]
    assert "95 hồ sơ quá hạn" in shown["deliveries"][0]["text"]
    assert main(dvcwatch("deliver", db_url=db_url, config=config)) == 0
    assert "sent 0" in capsys.readouterr().out  # the dry run queued nothing
    assert main(dvcwatch("alerts", db_url=db_url, config=config)) == 0
    assert "queued 1 message" in capsys.readouterr().out
    assert main(dvcwatch("deliver", db_url=db_url, config=config)) == 0
    out = capsys.readouterr().out
    assert "95 hồ sơ quá hạn" in out and "sent 1" in out


def test_alerts_of_another_month_than_the_newest_is_only_a_look(
    db_url, simulator, tmp_path, capsys
):
    """Alerts are live: judging an old month would resolve today's alerts and queue
    messages about it. It is refused without --dry-run, and with it changes nothing."""
    config = alerting_config(tmp_path)
    synced_august(db_url, config, simulator)
    assert main(dvcwatch("alerts", db_url=db_url, config=config)) == 0
    capsys.readouterr()
    old = dvcwatch("alerts", "--period", "2025-01", db_url=db_url, config=config)
    assert main(old) == 2
    assert capsys.readouterr().err == (
        "dvcwatch: --period 2025-01: alerts are about the newest synced month (2026-08); "
        "add --dry-run to see what the rules say of 2025-01\n"
    )
    assert main([*old, "--dry-run"]) == 0
    assert "queued" not in capsys.readouterr().out
    assert main(dvcwatch("alerts", "--period", "2026-08", db_url=db_url, config=config)) == 0
    assert capsys.readouterr().out.startswith("0 alert change(s) for 2026-08; queued 0 message")


def test_an_evaluation_that_lost_a_race_to_another_says_so_in_one_line(
    db_url, simulator, tmp_path, capsys, monkeypatch
):
    """Two evaluations inserting the same alert at once (a reviewer ran three `alerts`
    on PostgreSQL): the loser's commit meets the winner's row. Here the loser's error is
    raised where the database raises it; the line says what happened, not the index."""
    from sqlalchemy.exc import IntegrityError

    from service.alerts import engine

    config = alerting_config(tmp_path)
    synced_august(db_url, config, simulator)
    capsys.readouterr()
    refusal = Exception('duplicate key value violates unique constraint "alerts_fingerprint_key"')

    def raced(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT INTO alerts (fingerprint, ...)", {}, refusal)

    monkeypatch.setattr(engine, "evaluate", raced)
    assert main(dvcwatch("alerts", db_url=db_url, config=config)) == 1
    assert capsys.readouterr().err == f"dvcwatch: alerts: {engine.CONCURRENT_EVALUATION}\n"
    refusal = Exception("NOT NULL constraint failed: alerts.rule_id")  # a bug, not a race
    assert main(dvcwatch("alerts", db_url=db_url, config=config)) == 1
    said = capsys.readouterr().err
    assert "NOT NULL constraint failed" in said and "another evaluation" not in said


def test_alerts_dry_run_prints_what_the_person_reads(db_url, simulator, tmp_path, capsys):
    """A first look at a province is a summary in HTML (names in bold, levels in italics);
    on the terminal it reads as the person reads it, without tags or entities."""
    config = alerting_config(tmp_path, units="*", quiet="")
    synced_august(db_url, config, simulator)
    capsys.readouterr()
    assert main(dvcwatch("alerts", "--dry-run", db_url=db_url, config=config)) == 0
    read = capsys.readouterr().out
    assert "Tóm tắt: " in read and "hồ sơ quá hạn" in read
    assert "<b>" not in read and "<i>" not in read and "&lt;" not in read


def test_deliver_says_what_is_not_due_yet(db_url, simulator, tmp_path, capsys, request):
    """In quiet hours a message waits: `deliver` says how many and when the first is due,
    instead of "sent 0" alone (on a clock the test sets: Thursday 10:00 in Hà Nội)."""
    quiet = "quiet_start = 09:00:00\nquiet_end = 17:00:00\nquiet_weekends = false\n"
    config = alerting_config(tmp_path, quiet=quiet)
    synced_august(db_url, config, simulator)
    clock.use_clock(lambda: dt.datetime(2026, 9, 10, 3, 0))
    request.addfinalizer(lambda: clock.use_clock(None))
    assert main(dvcwatch("alerts", db_url=db_url, config=config)) == 0
    capsys.readouterr()
    assert main(dvcwatch("deliver", db_url=db_url, config=config)) == 0
    assert capsys.readouterr().out == (
        "sent 0, to retry 0, failed 0, migrated 0, uncertain 0; 1 not due yet (quiet hours or "
        "a retry), the first at 17:00 on 2026-09-10\n"
    )


def test_deliver_says_what_waits_for_a_channel_not_enabled_here(
    db_url, simulator, tmp_path, capsys
):
    """A person on Telegram while [channels.telegram] is off (the example files as they
    come): the message waits, and `deliver` says so instead of "sent 0" alone."""
    config = alerting_config(tmp_path, channel="telegram", address="100000001", channels="")
    synced_august(db_url, config, simulator)
    assert main(dvcwatch("alerts", db_url=db_url, config=config)) == 0
    capsys.readouterr()
    assert main(dvcwatch("deliver", db_url=db_url, config=config)) == 0
    said = capsys.readouterr()
    assert "sent 0" in said.out
    assert said.err == (
        "dvcwatch: deliver: message part(s) wait for a channel not enabled here: "
        "1 for telegram (enable [channels.telegram])\n"
    )


def test_run_once_syncs_the_watched_provinces_and_exits(db_url, tmp_path, capsys):
    with PortalSimulator(GeneratedSource(seed=3, provinces=1, communes=4, agencies=1)) as portal:
        once(db_url, tmp_path, portal.base_url, capsys)


def once(db_url: str, tmp_path: Path, portal_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "once.toml"
    config.write_text(
        f'[portal]\nbase_url = "{portal_url}"\npause_seconds = [0, 0]\n'
        '[[watch]]\nprovince = "H01"\n[schedules]\ncatch_up_days = 1\n'
        f'[alerts]\ndirectory_file = "{tmp_path / "none.toml"}"\n',
        encoding="utf-8",
    )
    (tmp_path / "none.toml").write_text("people = []\n", encoding="utf-8")
    main(dvcwatch("db", "upgrade", db_url=db_url, config=config))
    assert main(dvcwatch("run", "--once", db_url=db_url, config=config)) == 0
    capsys.readouterr()
    main(dvcwatch("status", "--format", "json", db_url=db_url, config=config))
    report = json.loads(capsys.readouterr().out)
    assert report["jobs"]["sync"]["last_success"] is not None
    assert report["leader"] is not None


def test_the_readme_documents_every_command():
    import argparse
    import re

    from service.cli import build_parser
    from tests.conftest import PROJECT

    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `dvcwatch ([a-z]+)", readme, flags=re.MULTILINE))
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    registered = set(commands.choices)  # the simulator too: an operator tries commands on it
    assert documented == registered


def test_the_simulator_commands_help_names_it_as_typed(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["simulator", "--help"])
    assert ended.value.code == 0
    assert capsys.readouterr().out.startswith("usage: dvcwatch simulator ")


def test_the_simulator_command_takes_its_own_options():
    process = subprocess.Popen(
        [DVCWATCH, "simulator", "--generate", "--seed", "2", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("dvcwatch portal simulator listening on http://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=PATIENCE) == 0


def test_status_for_people_says_scheduler_outbox_jobs_and_runs(db_url, config, simulator, capsys):
    synced_august(db_url, config, simulator)
    capsys.readouterr()
    assert main(dvcwatch("status", db_url=db_url, config=config)) == 0
    text = capsys.readouterr().out
    assert "Scheduler: none has run yet" in text and "Outbox: 0 pending" in text
    assert "Deactivated recipients: none" in text and "H44: " in text
    assert "portal-766 2026-08: as of 2026-08-31, 164 snapshots" in text


def test_global_options_before_the_command_are_honoured(tmp_path):
    """`dvcwatch --config X --db Y status` uses X and Y, as argparse's help shows it."""
    database = tmp_path / "given.db"
    config = tmp_path / "given.toml"
    config.write_text("[portal]\npause_seconds = [0, 0]\n", encoding="utf-8")
    work = tmp_path / "elsewhere"
    work.mkdir()
    upgrade = [DVCWATCH, "--config", str(config), "--db", f"sqlite:///{database}", "db", "upgrade"]
    subprocess.run(upgrade, cwd=work, check=True, capture_output=True)
    status = [DVCWATCH, "--config", str(config), "--db", f"sqlite:///{database}", "status"]
    done = subprocess.run(status, cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert database.exists()
    assert not (work / "var").exists()  # no silent default database in the working folder


def test_a_config_named_before_the_command_that_is_missing_is_an_error(tmp_path):
    done = subprocess.run(
        [DVCWATCH, "--config", str(tmp_path / "absent.toml"), "status"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    absent = tmp_path / "absent.toml"
    assert done.stderr.strip() == f"dvcwatch: {absent}: configuration file not found"


def test_version_names_the_installed_release():
    done = subprocess.run([DVCWATCH, "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.strip().startswith("dvcwatch 0.")


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    database = f"sqlite:///{tmp_path / 'x.db'}"
    subprocess.run([DVCWATCH, "--db", database, "db", "upgrade"], check=True, capture_output=True)
    reading, writing = os.pipe()
    os.close(reading)  # the reader (`| head`) is already gone
    try:
        done = subprocess.run(
            [DVCWATCH, "--db", database, "status"], stdout=writing, stderr=subprocess.PIPE,
            text=True, cwd=tmp_path,
        )  # fmt: skip
    finally:
        os.close(writing)
    assert done.stderr == ""
    assert done.returncode == 141
