"""Rows named by their content and shared: figure sets and raw bodies.

A writer stores such a row only if it is missing and then points at it (a snapshot
at its figure set, a raw response at its body); housekeeping deletes the ones nothing
points at. The two may run at once (a `dvcwatch sync` beside the service's
housekeeping), and neither sees what the other has not committed, so a writer could
point at a row a deletion is taking away: the snapshot's insert then fails on its
foreign key, and a raw response, which has none, is left without its body.

So a writer holds every row it points at (`insert_and_hold`): on PostgreSQL a
`FOR KEY SHARE` lock until its transaction ends, and a row a deletion took first is
inserted again once that deletion commits; deletions pass held rows by
(`delete_unheld`: `FOR UPDATE SKIP LOCKED`), to be taken at a later pass. On SQLite a
transaction that has written is the only writer until it ends, so a writer's first
statement must be a write (`RawArchive` inserts the response row before its body).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")
_CHUNK = 500  # keeps IN (...) lists well under every database's parameter limit


def chunks(items: Iterable[T]) -> Iterator[list[T]]:
    """`items` in lists of at most 500."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def held(session: Session, table: Table, keys: Iterable[str]) -> set[str]:
    """Those of `keys` that `table` (by its one-column primary key) holds, each kept
    from deletion until the transaction ends."""
    key = _key(table)
    found: set[str] = set()
    for chunk in chunks(sorted(set(keys))):
        query = select(key).where(key.in_(chunk)).with_for_update(read=True, key_share=True)
        found.update(session.scalars(query))
    return found


def insert_and_hold(session: Session, table: Table, rows: Mapping[str, Mapping[str, Any]]) -> None:
    """Store the `rows` (by primary key) that `table` lacks and hold every one of them
    (see module doc); a row stored meanwhile by another writer is left as it is: same
    name, same content."""
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    missing = dict(rows)
    while missing:
        connection.execute(dialect.insert(table).on_conflict_do_nothing(), list(missing.values()))
        kept = held(session, table, missing)
        missing = {key: row for key, row in missing.items() if key not in kept}


def delete_unheld(session: Session, table: Table, where: ColumnElement[bool]) -> int:
    """Delete the rows of `table` matching `where` that no writer holds; returns how many."""
    key = _key(table)
    unheld = select(key).where(where).with_for_update(skip_locked=True).correlate(None)
    result = session.execute(delete(table).where(key.in_(unheld)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _key(table: Table) -> Column[Any]:
    (key,) = table.primary_key.columns
    return key
