"""figure sets: a snapshot's figures are one row named by their fingerprint

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:40:00

A snapshot's thirty-odd figures were as many rows of `figures`; they are now one
`figure_sets` row, the canonical JSON of the rows (sorted by code, in the order
of `service.figures.FIGURE_FIELDS`) under its SHA-256, which is the snapshot's
`content_sha256` (now a reference). Snapshots holding the same figures share
one set. The upgrade builds each snapshot's set from its figure rows; where the
recorded fingerprint was computed otherwise (an older writer), the snapshot
takes the fingerprint of what is stored, which is what the writer compares a
new reading with. A downgrade writes every snapshot's figures back as rows.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The figure columns in the order of a set's rows (frozen here: this revision's format).
FIELDS = (
    "code",
    "kind",
    "value",
    "max_value",
    "axis",
    "numerator",
    "denominator",
    "ratio",
    "text_value",
    "quality_status",
    "quality_message",
)
BATCH = 2000


def canonical(rows: list[tuple[object, ...]]) -> str:
    rows = sorted(rows, key=lambda row: str(row[0]))
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def upgrade() -> None:
    op.create_table(
        "figure_sets",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    connection = op.get_bind()
    figure_sets = sa.table("figure_sets", sa.column("sha256"), sa.column("figures"))
    stored: set[str] = set()
    renamed: list[dict[str, object]] = []
    for snapshot_id, recorded, rows in _snapshots_with_figures(connection):
        figures = canonical(rows)
        digest = hashlib.sha256(figures.encode()).hexdigest()
        if digest not in stored:
            connection.execute(sa.insert(figure_sets), {"sha256": digest, "figures": figures})
            stored.add(digest)
        if digest != recorded:
            renamed.append({"snapshot_id": snapshot_id, "digest": digest})
    snapshots = sa.table("snapshots", sa.column("id"), sa.column("content_sha256"))
    if renamed:
        connection.execute(
            sa.update(snapshots)
            .where(snapshots.c.id == sa.bindparam("snapshot_id"))
            .values(content_sha256=sa.bindparam("digest")),
            renamed,
        )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_snapshots_content_sha256_figure_sets",
            "figure_sets",
            ["content_sha256"],
            ["sha256"],
        )
    op.drop_table("figures")


def _snapshots_with_figures(
    connection: sa.Connection,
) -> Iterator[tuple[int, str, list[tuple[object, ...]]]]:
    """Every snapshot (id, recorded fingerprint) with its figure rows, a batch at a time."""
    columns = ", ".join(f"f.{name}" for name in FIELDS)
    last = 0
    while True:
        ids = connection.execute(
            sa.text(
                "SELECT id, content_sha256 FROM snapshots WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not ids:
            return
        first, last = ids[0][0], ids[-1][0]
        rows: dict[int, list[tuple[object, ...]]] = {}
        for snapshot_id, *figure in connection.execute(
            sa.text(
                f"SELECT f.snapshot_id, {columns} FROM figures f "
                "WHERE f.snapshot_id BETWEEN :first AND :last"
            ),
            {"first": first, "last": last},
        ):
            rows.setdefault(snapshot_id, []).append(tuple(figure))
        for snapshot_id, recorded in ids:
            yield snapshot_id, recorded, rows.get(snapshot_id, [])


def downgrade() -> None:
    op.create_table(
        "figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("axis", sa.String(length=16), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("text_value", sa.String(length=64), nullable=True),
        sa.Column("quality_status", sa.String(length=64), nullable=True),
        sa.Column("quality_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("snapshot_id", "code", name="uq_figure_code"),
    )
    connection = op.get_bind()
    figures = sa.table("figures", sa.column("snapshot_id"), *(sa.column(f) for f in FIELDS))
    query = sa.text(
        "SELECT s.id, f.figures FROM snapshots s JOIN figure_sets f ON f.sha256 = s.content_sha256"
    )
    batch: list[dict[str, object]] = []
    for snapshot_id, stored in connection.execute(query).all():
        batch += [
            {"snapshot_id": snapshot_id, **dict(zip(FIELDS, row, strict=True))}
            for row in json.loads(stored)
        ]
        if len(batch) >= BATCH:
            connection.execute(sa.insert(figures), batch)
            batch = []
    if batch:
        connection.execute(sa.insert(figures), batch)
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_constraint("fk_snapshots_content_sha256_figure_sets", type_="foreignkey")
    op.drop_table("figure_sets")
