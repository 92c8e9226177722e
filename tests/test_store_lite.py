"""``feedsvc.store.lite`` (stdlib sqlite3 reads for ``topics list`` and ``status``) returns what
the SQLAlchemy store returns, on the same SQLite state DB with every kind of row in it.

Issue #17 §1: the lite path exists only for start-up cost, so the two must never disagree; a
column added to one and not the other fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import article
from sqlalchemy import update

from feedsvc.db import Database, upgrade
from feedsvc.db.revision import SchemaError
from feedsvc.db.schema import deliveries
from feedsvc.status import QUARANTINE_LISTED
from feedsvc.store import claims, cursors, delivery_log, lite, quarantine
from feedsvc.store import deliveries as delivery_store
from feedsvc.store import status as status_store
from feedsvc.store import subscriptions as subs
from feedsvc.store import topics as topic_store
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.records import Quarantined
from feedsvc.store.source_articles import upsert_source_articles

NOW = datetime(2026, 11, 30, 6, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def state(tmp_path: Path) -> tuple[Database, Path]:
    """A state DB holding topics (one disabled), a cursor with a failure and a catch-up, three
    quarantined rows, articles, paused / blocked / disabled chats and failed deliveries."""
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}")
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
    return db, path


def test_topics_are_the_same(state: tuple[Database, Path]) -> None:
    db, path = state
    with db.read() as conn:
        expected = topic_store.list_topics(conn)
    with lite.read_only(path, "x") as conn:
        assert lite.list_topics(conn) == expected
    assert [t.slug for t in expected] == ["a-topic", "b-topic", "c-topic"]


@pytest.mark.parametrize("source", ["builtin", "external:posts"])
def test_status_reads_are_the_same(state: tuple[Database, Path], source: str) -> None:
    db, path = state
    with db.read() as conn:
        expected = status_store.read_status(conn, source, QUARANTINE_LISTED)
    with lite.read_only(path, "x") as conn:
        got = lite.read_status(conn, source, QUARANTINE_LISTED)
    assert got == expected
    if source == "builtin":
        assert got.cursor.failures == 1 and got.cursor.backlog == 120 and got.quarantined == 3
        assert got.source_articles == 3 and got.deliveries_pending == 3
    else:
        assert got.source_articles is None and got.cursor.ts is None


def test_paused_chats_and_errors_are_the_same(state: tuple[Database, Path]) -> None:
    db, path = state
    now = datetime.now(UTC)
    with db.read() as conn:
        pauses = subs.chat_pauses(conn, now)
        errors = delivery_log.recent_errors(conn, 4)
    with lite.read_only(path, "x") as conn:
        got_pauses = lite.chat_pauses(conn, now)
        got_errors = lite.recent_errors(conn, 4)
    assert got_pauses == [
        lite.Pause(p.chat_id, p.paused, p.blocked_until, p.disabled_reason) for p in pauses
    ]
    assert [p.chat_id for p in got_pauses] == [10, 11, 12]  # 13's block is over
    assert got_errors == [lite.Failure(d.id, d.state, d.chat_id, d.error) for d in errors]
    assert len(got_errors) == 4


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


def test_only_plain_sqlite_file_urls_take_the_lite_path() -> None:
    assert lite.sqlite_file("sqlite:///var/feedsvc.db") == Path("var/feedsvc.db")
    assert lite.sqlite_file("sqlite:////srv/state.db") == Path("/srv/state.db")
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///state.db?timeout=5",
        "sqlite:///a%20b.db",
        "postgresql://u@h/db",
    ):
        assert lite.sqlite_file(url) is None, url


def _cli(args: list[str], url: str, cwd: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", *args], env=env, cwd=cwd, capture_output=True,
        text=True, check=True, timeout=120,
    )  # fmt: skip
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_status_json_is_the_same_through_either_path(state: tuple[Database, Path]) -> None:
    """``feedsvc status --json`` on a plain file URL (lite) and on the same file through a URL
    only SQLAlchemy takes (a query string): the same facts."""
    _, path = state
    lite_facts = _cli(["status", "--json"], f"sqlite:///{path}", path.parent)
    db_facts = _cli(["status", "--json"], f"sqlite:///{path}?timeout=10", path.parent)
    for facts in (lite_facts, db_facts):
        facts.pop("ingest_lag_seconds")  # the clock moved between the two commands
        facts.pop("database")
    assert lite_facts == db_facts
    assert lite_facts["ingest_state"] == "failing" and len(lite_facts["quarantined_rows"]) == 3
    assert len(lite_facts["chats_not_receiving"]) == 3 and len(lite_facts["recent_errors"]) == 6
