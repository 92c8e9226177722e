"""A takedown of a row whose other values cannot be read (a tester's H1, HIGH): a public,
alerted row sent back to draft while its author column (``bytea``/``BLOB``) held bytes that
are not UTF-8, or its publication time PostgreSQL's ``'infinity'`` (which the driver cannot
convert), was quarantined at stage ``read`` before its visibility was looked at: its article
stayed in every feed, its alerts in the chats, and the 10-minute re-check failed the same way
for good. A row ``visible`` says is not shown needs no article values (SPEC §10): its ``visible``
and key, read alone, withdraw the article read from it; a shown row is still quarantined, its
key named. The CMS table on the state DB's backend (a SQLite file, the test's PostgreSQL
schema) or, with a SQLite state DB, on the machine's MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import mariadb_database
from lifecycle_world import Clock, World, make_world
from sqlalchemy import Engine, create_engine, select, text, update

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.source import SqlSource, external_source
from feedsvc.store import quarantine
from feedsvc.store.followup_queue import sweep_retired

BAD = b"\xc3\x28 bad"  # the tester's: a lead byte with no continuation


def mapping(key: str = "slug") -> SourceColumns:
    return SourceColumns(
        cursor="modified", source_key=key, url="link", title="title", author="raw",
        published_at="created", updated_at="edited", visible="status = 'published'",
    )  # fmt: skip


@dataclass
class Posts:
    url: str
    engine: Engine
    clock: Clock
    dialect: str

    def put(self, n: int, move: bool = True, **values: Any) -> None:
        """Insert post ``n`` or set ``values`` (raw) on it; ``modified`` (the cursor) moves
        unless ``move`` is False (a status flip that leaves it: WordPress's scheduler)."""
        self.clock.advance(seconds=2)
        now = self.clock().replace(tzinfo=None)
        with self.engine.begin() as conn:
            if conn.execute(text("SELECT 1 FROM posts WHERE id = :n"), {"n": n}).first():
                sets = values | ({"modified": now} if move else {})
                assigned = ", ".join(f"{k} = :{k}" for k in sets)
                conn.execute(text(f"UPDATE posts SET {assigned} WHERE id = :n"), sets | {"n": n})
                return
            row = {
                "id": n, "slug": f"TEST-{n}", "rawkey": f"TEST-{n}".encode(),
                "link": f"https://example.vn/tin/{n}.html", "title": f"Công an Kiến Thụy tin {n}",
                "raw": "Phóng viên".encode(), "status": "published",
                "created": now - timedelta(minutes=30), "edited": now, "modified": now,
            } | values  # fmt: skip
            names = ", ".join(row)
            conn.execute(
                text(f"INSERT INTO posts ({names}) VALUES ({', '.join(':' + k for k in row)})"),
                row,
            )

    def infinity(self, n: int, value: str = "infinity", **values: Any) -> None:
        """PostgreSQL only: ``created`` set to a value the driver cannot read."""
        self.put(n, **values)
        with self.engine.begin() as conn:
            conn.execute(text(f"UPDATE posts SET created = '{value}' WHERE id = :n"), {"n": n})

    def source(self, key: str = "slug") -> SqlSource:
        return external_source(self.url, "posts", mapping(key), UTC)


_DDL = (
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug VARCHAR(100) NOT NULL, rawkey {bin}, "
    "link VARCHAR(300) NOT NULL, title VARCHAR(300) NOT NULL, raw {bin}, status VARCHAR(20), "
    "created {ts} NULL, modified {ts} NOT NULL, edited {ts} NULL)"
)


@contextmanager
def posts_table(db: Database, tmp_path: Path, backend: str) -> Iterator[Posts]:
    if backend == "mariadb":
        with mariadb_database("bf_cms") as url:
            yield from _made(url, "DATETIME(6)", "BLOB", "mysql")
        return
    if db.dialect == "sqlite":
        yield from _made(f"sqlite:///{tmp_path / 'cms.db'}", "TIMESTAMP", "BLOB", "sqlite")
    else:
        yield from _made(str(db.url), "TIMESTAMP", "BYTEA", "postgresql")


def _made(url: str, ts: str, binary: str, dialect: str) -> Iterator[Posts]:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(_DDL.format(ts=ts, bin=binary)))
        conn.execute(text("CREATE INDEX ix_posts_modified ON posts (modified, id)"))
    try:
        yield Posts(url, engine, Clock(), dialect)
    finally:
        engine.dispose()


