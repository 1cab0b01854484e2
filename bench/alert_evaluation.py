"""Benchmark: alert evaluation on a national database (34 provinces, one month).

`python -m bench.alert_evaluation [--pg URL]`: the generated country is synced from
the simulator into a fresh database, then timed (this process's wall time, each
evaluation committed):
- the first evaluation of every unit (every alert fires, every event fans out to
  a national office that covers every unit and topic);
- the evaluation that follows one province's sync, as `jobs.work.run_sync` makes it
  (that province's units, the runs and the addresses), an hour later;
- for comparison, a whole-country evaluation an hour after that (what each
  province's sync cost before evaluations were scoped).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import peak_mb, pg_schema_url
from bench.national_sync import country_arguments, province_codes, start_simulator, sync_all
from service.alerts.engine import Evaluation, Policy, evaluate
from service.alerts.rules import load_rules
from service.app import App
from service.calendar import WorkCalendar
from service.config import PortalSettings, Settings
from service.delivery.directory_files import load_directory
from service.periods import Period

PROJECT = Path(__file__).resolve().parent.parent
DIRECTORY = """operators = ["tw"]
[[people]]
id = "tw"
name = "Văn phòng Chính phủ"
units = ["*"]
topics = ["*"]
channel = "telegram"
address = "1001"
"""


def timed(app: App, run: Callable[..., Evaluation], **scope: object) -> tuple[float, int, int]:
    """Seconds, transitions and deliveries of one committed evaluation."""
    started = time.perf_counter()
    with app.sessions().begin() as session:
        result = run(session, **scope)
    return time.perf_counter() - started, len(result.transitions), len(result.deliveries)


def main() -> int:
    args = country_arguments(__doc__).parse_args()
    period = Period.parse(args.period)
    simulator, url = start_simulator(args.seed)
    try:
        with tempfile.TemporaryDirectory() as folder:
            db_url = pg_schema_url(args.pg) if args.pg else f"sqlite:///{Path(folder) / 'a.db'}"
            portal = PortalSettings(base_url=url, pause_seconds=(0.0, 0.0))
            app = App(Settings.model_validate({"database": {"url": db_url}}))
            app.upgrade()
            codes = province_codes(portal, period)
            sync_all(app, portal, codes, period)
            (Path(folder) / "directory.toml").write_text(DIRECTORY, encoding="utf-8")
            directory = load_directory(Path(folder) / "directory.toml")
            rules = load_rules(PROJECT / "config" / "rules.toml")
            policy = Policy(WorkCalendar())
            now = dt.datetime(2026, 9, 1, 2, 0)

            def run(session: object, at: dt.datetime, **scope: object) -> Evaluation:
                return evaluate(session, app.schemes, rules, directory, policy, at, **scope)  # type: ignore[arg-type]

            first = timed(app, run, at=now)
            one = timed(app, run, at=now + dt.timedelta(hours=1), provinces={codes[0]})
            whole = timed(app, run, at=now + dt.timedelta(hours=2))
            app.engine.dispose()
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    print(f"database {db_url.split(':')[0]}, {len(codes)} provinces")
    for label, (seconds, changes, deliveries) in (
        ("first evaluation, every unit", first),
        (f"after one province's sync ({codes[0]})", one),
        ("whole country again", whole),
    ):
        print(f"{label}: {seconds:.2f} s, {changes} transitions, {deliveries} deliveries")
    print(f"peak memory: {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
