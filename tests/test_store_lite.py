"""``feedsvc.store.lite`` (reads for ``topics list`` and ``status`` over stdlib sqlite3 or
psycopg, without SQLAlchemy) returns what the SQLAlchemy store returns, on the same SQLite and
PostgreSQL state DBs with every kind of row in them.

Issue #17 §1: the lite path exists only for start-up cost, so the two must never disagree; a
column added to one and not the other fails here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from factories import article
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError

from feedsvc.db import Database, upgrade
from feedsvc.db.errors import describe
from feedsvc.db.revision import SchemaError
from feedsvc.db.schema import deliveries
from feedsvc.db.timeouts import DbTimeouts, bounded_connection_class
from feedsvc.db.urls import psycopg_url
from feedsvc.status import QUARANTINE_LISTED
from feedsvc.store import channel_tokens, claims, cursors, delivery_log, lite, quarantine
from feedsvc.store import deliveries as delivery_store
from feedsvc.store import status as status_store
from feedsvc.store import subscriptions as subs
from feedsvc.store import topics as topic_store
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.chat_pauses import chat_pauses
from feedsvc.store.records import Quarantined
from feedsvc.store.source_articles import upsert_source_articles

NOW = datetime(2026, 11, 30, 6, 0, 0, 123456, tzinfo=UTC)


def lite_reader(url: str) -> AbstractContextManager[lite.Reader]:
    """The lite path's read transaction on the state DB at ``url`` (SQLite file or PostgreSQL)."""
    opened = lite.read_only_url(url, DbTimeouts())
    assert opened is not None, url
    return opened


@pytest.fixture
def state(db_url: str) -> Iterator[tuple[Database, str]]:
    """A state DB (SQLite, PostgreSQL) holding topics (one disabled), a cursor with a failure
    and a catch-up, three quarantined rows, articles, paused / blocked / disabled chats and
    failed deliveries; its URL."""
    db = Database(db_url)
    upgrade(db)
    with db.write() as conn:
        for slug, on in (("b-topic", True), ("a-topic", False), ("c-topic", True)):
            spec = topic_store.TopicSpec(slug, slug.upper(), f'"{slug}"', "mô tả", on)
            topic_store.save_topic(conn, spec, "cli", NOW)
        upsert_source_articles(conn, [article(n) for n in range(1, 4)], NOW)
        ids = insert_articles(
            conn, [(article(n), "k", SourcePosition(NOW, str(n))) for n in range(1, 4)], NOW
        )
        cursors.record_success(conn, "builtin", NOW, "7", NOW, backlog=120, rate=33.5)
        cursors.record_failure(conn, "builtin", "source did not answer", NOW)
        quarantine.put(
            conn,
            "builtin",
            [
                Quarantined(
                    str(n),
                    NOW - timedelta(minutes=n),
                    f"K{n}" if n % 2 else None,
                    "parse",
                    f"bad row {n}",
                )
                for n in range(3)
            ],
            NOW - timedelta(hours=1),
        )
        for chat_id in (10, 11, 12, 13):
            subs.ensure_chat(conn, chat_id, "private", f"chat {chat_id}", NOW)
        subs.set_paused(conn, 10, True)
        claims.block_chat_until(conn, 11, datetime.now(UTC) + timedelta(hours=1))
        claims.block_chat_until(conn, 13, datetime.now(UTC) - timedelta(hours=1))
        subs.disable_chat(conn, 12, "blocked by the user")
        # what the channels said of the tokens (the lite reads and the store's must agree)
        channel_tokens.note_tokens(conn, ["telegram", "zalo"], NOW - timedelta(minutes=5))
        channel_tokens.note_refusal(conn, "zalo", NOW)
        delivery_store.enqueue(
            conn,
            [
                {"chat_id": chat, "article_id": aid, "topics": ["x"], "state": "pending",
                 "attempts": 0, "ambiguous": 0, "plain_text": False,
                 "due_at": NOW + timedelta(seconds=10 * chat + aid), "created_at": NOW}
                for chat in (10, 11, 12) for aid in ids
            ],
        )  # fmt: skip
        conn.execute(
            update(deliveries)
            .where(deliveries.c.chat_id != 10)
            .values(state="failed", error="Forbidden: bot was blocked by the user")
        )
    yield db, db_url
    db.dispose()


def test_topics_are_the_same(state: tuple[Database, str]) -> None:
    db, url = state
    with db.read() as conn:
        expected = topic_store.list_topics(conn)
    with lite_reader(url) as reader:
        assert lite.list_topics(reader) == expected
    assert [t.slug for t in expected] == ["a-topic", "b-topic", "c-topic"]
    assert [t.enabled for t in expected] == [False, True, True]


