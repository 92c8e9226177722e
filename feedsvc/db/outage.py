"""A database outage, told once: which errors are one, and the log lines while it lasts.

While the state DB is down, refusing, hanging (past its connect/statement/pool timeouts),
locked or read-only, every part of the service that needs it fails the same way, over and over:
each web request, each dispatcher and follow-up step, each scheduled job. Logging each failure
with its traceback filled the log with ~150 tracebacks every 90 s (tester 3, F6), and a
traceback says "bug" where there is none. So an outage is logged as **one line when it starts,
a summary every** :data:`SUMMARY_SECONDS` **while it lasts, and one line when it ends**
(:class:`Outage`); only an error that is not an outage (:func:`is_outage`: a bug, a refused
row) keeps its traceback, logged by the caller.

The end is seen by the engine itself (:func:`watch_answers`: a statement that completed), so a
request that needs no database never ends an outage it knows nothing about; and only while the
database is at its place (``reachable``: an SQLite state DB's file still at its path,
``feedsvc.db.sqlite_file.SameFile``) — a connection opened before the file was moved away
keeps reading the moved file, and its answer said "available again after 0 s" while the file
stayed missing (a tester's). When each line is said — every outage's start and real end, a
resumed outage's too, and a database flapping at any period told about one line a minute — is
the pure rule of :mod:`feedsvc.db.outage_rule`; ingest's state-DB failures are counted here
too (``feedsvc.ingest.failures``), not told by a line of their own. Every engine of one
database shares one :class:`Outage` (:func:`outage_of`, keyed by
:class:`~feedsvc.db.where.Where`): the web's engine and the workers' count together.

A full disk (:func:`feedsvc.db.errors.is_disk_full`) is such an outage of writes: said in the
start's words ("no space left on device at <dir>"), ended by a write committed on a file system
with room again. ``/readyz`` stays ready through it on purpose: reads, feeds and pages are
served, and a balancer turning every replica away would stop them too; ``/readyz?ingest=1``
says ingest is stuck once no tick succeeded within its window. While it lasts,
:meth:`Outage.disk_full` says since when and where, for the running service's status
(``feedsvc.state_disk``: ``/api/status``, the admin's status page, ``/readyz``'s checks).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedsvc.db.errors import describe, disk_full_words, trouble
from feedsvc.db.outage_rule import SUMMARY_SECONDS, Line, OutageRule
from feedsvc.db.where import Where, is_database_error, marked
from feedsvc.disk_space import full

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("feedsvc.db.outage")

#: Seconds a client is told to wait (``Retry-After``) when a request needs the DB and it is down.
RETRY_AFTER = 30


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unavailable (not that this request or row is
    wrong): a connection refused, lost, timed out or invalidated, the pool out of connections
    in time, a lock, a read-only or unopenable database, a missing privilege, a full disk.

    A ``ProgrammingError`` (bad SQL) or ``IntegrityError`` is not one: it is a bug or one row's
    fault, and keeps its traceback. A driver's own error (psycopg's, raised where no engine
    wraps it: the wake-up listener) is read by its DB-API class the same way.
    """
    if not is_database_error(exc):
        return False
    if str(getattr(exc, "orig", None) or exc).startswith(_SQLITE_SCHEMA):
        return False
    if trouble(exc) is not None:
        return True
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.TimeoutError | sa.DisconnectionError):  # pool checkout, pre-ping
        return True
    if isinstance(exc, sa.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa.OperationalError | sa.InterfaceError
        )
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError | sqlite3.InterfaceError):
        return True
    # a driver's own error, not wrapped by SQLAlchemy (the wake-up listener's psycopg): its
    # DB-API class, as SQLAlchemy would have wrapped it
    return any(c.__name__ in _DBAPI_OUTAGES for c in type(exc).__mro__)


#: The DB-API classes of a driver's error that say the database is unavailable.
_DBAPI_OUTAGES = frozenset({"OperationalError", "InterfaceError"})


