"""Reads for the CLI commands that only read an SQLite state DB, over the stdlib ``sqlite3``.

Why: importing SQLAlchemy costs about five times what importing Click does, and ``feedsvc
topics list`` and ``feedsvc status`` should answer within 6x of Click (issue #17 §1, measured
by ``bench/cli.py``). On a plain SQLite state DB file these commands use the functions here and
never import SQLAlchemy; any other URL (PostgreSQL, an in-memory or parameterised SQLite URL)
goes through :class:`feedsvc.db.Database` and the SQLAlchemy store modules as before.

Each function returns the same records as its SQLAlchemy counterpart, named in its docstring;
``tests/test_store_lite.py`` checks that on the same database, so the two cannot drift apart.
Values are read as SQLAlchemy stores them on SQLite: datetimes as ISO text in UTC
(``feedsvc.db.schema.UTCDateTime``), booleans as 0/1.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from feedsvc.db.revision import SchemaError, SchemaStatus, head_revision
from feedsvc.status import StatusReads
from feedsvc.store.records import (
    BUILTIN_SOURCE,
    Cursor,
    Quarantined,
    QuarantineEntry,
    Topic,
)

_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
#: Seconds to wait for a writer's lock, as ``feedsvc.db.engine`` sets for SQLite.
BUSY_TIMEOUT = 10.0


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///relative.db``, ``sqlite:////abs.db``); None
    for any other URL, which SQLAlchemy must handle (a query string, ``%``-escapes, memory)."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            path = url[len(prefix) :]
            if not path or path == ":memory:" or any(c in path for c in "?%#"):
                return None
            return Path(path)
    return None


@contextmanager
def read_only(path: Path, where: str) -> Iterator[sqlite3.Connection]:
    """One read transaction on the state DB at ``path`` (``where``: its URL, for messages).

    Raises :class:`SchemaError` (naming ``feedsvc db upgrade``) when the file is missing, not a
    feedsvc DB, or at another schema revision, exactly as ``feedsvc.db.revision`` does; never
    creates the file. ``sqlite3.Error`` for a DB that cannot be read.
    """
    head = head_revision()
    if not path.is_file():
        raise SchemaError(SchemaStatus(None, head, where).problem() or "")
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)) as conn:
        conn.execute("BEGIN")  # one snapshot for every read below
        has_version = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        revision = None
        if has_version:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = None if row is None else str(row[0])
        problem = SchemaStatus(revision, head, where).problem()
        if problem is not None:
            raise SchemaError(problem)
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")


def _at(value: str) -> datetime:
    """A ``UTCDateTime`` column's text as an aware UTC datetime."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _time(value: str | None) -> datetime | None:
    """:func:`_at` of a nullable column."""
    return None if value is None else _at(value)


def _stored(value: datetime) -> str:
    """A UTC instant as SQLAlchemy's SQLite dialect stores it (comparable as text)."""
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def list_topics(conn: sqlite3.Connection) -> list[Topic]:
    """As ``feedsvc.store.topics.list_topics``: every topic, by slug."""
    rows = conn.execute(
        "SELECT id, slug, title, description, query, enabled, origin, updated_at "
        "FROM topics ORDER BY slug"
    )
    return [
        Topic(int(id_), slug, title, description or "", query, bool(on), origin, _at(at))
        for id_, slug, title, description, query, on, origin, at in rows
    ]


def _cursor(conn: sqlite3.Connection, source: str) -> Cursor:
    """As ``feedsvc.store.cursors.get_cursor``."""
    row = conn.execute(
        "SELECT cursor_ts, cursor_id, last_tick_at, last_success_at, last_error, failures, "
        "backlog, rate FROM source_cursors WHERE name = ?",
        (source,),
    ).fetchone()
    if row is None:
        return Cursor(None, None)
    ts, id_, tick, success, error, failures, backlog, rate = row
    return Cursor(_time(ts), id_, _time(tick), _time(success), error, failures, backlog, rate)


def _quarantine_newest(conn: sqlite3.Connection, limit: int) -> list[QuarantineEntry]:
    """As ``feedsvc.store.quarantine.newest``."""
    rows = conn.execute(
        "SELECT source_id, source_cursor, source_key, stage, reason, source, first_seen_at, "
        "last_seen_at FROM ingest_quarantine ORDER BY last_seen_at DESC, id DESC LIMIT ?",
        (limit,),
    )
    return [
        QuarantineEntry(
            Quarantined(sid, _at(cursor), key, stage, reason), source, _at(first), _at(last)
        )
        for sid, cursor, key, stage, reason, source, first, last in rows
    ]


def _count(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def read_status(conn: sqlite3.Connection, source: str, listed: int) -> StatusReads:
    """As ``feedsvc.store.status.read_status``."""
    return StatusReads(
        cursor=_cursor(conn, source),
        quarantined=_count(conn, "SELECT count(*) FROM ingest_quarantine"),
        articles=_count(conn, "SELECT count(*) FROM articles"),
        topics_enabled=_count(conn, "SELECT count(*) FROM topics WHERE enabled = 1"),
        deliveries_pending=_count(
            conn, "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'sending')"
        ),
        source_articles=(
            _count(conn, "SELECT count(*) FROM source_articles")
            if source == BUILTIN_SOURCE
            else None
        ),
        quarantine_newest=_quarantine_newest(conn, listed),
    )


class Pause(NamedTuple):
    """The fields of ``feedsvc.store.subscriptions.ChatPause`` that ``feedsvc status`` prints."""

    chat_id: int
    paused: bool
    blocked_until: datetime | None
    disabled_reason: str | None


class Failure(NamedTuple):
    """The fields of ``feedsvc.store.deliveries.DeliveryRow`` that ``feedsvc status`` prints."""

    id: int
    state: str
    chat_id: int
    error: str | None


def chat_pauses(conn: sqlite3.Connection, now: datetime) -> list[Pause]:
    """As ``feedsvc.store.subscriptions.chat_pauses``: chats not receiving alerts now."""
    at = _stored(now)
    rows = conn.execute(
        "SELECT chat_id, paused, blocked_until, disabled_reason FROM chats "
        "WHERE blocked_until > ? OR paused = 1 OR disabled_reason IS NOT NULL ORDER BY chat_id",
        (at,),
    )
    return [
        Pause(int(chat), bool(paused), _time(blocked) if blocked and blocked > at else None, why)
        for chat, paused, blocked, why in rows
    ]


def recent_errors(conn: sqlite3.Connection, limit: int) -> list[Failure]:
    """As ``feedsvc.store.deliveries.recent_errors``: newest deliveries that recorded an error."""
    rows = conn.execute(
        "SELECT d.id, d.state, d.chat_id, d.error FROM deliveries d "
        "JOIN chats c ON c.chat_id = d.chat_id JOIN articles a ON a.id = d.article_id "
        "WHERE d.error IS NOT NULL ORDER BY coalesce(d.finished_at, d.due_at) DESC LIMIT ?",
        (limit,),
    )
    return [Failure(int(id_), state, int(chat), error) for id_, state, chat, error in rows]
