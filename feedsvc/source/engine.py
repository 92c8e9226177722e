"""The engine a CMS table is read through: read-only sessions, bounded waits, named errors.

Kept apart from the reads (:mod:`feedsvc.source.sql`): how a connection to the publisher's
database is made and guarded, decided once for ``run``, ``source check`` and ingest alike.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from feedsvc.config import SourceColumns
from feedsvc.db.drivers import driver_url, source_connect_args
from feedsvc.db.sqlite_source import never_created
from feedsvc.db.timeouts import DbTimeouts, bound_engine
from feedsvc.db.where import source_db, watch
from feedsvc.source.connects import ConnectWatch
from feedsvc.source.sql import SqlSource, external_name


def _read_only(engine: Engine) -> None:
    """Belt and braces on top of a read-only DB user: the session itself refuses writes."""
    backend = engine.dialect.name
    statement = {
        "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "mysql": "SET SESSION TRANSACTION READ ONLY",
        "mariadb": "SET SESSION TRANSACTION READ ONLY",
        "sqlite": "PRAGMA query_only = ON",
    }.get(backend)
    if statement is None:
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(statement)
        cur.close()
        if backend == "postgresql":  # SET is transactional there: a rollback would undo it
            dbapi_conn.commit()


def source_engine(
    url: str, timeouts: DbTimeouts | None = None, connects: ConnectWatch | None = None
) -> Engine:
    """A read-only engine for a CMS URL; nothing connects until first use. ``timeouts``
    bound every wait on its sockets (:mod:`feedsvc.db.timeouts`; ``source.*`` in the config);
    ``connects``, when given, is told of each connect under way (:mod:`.connects`)."""
    parsed = driver_url(make_url(url))
    bounds = timeouts or DbTimeouts()
    args = source_connect_args(parsed, bounds)  # what the config check tried (db.drivers)
    if parsed.get_backend_name() == "sqlite":
        # A connection per use: a pooled one kept the file it opened, so a CMS file replaced
        # by a rename (an rsync, a restore, an atomic deploy) was never read again, and status
        # said all was well (a tester's). Opening an SQLite file costs microseconds a read.
        engine = create_engine(parsed, poolclass=NullPool, connect_args=args)
    else:
        engine = create_engine(parsed, pool_pre_ping=True, pool_recycle=1800, connect_args=args)
    if connects is not None:  # ahead of every listener that makes the connection
        connects.attach(engine)
    bound_engine(engine, bounds)
    if engine.dialect.name == "sqlite":
        # a CMS file that is not there is an outage, never made empty; read-only when this
        # user cannot write it
        never_created(engine, source_db(url))
    _read_only(engine)
    watch(engine, source_db(url))  # its errors name it, apart from the state DB's
    return engine


def external_source(
    url: str,
    table: str,
    columns: SourceColumns,
    tz: tzinfo = UTC,
    timeouts: DbTimeouts | None = None,
) -> SqlSource:
    """A CMS table, reflected lazily (see the module docstring) and read in ``tz`` when naive."""
    connects = ConnectWatch()
    engine = source_engine(url, timeouts, connects)
    source = SqlSource(engine, table, columns, external_name(table), tz)
    source.connects = connects
    return source
