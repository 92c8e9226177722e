"""A CMS table changed under a running service: ingest stops, says why, and loses no row.

feedsvc reflects the source table at its first read and kept that binding for the life of the
process. A plugin update or a DBA dropping, renaming or re-creating a mapped column then made
every read fail. SQLite and MariaDB say "no such column" as an ``OperationalError``, the class
they give a value they cannot convert, so the batch was read row by row, each row failed in
that one field alone and was quarantined ("body: cannot be read: no such column"), and the
cursor moved past every row the newsroom wrote meanwhile: each was named as a bad row and none
was ingested until the 10-minute re-check after the column came back. PostgreSQL failed the
tick, but a default-named column that was gone for good failed every tick until a restart.

Now a read whose statement fails on no row at all (``SqlSource.check_statement``) fails the
tick (logged, recorded for ``feedsvc status``, backed off) with nothing quarantined and the
cursor where it was; the next tick reflects the table again (``SqlSource.forget``), as a restart
would: a column ``[source.columns]`` names is then the mapping's error naming its key, a
default-named one reads as null, and a restored or renamed-back one reads again, every row
written meanwhile ingested and alerted once.

The CMS's backend is given one state DB backend per case, rotating (``backend_cases.on_backends``,
the start alternating between tests so each CMS backend meets both): the table's change is met
by the CMS's reads and reflection, the state DB's statements (cursor, status, quarantine) the
same for every CMS.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from backend_cases import on_backends
from factories import VN
from sqlalchemy import select, text
from test_ingest_cursor_edges import Cms, bounded_tick, cms_at, pg_cms_url
from test_ingest_quarantine import COLUMNS, held
from test_ingest_recheck_store import queued, subscribed
from test_ingest_unordered import entries

from feedsvc.db import Database, schema_ingest
from feedsvc.ingest import Change, Ingestor, TickResult
from feedsvc.outbox import Outbox
from feedsvc.source import external_source
from feedsvc.store.cursors import get_cursor
from feedsvc.topic_index import TopicIndex

__all__ = ["cms_at", "pg_cms_url"]  # fixtures

BACKENDS = ["sqlite", "postgres", "mariadb"]
TS = {"sqlite": "TIMESTAMP", "postgres": "TIMESTAMP", "mariadb": "DATETIME"}
CHAT = 501


def ingestor(db: Database, cms: Cms, **columns: Any) -> Ingestor:
    ing = Ingestor(
        db,
        external_source(cms.url, "posts", COLUMNS.model_copy(update=columns), VN),
        TopicIndex(),
        tz=VN,
        poll_seconds=1,
        overlap_seconds=3600,
        batch_size=2,
    )
    ing.hooks.append(Outbox(timedelta(hours=48)))
    return ing


def tick(ing: Ingestor) -> TickResult:
    """A tick now, whatever the backoff of an earlier failure says (the test is the clock)."""
    ing.backoff.retry_at = None
    return bounded_tick(ing)


def now() -> datetime:
    return datetime.now(VN).replace(tzinfo=None, microsecond=0)


def write(cms: Cms, n: int, **extra: Any) -> None:
    """Post ``n`` dated a few minutes ago, through the columns the table has now (a column
    given as None is left out)."""
    at = now() - timedelta(minutes=30 - n)
    row: dict[str, Any] = {
        "id": n,
        "slug": f"p-{n}",
        "link": f"https://baohaiphong.vn/{n}.html",
        "title": f"Tin số {n}: Kiến Thụy",
        "created": at,
        "modified": at,
        **extra,
    }
    row = {k: v for k, v in row.items() if v is not None}
    names = ", ".join(row)
    with cms.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO posts ({names}) VALUES (:{', :'.join(row)})"), row)


def alter(cms: Cms, sql: str) -> None:
    with cms.engine.begin() as conn:
        conn.execute(text(sql))


def last_error(db: Database, ing: Ingestor) -> str | None:
    c = schema_ingest.source_cursors
    with db.read() as conn:
        stmt = select(c.c.last_error).where(c.c.name == ing.source.name)
        return conn.execute(stmt).scalar_one_or_none()


def synced(db: Database, ing: Ingestor, cms: Cms, first: Sequence[int]) -> tuple[Any, Any]:
    """The archive ``first`` stored (a first sync: no alerts); the cursor where it stands."""
    subscribed(db, CHAT)
    for n in first:
        write(cms, n)
    result = tick(ing)
    assert (result.error, result.new) == (None, len(first)), result.error
    assert queued(db) == []
    return cursor(db, ing)


def cursor(db: Database, ing: Ingestor) -> tuple[Any, Any]:
    """Where the cursor stands: its value and row id."""
    with db.read() as conn:
        found = get_cursor(conn, ing.source.name)
    return found.ts, found.id


def assert_stopped(db: Database, ing: Ingestor, result: TickResult, column: str) -> None:
    """The tick failed naming the column, quarantined nothing and stored nothing."""
    assert result.error is not None and column in result.error, result.error
    assert result.quarantined == [] and entries(db) == {}
    assert last_error(db, ing) == result.error  # what `feedsvc status` shows


@pytest.mark.parametrize(("db_url", "backend"), on_backends(BACKENDS, start=0), indirect=["db_url"])
def test_a_mapped_column_dropped_and_restored_loses_no_row(
    db: Database, cms_at: Any, backend: str
) -> None:
    cms = cms_at(backend, TS[backend])
    ing = ingestor(db, cms)
    before = synced(db, ing, cms, [1, 2, 3])
    alter(cms, "ALTER TABLE posts DROP COLUMN body")
    for n in range(4, 9):
        write(cms, n)
    result = tick(ing)
    assert_stopped(db, ing, result, "body")
    assert held(db) == ["p-1", "p-2", "p-3"] and cursor(db, ing) == before
    # the next tick reflects the table again: the mapping's own words, naming the key
    result = tick(ing)
    assert result.error is not None
    assert result.error.startswith('SourceError: source.columns.body: column "body" not in table')
    assert entries(db) == {} and cursor(db, ing) == before
    alter(cms, "ALTER TABLE posts ADD COLUMN body TEXT")
    stored: list[Sequence[Change]] = []
    ing.after_commit.append(stored.append)
    result = tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 5, [])
    assert sorted(c.article.source_key for batch in stored for c in batch) == [
        f"p-{n}" for n in range(4, 9)
    ]
    assert entries(db) == {} and last_error(db, ing) is None
    assert queued(db) == [(f"p-{n}", CHAT) for n in range(4, 9)]  # each alerted once
    assert tick(ing).new == 0 and len(queued(db)) == 5
    ing.source.dispose()


@pytest.mark.parametrize(("db_url", "backend"), on_backends(BACKENDS, start=1), indirect=["db_url"])
def test_a_column_renamed_and_renamed_back_loses_no_row(
    db: Database, cms_at: Any, backend: str
) -> None:
    """The title renamed to ``post_title`` for a while (a CMS migration rolled back): every
    row written meanwhile, under either name, is ingested once it is ``title`` again."""
    cms = cms_at(backend, TS[backend])
    ing = ingestor(db, cms)
    before = synced(db, ing, cms, [1, 2])
    alter(cms, "ALTER TABLE posts RENAME COLUMN title TO post_title")
    for n in range(3, 6):
        write(cms, n, post_title=f"Tin số {n}: Kiến Thụy", title=None)
    assert_stopped(db, ing, tick(ing), "title")
    assert cursor(db, ing) == before
    assert "source.columns.title" in (tick(ing).error or "")
    alter(cms, "ALTER TABLE posts RENAME COLUMN post_title TO title")
    write(cms, 6)
    result = tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 4, [])
    assert held(db) == [f"p-{n}" for n in range(1, 7)] and entries(db) == {}
    assert queued(db) == [(f"p-{n}", CHAT) for n in range(3, 7)]
    ing.source.dispose()


@pytest.mark.parametrize(("db_url", "backend"), on_backends(BACKENDS, start=0), indirect=["db_url"])
def test_a_default_named_column_dropped_for_good_reads_as_null(
    db: Database, cms_at: Any, backend: str
) -> None:
    """``summary`` is not named in ``[source.columns]``: its default column read while the
    table had it. Dropped for good, it reads as null from the next tick on, as after a restart
    (SPEC §3: absent columns map to null), instead of failing every tick until one."""
    cms = cms_at(backend, TS[backend])
    alter(cms, "ALTER TABLE posts ADD COLUMN summary VARCHAR(200)")
    ing = ingestor(db, cms)
    synced(db, ing, cms, [1, 2])
    alter(cms, "ALTER TABLE posts DROP COLUMN summary")
    write(cms, 3)
    write(cms, 4)
    assert_stopped(db, ing, tick(ing), "summary")
    result = tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 2, [])
    assert held(db) == ["p-1", "p-2", "p-3", "p-4"] and entries(db) == {}
    assert queued(db) == [("p-3", CHAT), ("p-4", CHAT)]
    ing.source.dispose()


@pytest.mark.parametrize(("db_url", "backend"), on_backends(BACKENDS, start=1), indirect=["db_url"])
def test_a_row_held_for_its_value_is_not_blamed_for_a_dropped_column(
    db: Database, cms_at: Any, backend: str
) -> None:
    """A row quarantined for its own value (a blank title) keeps that reason while the
    column ``visible`` reads is gone: the quarantine's re-check by id fails the tick too, and
    the row, fixed meanwhile, is taken once the column is back."""
    cms = cms_at(backend, TS[backend])
    alter(cms, "ALTER TABLE posts ADD COLUMN status VARCHAR(20)")
    ing = ingestor(db, cms, visible="status = 'publish'")
    ing.unordered_every = 0  # the re-check by id runs at every tick
    subscribed(db, CHAT)
    write(cms, 1, status="publish")
    write(cms, 2, status="publish", title="   ")
    write(cms, 3, status="publish")
    result = tick(ing)
    assert result.error is None and list(entries(db)) == ["2"]
    reason = entries(db)["2"].reason
    alter(cms, "ALTER TABLE posts DROP COLUMN status")
    alter(cms, "UPDATE posts SET title = 'Tin số 2: Kiến Thụy' WHERE id = 2")
    write(cms, 4)
    result = tick(ing)
    assert result.error is not None and "status" in result.error, result.error
    assert list(entries(db)) == ["2"] and entries(db)["2"].reason == reason
    assert held(db) == ["p-1", "p-3"]
    alter(cms, "ALTER TABLE posts ADD COLUMN status VARCHAR(20)")
    alter(cms, "UPDATE posts SET status = 'publish'")
    result = tick(ing)
    assert (result.error, result.quarantined) == (None, [])
    assert held(db) == ["p-1", "p-2", "p-3", "p-4"] and entries(db) == {}
    ing.source.dispose()
