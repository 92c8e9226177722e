"""The SQLite state DB's file as the engines use it: opened only when it is there, and only
while it is the file this process first opened.

Why: SQLite's default opening (``rwc``) creates an empty database wherever the path points. An
operator's ``mv var/state.db var/state.db.moved`` under a running ``feedsvc run`` made the next
new connection (a ``/readyz`` probe, a search feed) create an empty ``state.db`` beside the
service's own live ``-wal``/``-shm``; that connection's close was the last one on the new file,
so SQLite deleted ``state.db-wal``, the WAL the service was still writing through its other
connections: everything written after it never reached ``state.db.moved``, and the next start
alerted the same articles again (a tester's: one title four times over two runs), with one
500 ("no such table: articles") as the only word said.

So every connection of a :class:`~feedsvc.db.engine.Database` on a file opens it without
SQLite's create flag (:func:`feedsvc.db.sqlite_url.existing_only`, as an SQLite source is
opened), and its file's identity (device and inode, :class:`SameFile`) is taken at the first
connection and checked before each new connection and at each checkout of a pooled one: a file
missing, or another file at the path (the one moved away put back is the same file again), is a
state-DB outage (``feedsvc.db.outage``: one WARNING, 503 ``state_db_unavailable``, background
work retries), never a file created and never a foreign file used with the service's WAL beside
it. A state DB is created by :func:`create_missing` only, which ``feedsvc.db.engine.upgrade``
calls (``db upgrade``, and the start of a command that writes: ``run``, ``import``…), never
while another live process serves the path (``served_state.served_problem``: a service runs
on the file that was there; nor is another file there than the one it opened used), and never
where the missing (or empty) file's ``-wal``, ``-shm`` or ``-journal`` is still there
(:func:`orphan_problem`).

A pooled connection found on a file moved away is closed by the pool; SQLite neither
checkpoints nor deletes the WAL of a file that moved (its ``SQLITE_READONLY_DBMOVED`` check,
which also refuses such a connection's writes), so the ``-wal`` stays beside the path with what
was committed, and the file put back there is whole again.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

from feedsvc.db.lock_probe import write_lock_conflict
from feedsvc.db.sqlite_url import SqlitePathError, SqliteTarget, existing_only
from feedsvc.db.wal_sides import WalSides
from feedsvc.db.where import Where

#: A state DB file that is not at its path (``{file}``), said as an outage's cause.
MISSING_STATE = (
    "the SQLite file {file} does not exist (moved or deleted while feedsvc uses it?); feedsvc "
    "creates a state DB only with `feedsvc db upgrade` or at a start, never while it runs: put "
    "the file back at that path, all of {file}* in one command (the file with its -wal and "
    "-shm: one by one, the service may meet the file without its WAL)"
)
#: Another file at the state DB's path than the one this process opened (``{file}``).
REPLACED_STATE = (
    "the SQLite file {file} is no longer the file this process opened (it was moved, replaced "
    "or restored by a copy since: inode {was} then, {now} now); feedsvc does not switch files "
    "while it runs: put the file it opened back at that path, all of {file}* in one "
    "command (the file with its -wal and -shm), or restart feedsvc to use the one there now"
)


class SameFile:
    """The identity (device, inode) of the file at ``target``'s path when this process first
    opened it; every engine of one state DB shares one (``feedsvc.engines.service_databases``:
    the web's engine first connecting after a replacement must not take the new file for its
    own). Thread-safe."""

    def __init__(self, target: SqliteTarget) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        #: the ``-wal``/``-shm`` its connections use (:meth:`wal_problem`)
        self.sides = WalSides()

    def path(self) -> Path | None:
        """The file SQLite opens for the target now (symlinks resolved as SQLite does)."""
        try:
            return self.target.file()
        except SqlitePathError:
            return None

    def problem(self) -> str | None:
        """Why the path's file may not be used now (:data:`MISSING_STATE`,
        :data:`REPLACED_STATE`), or None; the first file seen is recorded as this process's."""
        path = self.path()
        if path is None:
            return None
        try:
            found = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return MISSING_STATE.format(file=path)
        except OSError:  # a permission: SQLite's own error says it (sqlite_reading words it)
            return None
        now = (found.st_dev, found.st_ino)
        with self._lock:
            if self._identity is None:
                self._identity = now
                return None
            was = self._identity
        if was == now:
            return None
        return REPLACED_STATE.format(file=path, was=was[1], now=now[1])

    def wal_problem(self) -> str | None:
        """Why a new connection (of any kind: a read-only one makes a WAL where none is too)
        may not open the file now (``wal_sides.SIDES_AWAY_STATE``), or None: the ``-wal`` or
        ``-shm`` this process's connections used is not at the path, while it exists
        elsewhere or is still open here (:class:`~feedsvc.db.wal_sides.WalSides`).

        Why: ``mv var/state.db* elsewhere/`` then ``mv elsewhere/state.db var/`` put the
        service's own file back without its WAL; a new connection made an empty ``-wal``
        beside the file, a second WAL of one database, even once the outage had closed every
        connection (nothing of the file open here: the old check let it)."""
        path = self.path()
        if path is None or self.identity() is None:
            return None
        return self.sides.problem(path)

    def opened_problem(self) -> str | None:
        """Why a connection that has just opened the file, and read it (its ``-wal``/``-shm``
        open), may not be used, or None: the path's sides are not the recorded ones
        (:meth:`wal_problem`), or this process holds a ``-wal``/``-shm`` of the file's name
        that is not (``wal_sides.SIDES_MADE_STATE``: SQLite made it anew while the files were
        being moved, after the checks before the connection opened)."""
        path = self.path()
        if path is None or self.identity() is None:
            return None
        return self.sides.problem(path) or self.sides.made_problem(path)

    def opened(self) -> None:
        """A connection has just opened the file, or was used (a new database's first
        connection makes its WAL only when it writes): record its ``-wal``/``-shm`` while the
        path holds this process's file (:meth:`~feedsvc.db.wal_sides.WalSides.record`);
        nothing to do once both are recorded."""
        if self.sides.complete():
            return
        path = self.path()
        if path is not None and self.identity() is not None and self.problem() is None:
            self.sides.record(path)

    def closed(self) -> None:
        """After an engine on the file was disposed: let go of recorded sides no connection
        uses any more (a clean close deleted them). Why: a record's descriptor keeps a deleted
        side's inode — its disk space, and a file system that cannot be remounted read-only."""
        if (path := self.path()) is not None:
            self.sides.away(path)

    def identity(self) -> tuple[int, int] | None:
        """The (device, inode) this process took for its file, None before it opened one: what
        a serving process claims (``feedsvc.db.served_claim``)."""
        with self._lock:
            return self._identity

    def forget(self) -> None:
        """Take the next file seen as this process's (a DB it has just created)."""
        with self._lock:
            self._identity = None
        self.sides.forget()


