"""snapshot intervals: an unchanged reading moves `last_seen` instead of copying figures

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 19:00:00

A snapshot now stands for the days from `as_of` to `last_seen` on which the portal
gave the same figures; `seen_at` is when it was last read (the freshness that
/metrics and `status` report). Existing snapshots each cover their own day
(`last_seen = as_of`, `seen_at = created_at`): every figure is kept, and the
readers pick the same newest snapshot as before. A downgrade keeps each
snapshot's figures and first day and forgets how long they stayed unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE snapshots SET last_seen = as_of, seen_at = created_at")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.alter_column("last_seen", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("seen_at", existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
        batch_op.drop_column("last_seen")
