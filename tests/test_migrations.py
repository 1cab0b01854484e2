"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import service.alerts.models  # noqa: F401  (the tables the migrations must create)
import service.claims  # noqa: F401
import service.notices.models  # noqa: F401
from service.models import Base


def test_the_migrated_schema_matches_the_models(app):
    with app.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