class StateFileError(sqlite3.OperationalError):
    """The state DB's file is missing or another file (:meth:`SameFile.problem`): raised as
    the driver's error, so SQLAlchemy wraps it (``OperationalError``) and it is an outage."""


def kept_file(
    engine: Any, where: Where, opens: SqliteTarget, same: SameFile, *, logged: bool = True
) -> None:
    """Make ``engine`` (a state DB's, ``where``) open ``opens`` never creating it, and only
    while the path holds the file ``same`` recorded (see the module docstring) with the
    ``-wal`` and ``-shm`` this process's connections use beside it
    (:meth:`SameFile.wal_problem`): every connection, a reader's read-only one too (SQLite
    makes a WAL beside a WAL-mode file for it), checked before it opens and again after its
    first read, which opens the ``-wal`` by name (:meth:`SameFile.opened_problem`: the files
    may move in between). ``logged``: kept for the callers' sake (a
    reader's read-only or immutable opening); each connection's sides are recorded once
    opened, whatever it is."""
    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError

    from feedsvc.db.sqlite_reading import heap_index

    del logged  # every opening is checked (a read-only one makes a WAL where none is)
    opened = existing_only(opens.filename, uri=opens.uri)

    def refuse() -> None:
        if (problem := same.problem()) is not None:
            raise StateFileError(problem)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        refuse()
        if (problem := same.wal_problem()) is not None:
            raise StateFileError(problem)
        # what the connection opens, handed on (not connected here: a later listener, a
        # test's shorter ``timeout``, still sees and changes the arguments)
        cargs[0], cparams["uri"] = opened, True

    @event.listens_for(engine, "connect", insert=True)  # before any statement (journal_mode)
    def _opened(dbapi_conn: Any, _record: Any) -> None:
        try:
            first_read(dbapi_conn)
        except Exception as exc:  # closed: a connection that failed here is no one's
            # SQLite's own error for a WAL made anew is "disk I/O error": say why (asked
            # while the connection still holds what it opened)
            problem = same.opened_problem() if not isinstance(exc, StateFileError) else None
            dbapi_conn.close()
            if problem is not None:
                raise StateFileError(problem) from exc
            raise

    def first_read(dbapi_conn: Any) -> None:
        """Checks, then the first read, which opens the ``-wal`` by name (SQLite makes one
        where none is), then the checks that the files did not move meanwhile."""
        refuse()  # replaced, or its sides moved, while it was opened: nothing read yet
        if (problem := same.wal_problem()) is not None:
            raise StateFileError(problem)
        heap_index(dbapi_conn, opens)  # before the first read
        dbapi_conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        if (problem := same.opened_problem()) is not None:
            raise StateFileError(problem)  # on a WAL made anew: closed before it writes

    @event.listens_for(engine, "connect")  # after journal_mode: its -wal/-shm are open
    def _sides(_dbapi_conn: Any, _record: Any) -> None:
        same.opened()

    @event.listens_for(engine, "checkin")  # a new file's WAL is made by its first write
    def _used(_dbapi_conn: Any, _record: Any) -> None:
        same.opened()

    @event.listens_for(engine, "checkout")
    def _checkout(_dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if (problem := same.problem()) is not None:
            # the pool closes it and connects anew, which `_connect` refuses: the outage
            raise DisconnectionError(problem)


#: The files SQLite keeps beside a database file ``F``: ``F-wal`` and ``F-shm`` (WAL mode),
#: ``F-journal`` (the rollback journal of the other modes).
SIDE_FILES = ("-wal", "-shm", "-journal")

#: A state DB ``{file}`` that holds no database (``{state}``: missing, or empty) whose side
#: files (``{names}``) are still at its path.
ORPHANED_STATE = (
    "the state DB file {file} is {state}, but {names} {are} still there (the file was moved, "
    "deleted or emptied; a new database at that path would discard {them}, and the writes "
    "since its last checkpoint with {them}): put the database file back at {file}, or, if it "
    "is truly gone, remove {names} to start afresh"
)
#: :data:`ORPHANED_STATE`'s ``{state}``, by what is at the path.
MISSING, EMPTY = "missing", "empty (0 bytes)"


def side_files(file: Path) -> list[Path]:
    """The :data:`SIDE_FILES` of the database ``file`` that are there (a dangling link
    counts: it is a name SQLite would open)."""
    return [side for s in SIDE_FILES if os.path.lexists(side := Path(f"{file}{s}"))]


def holds_no_database(file: Path) -> str | None:
    """:data:`MISSING` when nothing is at ``file`` (a dangling link too: SQLite creates its
    target), :data:`EMPTY` for a 0-byte regular file no process is creating, else None (a
    database, or something SQLite's own error or the location check words; a path that cannot
    be examined too).

    Why 0 bytes counts: SQLite takes an empty file for a new, empty database and resets the
    ``-wal`` beside it exactly as beside a file it creates (a tester's: ``touch state.db``
    after a ``mv``, then ``db upgrade``, ``status`` or ``db current`` deleted the WAL)."""
    try:
        found = os.stat(file)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode) or found.st_size > 0 or sqlite_locked(file):
        return None
    return EMPTY


