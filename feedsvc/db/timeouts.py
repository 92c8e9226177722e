"""Bounded waits on every network DB socket: connect, read, keepalive and statement timeouts.

Why: a connection that dies without a reset (failover behind a virtual IP, NAT or firewall
state lost, a dead host) leaves the driver waiting in ``recv`` for ever. Ingest and the
dispatcher froze, every later tick was skipped, and shutdown hung on the blocked thread
(issue #18 §1). With these settings every wait ends:

* **connect**: libpq ``connect_timeout`` / PyMySQL ``connect_timeout``, which bounds the whole
  connect: TCP, the server's greeting, TLS and the login (:func:`mysql_connect`: PyMySQL
  itself reads the greeting under the read timeout, so a proxy in front of a dead server, which
  accepts TCP and never answers, held a connect ``statement + READ_GRACE`` seconds).
* **statement**: the server stops a statement after ``statement`` seconds (PostgreSQL
  ``statement_timeout``; MariaDB ``max_statement_time``; MySQL ``max_execution_time``, which
  covers SELECTs only) and answers with an error the caller handles like any other.
* **read**: the client gives up ``READ_GRACE`` seconds after that (``read`` below), for the
  case where the server's answer can never arrive: the connection is closed and the operation
  fails with ``OperationalError``, which SQLAlchemy treats as a disconnect (the pool drops
  the connection). PyMySQL has read/write socket timeouts; psycopg has none, so PostgreSQL
  connections use :func:`bounded_connection_class`, whose every wait (execute, fetch, commit,
  rollback, ping) has a deadline.
* **keepalive**: TCP keepalives after ``keepalive`` idle seconds (then 3 probes, 10 s apart),
  and on PostgreSQL ``tcp_user_timeout``, so a dead peer of an idle or sending connection is
  noticed by the kernel too. Keepalives alone are not enough: a middlebox that keeps the TCP
  session alive but stopped forwarding answers them; the read deadline covers that case.

SQLite is a local file: it has ``busy_timeout`` (see ``engine.py``) and nothing here applies.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the configuration imports DbTimeouts on every CLI command: no SQLAlchemy
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

#: Seconds the client waits beyond the server-side statement timeout before dropping the
#: connection: the server's own timeout error normally arrives first.
READ_GRACE = 5.0
KEEPALIVE_INTERVAL = 10
KEEPALIVE_PROBES = 3
#: PyMySQL's error code for a connection lost while waiting (``CR_SERVER_LOST``), which a
#: timed-out read raises.
CR_SERVER_LOST = 2013


@dataclass(frozen=True, slots=True)
class DbTimeouts:
    """Seconds; see the module docstring. ``statement = 0`` disables the statement and read
    timeouts (not recommended outside maintenance)."""

    connect: float = 10.0
    statement: float = 60.0
    keepalive: float = 30.0

    @property
    def read(self) -> float | None:
        """The client's deadline for any single wait on the socket (None: unbounded)."""
        return self.statement + READ_GRACE if self.statement > 0 else None

    @property
    def dead_peer_seconds(self) -> int:
        """When the kernel gives up on a silent peer (keepalive + probes)."""
        return math.ceil(self.keepalive) + KEEPALIVE_INTERVAL * KEEPALIVE_PROBES


def libpq_params(t: DbTimeouts) -> dict[str, Any]:
    """libpq connection parameters (integers; libpq rounds ``connect_timeout`` below 2 up)."""
    return {
        "connect_timeout": max(2, math.ceil(t.connect)),
        "keepalives": 1,
        "keepalives_idle": max(1, math.ceil(t.keepalive)),
        "keepalives_interval": KEEPALIVE_INTERVAL,
        "keepalives_count": KEEPALIVE_PROBES,
        "tcp_user_timeout": t.dead_peer_seconds * 1000,
    }


def pymysql_params(t: DbTimeouts) -> dict[str, Any]:
    read = t.read
    return {"connect_timeout": t.connect, "read_timeout": read, "write_timeout": read}