@pytest.fixture(params=["same", "mariadb"])
def news(db: Database, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Posts]:
    """The CMS table (named ``news`` so that ``conftest`` deselects MariaDB beside a
    PostgreSQL state DB)."""
    with posts_table(db, tmp_path, request.param) as table:
        yield table


def state(w: World, n: int) -> tuple[bool, str | None]:
    """(withdrawn, reason) of post ``n``'s article."""
    with w.db.read() as conn:
        stmt = select(articles.c.withdrawn_at, articles.c.withdrawn_reason)
        at, reason = conn.execute(stmt.where(articles.c.source_id == str(n))).one()
        return at is not None, reason


def entries(w: World) -> list[quarantine.Quarantined]:
    with w.db.read() as conn:
        return [e.row for e in quarantine.newest(conn, 50)]


def alerted(w: World) -> None:
    with w.db.write() as conn:
        conn.execute(update(deliveries).values(state="sent", message_id=77, finished_at=w.clock()))


def shown(w: World, n: int) -> bool:
    return f"{n}.html" in w.feed_keys("rss")


def published(news: Posts, db: Database, *ns: int, key: str = "slug") -> World:
    """A world whose posts ``ns`` are public and alerted (the alerts sent)."""
    w = make_world(db, news.clock, source=news.source(key))
    for n in ns:
        news.put(n)
    w.poll()
    assert all(shown(w, n) for n in ns)
    alerted(w)
    return w


def retracted(w: World) -> int:
    """How many sent alerts the retraction sweep owes a follow-up (deleted or edited)."""
    with w.db.write() as conn:
        return sweep_retired(conn, w.clock() - timedelta(hours=1), w.clock())


def test_a_draft_whose_author_is_not_utf8_is_withdrawn(db: Database, news: Posts) -> None:
    w = published(news, db, 1, 2)
    news.put(1, raw=BAD, status="draft")  # at once
    news.put(2, raw=BAD)  # the tester's order: the stray bytes first (quarantined, still
    w.poll()  # public, as a shown row's fault), then the takedown
    assert [(q.source_id, q.source_key, q.stage) for q in entries(w)] == [("2", "TEST-2", "read")]
    assert shown(w, 2) and not shown(w, 1)
    news.put(2, status="draft")
    w.poll()
    assert state(w, 1) == (True, "draft") and state(w, 2) == (True, "draft")
    assert not shown(w, 1) and not shown(w, 2)
    assert entries(w) == []  # nothing left to fix: a draft needs no author
    assert retracted(w) == 2


def test_a_draft_whose_key_is_not_utf8_is_withdrawn_by_its_row(db: Database, news: Posts) -> None:
    w = published(news, db, 1, 2, key="rawkey")
    news.put(1, rawkey=b"\xff\xfe", status="draft")
    news.put(2, rawkey=b"\xff\xfe")  # shown: quarantined, no key to name
    w.poll()
    assert state(w, 1) == (True, "draft") and not shown(w, 1)
    assert state(w, 2) == (False, None) and shown(w, 2)
    assert [(q.source_id, q.source_key, q.stage) for q in entries(w)] == [("2", None, "read")]
    assert retracted(w) == 1


def test_a_quarantined_row_flipped_to_draft_in_place_is_withdrawn_by_the_recheck(
    db: Database, news: Posts
) -> None:
    w = published(news, db, 1)
    news.put(1, raw=BAD)
    w.poll()
    assert len(entries(w)) == 1 and shown(w, 1)
    news.put(1, move=False, status="draft")  # the cursor stays: only the re-check sees it
    w.ing.unordered_every = 0
    w.poll()
    assert state(w, 1) == (True, "draft") and not shown(w, 1)
    assert entries(w) == []


