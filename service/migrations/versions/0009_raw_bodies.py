"""raw bodies stored once: identical portal answers share one compressed copy

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 19:30:00

A response names its bytes by SHA-256 (`raw_responses.body_sha256`, already
recorded); the bytes live once in `raw_bodies`. Rows archived before keep their
own `body` (nothing is moved or lost); new rows leave it NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "raw_bodies",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    with op.batch_alter_table("raw_responses", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index("ix_raw_responses_body_sha256", ["body_sha256"], unique=False)


def downgrade() -> None:
    op.execute(
        "UPDATE raw_responses SET body = (SELECT raw_bodies.body FROM raw_bodies "
        "WHERE raw_bodies.sha256 = raw_responses.body_sha256) WHERE body IS NULL"
    )
    with op.batch_alter_table("raw_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_responses_body_sha256")
        batch_op.alter_column("body", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("raw_bodies")
