"""The benchmarks of `make bench`.

Each one prints its figures for a person and, for `bench.table` (which runs them
all and writes the table of `docs/benchmarks.md`), one `RESULT {json}` line per
figure: what was measured, the floor measured in the same run, the ratio and its
target. Targets are checked here, never as timed assertions in the tests.
"""

from __future__ import annotations

import atexit
import json
import resource
import uuid
from dataclasses import asdict, dataclass

PREFIX = "RESULT "


@dataclass(frozen=True)
class Result:
    """One line of the benchmark table."""

    what: str
    measured: str  # the absolute figure, as a person reads it ("4.21 s", "168 B")
    floor: str  # the floor of the same run, named ("Floor A 0.52 s"); "" if none
    ratio: float | None  # measured / floor (or the figure itself where no floor)
    target: str  # "<= 2.5 x Floor A", "< 400 B"
    met: bool
    peak_mb: float | None = None
    command: str = ""


def emit(result: Result) -> None:
    """Print `result` for `bench.table`."""
    print(PREFIX + json.dumps(asdict(result), ensure_ascii=False), flush=True)


def peak_mb() -> float:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pg_schema_url(base: str) -> str:
    """A fresh schema of the PostgreSQL database at `base`, as the tests make them,
    dropped when the process ends: a schema left behind (a national sync's is over 100 MB)
    grows the database and its autovacuum runs beside the next benchmark."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    atexit.register(_drop_schema, base, schema)
    return f"{base}?options=-csearch_path%3D{schema}"


def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()