@pytest.mark.parametrize("value", ["infinity", "-infinity", "10000-01-01 00:00:00"])
def test_postgresql_draft_with_a_time_the_driver_cannot_read_is_withdrawn(
    pg_db: Database, tmp_path: Path, value: str
) -> None:
    db = pg_db  # PostgreSQL's own values (infinity, bytea)
    with posts_table(db, tmp_path, "same") as news:
        w = published(news, db, 1, 2, 3)
        news.infinity(1, value, status="draft")  # the tester's B05
        news.infinity(2, value)  # shown: still quarantined, now with its key
        news.put(3, title="Công an Kiến Thụy tin 3 (sửa)")  # the rows around are ingested
        w.poll()
        assert state(w, 1) == (True, "draft") and not shown(w, 1)
        [q] = entries(w)
        assert (q.source_id, q.source_key, q.stage) == ("2", "TEST-2", "read")
        assert q.reason.startswith("published_at: cannot be read:"), q.reason
        assert shown(w, 2) and shown(w, 3)
        with db.read() as conn:
            stmt = select(articles.c.title).where(articles.c.source_id == "3")
            assert conn.execute(stmt).scalar_one().endswith("(sửa)")
        assert retracted(w) == 1
        news.put(2, move=False, status="draft")  # then taken down in place: the re-check
        w.ing.unordered_every = 0
        w.poll()
        assert state(w, 2) == (True, "draft") and entries(w) == []
        assert retracted(w) == 1


def test_postgresql_batch_of_only_such_drafts_is_no_systemic_failure(
    pg_db: Database, tmp_path: Path
) -> None:
    db = pg_db  # PostgreSQL's own values (infinity, bytea)
    with posts_table(db, tmp_path, "same") as news:
        w = published(news, db, 1, 2)
        news.infinity(1, status="draft")
        news.infinity(2, status="draft")
        w.poll()  # asserts the tick did not fail
        assert state(w, 1) == (True, "draft") and state(w, 2) == (True, "draft")
        assert entries(w) == []


def test_postgresql_row_whose_visible_cannot_be_read_says_a_takedown_may_wait(
    pg_db: Database, tmp_path: Path
) -> None:
    db = pg_db  # PostgreSQL's own values (infinity, bytea)
    with posts_table(db, tmp_path, "same") as news:
        w = published(news, db, 1)
        columns = mapping().model_copy(update={"visible": "edited"})  # no boolean: a timestamp
        w.ing.source = external_source(news.url, "posts", columns, UTC)
        news.put(1)
        with news.engine.begin() as conn:
            conn.execute(text("UPDATE posts SET edited = 'infinity' WHERE id = 1"))
        w.poll()
        [q] = entries(w)
        assert (q.source_id, q.source_key, q.stage) == ("1", "TEST-1", "read")
        assert "; visible: cannot be read:" in q.reason, q.reason
        assert "a takedown may be waiting" in q.reason and "articles hide" in q.reason
        assert shown(w, 1)  # not known to be taken down: left as it was


def test_postgresql_late_commit_of_such_a_draft_is_withdrawn_and_fails_no_tick(
    pg_db: Database, tmp_path: Path
) -> None:
    """Committed late (its cursor value behind the cursor, within the overlap window), such a
    row failed the tick, and the next tick neither stored nor quarantined it."""
    db = pg_db  # PostgreSQL's own values (infinity, bytea)
    with posts_table(db, tmp_path, "same") as news:
        w = published(news, db, 1)
        news.put(3)  # the cursor moves past the late commits below
        w.poll()
        late = (news.clock() - timedelta(seconds=20)).replace(tzinfo=None)
        with news.engine.begin() as conn:
            conn.execute(
                text("UPDATE posts SET status = 'draft', created = 'infinity', modified = :m "
                     "WHERE id = 1"),
                {"m": late},
            )  # fmt: skip
            conn.execute(
                text("INSERT INTO posts (id, slug, link, title, status, created, modified, "
                     "edited) VALUES (2, 'TEST-2', 'https://example.vn/tin/2.html', 'Tin 2', "
                     "'published', 'infinity', :m, :m)"),
                {"m": late},
            )  # fmt: skip
        news.clock.advance(seconds=2)
        w.poll()  # asserts the tick did not fail
        assert state(w, 1) == (True, "draft") and not shown(w, 1)
        assert [(q.source_id, q.source_key, q.stage) for q in entries(w)] == [
            ("2", "TEST-2", "read")
        ]
