"""How feedsvc opens the publisher's SQLite file (``source.url = "sqlite:///…"``): never
creating it, read-only where this user cannot write it, and every failure to open it worded with
the file and what to do.

Why apart from :mod:`feedsvc.db.drivers`: the opening of a file is SQLite's concern, and the
decision of how a file this user cannot write is read is :mod:`feedsvc.db.sqlite_reading`'s (the
state DB's reading commands take it too); this module applies it to every connection of the
source's engine (``feedsvc.source.engine.source_engine``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from feedsvc.db.sqlite_reading import ChangedWhileRead
from feedsvc.db.sqlite_url import SqliteTarget
from feedsvc.db.where import Where, mark


def never_created(engine: Engine, where: Where) -> None:
    """Make ``engine`` (an SQLite source's, ``where``: which DB it is) open its file only when
    it is there, and read-only where this user cannot write it. SQLite's default opening
    creates an empty DB at a path with nothing (``feedsvc.db.sqlite_url.existing_only``), and a
    missing file is said as such (:data:`~feedsvc.db.sqlite_url.MISSING_SOURCE`, raised as the
    driver's ``OperationalError``: ingest's one log line, its backoff and probes, ``feedsvc
    status``' last error, ``source check``'s "cannot connect"), not as "unable to open database
    file". Why here and not in the config check: a CMS file that is absent for a while (moved, a
    share not mounted) is an outage that only delays ingest, as a CMS server that does not
    answer is (README, "Outages").

    A file this user may read but not write (the CMS's user owns it or its directory; 0444) is
    opened as a reading command opens the state DB, decided anew at each connection
    (``feedsvc.db.sqlite_reading.reading``: ``mode=ro``, or ``immutable=1`` for a WAL file with
    no ``-shm`` when no ``-shm`` can be made, checked unchanged when the connection's
    transaction ends — a change is an ``OperationalError``, read again at the next poll); a file
    it cannot read is said naming the file and the permission to grant
    (``sqlite_reading.unreadable``)."""
    from sqlalchemy import event

    from feedsvc.db.sqlite_reading import heap_index, reading
    from feedsvc.db.sqlite_url import existing_only

    again = "it is read again at the next poll (source check: run it again)"

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        target = SqliteTarget(str(cargs[0]), bool(cparams.get("uri", False)))
        opening = reading(target, where.shown, "source DB", again)
        opens = opening.target
        try:
            conn = dialect.connect(existing_only(opens.filename, uri=opens.uri), *cargs[1:],
                                   **{**cparams, "uri": True})  # fmt: skip
        except sqlite3.OperationalError as exc:
            raise _source_open_error(target, exc) from None
        heap_index(conn, opens)  # before the first read (a full disk's -wal with no -shm)
        if opening.stamp is not None:
            record.info[_OPENING] = opening
        return conn

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Any) -> None:  # a read's end: its connection's transaction
        opening = conn.connection.info.get(_OPENING)
        if opening is not None:
            try:
                opening.check()
            except ChangedWhileRead as exc:
                changed = OperationalError(None, None, sqlite3.OperationalError(str(exc)))
                mark(changed, where)  # said as the source's, as the engine's other errors
                raise changed from None

    @event.listens_for(engine, "handle_error", retval=True)
    def _worded(context: Any) -> Any:  # what fails at a read: an unreadable -shm or -wal
        orig = context.original_exception
        if isinstance(orig, sqlite3.OperationalError) and not _worded_here(orig):
            args, kwargs = context.engine.dialect.create_connect_args(context.engine.url)
            target = SqliteTarget(str(args[0]), bool(kwargs.get("uri", False)))
            worded = _source_open_error(target, orig)
            if worded is not orig:
                said = OperationalError(context.statement, context.parameters, worded)
                mark(said, where)
                return said
        return None


#: Where a source connection's :class:`~feedsvc.db.sqlite_reading.ReadOpening` is kept (its
#: pool record's ``info``) until its transaction ends.
_OPENING = "feedsvc_sqlite_reading"


def _worded_here(exc: BaseException) -> bool:
    return bool(getattr(exc, "feedsvc_worded", False))


def _source_open_error(
    target: SqliteTarget, exc: sqlite3.OperationalError
) -> sqlite3.OperationalError:
    """``exc``, or the words for what made it: the source file missing
    (:data:`~feedsvc.db.sqlite_url.MISSING_SOURCE`) or unreadable by this user
    (``sqlite_reading.unreadable``)."""
    from feedsvc.db.sqlite_reading import unreadable
    from feedsvc.db.sqlite_url import MISSING_SOURCE, SqlitePathError, missing_file

    file = missing_file(target.filename, uri=target.uri)
    if file is not None:
        said = MISSING_SOURCE.format(file=file)
    else:
        try:
            path = target.file()
        except SqlitePathError:
            return exc
        problem = unreadable(path) if path is not None else None
        if problem is None:
            return exc
        said = f"{problem} ({exc})"
    worded = sqlite3.OperationalError(said)
    worded.feedsvc_worded = True  # type: ignore[attr-defined]
    return worded
