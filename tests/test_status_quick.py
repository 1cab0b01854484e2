"""`dvcwatch status` reads a SQLite file with nothing to settle through sqlite3 alone
(`status.read_quickly`), and everything else through SQLAlchemy: both ways must give the
same report, the quick way must step aside whenever the full way has something to do or
to say, and it must never create or change a file."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service import clock
from service.app import App
from service.claims import JobClaim, Leadership
from service.dbfacts import DatabaseError
from service.delivery.models import ChannelAddress, Delivery, DeliveryStatus, OutboxMessage
from service.models import FetchRun, RunStatus
from service.status import Reader, collect
from service.status_quick import read_quickly

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
#: A whole second: SQLite keeps it as "...:00.000000", and Python's own adapter would
#: have written "...:00", which sorts before it.
NOW = dt.datetime(2026, 9, 14, 2, 30)
AT = "2026-09-14 09:30"


def message(key: str, status: DeliveryStatus, **fields: object) -> OutboxMessage:
    values: dict[str, object] = {
        "idempotency_key": f"{key}:p1", "unit_key": key, "part": 1, "parts": 1,
        "person_id": "lan", "channel": "telegram", "address": "100000001",
        "text_html": "Hồ sơ quá hạn", "status": status, "created_at": NOW,
    }  # fmt: skip
    return OutboxMessage(**{**values, **fields})


def every_section(sessions: sessionmaker[Session]) -> None:
    """Rows for every part of the report, beside the synced runs and snapshots: a
    scheduler, jobs that succeeded and failed, messages of every status (one waiting for
    a rejected token, due exactly now; one not due yet), an uncertain message carrying
    two lines, a deactivated recipient, and a run whose error has several lines."""
    with sessions.begin() as session:
        session.add(Leadership(role="scheduler", owner="may1:41", since=NOW, heartbeat_at=NOW))
        for job, period, status, finished in [
            ("sync", "2026-07", "ok", NOW - dt.timedelta(hours=2)),
            ("sync", "2026-08", "failed", NOW - dt.timedelta(hours=1)),
            ("congvan", "2026-08", "ok", NOW),
        ]:
            claim = {"job": job, "scope": "H44", "period": period, "status": status}
            session.add(JobClaim(**claim, owner="may1:41", claimed_at=NOW, finished_at=finished))
        session.add_all([
            message("rejected", DeliveryStatus.PENDING, not_before=NOW,
                    last_error="Telegram rejected the bot token"),
            message("later", DeliveryStatus.PENDING, not_before=NOW + dt.timedelta(hours=8),
                    last_error="Telegram rejected the bot token"),
            message("sent", DeliveryStatus.SENT, sent_at=NOW),
            message("lost", DeliveryStatus.UNCERTAIN, claimed_at=NOW,
                    last_error="the connection was reset: maybe delivered"),
        ])  # fmt: skip
        for key, label in [("a", "UBND xã <Bình Phú>"), ("b", "UBND xã Hy Cương")]:
            session.add(Delivery(idempotency_key=key, person_id="lan", channel="telegram",
                                 address="100000001", unit_label=label, text_html="-",
                                 message_unit="lost", part=1))  # fmt: skip
        address = {"person_id": "hoa", "channel": "telegram", "address": "42"}
        session.add(ChannelAddress(**address, from_address="42", active=False,
                                   reason="blocked the bot"))  # fmt: skip
        session.add(FetchRun(job="sync", scope="H01", period="2026-08", status=RunStatus.FAILED,
                             started_at=NOW, finished_at=NOW,
                             error="the portal answered 503\nsecond line"))  # fmt: skip


@pytest.fixture
def at_now():
    clock.use_clock(lambda: NOW)
    yield NOW
    clock.use_clock(None)


#: The report of `every_section` after syncing Phú Thọ at `NOW` (09:30 in Vietnam).
EXPECTED = {
    "leader": {"owner": "may1:41", "since": AT, "heartbeat": AT},
    "jobs": {
        "congvan": {"last_success": AT, "last_failure": None},
        "sync": {"last_success": "2026-09-14 07:30", "last_failure": "2026-09-14 08:30"},
    },
    "outbox": {
        "pending": 2,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "uncertain": 1,
        "summarised": 0,
    },  # fmt: skip
    # due exactly now: counted; the one due in 8 hours: not yet
    "waiting": [
        {
            "channel": "telegram",
            "reason": "Telegram rejected the bot token",
            "messages": 1,
            "since": AT,
        }
    ],  # fmt: skip
    "uncertain": [
        {
            "message": 4,
            "person": "lan",
            "channel": "telegram",
            "address": "100000001",
            "part": "1/1",
            "alerts": ["UBND xã <Bình Phú>", "UBND xã Hy Cương"],
            "claimed": AT,
            "reason": "the connection was reset: maybe delivered",
        }  # fmt: skip
    ],
    "deactivated_recipients": [{"person": "hoa", "address": "42", "reason": "blocked the bot"}],
    "runs": [
        {
            "id": 2,
            "job": "sync",
            "scope": "H01",
            "period": "2026-08",
            "status": "failed",
            "started": AT,
            "finished": AT,
            "snapshots": 0,
            "error": "the portal answered 503",
        },
        {
            "id": 1,
            "job": "sync",
            "scope": "H44",
            "period": "2026-08",
            "status": "ok",
            "started": AT,
            "finished": AT,
            "snapshots": 164,
            "error": None,
        },
    ],  # fmt: skip
    "last_success": {"H44": AT},
    "data": [
        {"source": "portal-766", "period": "2026-08", "as_of": "2026-08-31", "snapshots": 164}
    ],  # fmt: skip
}


def test_both_ways_read_the_same_report_on_either_database(app: App, at_now, phu_tho):
    """The statements through SQLAlchemy, and through the driver alone (sqlite3, psycopg),
    on either database (PostgreSQL gives times and dates as values, SQLite as text)."""
    every_section(phu_tho)
    with phu_tho() as session:
        assert collect(Reader.of_session(session)) == EXPECTED
    assert read_quickly(app.settings.database.url) == EXPECTED


@pytest.mark.parametrize(
    "left",
    [
        lambda session: session.add(FetchRun(job="sync", scope="H44", period="2026-08")),
        lambda session: session.add(message("m", DeliveryStatus.SENDING, claimed_at=NOW)),
    ],
    ids=["a run marked running", "a message marked sending"],
)
def test_what_a_stopped_process_may_have_left_is_for_the_full_way(app: App, sessions, left):
    url = app.settings.database.url
    assert read_quickly(url) is not None
    with sessions.begin() as session:
        left(session)
    assert read_quickly(url) is None


def test_a_database_behind_the_code_is_for_the_full_way(app: App):
    from service.db import downgrade

    url = app.settings.database.url
    downgrade(app.engine, "-1")
    assert read_quickly(url) is None


@pytest.mark.parametrize(
    "url",
    [
        # on port 1 no server listens: trying any of these would raise, not answer None
        "postgresql://postgres@127.0.0.1:1/test",  # another driver: SQLAlchemy's
        "mysql+pymysql://root@127.0.0.1:1/test",
        "postgresql+psycopg://postgres:p@ss@127.0.0.1:1/test",  # make_engine refuses it
        "postgresql+psycopg://postgres@127.0.0.1:0/test",
        "postgresql+psycopg://postgres@127.0.0.1:65536/test",
        "postgresql+psycopg://postgres@127.0.0.1:1/test#x",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///{folder}/dvcwatch.db?timeout=5",
        "sqlite:///{folder}/dvc%77atch.db",
        "sqlite:///{folder}/absent.db",
        "sqlite:///{folder}/not-a-database.db",
        "sqlite:///{folder}/empty.db",
        "sqlite:///{folder}",
    ],
)
def test_what_the_driver_alone_cannot_read_as_sqlalchemy_would_is_for_the_full_way(tmp_path, url):
    """Other drivers, a URL SQLAlchemy refuses or alone reads as it is meant, a file that
    is missing, not SQLite or never migrated, a folder: the full way says what it is.
    No server is even tried, and nothing is created."""
    (tmp_path / "dvcwatch.db").write_bytes(b"")
    (tmp_path / "not-a-database.db").write_text("[portal]\n", encoding="utf-8")
    sqlite3.connect(tmp_path / "empty.db").close()
    before = sorted(tmp_path.iterdir())
    assert read_quickly(url.format(folder=tmp_path)) is None
    assert sorted(tmp_path.iterdir()) == before  # nothing created beside them


@SQLITE_ONLY
def test_a_path_with_spaces_and_vietnamese_letters_is_read_quickly(app: App, tmp_path):
    app.engine.dispose()  # its writes checkpointed into the file
    source = Path(app.settings.database.url.removeprefix("sqlite:///"))
    plain, marked = tmp_path / "Sở Thông tin", tmp_path / "Sở Thông tin #1 và 100% ?"
    for folder in (plain, marked):
        folder.mkdir()
        shutil.copy(source, folder / "dữ liệu.db")
    assert read_quickly(f"sqlite:///{plain / 'dữ liệu.db'}") is not None
    # the last one out removed SQLite's -wal and -shm (a read-only open leaves them,
    # owned by whoever ran status)
    assert [path.name for path in plain.iterdir()] == ["dữ liệu.db"]
    # '#', '%' and '?' mean something in SQLAlchemy's URL: the full way reads those
    assert read_quickly(f"sqlite:///{marked / 'dữ liệu.db'}") is None


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:s3cret-pass@127.0.0.1:1/test",  # no server there
        "postgresql+psycopg://postgres:s3cret-pass@127.0.0.1:5432/no_such_database_here",
    ],
)
def test_a_postgresql_that_cannot_be_reached_is_one_line_as_the_full_way_says_it(url, capsys):
    """Trying again the full way would only wait as long: the quick way says it, in the
    same line as SQLAlchemy's way, password hidden."""
    from service.cli import main

    with pytest.raises(DatabaseError) as raised:
        read_quickly(url)
    quick = str(raised.value)
    assert "s3cret-pass" not in quick and quick.startswith("database postgresql+psycopg://")
    assert main(["--db", url, "scores", "--period", "2026-08"]) == 1  # SQLAlchemy's way
    assert capsys.readouterr().err.strip() == f"dvcwatch: {quick}"
    assert main(["--db", url, "status"]) == 1
    assert capsys.readouterr().err.strip() == f"dvcwatch: {quick}"