def bound_engine(engine: Engine, t: DbTimeouts) -> None:
    """Install the timeouts on ``engine`` (whose ``connect_args`` came from
    :func:`connect_args`): bounded PostgreSQL connections, server-side statement timeouts,
    keepalives on MySQL sockets."""
    from sqlalchemy import event

    backend = engine.dialect.name
    if backend == "postgresql" and engine.dialect.driver == "psycopg":

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            conn = bounded_connection_class().connect(*cargs, **cparams)
            conn.read_timeout = t.read
            conn.statement_ms = int(t.statement * 1000)
            return conn

        statement = f"SET statement_timeout = {int(t.statement * 1000)}"
    elif backend in ("mysql", "mariadb"):
        statement = ""
        if engine.dialect.driver == "pymysql":

            @event.listens_for(engine, "do_connect")
            def _connect_mysql(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
                return mysql_connect(cargs, cparams, t)

    else:
        return

    @event.listens_for(engine, "connect")
    def _session(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            if backend == "postgresql":
                cur.execute(statement)
                dbapi_conn.commit()  # SET is transactional there: a rollback would undo it
            else:
                _mysql_session(dbapi_conn, cur, t)
        finally:
            cur.close()


def mysql_connect(cargs: Any, cparams: dict[str, Any], t: DbTimeouts) -> Any:
    """A PyMySQL connection whose connect — the server's greeting, TLS, the login, ``SET NAMES``
    and the URL's ``init_command`` — waits at most ``t.connect`` seconds for each answer;
    afterwards its reads and writes have the ``read_timeout``/``write_timeout`` of
    ``cparams``. Raises PyMySQL's ``OperationalError``; a silent server's is worded as a
    connect that timed out (PyMySQL says "Lost connection … during query").

    Why: PyMySQL applies ``connect_timeout`` to the TCP connect only and reads the handshake
    under ``read_timeout`` (``statement + READ_GRACE``: 65 s by default), which README's
    "connect_timeout bounds each attempt to connect" did not allow. Sets PyMySQL's private
    ``_read_timeout``/``_write_timeout`` (there since 0.7; no public setter):
    ``tests/test_db_connect_timeout.py`` notices if that stops working."""
    import pymysql

    conn = pymysql.connections.Connection(*cargs, **{**cparams, "defer_connect": True})
    reading, writing = conn._read_timeout, conn._write_timeout
    conn._read_timeout = conn._write_timeout = t.connect
    try:
        conn.connect()
    except pymysql.err.OperationalError as exc:
        if exc.args[:1] != (CR_SERVER_LOST,) or "timed out" not in str(exc.args[1:]):
            raise
        raise pymysql.err.OperationalError(
            CR_SERVER_LOST,
            f"no answer from {conn.host}:{conn.port} within {t.connect:g} s while connecting "
            "(connect_timeout): it takes TCP connections but no MariaDB/MySQL server answers "
            "on them (a proxy in front of a server that is down?)",
        ) from None
    conn._read_timeout, conn._write_timeout = reading, writing
    return conn


def _mysql_session(dbapi_conn: Any, cur: Any, t: DbTimeouts) -> None:
    import socket

    sock = getattr(dbapi_conn, "_sock", None)
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (
            ("TCP_KEEPIDLE", max(1, math.ceil(t.keepalive))),
            ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
            ("TCP_KEEPCNT", KEEPALIVE_PROBES),
        ):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    mariadb = "mariadb" in str(dbapi_conn.get_server_info()).lower()
    if mariadb:
        cur.execute(f"SET SESSION max_statement_time = {t.statement:g}")
    else:
        cur.execute(f"SET SESSION max_execution_time = {int(t.statement * 1000)}")


def connect_args(
    url_backend: str, t: DbTimeouts, query: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``create_engine(connect_args=...)`` for a backend name ("postgresql", "mysql", …) whose
    URL's query is ``query``: on PostgreSQL the client encoding too
    (:func:`feedsvc.db.client_encoding.client_encoding`: connect args win over the query)."""
    if url_backend == "postgresql":
        from feedsvc.db.client_encoding import client_encoding

        return {**libpq_params(t), **client_encoding(query or {})}
    if url_backend in ("mysql", "mariadb"):
        return pymysql_params(t)
    return {}


@contextmanager
def unbounded(conn: Connection) -> Iterator[None]:
    """No statement or read timeout on ``conn`` for the block (migrations, which may rewrite
    big tables or wait for another replica's); restored afterwards. Commits on entry and exit
    (a session ``SET`` in a transaction that is rolled back would not stick)."""
    dbapi: Any = conn.connection.dbapi_connection
    if not hasattr(dbapi, "read_timeout") or conn.dialect.name != "postgresql":
        yield
        return
    saved = dbapi.read_timeout
    dbapi.read_timeout = None
    conn.exec_driver_sql("SET statement_timeout = 0")
    conn.commit()
    try:
        yield
    finally:
        dbapi.read_timeout = saved
        if not dbapi.closed:
            conn.rollback()  # whatever the block left (after an error: an aborted transaction)
            conn.exec_driver_sql(f"SET statement_timeout = {dbapi.statement_ms}")
            conn.commit()


@cache
def bounded_connection_class() -> type[Any]:
    """The psycopg connection class with deadlines (psycopg is imported on first use only)."""
    import psycopg
    from psycopg import errors

    class _Bounded(psycopg.Connection[Any]):
        """A psycopg connection whose every wait on the socket has a deadline.

        psycopg routes every operation (execute, fetch, commit, rollback) through
        ``Connection.wait``; past ``read_timeout`` the connection is closed (its protocol
        state is unknown) and ``OperationalError`` raised, so SQLAlchemy drops it.
        """

        read_timeout: float | None = None
        statement_ms = 0  # the session's statement_timeout, restored after :func:`unbounded`

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            limit = self.read_timeout if timeout is None else timeout
            try:
                return super().wait(gen, interval=interval, timeout=limit)
            except errors._WaitTimeout:  # an OperationalError; raised only with a timeout
                if timeout is not None:
                    raise  # the caller's own timeout (e.g. notifies()): not a dead socket
                where = f"{self.pgconn.host.decode()}:{self.pgconn.port.decode()}"
                self.pgconn.finish()
                log.warning(
                    "database %s: no answer within %.0f s; connection dropped", where, limit
                )
                raise errors.OperationalError(
                    f"no answer from the database at {where} within {limit:.0f} s "
                    "(connection dropped)"
                ) from None

    return _Bounded
