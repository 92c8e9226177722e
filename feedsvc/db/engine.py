"""Engine set-up per backend, and ``upgrade`` (Alembic to head).

SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` for writers: a deferred transaction that
later wants to write fails with "database is locked" instead of waiting, which is exactly what a
service with a web server, an ingest job and a dispatcher in one process must avoid.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from feedsvc.db.committed import told_after_commit
from feedsvc.db.drivers import DEFAULT_DRIVERS, driver_url
from feedsvc.db.outage import watch_answers
from feedsvc.db.timeouts import DbTimeouts, bound_engine, connect_args, unbounded
from feedsvc.db.where import Where, state_db, watch

if TYPE_CHECKING:
    from alembic.config import Config

    from feedsvc.db.sqlite_file import SameFile
    from feedsvc.db.sqlite_reading import ReadOpening
    from feedsvc.db.sqlite_url import SqliteTarget

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x6665656473766301  # pg_advisory_lock key: "feedsvc" + 1


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _connect_target(engine: Engine) -> SqliteTarget:
    """What SQLAlchemy's dialect hands ``sqlite3.connect`` for ``engine``'s URL."""
    from feedsvc.db.sqlite_url import SqliteTarget

    args, kwargs = engine.dialect.create_connect_args(engine.url)
    return SqliteTarget(str(args[0]), bool(kwargs.get("uri", False)))


def _read_only_opening(target: SqliteTarget, where: str) -> ReadOpening | None:
    """:func:`feedsvc.db.sqlite_reading.reading` for the file ``target`` opens, made what
    each connection opens (:func:`feedsvc.db.sqlite_file.kept_file`); None when it opens the
    URL as it is."""
    from feedsvc.db.sqlite_reading import reading

    if target.file() is None:
        return None
    opening = reading(target, where)
    return None if opening.target == target else opening


class Database:
    """One engine plus the two ways to use it: a read transaction or a write transaction."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool: Mapping[str, Any] | None = None,
        timeouts: DbTimeouts | None = None,
        reading: bool = False,
        same_file: SameFile | None = None,
    ) -> None:
        """``pool``: extra ``create_engine`` pool arguments (``pool_size``, ``max_overflow``,
        ``pool_timeout``, ``poolclass``) for an engine with a job of its own. ``timeouts``:
        connect/statement/keepalive bounds for a network DB (default: :class:`DbTimeouts`'
        defaults; ``database.*`` in the config). ``reading``: a command that only reads; an
        SQLite file this user cannot write is then opened read-only
        (``feedsvc.db.sqlite_reading``), and :meth:`read` checks it was not written meanwhile
        when it is read without locks. ``same_file``: the identity of the SQLite file another
        engine of this state DB opened (``feedsvc.engines.service_databases``), else its own.
        An SQLite file is never created by a connection (``feedsvc.db.sqlite_file``), only by
        :func:`upgrade`."""
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        bounds = timeouts or DbTimeouts()
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if self.dialect == "sqlite":  # no directory made here: a reader creates nothing
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            if parsed.drivername in DEFAULT_DRIVERS:  # plain postgresql://: psycopg 3
                parsed = driver_url(parsed)
                url = parsed.render_as_string(hide_password=False)
            kwargs["connect_args"] = connect_args(self.dialect, bounds, parsed.query)
        self.engine = create_engine(url, **kwargs, **(pool or {}))
        #: the state DB as its errors name it (its SQLite file: ``feedsvc.state_disk``)
        self.where = where = state_db(self.url)
        watch(self.engine, where)  # its errors name it (the CLI's one line)
        #: the outage this DB's failures are logged as (one line per outage, feedsvc.db.outage)
        self.outage = watch_answers(self.engine, where, self._at_its_path)
        #: how a reader opens an SQLite file it cannot write (None: as the URL says)
        self.opening: ReadOpening | None = None
        #: the SQLite file this process opened (None: a server, or a DB in memory)
        self.same_file: SameFile | None = None
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
            self._keep_file(where, reading, same_file)
        else:
            bound_engine(self.engine, bounds)

    def _keep_file(self, where: Where, reading: bool, same_file: SameFile | None) -> None:
        """Open the SQLite file (read-only for a reader that cannot write it) never creating
        it, and only while it is the file first opened (:mod:`feedsvc.db.sqlite_file`)."""
        from feedsvc.db.sqlite_file import SameFile, kept_file
        from feedsvc.db.sqlite_url import SqlitePathError

        target = _connect_target(self.engine)
        try:
            if target.file() is None:  # in memory: nothing to keep
                return
        except SqlitePathError:  # a symlink loop: SQLite's own error says it at each connect
            pass
        if reading:
            self.opening = _read_only_opening(target, where.shown)
        opens = self.opening.target if self.opening is not None else target
        self.same_file = same_file or SameFile(target)
        kept_file(self.engine, where, opens, self.same_file, logged=self.opening is None)

    def _at_its_path(self) -> bool:
        """Whether the state DB is where it is used: its SQLite file still at its path
        (:meth:`~feedsvc.db.sqlite_file.SameFile.problem`; a server's always is). A statement
        answered on a connection to a file moved away ends no outage (``db.outage``)."""
        return self.same_file is None or self.same_file.problem() is None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn
        if self.opening is not None:
            self.opening.check()  # read without locks: nobody may have written meanwhile

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; what its code said of its effects (:mod:`.committed`) is
        logged once it has committed, never when it rolls back."""
        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with told_after_commit(conn), conn.begin():
                yield conn

    def now(self) -> datetime:
        """The clock leases and cursors compare against: the database's where it has one."""
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                value = conn.execute(text("SELECT now()")).scalar_one()
            assert isinstance(value, datetime)
            return value.astimezone(UTC)
        return datetime.now(UTC)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.same_file is not None:
            self.same_file.closed()


def alembic_config(db: Database) -> Config:
    from alembic.config import Config  # ~0.3 s to import: only where a migration may run

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the state DB to ``revision``; safe when several replicas start at once (PostgreSQL:
    an advisory lock; SQLite: the write lock taken first, waited for up to ``busy_timeout``)."""
    from alembic import command

    cfg = alembic_config(db)
    if db.dialect == "sqlite":  # the one place a state DB file is made (never a connection)
        from feedsvc.db.sqlite_file import create_missing

        if create_missing(_connect_target(db.engine)) and db.same_file is not None:
            db.same_file.forget()
    # unbounded: a migration may rewrite a big table, or wait for another replica's
    with db.engine.connect() as conn, unbounded(conn):
        if db.dialect == "sqlite":
            # BEGIN IMMEDIATE (``_begin``): the write lock before the revision is read, so a
            # second process starting at once waits for it (``busy_timeout``) and then finds
            # the DB at head; a deferred BEGIN made one of them fail at once, "database is
            # locked", when both read and then both wrote (WAL: no wait for a read turned write)
            conn.execution_options(write=True)
            # ... and one transaction for the whole upgrade, begun here so Alembic takes it for
            # the caller's: SQLite has no transactional DDL in Alembic's eyes, so on its own it
            # committed after each migration, and a second process waiting for the lock ran the
            # next migration in between; the first then ran it again ("table … already exists")
            conn.begin()
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if db.dialect == "postgresql":
                conn.rollback()  # after a failed migration: leave the aborted transaction
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()


def current_revision(db: Database) -> str | None:
    """The revision Alembic reads; None for an SQLite file that is not there (not created)."""
    from alembic.runtime.migration import MigrationContext

    from feedsvc.db.sqlite_location import sqlite_file

    if (file := sqlite_file(db)) is not None and not file.exists():
        return None
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
