"""`dvcwatch demo`: the whole product on the built-in simulator, with nothing configured.

A fictional province (deterministic) is served by the simulator on
127.0.0.1. dvcwatch syncs its last two closed months into a fresh SQLite
database (`var/demo.db`, never the operator's own, or an empty one given by
`--db`), shows the scores with
their changes and ranks, evaluates the alert rules of `config/rules.toml`
for a few communes' staff and prints the messages through the console
channel, writes a Công văn and a Báo cáo into `out/`, and says where
everything is. Quiet hours are off in the demo, so the messages show at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from service.alerts.engine import Policy, evaluate
from service.alerts.lines import alert_lines
from service.alerts.rules import load_rules
from service.app import App
from service.calendar import WorkCalendar
from service.channels.console import ConsoleChannel
from service.clock import local_today, utcnow
from service.config import NoticeSettings, PortalSettings, Settings
from service.delivery.directory import Directory, Person
from service.delivery.outbox import Outbox
from service.indicators import NATIONAL, NOT_DIGITISED, NOT_PAID_ONLINE, OVERDUE, UNSYNCED
from service.models import Snapshot
from service.notices.produce import Request, write_notice
from service.output import scores_table
from service.periods import Period
from service.portal.client import PortalClient
from service.scoring.national import RANK_NOTE
from service.scoring.report import score_rows
from service.simulator.simulator import GeneratedSource, PortalSimulator
from service.sync import sync_province

DEMO_DB = Path("var/demo.db")
CONFIG = Path(__file__).resolve().parents[1] / "config"  # the project's own rules and schemes
RULES = CONFIG / "rules.toml"
SEED, COMMUNES, AGENCIES = 2026, 23, 6
WATCHED = 3  # communes whose staff the demo's directory covers
NO_QUIET_HOURS = WorkCalendar(quiet_start=dt.time(0), quiet_end=dt.time(0), quiet_weekends=False)


class DemoError(Exception):
    """The demo cannot use the database it was given; says why."""


def run(out: Path, stream: TextIO, today: dt.date | None = None, db_url: str | None = None) -> int:
    """Run the demo, writing what a person should see to `stream`; 0 when all went well.
    `db_url`: an empty database to use instead of a fresh `var/demo.db` (`DemoError`
    when it already holds figures: the demo never mixes with real data)."""
    today = today or local_today()
    last = Period.month_of(today).previous()
    app = _fresh_app() if db_url is None else _given_app(db_url)
    source = GeneratedSource(seed=SEED, provinces=1, communes=COMMUNES, agencies=AGENCIES)
    with PortalSimulator(source) as simulator:
        portal = PortalSettings(base_url=simulator.base_url, pause_seconds=(0.0, 0.0))
        province = _first_province(portal, last)
        stream.write(f"1. Portal simulator on {simulator.base_url}: province {province}\n")
        for period in (last.previous(), last):
            outcome = sync_province(app.sessions(), portal, province, period, today)
            if outcome.error:
                stream.write(f"   sync {province} {period} failed: {outcome.error}\n")
                return 1
            stream.write(
                f"   synced {period}: {outcome.units} units, {outcome.written} snapshots\n"
            )
    rows = _show_scores(app, stream, province, last)
    _show_alerts(app, stream, [row["unit_code"] for row in rows[:WATCHED]])
    written = _write_notices(app, out, rows[0]["unit_code"], province, last)
    stream.write("\n4. Documents to sign in Word (and their HTML previews):\n")
    stream.write("".join(f"   {path}\n" for path in written))
    stream.write(
        f"\n5. Everything is in {app.safe_url}: try\n"
        f"   .venv/bin/dvcwatch scores --period {last} --db {shlex.quote(app.safe_url)}\n"
        f"   .venv/bin/dvcwatch status --db {shlex.quote(app.safe_url)}\n"
    )
    app.engine.dispose()
    return 0


def _fresh_app() -> App:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)
    return _demo_app(f"sqlite:///{DEMO_DB}")


def _given_app(db_url: str) -> App:
    app = _demo_app(db_url)
    with app.sessions()() as session:
        if session.scalar(select(Snapshot.id).limit(1)) is not None:
            app.engine.dispose()
            raise DemoError(
                f"--db {app.safe_url} already holds figures: the demo needs an empty database"
            )
    return app


def _demo_app(db_url: str) -> App:
    app = App(
        Settings.model_validate(
            {"database": {"url": db_url}, "scoring": {"schemes_dir": str(CONFIG / "schemes")}}
        )
    )
    app.upgrade()
    return app


def _first_province(portal: PortalSettings, period: Period) -> str:
    client = PortalClient(portal, archive=lambda _response: None)
    return str(client.fetch_provinces(period)["evaluation"][0]["departmentCode"])


def _show_scores(app: App, stream: TextIO, province: str, last: Period) -> list[dict[str, Any]]:
    with app.sessions()() as session:
        rows = [
            r for r in score_rows(session, app.schemes, NATIONAL, last) if r["group"] == "COMMUNE"
        ]
    stream.write(
        f"\n2. Communes of {province}, {last}: the portal's scores, changes since "
        f"{last.previous()} and ranks ({RANK_NOTE}):\n"
    )
    stream.write(scores_table(rows) + "\n")
    return rows


def demo_directory(units: list[str]) -> Directory:
    """Three people sharing the watched communes' topics, all on the console channel;
    the other communes have nobody (no head, office or fallback), so no messages."""

    def person(person_id: str, name: str, role: str, topics: set[str]) -> Person:
        return Person(
            person_id, name, role, frozenset(units), frozenset(topics), "console", person_id
        )

    people = (
        person("mot-cua", "Nguyễn Thị Lan", "Bộ phận Một cửa", {OVERDUE.key, NOT_DIGITISED.key}),
        person("ke-toan", "Trần Thu Hoà", "Kế toán", {NOT_PAID_ONLINE.key, UNSYNCED.key}),
        person("chu-tich", "Lê Văn Hùng", "Chủ tịch", {"falling", "rank", "band"}),
    )
    return Directory(people, operators=("chu-tich",))


def _show_alerts(app: App, stream: TextIO, units: list[str]) -> None:
    stream.write(f"\n3. Alerts for the staff of {', '.join(units)} (console channel):\n")
    directory = demo_directory(units)
    with app.sessions().begin() as session:
        evaluate(
            session, app.schemes, load_rules(RULES), directory, Policy(NO_QUIET_HOURS), utcnow()
        )
    report = asyncio.run(
        Outbox(
            app.sessions(), {"console": ConsoleChannel(stream)}, "demo", describe=alert_lines
        ).send_due()
    )
    stream.write(f"   ({report.sent} alerts delivered; evaluating again now sends nothing)\n")


def _write_notices(app: App, out: Path, unit: str, province: str, last: Period) -> list[Path]:
    settings = NoticeSettings(out_dir=out, formats=("docx", "html"))
    written: list[Path] = []
    with app.sessions().begin() as session:
        for request in (Request("congvan", unit, last), Request("baocao", province, last)):
            outcome = write_notice(
                session, app.schemes, settings, request, out, settings.formats, force=True
            )
            written += [item.path for item in outcome.files]
    return written
