"""Does the state DB take writes? Asked once as a writer starts, before anything is said or done.

``feedsvc run`` on a ``database.url`` that opens the state DB read-only (SQLite's
``?mode=ro&uri=true`` or ``immutable=1``, a file or directory it cannot write, PostgreSQL's
``options=-cdefault_transaction_read_only=on``, a role or database with that setting, a standby)
started, logged its banner, then exited 1 at its first write. A writer now proves it can write
(:data:`PROBE`: a ``DELETE`` of no row, which every read-only database refuses, and which
changes nothing in one that is not) as :func:`feedsvc.db.revision.ensure_schema` finishes; a
refusal while checking, migrating or probing is :class:`ReadOnlyError`, a configuration error
(the CLI's exit 2) in one line naming ``database.url`` and what to do. On PostgreSQL the line
says where the read-only setting comes from (``pg_settings.source``), which is what the
operator has to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from feedsvc.db.revision import DatabaseUrlError

if TYPE_CHECKING:
    from feedsvc.db.engine import Database

#: One write that changes nothing: ``leases`` is in every schema revision (0001's tables).
PROBE = "DELETE FROM leases WHERE 1 = 0"
#: :func:`feedsvc.db.errors.trouble` kinds that are the configuration's fault, not a moment's.
REFUSALS = ("read_only", "cannot_open", "privilege")
#: What to change for each ``pg_settings.source`` of ``default_transaction_read_only = on``
#: (https://www.postgresql.org/docs/current/view-pg-settings.html); ``{role}``, ``{db}``.
PG_SOURCES = {
    "client": (
        "database.url sets it (options=-cdefault_transaction_read_only=on) or the PGOPTIONS "
        "environment variable does: remove it there"
    ),
    "user": (
        "the role {role} has it (ALTER ROLE … SET): run ALTER ROLE {role} RESET "
        "default_transaction_read_only, or set database.url to a role that may write"
    ),
    "database": (
        "the database {db} has it (ALTER DATABASE … SET): run ALTER DATABASE {db} RESET "
        "default_transaction_read_only, or set database.url to another database"
    ),
    "database user": (
        "the role {role} has it in the database {db}: run ALTER ROLE {role} IN DATABASE {db} "
        "RESET default_transaction_read_only, or set database.url to a role that may write"
    ),
}


class ReadOnlyError(DatabaseUrlError):
    """The state DB refuses writes as ``database.url`` opens it (a configuration error)."""


def probe(db: Database) -> None:
    """:data:`PROBE` in a write transaction (SQLite's ``BEGIN IMMEDIATE``), rolled back."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        conn.execution_options(write=True)
        with conn.begin() as tx:
            conn.execute(text(PROBE))
            tx.rollback()


@contextmanager
def writable(db: Database) -> Iterator[None]:
    """Raise :class:`~feedsvc.db.revision.LocationError` for an SQLite state DB that cannot be
    at its path (a directory, a missing or empty file with its ``-wal`` still beside it:
    ``sqlite_location.check_location``, asked first, as every reader asks it), then
    :class:`ReadOnlyError` for an SQLite URL that opens the DB read-only, or a file,
    ``-wal`` or ``-shm`` of it this process may not write (both before anything connects), or
    for a database error inside that says the state DB cannot be written (:data:`REFUSALS`);
    any other error is raised as it is (a server down is exit 1, a lock is a moment's)."""
    from feedsvc.db.errors import explain, read_only_url, trouble, unwritable_file
    from feedsvc.db.sqlite_location import check_location
    from feedsvc.db.where import is_database_error, state_db

    if db.dialect == "sqlite":
        # where the file is, first: a missing one's -wal on a read-only mount is an orphan
        # (sqlite_file.orphan_problem) before it is a file that may not be written
        check_location(db)
        where = state_db(db.url)
        # no connection: one would create a missing file, or a -wal and -shm beside a file it
        # may not write, left behind to fail the next writer once the file is writable
        if refusal := read_only_url(where) or unwritable_file(where):
            raise ReadOnlyError(refusal)
    try:
        yield
    except Exception as exc:
        kind = trouble(exc) if is_database_error(exc) else None
        if kind not in REFUSALS:
            raise
        why = _pg_read_only(db) if kind == "read_only" and db.dialect == "postgresql" else None
        raise ReadOnlyError(why or explain(exc)) from None


def _pg_read_only(db: Database) -> str | None:
    """Why a PostgreSQL state DB refuses writes, from the server: a standby, or where
    ``default_transaction_read_only = on`` is set (:data:`PG_SOURCES`); None when it cannot
    tell (then the driver's error is worded, :func:`feedsvc.db.errors.explain`)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.db.urls import shown_db

    try:
        with db.read() as conn:
            standby, source, role, name = conn.execute(text(
                "SELECT pg_is_in_recovery(), (SELECT source FROM pg_settings WHERE name = "
                "'default_transaction_read_only' AND setting = 'on'), quote_ident(current_user), "
                "quote_ident(current_database())"
            )).one()  # fmt: skip
    except SQLAlchemyError:
        return None
    where = f"the state DB {shown_db(db.url)}"
    if standby:
        return (
            f"{where} is a standby server (in recovery), which accepts no writes: set "
            "database.url to the primary server"
        )
    if source is None:
        return None
    what = PG_SOURCES.get(source) or (
        f"the server's {source} sets it: turn it off for feedsvc's role (ALTER ROLE {{role}} "
        "SET default_transaction_read_only = off), or set database.url to a server that writes"
    )
    return (
        f"{where} opens every transaction read-only (default_transaction_read_only = on), and "
        f"feedsvc writes its state DB: {what.format(role=role, db=name)}"
    )