@pytest.mark.parametrize("source", ["builtin", "external:posts"])
def test_status_reads_are_the_same(state: tuple[Database, str], source: str) -> None:
    db, url = state
    with db.read() as conn:
        expected = status_store.read_status(conn, source, QUARANTINE_LISTED)
    with lite_reader(url) as reader:
        got = lite.read_status(reader, source, QUARANTINE_LISTED)
    assert got == expected
    if source == "builtin":
        assert got.cursor.failures == 1 and got.cursor.backlog == 120 and got.quarantined == 3
        assert got.source_articles == 3 and got.deliveries_pending == 3
        assert got.refusals == {"zalo": NOW} and set(got.tokens_seen) == {"telegram", "zalo"}
    else:
        assert got.source_articles is None and got.cursor.ts is None


def test_paused_chats_and_errors_are_the_same(state: tuple[Database, str]) -> None:
    db, url = state
    now = datetime.now(UTC)
    with db.read() as conn:
        pauses = chat_pauses(conn, now)
        errors = delivery_log.recent_errors(conn, 4)
    with lite_reader(url) as reader:
        got_pauses = lite.chat_pauses(reader, now)
        got_errors = lite.recent_errors(reader, 4)
    assert got_pauses == [
        lite.Pause(
            p.chat_id, p.type, p.title, p.paused, p.blocked_until, p.disabled_reason,
            address=p.address,
        )
        for p in pauses
    ]  # fmt: skip
    assert [p.address for p in got_pauses] == ["10", "11", "12"]  # a Telegram row's: its id
    assert [p.chat_id for p in got_pauses] == [10, 11, 12]  # 13's block is over
    assert got_errors == [
        lite.Failure(d.id, d.state, d.chat_id, d.error, address=d.address) for d in errors
    ]
    assert {f.recipient for f in got_errors} == {"telegram chat 11", "telegram chat 12"}
    assert len(got_errors) == 4


def test_the_clock_is_the_one_database_now_reads(state: tuple[Database, str]) -> None:
    db, url = state
    before = db.now()
    with lite_reader(url) as reader:
        now = reader.now()
    assert now.tzinfo is UTC and before <= now <= db.now()


def test_a_missing_or_old_db_is_a_schema_error_and_stays_missing(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    with (
        pytest.raises(SchemaError, match="not initialised: run `feedsvc db upgrade`"),
        lite.read_only(missing, "sqlite:///none.db"),
    ):
        pass
    assert not missing.exists()
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(old, "0003")
    old.dispose()
    with (
        pytest.raises(SchemaError, match="at schema revision 0003, this feedsvc needs"),
        lite.read_only(tmp_path / "old.db", "sqlite:///old.db"),
    ):
        pass


@pytest.mark.postgres
def test_an_empty_or_old_postgresql_schema_is_a_schema_error(pg_url: str) -> None:
    url = pg_url.replace("postgres@", "postgres:pw-Not-Shown@")  # trusted: any password works
    masked = pg_url.replace("postgres@", "postgres:***@")
    with pytest.raises(SchemaError) as raised, lite_reader(url):
        pass
    assert str(raised.value) == (
        f"the state DB {masked} is not initialised: run `feedsvc db upgrade`"
    )
    old = Database(pg_url)
    upgrade(old, "0003")
    old.dispose()
    with (
        pytest.raises(SchemaError, match="at schema revision 0003, this feedsvc needs"),
        lite_reader(url),
    ):
        pass


@pytest.mark.postgres
def test_the_postgresql_reader_is_bounded_and_read_only(pg_url: str) -> None:
    """The bounds ``Database`` puts on every connection (``feedsvc.db.timeouts``), one
    read-only snapshot, and the URL's own options (its search_path)."""
    db = Database(pg_url)
    upgrade(db)
    db.dispose()
    parsed = psycopg_url(pg_url)
    assert parsed is not None
    bounds = DbTimeouts(connect=3, statement=7, keepalive=20)
    with lite.read_only_pg(parsed, bounds) as reader:
        assert reader.rows("SHOW statement_timeout") == [("7s",)]
        assert reader.rows("SHOW transaction_read_only") == [("on",)]
        assert reader.rows("SHOW transaction_isolation") == [("repeatable read",)]
        schema = dict(parsed.query)["options"].split("=", 1)[1]
        assert reader.rows("SELECT current_schema()") == [(schema,)]
        assert isinstance(reader.conn, bounded_connection_class())
        assert reader.conn.read_timeout == 12  # statement + READ_GRACE
        params = reader.conn.info.get_parameters()
        assert params["connect_timeout"] == "3" and params["keepalives_idle"] == "20"
        assert reader.shown == pg_url  # postgresql+psycopg://, no password in it
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader.rows("CREATE TABLE lite_write (i int)")


@pytest.mark.postgres
def test_a_driver_error_is_worded_as_through_sqlalchemy(pg_url: str) -> None:
    """The CLI's one-line message (``feedsvc.db.errors.describe``) for the same failure met by
    psycopg directly (the lite path) and through SQLAlchemy: word for word."""
    db = Database(pg_url)
    upgrade(db)
    worded = []
    for run in (lambda: _lite_fails(pg_url), lambda: _sqlalchemy_fails(db)):
        try:
            run()
        except Exception as exc:  # the failure under test
            worded.append(describe(exc))
    db.dispose()
    assert len(worded) == 2 and worded[0] == worded[1]
    assert worded[0].startswith('ProgrammingError (UndefinedTable): relation "no_such_table"')
    refused = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{_closed_port()}")
    with pytest.raises(psycopg.OperationalError) as lite_error, lite_reader(refused):
        pass
    with pytest.raises(OperationalError) as sa_error:
        Database(refused).now()
    assert describe(lite_error.value) == describe(sa_error.value)
    assert describe(lite_error.value).startswith("OperationalError: connection failed")


def _lite_fails(url: str) -> None:
    with lite_reader(url) as reader:
        reader.rows("SELECT * FROM no_such_table")


def _sqlalchemy_fails(db: Database) -> None:
    with db.read() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))


