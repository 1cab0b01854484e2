"""`dvcwatch demo`: the whole pipeline on the built-in simulator, with nothing configured.

A fictional province (deterministic) is served by the simulator on
127.0.0.1; dvcwatch syncs its last two closed months into a fresh SQLite
database (`var/demo.db`, never the operator's own), then shows the scores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TextIO

from service.app import App
from service.clock import local_today
from service.config import PortalSettings, Settings
from service.output import render
from service.periods import Period
from service.portal.client import PortalClient
from service.portal.simulator import GeneratedSource, PortalSimulator
from service.scoring.national import RANK_NOTE
from service.scoring.report import score_rows
from service.sync import SCHEME, sync_province

DEMO_DB = Path("var/demo.db")
SEED, COMMUNES, AGENCIES = 2026, 23, 6
TABLE = (
    "rank",
    "rank_of",
    "rank_change",
    "unit_code",
    "unit_name",
    "total",
    "total_delta",
    "CKMB",
    "TDGQ",
    "CLGQ",
    "TTTT",
    "MDHL",
    "MDSH",
    "overdue",
    "not_digitised",
    "not_paid_online",
    "unsynced",
)


def run(out: Path, stream: TextIO, today: dt.date | None = None) -> int:
    """Run the demo, writing what a person should see to `stream`; 0 when all went well."""
    today = today or local_today()
    last = Period.month_of(today).previous()
    months = (last.previous(), last)
    _remove_database(DEMO_DB)
    out.mkdir(parents=True, exist_ok=True)
    app = App(Settings.model_validate({"database": {"url": f"sqlite:///{DEMO_DB}"}}))
    app.upgrade()
    source = GeneratedSource(seed=SEED, provinces=1, communes=COMMUNES, agencies=AGENCIES)
    with PortalSimulator(source) as simulator:
        portal = PortalSettings(base_url=simulator.base_url, pause_seconds=(0.0, 0.0))
        province = _first_province(portal, last)
        stream.write(f"Portal simulator on {simulator.base_url}: province {province}\n")
        for period in months:
            outcome = sync_province(app.sessions(), portal, province, period, today)
            if outcome.error:
                stream.write(f"sync {province} {period} failed: {outcome.error}\n")
                return 1
            stream.write(
                f"synced {province} {period}: {outcome.units} units, {outcome.written} snapshots\n"
            )
    with app.sessions()() as session:
        rows = [
            r for r in score_rows(session, app.schemes, SCHEME, last) if r["group"] == "COMMUNE"
        ]
    stream.write(
        f"\nCommunes of {province}, {last}: the portal's scores, changes since "
        f"{last.previous()} and ranks ({RANK_NOTE}):\n"
    )
    stream.write(render(rows, "table", TABLE) + "\n")
    stream.write(
        f"\nDatabase: {DEMO_DB} (explore it with "
        f"`.venv/bin/dvcwatch scores --period {last} --db sqlite:///{DEMO_DB}`)\n"
    )
    app.engine.dispose()
    return 0


def _first_province(portal: PortalSettings, period: Period) -> str:
    client = PortalClient(portal, archive=lambda _response: None)
    return str(client.fetch_provinces(period)["evaluation"][0]["departmentCode"])


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