#: SQLite's lock bytes in a database file (unix VFS): PENDING, RESERVED and the SHARED range.
LOCK_BYTES = (0x40000000, 512)


def sqlite_locked(file: Path) -> bool:
    """Whether another process holds an SQLite lock on ``file``. Asked of an empty file: a
    database being created there, not an orphan. Its first transaction keeps a ``-journal``
    beside a 0-byte file (SQLite's own, or a ``feedsvc`` start switching a new file to WAL
    while a second one starts: that one must wait for the lock, as ever, not be refused). An
    orphan's file has no lock: a service that moved it away holds its locks on the moved file.
    And asked of a served file without its ``-wal`` (``served_state.served_problem``): every
    open WAL connection holds a read lock on the SHARED range, so a service holding its moved
    WAL open is seen; one with no connection open (a file moved and put back: its pool was emptied)
    has none, and no WAL either.

    Asked with ``F_GETLK`` (Linux's ``struct flock``; elsewhere: no lock seen). The probe's
    descriptor is closed, which drops this process's own POSIX locks on the file: it holds
    none on an empty file it did not create, nor on a file without a ``-wal`` (its own WAL
    connection would have made one)."""
    import sys

    if sys.platform != "linux":
        return False
    start, length = LOCK_BYTES
    try:
        return bool(write_lock_conflict(file, start, length))
    except OSError:
        return False


