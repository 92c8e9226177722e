"""Create-if-missing without a race: ``INSERT … ON CONFLICT DO NOTHING`` on every state DB.

A select-then-insert lets two replicas (or the bot and the admin API) both see "missing" and both
insert; the loser fails with a duplicate key (seen: replicas starting together on a fresh DB and
creating the shared rate bucket). Inserting with the conflict skipped lets the database decide,
and asking for ``RETURNING`` says which rows were really inserted: the driver's ``rowcount`` is
not usable for that (psycopg answers -1 for an ``executemany``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table


def insert_missing(conn: Connection, table: Table) -> Any:
    """``INSERT INTO table … ON CONFLICT DO NOTHING`` for this connection's dialect (any unique
    constraint or primary key counts as the conflict)."""
    # each dialect's module is imported when used: PostgreSQL's brings asyncpg's module along,
    # which an SQLite-only process never needs (CLI start-up, issue #17 §1)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"state DB dialect {conn.dialect.name!r}")  # MySQL: a source only


def insert_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], key: Column[Any]
) -> list[Any]:
    """Insert ``rows``, skipping those that conflict; returns ``key`` of each row inserted.

    One statement (batched by SQLAlchemy's "insertmanyvalues"), so the count is exact on both
    backends whatever the driver reports as ``rowcount``.
    """
    if not rows:
        return []
    stmt = insert_missing(conn, table).returning(key)
    return list(conn.execute(stmt, list(rows)).scalars())
