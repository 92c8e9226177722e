"""Reads for the CLI commands that only read the state DB, over a DB-API driver directly.

Why: importing SQLAlchemy costs about five times what importing Click does, and ``feedsvc
topics list`` and ``feedsvc status`` should answer within 6x of Click (issue #17 §1, measured
by ``bench/cli.py``). On an SQLite state DB file (stdlib ``sqlite3``, opened as SQLAlchemy
would open the URL: ``feedsvc.db.sqlite_url``, the URI form too) and on a PostgreSQL one that
``feedsvc.db.Database`` would open with psycopg (``feedsvc.db.urls.psycopg_url``), these
commands use the functions here and never import SQLAlchemy. Any other URL (an in-memory
SQLite one, a key given twice, a multi-host PostgreSQL one) goes through
:class:`feedsvc.db.Database` and the SQLAlchemy store modules as before. (MariaDB cannot hold
the state DB: ``feedsvc.config.urls.check_state_backend``.)

Each read is one SQL text for both drivers, written with ``?`` placeholders (:meth:`Reader.rows`
turns them into psycopg's ``%s``) and only syntax both speak (``WHERE enabled``, not ``= 1``);
what differs is how values come back (SQLite: datetimes as ISO text in UTC, as
``feedsvc.db.schema.UTCDateTime`` stores them, booleans as 0/1; PostgreSQL: aware datetimes
and booleans), which :meth:`Reader.time` and ``bool()`` absorb. Each function returns the same
records as its SQLAlchemy counterpart, named in its docstring; ``tests/test_store_lite.py``
checks that on the same SQLite and PostgreSQL databases, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from feedsvc.channel_modes import Refusal, latest_refusals
from feedsvc.db.revision import (
    FIRST_TABLES,
    LocationError,
    SchemaError,
    SchemaStatus,
    first_tables,
    head_revision,
    not_a_database,
)
from feedsvc.db.sqlite_location import sqlite_location_problem
from feedsvc.delivery_states import NOT_ERRORS, waits_because
from feedsvc.recipient_names import chat_name
from feedsvc.status import StatusReads
from feedsvc.store.records import (
    BUILTIN_SOURCE,
    Cursor,
    Quarantined,
    QuarantineEntry,
    Topic,
)

if TYPE_CHECKING:
    from feedsvc.db.sqlite_url import SqliteTarget
    from feedsvc.db.timeouts import DbTimeouts
    from feedsvc.db.urls import DbUrl

#: Seconds to wait for a writer's lock, as ``feedsvc.db.engine`` sets for SQLite.
BUSY_TIMEOUT = 10.0
#: Whether the Alembic version table exists (and, on PostgreSQL, is on the search path, as
#: SQLAlchemy's ``has_table`` checks): the one catalogue read that differs per backend.
_HAS_VERSION_TABLE = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
    "AND name = 'alembic_version'",
    "postgresql": "SELECT to_regclass('alembic_version') IS NOT NULL",
}
#: How many of ``names`` (quoted, comma-separated) are tables, as the check above sees them.
_FIRST_TABLES = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({names})",
    "postgresql": "SELECT count(*) FROM unnest(ARRAY[{names}]) AS t(name) "
    "WHERE to_regclass(t.name) IS NOT NULL",
}


def sqlite_file(url: str) -> SqliteTarget | None:
    """What SQLAlchemy would open for an SQLite ``url`` when that is a file
    (``feedsvc.db.sqlite_url``: ``sqlite:///relative.db``, ``sqlite:////abs.db``, SQLite's URI
    form ``sqlite:///file:/abs.db?mode=ro&uri=true``); None for any other URL, which SQLAlchemy
    must handle (in memory, a key given twice, a ``uri`` that is no boolean)."""
    from feedsvc.db.sqlite_url import sqlite_target

    target = sqlite_target(url)
    return None if target is None or target.file() is None else target


def read_only_url(url: str, timeouts: DbTimeouts) -> AbstractContextManager[Reader] | None:
    """:func:`read_only` or :func:`read_only_pg` for the state DB at ``url`` (``timeouts``: the
    configured bounds, for a network DB); None when ``url`` needs SQLAlchemy (see the module
    docstring), i.e. :class:`feedsvc.db.Database`."""
    from feedsvc.db.sqlite_url import relative_path
    from feedsvc.db.urls import psycopg_url, shown_db

    target = sqlite_file(url)
    if target is not None:  # its messages name the file (shown_db), a path without password
        return read_only(target, shown_db(url), relative=relative_path(url))

    pg = psycopg_url(url)
    return None if pg is None else read_only_pg(pg, timeouts)


@dataclass(frozen=True, slots=True)
class Reader:
    """One read-only transaction on the state DB over a DB-API connection (``conn``: a
    ``sqlite3.Connection`` or a ``psycopg.Connection``). ``shown``: the state DB as a message
    names it (``feedsvc.db.urls.shown_db``: an SQLite file's path; a server's URL with its
    passwords masked, as the SQLAlchemy path shows it)."""

    conn: Any
    backend: Literal["sqlite", "postgresql"]
    shown: str

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` (``?`` placeholders; no ``?`` or ``%`` in its literals)."""
        if self.backend == "postgresql":
            sql = sql.replace("?", "%s")
        cursor = self.conn.execute(sql, params) if params else self.conn.execute(sql)
        return list(cursor.fetchall())

    def time(self, value: Any) -> datetime:
        """A ``UTCDateTime`` column's value as an aware UTC datetime (as its SQLAlchemy type
        returns it): SQLite's ISO text, or PostgreSQL's datetime in the session's zone."""
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def maybe_time(self, value: Any) -> datetime | None:
        """:meth:`time` of a nullable column."""
        return None if value is None else self.time(value)

    def instant(self, at: datetime) -> object:
        """``at`` as a parameter compared with a ``UTCDateTime`` column: on SQLite the text
        SQLAlchemy stores (it compares as text), on PostgreSQL the datetime itself."""
        if self.backend == "postgresql":
            return at
        return at.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def now(self) -> datetime:
        """The clock ``Database.now`` reads: the server's on PostgreSQL, else this process's."""
        if self.backend == "postgresql":
            return self.time(self.rows("SELECT now()")[0][0])
        return datetime.now(UTC)


def _check_revision(reader: Reader, where: str) -> None:
    """Raise :class:`SchemaError` (naming ``feedsvc db upgrade``) unless the DB is at this
    feedsvc's revision, with the messages of ``feedsvc.db.revision.require_schema``."""
    revision = None
    if reader.rows(_HAS_VERSION_TABLE[reader.backend])[0][0]:
        rows = reader.rows("SELECT version_num FROM alembic_version")
        revision = None if not rows or rows[0][0] is None else str(rows[0][0])
    present = 0
    if revision is None:  # feedsvc's tables with their revision lost, or another app's?
        names = ", ".join(f"'{name}'" for name in FIRST_TABLES)
        present = int(reader.rows(_FIRST_TABLES[reader.backend].format(names=names))[0][0])
    orphaned, foreign = first_tables(present)
    no_schema = False
    if revision is None and reader.backend == "postgresql":  # nowhere to create the tables?
        no_schema = reader.rows("SELECT current_schema()")[0][0] is None
    problem = SchemaStatus(revision, head_revision(), where, orphaned, no_schema, foreign).problem()
    if problem is not None:
        raise SchemaError(problem)


@contextmanager
def read_only(
    opens: Path | SqliteTarget, where: str, *, relative: bool = False
) -> Iterator[Reader]:
    """One read transaction on the SQLite state DB ``opens`` (a file, or what SQLAlchemy would
    pass ``sqlite3.connect`` for the URL, :func:`sqlite_file`; ``where``: its URL as shown;
    ``relative``: the URL writes a relative path, whose directories ``db upgrade`` makes).

    Raises :class:`SchemaError` (naming ``feedsvc db upgrade``) when the file is missing, not a
    feedsvc DB, or at another schema revision, exactly as ``feedsvc.db.revision`` does, and
    :class:`LocationError` where ``db upgrade`` could not create it (the same decision,
    ``sqlite_location.sqlite_location_problem``); never creates the file. ``sqlite3.Error``
    for a DB that cannot be read.
    """
    import sqlite3  # not on the PostgreSQL path

    from feedsvc.db.sqlite_url import SqliteTarget

    target = SqliteTarget(str(opens), False) if isinstance(opens, Path) else opens
    path = target.file()
    if path is None:  # sqlite_file gives only targets that are files
        raise ValueError(f"not an SQLite file: {target.filename!r}")
    if (problem := sqlite_location_problem(path, where, relative=relative)) is not None:
        raise LocationError(problem)
    if not path.is_file():
        raise SchemaError(SchemaStatus(None, head_revision(), where).problem() or "")
    from feedsvc.db.sqlite_reading import heap_index, reading
    from feedsvc.db.sqlite_url import existing_only

    # a file this user cannot write: read-only, never a -shm made beside it (sqlite_reading);
    # never created either, should it go between the look above and this open
    opening = reading(target, where)
    opens = opening.target
    connection = sqlite3.connect(
        existing_only(opens.filename, uri=opens.uri),
        timeout=BUSY_TIMEOUT,
        isolation_level=None,
        uri=True,
    )
    with closing(connection) as conn:
        heap_index(conn, opens)  # before the first read (a full disk's -wal with no -shm)
        conn.execute("BEGIN")  # one snapshot for every read below
        reader = Reader(conn, "sqlite", where)
        try:
            _check_revision(reader, where)
        except sqlite3.DatabaseError as exc:
            if "file is not a database" in str(exc):
                raise SchemaError(not_a_database(where)) from None
            raise
        yield reader  # closing ends the transaction: it only read
    opening.check()  # read without locks: nothing may have written meanwhile


@contextmanager
def read_only_pg(url: DbUrl, timeouts: DbTimeouts) -> Iterator[Reader]:
    """One read-only transaction (``REPEATABLE READ``: one snapshot for every read) on the
    PostgreSQL state DB at ``url``, over psycopg with the bounds ``Database`` puts on every
    connection (``feedsvc.db.timeouts``: connect timeout, keepalives, a statement timeout and
    the client's read deadline). Host, port, user, password, database and the query's options
    (``?options=-csearch_path%3D…``, ``sslmode``…) come from the URL as SQLAlchemy passes them;
    what it leaves out libpq takes from its environment (``PGPASSWORD``, ``~/.pgpass``…).

    Raises :class:`SchemaError` as :func:`read_only` does (the message shows the URL as
    :meth:`DbUrl.render` masks it); ``psycopg.Error`` when the server cannot be reached or read.
    """
    from feedsvc.db.client_encoding import client_encoding
    from feedsvc.db.timeouts import bounded_connection_class, libpq_params

    where = url.render()
    given = url.psycopg_params()
    params = {**given, **libpq_params(timeouts), **client_encoding(given)}  # create_engine's
    conn = bounded_connection_class().connect(autocommit=True, **params)
    conn.read_timeout = timeouts.read
    with closing(conn):
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # LOCAL: for this transaction, on whichever server a pooler (PgBouncer) gives it
        conn.execute(f"SET LOCAL statement_timeout = {int(timeouts.statement * 1000)}")
        # as Database shows it: plain postgresql:// is opened as postgresql+psycopg://
        reader = Reader(conn, "postgresql", url.render(drivername="postgresql+psycopg"))
        _check_revision(reader, where)
        yield reader


def list_topics(reader: Reader) -> list[Topic]:
    """As ``feedsvc.store.topics.list_topics``: every topic, by slug."""
    rows = reader.rows(
        "SELECT id, slug, title, description, query, enabled, origin, updated_at "
        "FROM topics ORDER BY slug"
    )
    return [
        Topic(int(id_), slug, title, description or "", query, bool(on), origin, reader.time(at))
        for id_, slug, title, description, query, on, origin, at in rows
    ]


def _cursor(reader: Reader, source: str) -> Cursor:
    """As ``feedsvc.store.cursors.get_cursor``."""
    rows = reader.rows(
        "SELECT cursor_ts, cursor_id, last_tick_at, last_success_at, last_error, failures, "
        "backlog, rate, first_sync, alert_ts, alert_id, reread_visible FROM source_cursors "
        "WHERE name = ?",
        (source,),
    )
    if not rows:
        return Cursor(None, None)
    ts, id_, tick, success, error, failures, backlog, rate, first, alert, alert_id, vis = rows[0]
    at = reader.maybe_time
    return Cursor(
        at(ts), id_, at(tick), at(success), error, failures, backlog, rate, bool(first),
        at(alert), alert_id, None if vis is None else bool(vis),
    )  # fmt: skip


def _quarantine_newest(reader: Reader, limit: int) -> list[QuarantineEntry]:
    """As ``feedsvc.store.quarantine.newest``."""
    rows = reader.rows(
        "SELECT source_id, source_cursor, source_key, stage, reason, source, first_seen_at, "
        "last_seen_at FROM ingest_quarantine ORDER BY last_seen_at DESC, id DESC LIMIT ?",
        (limit,),
    )
    at = reader.time
    return [
        QuarantineEntry(
            Quarantined(sid, at(cursor), key, stage, reason), source, at(first), at(last)
        )
        for sid, cursor, key, stage, reason, source, first, last in rows
    ]


def _count(reader: Reader, sql: str) -> int:
    return int(reader.rows(sql)[0][0])


def read_status(reader: Reader, source: str, listed: int) -> StatusReads:
    """As ``feedsvc.store.status.read_status``."""
    refused = [Refusal(c, h or None, fp, reader.time(at)) for c, h, fp, at in reader.rows(
        "SELECT channel, holder, token, last_at FROM channel_refusals"
        " ORDER BY channel, last_at DESC, holder")]  # fmt: skip
    return StatusReads(
        cursor=_cursor(reader, source),
        quarantined=_count(reader, "SELECT count(*) FROM ingest_quarantine"),
        articles=_count(reader, "SELECT count(*) FROM articles"),
        topics_enabled=_count(reader, "SELECT count(*) FROM topics WHERE enabled"),
        deliveries_pending=_count(
            reader, "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'sending')"
        ),
        source_articles=(
            _count(reader, "SELECT count(*) FROM source_articles")
            if source == BUILTIN_SOURCE
            else None
        ),
        quarantine_newest=_quarantine_newest(reader, listed),
        tokens_seen={c: reader.time(at) for c, at in reader.rows(
            "SELECT channel, last_at FROM channel_tokens ORDER BY channel")},
        refusals=latest_refusals(refused),
        refused_by=refused,
    )  # fmt: skip


class Pause(NamedTuple):
    """``feedsvc.store.chat_pauses.ChatPause``'s fields, in its order (``feedsvc status``
    prints them, ``--json`` as ``/api/status``'s ``chat_pauses``)."""

    chat_id: int
    type: str
    title: str | None
    paused: bool
    blocked_until: datetime | None
    disabled_reason: str | None
    channel: str = "telegram"
    address: str | None = None  # ``chats.address``: an Apprise URL is a secret, never shown

    @property
    def recipient(self) -> str:
        """The chat as operators know it (:func:`feedsvc.recipient_names.chat_name`)."""
        return chat_name(self.channel, self.address, self.chat_id)


class Failure(NamedTuple):
    """The fields of ``feedsvc.store.delivery_log.DeliveryRow`` that ``feedsvc status`` prints."""

    id: int
    state: str
    chat_id: int
    error: str | None
    channel: str = "telegram"
    retry_kind: str | None = None  # why it waits, while unfinished (``delivery_states``)
    address: str | None = None  # ``chats.address``: an Apprise URL is a secret, never shown

    @property
    def recipient(self) -> str:
        """The chat as operators know it (:func:`feedsvc.recipient_names.chat_name`)."""
        return chat_name(self.channel, self.address, self.chat_id)


def chat_pauses(reader: Reader, now: datetime) -> list[Pause]:
    """As ``feedsvc.store.chat_pauses.chat_pauses``: chats not receiving alerts now."""
    rows = reader.rows(
        "SELECT chat_id, type, title, paused, blocked_until, disabled_reason, channel, address "
        "FROM chats "
        "WHERE blocked_until > ? OR paused OR disabled_reason IS NOT NULL ORDER BY chat_id",
        (reader.instant(now),),
    )
    out = []
    for chat, type_, title, paused, blocked, why, channel, address in rows:
        until = reader.maybe_time(blocked)
        until = until if until and until > now else None
        out.append(Pause(int(chat), type_, title, bool(paused), until, why, channel, address))
    return out


def recent_errors(reader: Reader, limit: int) -> list[Failure]:
    """As ``feedsvc.store.delivery_log.recent_errors``: newest deliveries that recorded an error,
    none in ``delivery_states.NOT_ERRORS`` (a takedown's "hidden" is no error)."""
    marks = ", ".join("?" for _ in NOT_ERRORS)
    rows = reader.rows(
        "SELECT d.id, d.state, d.chat_id, d.error, c.channel, d.retry_kind, c.address "
        "FROM deliveries d "
        "JOIN chats c ON c.chat_id = d.chat_id JOIN articles a ON a.id = d.article_id "
        f"WHERE d.error IS NOT NULL AND d.state NOT IN ({marks})"
        " ORDER BY coalesce(d.finished_at, d.due_at) DESC LIMIT ?",
        (*NOT_ERRORS, limit),
    )
    return [
        Failure(int(id_), state, int(chat), error, channel, waits_because(state, kind), address)
        for id_, state, chat, error, channel, kind, address in rows
    ]
