"""run owner and lease: who runs a fetch run, and until when it counts as alive

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 14:00:00

A fetch run records the process that runs it (host, pid, the process's start)
and a lease it renews while it works. A `running` run whose lease has expired,
or whose owner is a process of this host that no longer exists, is closed as
`failed` (`abandoned`) by the next command; live runs of another process keep
their lease and are left alone. Runs left `running` before this upgrade have
no owner and no lease: they are closed here, since no process of the old code
can still be running them after a migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fetch_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("owner_started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_fetch_runs_status", ["status"], unique=False)
    op.execute(
        "UPDATE fetch_runs SET status = 'failed', error_kind = 'abandoned', "
        "error = 'left running by a process before the upgrade', "
        "finished_at = started_at WHERE status = 'running'"
    )


def downgrade() -> None:
    with op.batch_alter_table("fetch_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_fetch_runs_status")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("owner_started_at")
        batch_op.drop_column("owner_pid")
        batch_op.drop_column("owner_host")
