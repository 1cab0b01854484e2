"""Alembic environment: runs on the engine handed over by `service.db.upgrade`.

The migrations run in one transaction: stopped anywhere (a kill, a full disk, an
error), they leave the database as it was, and `db upgrade` runs them whole again.
On SQLite that takes an explicit BEGIN IMMEDIATE: left to itself, the driver opens a
transaction only before a row is written, and commits each CREATE or ALTER before
that on its own (a stopped upgrade then left a table or a column that the next
upgrade fails to add again). IMMEDIATE takes the write lock at once, waiting for
another process's write as any statement does (the busy timeout): a transaction that
reads first and writes after fails at once beside another writer.

On SQLite, a migration that alters a table rebuilds it (batch mode: copy, drop,
rename). With foreign keys enforced, dropping the old table would delete the
rows that reference it through ON DELETE CASCADE (every figure of a snapshot)
or fail on the others; so foreign keys are off while the migrations run, as
SQLite's documentation prescribes for altering a table, and the references are
checked before the transaction commits.
"""

from alembic import context
from sqlalchemy import Connection, Engine

import service.alerts.models  # noqa: F401  (registers the alerting tables)
import service.claims  # noqa: F401  (registers the job claims)
import service.delivery.models  # noqa: F401  (registers the outbox tables)
import service.notices.models  # noqa: F401  (registers the notice archive)
from service.models import Base

engine: Engine = context.config.attributes["engine"]


def _check_references(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"a migration broke {len(broken)} reference(s): {broken[:5]}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    driver = connection.connection.driver_connection
    if sqlite:  # outside any transaction, where SQLite honours it
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # ends SQLAlchemy's autobegun transaction; SQLite opened none
        begins = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]  # BEGIN is ours to say
    try:
        with connection.begin():
            if sqlite:
                # the write lock at once, waiting for another writer as any statement does:
                # a transaction that reads first fails at its first write beside one
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
            )
            context.run_migrations()
            if sqlite:
                _check_references(connection)
    finally:
        if sqlite:
            driver.isolation_level = begins  # type: ignore[union-attr]
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
