"""Shared fixtures: a fresh, migrated database on SQLite and (when configured) PostgreSQL.

Set `DVCWATCH_TEST_PG_URL` (CI does) to run every database test on both. On
PostgreSQL each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.app import App
from service.config import PortalSettings, Settings

PROJECT = Path(__file__).resolve().parents[1]
SCHEMES = PROJECT / "config" / "schemes"
SHARED = PROJECT.parent / "shared"
CAPTURES = SHARED / "portal-captures"
PHU_THO = CAPTURES / "phu-tho-2026-08"
PHU_THO_ID = "019d2be3-6a88-732b-8b17-b68020c8553a"
PG_URL = os.environ.get("DVCWATCH_TEST_PG_URL")

# No property test has a deadline per example: a busy machine must not fail one.
settings.register_profile("dvcwatch", deadline=None)
settings.load_profile("dvcwatch")

FAST_PORTAL = PortalSettings(
    pause_seconds=(0.0, 0.0), retries=2, backoff_seconds=0.0, timeout_seconds=5.0
)


@pytest.fixture(autouse=True)
def root_logging_as_it_was() -> Iterator[None]:
    """A `dvcwatch` command run in-process points the root logger at the stderr of that
    moment (the test's capture, closed after it); the next test's records would then
    print "--- Logging error ---" tracebacks. Each test leaves the root logger as it
    found it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dvcwatch.db'}"
        return
    with postgresql_schema() as url:
        yield url


@contextmanager
def postgresql_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema of `DVCWATCH_TEST_PG_URL`, dropped afterwards
    (the test is skipped when that variable is not set)."""
    if not PG_URL:
        pytest.skip("DVCWATCH_TEST_PG_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    """An application on a migrated, empty database, with a portal that never pauses."""
    settings = Settings.model_validate(
        {"database": {"url": db_url}, "scoring": {"schemes_dir": str(SCHEMES)}}
    )
    application = App(settings.model_copy(update={"portal": FAST_PORTAL}))
    application.upgrade()
    yield application
    application.engine.dispose()


@pytest.fixture
def sessions(app: App) -> sessionmaker[Session]:
    return app.sessions()


@pytest.fixture
def phu_tho(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """`sessions` holding Phú Thọ's 2026-08, synced from the simulator replaying the
    real captures."""
    from service.periods import Period
    from service.simulator.simulator import PortalSimulator, ReplaySource
    from service.sync import sync_province

    with PortalSimulator(ReplaySource(PHU_THO)) as simulator:
        settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        outcome = sync_province(
            sessions, settings, "H44", Period.parse("2026-08"), dt.date(2026, 11, 22)
        )
    assert outcome.status == "ok", outcome.error
    return sessions


@pytest.fixture
def three_provinces(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """`sessions` holding a generated country of three provinces (H01-H03, 30 communes,
    4 agencies), each synced for 2026-07 (on 20 August) and twice for 2026-08 (10 and 11
    September)."""
    from service.periods import Period
    from service.simulator.simulator import GeneratedSource, PortalSimulator
    from service.sync import sync_province

    august = Period.parse("2026-08")
    source = GeneratedSource(seed=7, provinces=3, communes=30, agencies=4)
    with PortalSimulator(source) as simulator:
        settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        for province in ("H01", "H02", "H03"):
            for period, day in ((august.previous(), 20), (august, 10), (august, 11)):
                outcome = sync_province(sessions, settings, province, period, dt.date(2026, 9, day))
                assert outcome.status == "ok", outcome.error
    return sessions


def first_commune(session: Session, province: str) -> str:
    """The code of a province's first commune (by code)."""
    from service.models import Unit

    parent = select(Unit.id).where(Unit.code == province).scalar_subquery()
    query = select(Unit.code).where(Unit.parent_id == parent, Unit.unit_group == "COMMUNE")
    return str(session.scalars(query.order_by(Unit.code)).first())


@pytest.fixture
def sets_read(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The `parents` of every `latest_units` call the scores make (None: every unit),
    in order: which sets a reading of scores read."""
    from service.scoring import report

    read: list[object] = []
    real = report.latest_units

    def recording(*args: object, **kwargs: object) -> object:
        read.append(kwargs.get("parents"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(report, "latest_units", recording)
    return read