#: Outages in which reads still work (WAL readers beside a held write lock, a full disk, a
#: read-only file): only a write that completes ends them (:meth:`Outage.answered`).
WRITES_REFUSED = frozenset({"locked", "read_only", "disk_full"})
#: How a statement that writes begins (its first word, upper case).
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
#: SQLite's start of a write transaction: refused, a write was (a held lock); answered, no
#: write is known to work yet (a read-only file takes it, then refuses the INSERT).
_WRITE_LOCKS = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


def is_write(statement: str) -> bool:
    """Whether ``statement`` (SQL as sent) writes; only a committed write ends an outage in
    which reads never failed (:func:`watch_answers`)."""
    return statement.lstrip()[:8].upper().startswith(_WRITE_VERBS)


def _refused_a_write(statement: object) -> bool:
    """Whether a failure of ``statement`` (an error's ``statement``) was a write's."""
    if not isinstance(statement, str):
        return False
    return is_write(statement) or " ".join(statement.split()[:2]).upper() in _WRITE_LOCKS


#: SQLite's words for a schema that lacks what the code asks (an ``OperationalError`` there,
#: PostgreSQL's ``ProgrammingError``): a database at the wrong revision, not an outage.
_SQLITE_SCHEMA = ("no such table", "no such column")


@dataclass(frozen=True, slots=True)
class DiskFull:
    """The full disk an outage is (:meth:`Outage.disk_full`): when its first refusal for lack
    of space came (UTC, the wall clock: shown to people) and the SQLite file refused (None: a
    server's disk, which this process cannot look at)."""

    since: datetime
    file: Path | None


