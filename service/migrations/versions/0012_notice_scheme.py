"""a notice is named by its scheme too: a province's own Báo cáo is not the national one

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00

The archive named a notice by (kind, unit, period): the Báo cáo of a province's own
index and the national one of the same set and month were one notice, and the second
asked for was answered with the first's file. `notice_files` gains `scheme`, taken from
the snapshots each file was written from (a file whose snapshots are gone: the
nine-criteria scheme for a quarter or a year, else the national index), and the unique
key holds it.

A configured notice of a province's own index now runs under its own scope
(`jobs.plan.notice_scope`: `baocao:TUACHUA@provincial:dienbien-459`), which its
deliveries' keys carry too. Where the archive shows that one such notice ran under the
old scope (every archived version of that kind, unit and period is of one provincial
scheme), its job claim and its deliveries' keys are renamed, so the job is not run, nor
its document sent, again. `job_claims.scope` widens to 160 characters to hold it.

A downgrade drops the column and renames the scopes and keys back; it refuses, naming
one, while two schemes archive the same kind, unit, period, format and version.
"""

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

from service.indicators import NATIONAL  # what a notice's request names the index by

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TT01 = "tt01"  # the other schemes' names, as this revision spells them
PROVINCIAL = "provincial:"
OLD_KEY = ("kind", "unit_code", "period", "format", "version")

notice_files = sa.table(
    "notice_files",
    sa.column("id"),
    sa.column("kind"),
    sa.column("scheme"),
    sa.column("unit_code"),
    sa.column("period"),
    sa.column("version"),
    sa.column("snapshot_ids"),
)
job_claims = sa.table("job_claims", sa.column("id"), sa.column("job"), sa.column("scope"))
deliveries = sa.table("deliveries", sa.column("id"), sa.column("idempotency_key"))


def upgrade() -> None:
    with op.batch_alter_table("notice_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheme", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    schemes = _snapshot_schemes(connection)
    rows = connection.execute(
        sa.select(notice_files.c.id, notice_files.c.period, notice_files.c.snapshot_ids)
    ).all()
    named = [
        {"file": file_id, "named": _scheme_of(period, ids, schemes)}
        for file_id, period, ids in rows
    ]
    if named:
        connection.execute(
            sa.update(notice_files)
            .where(notice_files.c.id == sa.bindparam("file"))
            .values(scheme=sa.bindparam("named")),
            named,
        )
    with op.batch_alter_table("notice_files", schema=None) as batch_op:
        batch_op.alter_column("scheme", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint("uq_notice_file", type_="unique")
        batch_op.create_unique_constraint(
            "uq_notice_file", ["kind", "scheme", "unit_code", "period", "format", "version"]
        )
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.alter_column(
            "scope", existing_type=sa.String(length=64), type_=sa.String(length=160)
        )
    for kind, unit, period, scheme, versions in _provincial_notices(connection):
        _rename(connection, kind, unit, period, versions, "", f"@{scheme}")


def downgrade() -> None:
    connection = op.get_bind()
    shared = connection.execute(
        sa.text(
            f"SELECT {', '.join(OLD_KEY)} FROM notice_files GROUP BY {', '.join(OLD_KEY)} "
            "HAVING COUNT(*) > 1"
        )
    ).first()
    if shared is not None:
        raise RuntimeError(
            "notice_files: {} {} {} {} v{} is archived under two schemes: "
            "the downgrade would lose one; move one away first".format(*shared)
        )
    for kind, unit, period, scheme, versions in _provincial_notices(connection):
        _rename(connection, kind, unit, period, versions, f"@{scheme}", "")
    with op.batch_alter_table("job_claims", schema=None) as batch_op:
        batch_op.alter_column(
            "scope", existing_type=sa.String(length=160), type_=sa.String(length=64)
        )
    with op.batch_alter_table("notice_files", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notice_file", type_="unique")
        batch_op.create_unique_constraint("uq_notice_file", list(OLD_KEY))
        batch_op.drop_column("scheme")


def _snapshot_schemes(connection: sa.Connection) -> dict[int, str]:
    """The scheme of every snapshot a notice names."""
    wanted = {
        int(part)
        for (ids,) in connection.execute(sa.select(notice_files.c.snapshot_ids))
        for part in (ids or "").split(",")
        if part.strip().isdigit()
    }
    found: dict[int, str] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(
            connection.execute(
                sa.text("SELECT id, scheme FROM snapshots WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": chunk},
            ).all()
        )
    return found


def _scheme_of(period: str, ids: str | None, schemes: dict[int, str]) -> str:
    for part in (ids or "").split(","):
        if part.strip().isdigit() and int(part) in schemes:
            return schemes[int(part)]
    return TT01 if "Q" in period or len(period) == 4 else NATIONAL


def _provincial_notices(
    connection: sa.Connection,
) -> Iterator[tuple[str, str, str, str, list[int]]]:
    """(kind, unit, period, scheme, versions) of every notice whose archived versions are
    all of one province's own index: the ones that ran under the scope without it."""
    archived: dict[tuple[str, str, str], dict[str, set[int]]] = {}
    for kind, unit, period, scheme, version in connection.execute(
        sa.select(
            notice_files.c.kind,
            notice_files.c.unit_code,
            notice_files.c.period,
            notice_files.c.scheme,
            notice_files.c.version,
        )
    ):
        archived.setdefault((kind, unit, period), {}).setdefault(scheme, set()).add(version)
    for (kind, unit, period), by_scheme in archived.items():
        if len(by_scheme) == 1:
            [(scheme, versions)] = by_scheme.items()
            if scheme.startswith(PROVINCIAL):
                yield kind, unit, period, scheme, sorted(versions)


def _rename(
    connection: sa.Connection,
    kind: str,
    unit: str,
    period: str,
    versions: list[int],
    old: str,
    new: str,
) -> None:
    """The notice's job claim and its deliveries' keys, from scope `kind:unit{old}` to
    `kind:unit{new}` (the keys: `notice:<scope>:<period>:v<version>:<person>:<channel>`)."""
    scope = f"{kind}:{unit}"
    connection.execute(
        sa.text(
            "UPDATE job_claims SET scope = :new WHERE job = 'notices' AND scope = :old "
            "AND period = :period"
        ),
        {"new": scope + new, "old": scope + old, "period": period},
    )
    for version in versions:
        before = f"notice:{scope}{old}:{period}:v{version}:"
        after = f"notice:{scope}{new}:{period}:v{version}:"
        for delivery_id, key in connection.execute(
            sa.select(deliveries.c.id, deliveries.c.idempotency_key).where(
                sa.func.substr(deliveries.c.idempotency_key, 1, len(before)) == before
            )
        ).all():
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(idempotency_key=after + key[len(before) :])
            )
