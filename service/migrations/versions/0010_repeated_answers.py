"""a run that received the same answers as the run before names that run

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 21:30:00

When every answer of a sync is byte for byte what the previous run of the same
scope and period received (same requests, statuses, content types and bodies),
the run records `answers_as_run` (the run holding those answers) instead of a
copy of their metadata. A downgrade writes the answers' rows back for every such
run: nothing archived is lost either way.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fetch_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers_as_run", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute(
        "INSERT INTO raw_responses (fetch_run_id, endpoint, request_body, http_status, "
        "content_type, fetched_at, body, body_sha256, body_size, error) "
        "SELECT r.id, a.endpoint, a.request_body, a.http_status, a.content_type, "
        "a.fetched_at, a.body, a.body_sha256, a.body_size, a.error "
        "FROM fetch_runs r JOIN raw_responses a ON a.fetch_run_id = r.answers_as_run "
        "ORDER BY r.id, a.id"
    )
    with op.batch_alter_table("fetch_runs", schema=None) as batch_op:
        batch_op.drop_column("answers_as_run")
