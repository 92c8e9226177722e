"""Migration 0041 (``source_key_nfc``) on a state DB that holds data, SQLite and PostgreSQL:
every existing key stored in another Unicode form than NFC (an ingested article, a hide waiting
for ingest, a row of the built-in table) gets its NFC in the new column, every NFC or ASCII key
NULL, the keys themselves untouched; after the upgrade an editor's composed key finds each of
them, and an ingest applies the waiting hide to the article arriving composed. The downgrade
drops the columns and keeps the rows; upgrading again fills them again."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from factories import article, builtin_ingestor
from sqlalchemy import Table, inspect, select
from upgrades import OLD_ARTICLE, database_at, downgrade, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, pending_hides, source_articles
from feedsvc.lifecycle.editors import find_articles, hide_article
from feedsvc.store.lifecycle import editor_state
from feedsvc.store.source_articles import upsert_source_articles

NFC = unicodedata.normalize("NFC", "Tin-Kiến-Thụy-42")
NFD = unicodedata.normalize("NFD", NFC)
WAITING = unicodedata.normalize("NFD", "Lệnh-toà-7")  # a hide recorded ahead, decomposed
SOURCE = unicodedata.normalize("NFD", "Tin-Đồ-Sơn-3")  # a built-in table's row, decomposed
T = "2026-11-01 08:00:00"


def _fill(db_url: str) -> Database:
    db = database_at(db_url, "0040")
    run_sql(
        db,
        OLD_ARTICLE,
        OLD_ARTICLE.replace("'a-1'", ":k").replace("/1'", "/2'"),
        OLD_ARTICLE.replace("'a-1'", ":c").replace("/1'", "/3'"),
        "INSERT INTO pending_hides (source_key, reason, hidden_by, hidden_at)"
        " VALUES (:w, 'lệnh toà', 'cli', :t)",
        "INSERT INTO source_articles (source_key, url, title, published_at, changed_at)"
        " VALUES (:s, 'https://x.vn/4', 'Tin', :t, :t)",
        t=T, k=NFD, c="Đà-Nẵng-1", w=WAITING, s=SOURCE,
    )  # fmt: skip
    return db


def columns(db: Database, table: Table) -> list[tuple[str, str | None]]:
    with db.engine.connect() as conn:
        stmt = select(table.c.source_key, table.c.source_key_nfc)
        return sorted(conn.execute(stmt).tuples().all())


def test_upgrade_to_0041_fills_the_nfc_of_keys_stored_in_another_form(db_url: str) -> None:
    db = _fill(db_url)
    try:
        upgrade(db)
        assert columns(db, articles) == sorted([("a-1", None), (NFD, NFC), ("Đà-Nẵng-1", None)])
        assert columns(db, pending_hides) == [(WAITING, unicodedata.normalize("NFC", WAITING))]
        assert columns(db, source_articles) == [(SOURCE, unicodedata.normalize("NFC", SOURCE))]
        now = datetime.now(UTC).replace(microsecond=0)
        db.now = lambda: now  # type: ignore[method-assign]
        hidden = hide_article(db, NFC, "gỡ", "cli")
        assert (hidden.source_key, hidden.typed_as, hidden.pending) == (NFD, NFC, False)
        typed = unicodedata.normalize("NFC", WAITING)
        waiting = find_articles(db, typed)
        assert [(a.source_key, a.pending) for a in waiting] == [(WAITING, True)]
        with db.write() as conn:  # the CMS's row arrives composed
            upsert_source_articles(conn, [article(5, source_key=typed, published_at=now)], now)
        assert builtin_ingestor(db).tick().error is None
        with db.read() as conn:
            held = editor_state(conn, typed)
            assert held is not None and held.hidden_reason == "lệnh toà"
            assert conn.execute(select(pending_hides.c.source_key)).all() == []
        downgrade(db, "0040")
        for name in ("articles", "pending_hides", "source_articles"):
            names = [c["name"] for c in inspect(db.engine).get_columns(name)]
            assert "source_key_nfc" not in names
        with db.engine.connect() as conn:
            assert len(conn.execute(select(articles.c.id)).all()) == 5
        upgrade(db)
        assert columns(db, articles) == sorted(
            [
                ("a-1", None),
                (NFD, NFC),
                ("Đà-Nẵng-1", None),
                (typed, None),
                (SOURCE, unicodedata.normalize("NFC", SOURCE)),
            ]
        )
    finally:
        db.dispose()