def orphan_problem(file: Path) -> str | None:
    """Why the state DB ``file`` may be neither created nor opened (:data:`ORPHANED_STATE`),
    or None: the one decision, asked by every command before it opens anything
    (``feedsvc.db.sqlite_location.sqlite_location_problem``, for a file there or not;
    ``run``'s scheduler lock, ``feedsvc.cli.service.one_scheduler``) and again by
    :func:`create_missing`.

    Why: a database that is missing (or empty, :func:`holds_no_database`) with its ``-wal``
    beside it is always an orphan (a clean close deletes the WAL; a crash leaves it beside a
    file that is there): the file was moved away, often under a running ``feedsvc run``, and
    what was committed since the last checkpoint lives only in that WAL. SQLite deletes or
    resets a ``-wal``/``-journal`` beside a new, empty database: ``db upgrade``, an ``import``
    or a restart there lost those rows, and the file put back alerted the same articles again
    (a tester's). ``-shm`` alone is refused too: it is that file's, and another process may
    still have it mapped. An empty file without side files is a new database, as ever."""
    found = side_files(file)
    if not found or (state := holds_no_database(file)) is None:
        return None
    many = len(found) > 1
    names = ", ".join(str(p) for p in found[:-1]) + (" and " if many else "") + str(found[-1])
    return ORPHANED_STATE.format(
        file=file,
        state=state,
        names=names,
        are="are" if many else "is",
        them="them" if many else "it",
    )


def create_missing(target: SqliteTarget) -> bool:
    """Create the SQLite file ``target`` names when nothing is at its path, as SQLite's own
    opening of the URL would (an empty file is an empty database); True when it did. The one
    place a state DB file is made (``feedsvc.db.engine.upgrade``). Raises
    ``feedsvc.db.revision.ServedError`` (exit 1) while a service runs on that path with the
    file gone or another there (``served_state.served_problem``),
    ``feedsvc.db.revision.LocationError`` (exit 2) when the missing file's side files are
    there, or the file there is empty (:func:`orphan_problem`): both asked again here, the
    last moment before it is made or opened."""
    try:
        file = target.file()
    except SqlitePathError:
        return False
    if file is None or target.read_only() is not None:
        return False
    from feedsvc.db.served_state import served_problem

    if (served := served_problem(file)) is not None:
        from feedsvc.db.revision import ServedError

        raise ServedError(served)
    if (problem := orphan_problem(file)) is not None:  # an empty file's too: never opened
        from feedsvc.db.revision import LocationError

        raise LocationError(problem)
    if os.path.lexists(file):
        return False
    try:
        sqlite3.connect(target.filename, uri=target.uri).close()
    except sqlite3.Error:  # the engine's connection fails next, and is worded as ever
        return False
    return True