def _closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_only_sqlite_file_urls_take_the_lite_path() -> None:
    """A file, as SQLAlchemy opens it (``feedsvc.db.sqlite_url``: SQLite's URI form too)."""
    cwd = Path.cwd()
    assert lite.sqlite_file("sqlite:///var/feedsvc.db").file() == cwd / "var/feedsvc.db"
    assert lite.sqlite_file("sqlite:////srv/state.db").file() == Path("/srv/state.db")
    assert lite.sqlite_file("sqlite:///a%20b.db").file() == cwd / "a%20b.db"  # not decoded
    assert lite.sqlite_file("sqlite:///s.db?timeout=5").file() == cwd / "s.db"
    uri = lite.sqlite_file("sqlite:///file:/srv/s.db?mode=ro&uri=true")
    assert uri is not None and uri.file() == Path("/srv/s.db") and uri.uri
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file::memory:?uri=true",
        "sqlite:///state.db?cache=private&cache=private",  # a key twice: SQLAlchemy reads it
        "sqlite:///state.db?uri=maybe",
        "postgresql://u@h/db",
    ):
        assert lite.sqlite_file(url) is None, url


#: ``python -m feedsvc`` with the lite path switched off: every SQLite file URL that passes the
#: config check is one the lite path takes (a key given twice, the old way round, is refused).
_NO_LITE = (
    "import feedsvc.store.lite as lite; lite.read_only_url = lambda *a, **k: None; "
    "from feedsvc.cli import main; main()"
)


def _cli(args: list[str], url: str, cwd: Path, *, fast: bool = True) -> dict[str, object]:
    return json.loads(cli_text(args, url, cwd, fast=fast))  # type: ignore[no-any-return]


def cli_text(args: list[str], url: str, cwd: Path, *, fast: bool = True) -> str:
    """What ``feedsvc ARGS`` prints on the state DB at ``url``; ``fast`` false: SQLAlchemy's
    read, never the driver's (:data:`_NO_LITE`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    start = ["-m", "feedsvc"] if fast else ["-c", _NO_LITE]
    done = subprocess.run(
        [sys.executable, *start, *args], env=env, cwd=cwd, capture_output=True,
        text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout


def sqlalchemy_only(url: str) -> str:
    """The same state DB through another URL for SQLAlchemy: the host in the query
    (``?host=h:port``, which its dialect rewrites) on PostgreSQL; on SQLite the URL itself
    (:data:`_NO_LITE` switches the lite path off)."""
    if url.startswith("sqlite"):
        return url
    parsed = psycopg_url(url)
    assert parsed is not None and parsed.port is not None
    other = (
        f"{parsed.drivername}://{parsed.username}@/{parsed.database}"
        f"?host={parsed.host}:{parsed.port}&options={dict(parsed.query)['options']}"
    )
    return other


def test_status_json_is_the_same_through_either_path(
    state: tuple[Database, str], tmp_path: Path
) -> None:
    """``feedsvc status --json`` on a URL the lite path takes and on the same DB through a URL
    only SQLAlchemy takes: the same facts."""
    _, url = state
    lite_facts = _cli(["status", "--json"], url, tmp_path)
    db_facts = _cli(["status", "--json"], sqlalchemy_only(url), tmp_path, fast=False)
    assert lite_facts["database"] == url.replace("postgresql://", "postgresql+psycopg://")
    for facts in (lite_facts, db_facts):
        facts.pop("ingest_lag_seconds")  # the clock moved between the two commands
        facts.pop("database")
        for figure in ("free_bytes", "free_inodes"):  # other tests write on that disk
            (facts.get("state_db_disk") or {}).pop(figure, None)
    assert lite_facts == db_facts
    assert lite_facts["ingest_state"] == "failing" and len(lite_facts["quarantined_rows"]) == 3
    assert len(lite_facts["chats_not_receiving"]) == 3 and len(lite_facts["recent_errors"]) == 6
