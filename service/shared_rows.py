"""Rows named by their content and shared: figure sets and raw bodies.

A writer stores such a row only if it is missing and then points at it (a snapshot
at its figure set, a raw response at its body); housekeeping deletes the ones nothing
points at. The two may run at once (a `dvcwatch sync` beside the service's
housekeeping), and neither sees what the other has not committed, so a writer could
point at a row a deletion is taking away: the snapshot's insert then fails on its
foreign key, and a raw response, which has none, is left without its body.

So a writer holds every row it points at (`insert_and_hold`) until its transaction
ends. On PostgreSQL a row it inserted itself is held by being invisible to every other
transaction until then; one that was there already takes a `FOR KEY SHARE` lock, and a
row a deletion took first is inserted again once that deletion commits; deletions pass
held rows by (`delete_unheld`: `FOR UPDATE SKIP LOCKED`), to be taken at a later pass.
On SQLite a transaction that has written is the only writer until it ends, so a
writer's first statement must be a write (`RawArchive` inserts the response row before
its body).

On PostgreSQL the rows of a writer go in one statement however many they are
(`unnest_insert`, also for the rows that point at them: `insert_rows`): a national sync
stores thousands, and an executemany costs a round trip and its parameters' adaptation
per row. On SQLite they go in one executemany of tuples (`tuples_insert`), each value
bound as SQLAlchemy would bind it but each distinct value once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    CursorResult,
    Table,
    bindparam,
    delete,
    select,
)
from sqlalchemy.orm import Session

T = TypeVar("T")
_CHUNK = 500  # keeps IN (...) lists well under every database's parameter limit
#: The keys of an `IN` list, given when the statement runs as `{"keys": [...]}`: a
#: statement made with its keys in it coerced each into a parameter of its own, most
#: of the time a national sync spent storing.
KEYS: BindParameter[Any] = bindparam("keys", expanding=True)


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


def on_postgresql(session: Session) -> bool:
    return session.connection().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same columns) into `table` in the session's transaction."""
    if rows and on_postgresql(session):
        unnest_insert(session, table, rows)
    elif rows:
        tuples_insert(session, table, rows)


def tuples_insert(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], tail: str = ""
) -> None:
    """SQLite: `rows` (all with the same columns, at least one) into `table`, in their
    order, by one executemany of tuples; `tail` ends the statement (`ON CONFLICT DO
    NOTHING`). Each value is bound as its column's type binds it (a date or a time as
    SQLAlchemy writes it in SQLite), once per distinct value: the rows of one input
    share their days and times. No column default is filled in: the rows name every
    column they need. (SQLAlchemy's executemany of dict rows made a parameter of every
    value of every row, most of the time a national sync spent storing.)"""
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    columns = [[row[name] for row in rows] for name in names]
    for index, name in enumerate(names):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bound: dict[Any, Any] = {}
            columns[index] = [
                bound[value] if value in bound else bound.setdefault(value, process(value))
                for value in columns[index]
            ]
    preparer = dialect.identifier_preparer
    statement = (
        f"INSERT INTO {preparer.format_table(table)} ({', '.join(map(preparer.quote, names))})"
        f" VALUES ({', '.join('?' * len(names))}) {tail}"
    )
    connection.exec_driver_sql(statement, list(zip(*columns, strict=True)))


def unnest_insert(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], tail: str = ""
) -> CursorResult[Any]:
    """PostgreSQL: one `INSERT .. SELECT` of `rows` (all with the same columns, at least
    one) into `table`, in their order, from one array per column; `tail` ends the
    statement (`ON CONFLICT DO NOTHING`, `RETURNING id`)."""
    connection = session.connection()
    preparer = connection.dialect.identifier_preparer
    names = list(rows[0])
    arrays = ", ".join(
        f"%({name})b::{table.c[name].type.compile(connection.dialect)}[]" for name in names
    )
    columns = ", ".join(map(preparer.quote, names))
    statement = (
        f"INSERT INTO {preparer.format_table(table)} ({columns})"
        f" SELECT {columns} FROM unnest({arrays})"
        f" WITH ORDINALITY AS given({columns}, n) ORDER BY n {tail}"
    )
    # Sent by psycopg in binary (`%b`): its text form escapes every quote of a figure
    # set's JSON in Python, slower than the whole insert.
    arrays_of = {name: [row[name] for row in rows] for name in names}
    return connection.exec_driver_sql(statement, arrays_of)


def held(session: Session, table: Table, keys: Iterable[str]) -> set[str]:
    """Those of `keys` that `table` (by its one-column primary key) holds, each kept
    from deletion until the transaction ends."""
    key = _key(table)
    found: set[str] = set()
    query = select(key).where(key.in_(KEYS)).with_for_update(read=True, key_share=True)
    connection = session.connection()
    for chunk in chunks(sorted(set(keys))):
        found.update(connection.execute(query, {"keys": chunk}).scalars())
    return found


def insert_and_hold(session: Session, table: Table, rows: Mapping[str, Mapping[str, Any]]) -> None:
    """Store the `rows` (by primary key) that `table` lacks and hold every one of them
    (see module doc); a row stored meanwhile by another writer is left as it is: same
    name, same content."""
    missing = dict(rows)
    while missing:
        inserted = _insert_missing(session, table, list(missing.values()))
        kept = inserted | held(session, table, missing.keys() - inserted)
        missing = {key: row for key, row in missing.items() if key not in kept}


def _insert_missing(session: Session, table: Table, rows: list[Mapping[str, Any]]) -> set[str]:
    """Insert those of `rows` that `table` lacks; the keys of those that need no lock: on
    PostgreSQL those inserted (no other transaction sees them before this one ends), on
    SQLite all of them (each is there now, inserted or there before, and this
    transaction, having written, is the only writer until it ends)."""
    if not on_postgresql(session):
        tuples_insert(session, table, rows, "ON CONFLICT DO NOTHING")
        return {row[_key(table).name] for row in rows}
    tail = f"ON CONFLICT DO NOTHING RETURNING {_key(table).name}"
    return set(unnest_insert(session, table, rows, tail).scalars())


def delete_unheld(session: Session, table: Table, where: ColumnElement[bool]) -> int:
    """Delete the rows of `table` matching `where` that no writer holds; returns how many."""
    key = _key(table)
    unheld = select(key).where(where).with_for_update(skip_locked=True).correlate(None)
    result = session.execute(delete(table).where(key.in_(unheld)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _key(table: Table) -> Column[Any]:
    (key,) = table.primary_key.columns
    return key