class Outage:
    """One database's outage as the log tells it (thread-safe; see the module docstring).

    :meth:`failed` counts a failure, :meth:`answered` an answer while it is down (or one with
    an end held); which lines they say is :class:`~feedsvc.db.outage_rule.OutageRule`'s
    decision, worded here: the start, a summary every :data:`SUMMARY_SECONDS` within an
    outage, its end — a resumed outage's too, said late (at most a minute) when the database
    flaps.
    """

    def __init__(
        self,
        where: str,
        *,
        summary_seconds: float = SUMMARY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.where = where
        self.summary_seconds = summary_seconds
        self.clock = clock
        self.wall = wall
        self._lock = threading.Lock()
        self.rule = OutageRule(summary_seconds)
        self.since: float | None = None  # when the current outage began (None: not down now)
        self._counts: dict[str, int] = {}  # failures by who, since the last line
        self._writes_only = False  # every failure of it refused writes only: reads do not end it
        #: the state DB's file when the outage is its full disk: a write that fits in pages
        #: SQLite already has (a lease's, a delivery's) does not end it while the file system
        #: is still full (:func:`feedsvc.disk_space.full`), else it flapped every minute
        self._full_at: Path | None = None
        #: when this outage was first a full disk (None: it is none), for :meth:`disk_full`
        self._full_since: datetime | None = None

    @property
    def down(self) -> bool:
        return self.since is not None

    @property
    def watching(self) -> bool:
        """Whether answers matter now: it is down, or its end is held (said at the next
        statement once a line is free, :meth:`OutageRule.due`)."""
        return self.since is not None or self.rule.held

    def failed(self, exc: BaseException, who: str) -> None:
        """Count ``who``'s failure (``"web"``, ``"dispatcher"``…); say what the rule says."""
        with self._lock:
            now = self.clock()
            self._counts[who] = self._counts.get(who, 0) + 1
            kind = trouble(exc)
            # a write refused for a lock, a full disk, a read-only file: reads may still work
            # (a read refused so, or a failure of another kind, and they do not); a full disk
            # whatever failed — its COMMIT, a checkpoint, a read growing the -shm: a read that
            # then completed said "available again after 0 s" while no write could (a tester's)
            refused_write = kind == "disk_full" or (
                kind in WRITES_REFUSED and _refused_a_write(getattr(exc, "statement", None))
            )
            self._writes_only = refused_write and (self.since is None or self._writes_only)
            if kind == "disk_full":
                if (where := marked(exc)) is not None:
                    self._full_at = where.file
                if self._full_since is None:
                    self._full_since = self.wall()
            lines = self.rule.failed(now)
            self.since = self.rule.since
            for line in lines:
                self._say(line, exc, kind)

    def _say(self, line: Line, exc: BaseException | None, kind: str | None) -> None:
        """``line`` in the log's words."""
        if line.kind == "end":
            late = f"; back for {line.late:.0f} s now" if line.late >= 1 else ""
            self._line(
                "available again after %.0f s (%d failure(s) during the outage%s%s)",
                line.lasted,
                line.failures,
                line.flapped,
                late,
                level=logging.INFO,
            )
        elif line.kind == "summary":
            self._line(
                "still unavailable after %.0f s (%s in the last %.0f s%s): %s",
                line.lasted,
                self._counted(),
                line.since_line,
                line.flapped,
                "?" if exc is None else said(exc),
            )
        elif kind == "disk_full" and exc is not None:
            self._line(
                "cannot be written: %s; reads and feeds are still served, writes (ingest, "
                "alerts, saves) retry at every poll (one line every %.0f s until a write "
                "succeeds)",
                said(exc),
                self.summary_seconds,
            )
        else:
            self._line(
                "is unavailable: %s; requests that need it are answered 503, "
                "background work retries (one line every %.0f s until it is back)",
                "?" if exc is None else said(exc),
                self.summary_seconds,
            )

    def answered(self, write: bool = True, reachable: Callable[[], bool] | None = None) -> None:
        """The database completed a statement (``write``: one that writes, :func:`is_write`):
        end the outage (its line as the rule says: at once, or held while it flaps), unless
        reads never failed in it and this was one (a held lock, a full disk: a read completing
        said "available again after 1 s" while every write went on failing — a tester's), or
        ``reachable`` (asked only during an outage) says the database is not at its place (an
        SQLite file moved away: a connection opened before still reads it). With the end held,
        any statement may say it (:attr:`watching`). Called on every statement: costs one
        attribute read when there is no outage."""
        if not self.watching:
            return
        if self.since is None:  # up, its end held: said once a line is free
            with self._lock:
                for line in self.rule.due(self.clock()):
                    self._say(line, None, None)
            return
        if self._writes_only and not write:
            return
        if self._full_at is not None and full(self._full_at):
            return  # a write fitted, the disk is still full: no "available again" yet
        if reachable is not None and not reachable():
            return  # answered from a file no longer at its path: still unavailable
        with self._lock:
            if self.since is None or (self._writes_only and not write):
                return
            lines = self.rule.answered(self.clock())
            self.since = None
            self._writes_only, self._full_at, self._full_since = False, None, None
            for line in lines:
                self._say(line, None, None)

    def stopped(self) -> None:
        """The service stops: say a held end now (:meth:`OutageRule.at_stop`)."""
        with self._lock:
            for line in self.rule.at_stop(self.clock()):
                self._say(line, None, None)

    def disk_full(self) -> DiskFull | None:
        """The full disk this outage is now, or None (no outage, or one of another kind): what
        the running service's status says of its state DB's disk (``feedsvc.state_disk``);
        it ends as the outage does, when a write commits on a file system with room."""
        with self._lock:
            if self.since is None or self._full_since is None:
                return None
            return DiskFull(self._full_since, self._full_at)

    def _counted(self) -> str:
        parts = [f"{n} {who}" for who, n in sorted(self._counts.items())]
        return ", ".join(parts) + " failure(s)" if parts else "no failure"

    def _line(self, fmt: str, *args: Any, level: int = logging.WARNING) -> None:
        log.log(level, "%s " + fmt, self.where, *args)
        self._counts.clear()


def said(exc: BaseException) -> str:
    """``exc`` as an outage's line says it: a full disk in the start's words, naming the
    directory (:func:`~feedsvc.db.errors.disk_full_words`), anything else as the driver put it."""
    return disk_full_words(exc) if trouble(exc) == "disk_full" else describe(exc)


_outages: dict[str, Outage] = {}
_registry_lock = threading.Lock()


def outage_of(where: Where | None) -> Outage:
    """The one :class:`Outage` of the database ``where`` (by its shown URL), made on first use;
    ``None`` (an error no engine marked) is "the database"."""
    name = "the database" if where is None else f"{where.role} {where.shown}"
    with _registry_lock:
        found = _outages.get(name)
        if found is None:
            found = _outages[name] = Outage(name)
        return found


def say_held_ends() -> None:
    """Every database's held end, said as the service stops (:meth:`Outage.stopped`)."""
    with _registry_lock:
        outages = list(_outages.values())
    for outage in outages:
        outage.stopped()


def report(exc: BaseException, who: str, where: Where | None = None) -> bool:
    """When ``exc`` is an outage (:func:`is_outage`), count it on its database's
    :class:`Outage` (``where``, else the one the engine marked on it) and return True: the
    caller logs nothing more. False: a bug or a row's fault, the caller logs it as before."""
    if not is_outage(exc):
        return False
    outage_of(marked(exc) or where).failed(exc, who)
    return True


def watch_answers(
    engine: Engine, where: Where, reachable: Callable[[], bool] | None = None
) -> Outage:
    """End ``where``'s outage when ``engine`` completes a statement — for one in which only
    writes failed, when a transaction that wrote commits; returns that outage. Such an outage
    lasts until something writes (the scheduler's ingest does at every poll; a web-only
    replica's log may say it late). ``reachable``: whether the database is at its place now
    (:meth:`Outage.answered`), asked only during an outage; None: wherever it answers."""
    from sqlalchemy import event

    outage = outage_of(where)

    @event.listens_for(engine, "after_cursor_execute")
    def _answered(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not outage.watching:  # no outage (nor an end held): no look at the statement
            return
        if is_write(statement):  # proof once its transaction commits (a full disk: at COMMIT)
            conn.info[_WROTE] = True
        else:
            outage.answered(write=False, reachable=reachable)

    # SQLAlchemy's "commit" event comes *before* the driver's commit: a COMMIT then refused
    # ("database or disk is full", a full disk's usual place) had already ended the outage —
    # "available again after 0 s" beside every refusal (a tester's). So the write is only
    # proof once the connection goes back to the pool after it without an error in between.
    @event.listens_for(engine, "commit")
    def _committing(conn: Any) -> None:
        if _take_mark(conn):  # marked: a valid connection
            conn.info[_COMMITTING] = True

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        info = None if context.connection is None else _info(context.connection)
        if info is not None:
            info.pop(_COMMITTING, None)

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Any) -> None:
        _take_mark(conn)

    @event.listens_for(engine, "begin")
    def _next(conn: Any) -> None:  # a connection kept open: its next transaction
        info = _info(conn) if outage.since is not None else None
        if info is not None and info.pop(_COMMITTING, False):
            outage.answered(write=True, reachable=reachable)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None and record.info.pop(_COMMITTING, False):
            outage.answered(write=True, reachable=reachable)

    return outage


def _take_mark(conn: Any) -> bool:
    """Take ``conn``'s mark of a write (:data:`_WROTE`): whether its transaction wrote during
    an outage. Never raises, and never touches a connection that was not marked or is no
    longer valid: these run inside every commit and rollback, and ``Connection.info`` of an
    invalidated connection (a statement cut by Ctrl-C or SIGTERM) tries to reconnect — it
    raised inside the rollback, which left SQLite's write lock held (CI)."""
    info = _info(conn)
    return info is not None and bool(info.pop(_WROTE, False))


def _info(conn: Any) -> dict[Any, Any] | None:
    """``conn.info`` (its pool record's), or None for a connection closed or no longer valid,
    whose ``info`` would check out a new connection."""
    if conn.closed or conn.invalidated:
        return None
    try:
        info: dict[Any, Any] = conn.info
    except Exception:  # invalid until its transaction is rolled back (PendingRollbackError)
        return None
    return info


#: A connection's mark of a write completed in its open transaction during an outage.
_WROTE = "feedsvc.outage.wrote"
#: A connection's mark of that transaction's commit under way: the outage ends when the
#: connection is checked in after it with no error said in between (the commit went through).
_COMMITTING = "feedsvc.outage.committing"
