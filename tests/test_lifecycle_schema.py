"""Migration 0008 (article lifecycle) upgrades a database that already holds articles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import article
from sqlalchemy import inspect, select, update
from upgrades import OLD_ARTICLE, database_at, downgrade, run_sql

from feedsvc.articles import Article
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, source_articles
from feedsvc.lifecycle.visibility import Visibility
from feedsvc.matching import document_from_article, search_keys
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.lifecycle import article_visibility, is_public, public_ids

_T = "2026-11-01 08:00:00"


def _fill_at_0007(db_url: str) -> Database:
    db = database_at(db_url, "0007")
    run_sql(
        db,
        "INSERT INTO source_articles (source_key, url, title, published_at, changed_at)"
        " VALUES ('a-1', 'https://x.vn/1', 'Tin cũ', :t, :t)",
        OLD_ARTICLE,
        t=_T,
    )
    return db


def test_upgrade_keeps_articles_public_and_source_rows_published(db_url: str) -> None:
    db = _fill_at_0007(db_url)
    upgrade(db)
    with db.engine.connect() as conn:
        row = conn.execute(
            select(
                articles.c.title,
                articles.c.withdrawn_at,
                articles.c.withdrawn_reason,
                articles.c.hidden_at,
                articles.c.hidden_reason,
                articles.c.hidden_by,
            )
        ).one()
        assert tuple(row) == ("Tin cũ", None, None, None, None, None)
        assert conn.execute(select(source_articles.c.withdrawn)).scalar_one() is False
    indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("source_articles")}
    assert "ix_source_articles_published_at" in indexes
    db.dispose()


def test_downgrade_to_0007_and_back(db_url: str) -> None:
    db = _fill_at_0007(db_url)
    upgrade(db)
    downgrade(db, "0007")
    columns = {c["name"] for c in inspect(db.engine).get_columns("articles")}
    assert "hidden_at" not in columns and "withdrawn_at" not in columns
    upgrade(db)
    with db.engine.connect() as conn:
        assert conn.execute(select(articles.c.source_key)).scalars().all() == ["a-1"]
    db.dispose()


def _store(db: Database, *items: Article) -> list[int]:
    with db.write() as conn:
        rows = [
            (a, search_keys(document_from_article(a)), SourcePosition(a.published_at, a.source_key))
            for a in items
        ]
        return insert_articles(conn, rows, db.now())


def test_public_is_neither_hidden_nor_withdrawn_nor_in_the_future(db: Database) -> None:
    now = datetime.now(UTC)
    ids = _store(
        db,
        article(1, published_at=now - timedelta(hours=1)),
        article(2, published_at=now + timedelta(hours=1)),
        article(3, published_at=now - timedelta(hours=2)),
        article(4, published_at=now - timedelta(hours=3)),
        article(5, published_at=now - timedelta(hours=3)),
    )
    with db.write() as conn:
        conn.execute(update(articles).where(articles.c.id == ids[2]).values(withdrawn_at=now))
        conn.execute(update(articles).where(articles.c.id == ids[3]).values(hidden_at=now))
        conn.execute(  # hidden AND withdrawn: hidden is the reason reported
            update(articles).where(articles.c.id == ids[4]).values(hidden_at=now, withdrawn_at=now)
        )
    with db.read() as conn:
        states = [article_visibility(conn, i, now) for i in ids]
        assert states == [
            Visibility.PUBLIC, Visibility.SCHEDULED, Visibility.WITHDRAWN,
            Visibility.HIDDEN, Visibility.HIDDEN,
        ]  # fmt: skip
        assert public_ids(conn, [*ids, 10**9], now) == {ids[0]}
        assert is_public(conn, ids[0], now) and not is_public(conn, 10**9, now)
        # the scheduled one becomes public at its time, with no write
        assert public_ids(conn, ids, now + timedelta(hours=1)) == {ids[0], ids[1]}
