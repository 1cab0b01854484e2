"""outbox messages: one row per message part, composed when queued

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:40:00

Deliveries say what a person must be told; `outbox_messages` holds what goes
out, one row per part of a composed message with its own key and outcome.
A delivery names the unit and part holding its line. Deliveries still pending
are composed by the next outbox pass; one left `sending` by an older sender is
maybe delivered and becomes `uncertain`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("unit_key", sa.String(length=64), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("text_html", sa.Text(), nullable=False),
        sa.Column("buttons_json", sa.Text(), nullable=False),
        sa.Column("document_path", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_status_not_before", ["status", "not_before"], unique=False
        )
        batch_op.create_index("ix_outbox_messages_unit", ["unit_key", "part"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_unit", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("part", sa.Integer(), nullable=True))
        batch_op.create_index("ix_deliveries_message_unit", ["message_unit"], unique=False)
    op.execute(
        "UPDATE deliveries SET status = 'uncertain', "
        "last_error = 'left in flight by a sender before the upgrade: maybe delivered' "
        "WHERE status = 'sending'"
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_message_unit")
        batch_op.drop_column("part")
        batch_op.drop_column("message_unit")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_unit")
        batch_op.drop_index("ix_outbox_messages_status_not_before")
    op.drop_table("outbox_messages")
