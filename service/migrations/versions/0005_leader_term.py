"""leadership terms: fence job claims against a deposed leader

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:20:00

Each new leader raises `leadership.term` by one; every claim records the term
it was taken under, and a claim (or its completion) is accepted only while
that term is still the current one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leadership") as batch:
        batch.add_column(sa.Column("term", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("job_claims") as batch:
        batch.add_column(sa.Column("term", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("job_claims") as batch:
        batch.drop_column("term")
    with op.batch_alter_table("leadership") as batch:
        batch.drop_column("term")
