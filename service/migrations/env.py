"""Alembic environment: runs on the engine handed over by `service.db.upgrade`."""

from alembic import context
from sqlalchemy import Engine

import service.alerts.models  # noqa: F401  (registers the alerting tables)
import service.claims  # noqa: F401  (registers the job claims)
import service.notices.models  # noqa: F401  (registers the notice archive)
from service.models import Base

engine: Engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
