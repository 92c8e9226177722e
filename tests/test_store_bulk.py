"""Articles inserted through the driver's executemany (``store.bulk.BulkInsert``, issue 17 §2)
are stored exactly as SQLAlchemy's own insert stores them, column by column, on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from factories import article
from sqlalchemy import Dialect, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.store.articles import SourcePosition, insert_articles, row_to_article
from feedsvc.store.bulk import BulkInsert

ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 30, 6, 1, 2, tzinfo=UTC)  # a whole second: no microseconds to write
CASES = [
    article(1),
    article(2, published_at=datetime(2026, 11, 30, 13, 0, tzinfo=ICT), tags=()),
    article(
        3,
        updated_at=datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=ICT),
        summary=None,
        body=None,
        author=None,
        section=None,
        image_url="/anh/1.jpg",
        tags=("Kiến Thụy", 'công "an"'),
    ),
    article(4, withdrawn=True),
]
SKIPPED = {"id", "source_key"}  # the id is the database's, the key differs on purpose


def _reference(a: Article, n: int) -> dict[str, object]:
    """The row SQLAlchemy's insert would write for ``a`` (seen at ``n``), under another key."""
    return {
        "source_key": f"REF-{a.source_key}",
        "version": a.version,
        "url": a.url,
        "title": a.title,
        "summary": a.summary,
        "body": a.body,
        "author": a.author,
        "section": a.section,
        "tags": list(a.tags),
        "image_url": a.image_url,
        "published_at": a.published_at,
        "updated_at": a.updated_at,
        "search_text": f"keys {n}",
        "source_cursor": NOW - timedelta(seconds=n),
        "source_id": str(n),
        "first_seen_at": NOW,
        "last_changed_at": NOW,
        "withdrawn_at": NOW if a.withdrawn else None,
        "withdrawn_reason": "draft" if a.withdrawn else None,
    }


def _stored_text(db: Database) -> dict[str, dict[str, object]]:
    """Every article's columns as the database's own text, by source key."""
    names = [c.name for c in articles.c if c.name not in SKIPPED]
    casts = ", ".join(f"CAST({name} AS TEXT)" for name in names)
    with db.read() as conn:
        rows = conn.exec_driver_sql(f"SELECT source_key, {casts} FROM articles").all()
    return {key: dict(zip(names, values, strict=True)) for key, *values in rows}


def test_inserted_articles_are_stored_as_sqlalchemy_stores_them(db: Database) -> None:
    rows = [
        (a, f"keys {n}", SourcePosition(NOW - timedelta(seconds=n), str(n)))
        for n, a in enumerate(CASES)
    ]
    with db.write() as conn:
        ids = insert_articles(conn, rows, NOW, withdraw_reason="draft")
        conn.execute(insert(articles), [_reference(a, n) for n, a in enumerate(CASES)])
    stored = _stored_text(db)
    for a in CASES:
        assert stored[a.source_key] == stored[f"REF-{a.source_key}"], a.source_key
    with db.read() as conn:
        back = conn.execute(select(articles).where(articles.c.id.in_(ids)).order_by(articles.c.id))
        # as read back (``withdrawn`` is a column of its own, not read into the record here)
        assert [row_to_article(r) for r in back] == [replace(a, withdrawn=False) for a in CASES]


def test_columns_in_another_order_than_the_tables(db: Database) -> None:
    """Positional drivers get each row's values in the compiled statement's order."""
    names = ("title", "url", "last_changed_at", "source_key", "version", "published_at")
    names += ("tags", "search_text", "source_cursor", "first_seen_at")
    bulk = BulkInsert(articles, names)
    with db.write() as conn:
        bulk.execute(conn, [("Tin", "https://a.vn/", NOW, "K1", NOW, NOW, ["x"], "k", NOW, NOW)])
        bulk.execute(conn, [])  # nothing to write: no statement
    with db.read() as conn:
        row = conn.execute(select(articles.c.title, articles.c.url, articles.c.tags)).one()
    assert tuple(row) == ("Tin", "https://a.vn/", ["x"])


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_a_column_default_must_be_given(dialect: Dialect) -> None:
    """``search_text`` has a Python-side default, which a driver-level insert would not apply."""
    bulk = BulkInsert(articles, ("source_key", "url", "title", "tags", "version"))
    with pytest.raises(ValueError, match="search_text"):
        bulk._for(dialect)  # the statement as compiled for that dialect
