"""Migration 0037: stored articles holding ``ʼ`` (U+02BC) or its kin are found by archive search
after ``db upgrade``, not only once a new version of them is ingested.

``Kiếnʼ Thụy`` reads "kiến thụy" since ``matching/letters.py`` made those apostrophes separate
syllables; an article stored before kept keys of the old reading (``kiếnʼ``) in
``articles.search_text``, so ``topics preview``, search feeds and backfill (candidates from the
search index, then the matcher) missed it. The upgrade recomputes those rows' keys, in batches,
and leaves every other row as it was; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

from sqlalchemy import select, text
from upgrades import database_at, run_sql

from feedsvc.db import upgrade
from feedsvc.db.schema import articles
from feedsvc.matching import document_from_text, search_keys
from feedsvc.preview import preview

T = "2026-11-30 10:00:00"
INSERT = (
    "INSERT INTO articles (source_key, version, url, title, summary, body, author, tags,"
    " published_at, search_text, source_cursor, first_seen_at, last_changed_at) VALUES"
    " (:k, :t, :u, :title, :summary, :body, :author, :tags, :t, :old, :t, :t, :t)"
)
#: what ingest writes beside its rows on SQLite (``store.articles.insert_articles``)
SQLITE_INDEX = (
    "INSERT INTO articles_search(rowid, search_text) SELECT id, search_text FROM articles"
)
#: source key -> (title, summary, body, author, tags), each holding an apostrophe letter once
AFFECTED = {
    "a-title": ("Tin Kiếnʼ Thụy", None, None, None, []),
    "a-glued": ("Tin", None, "<p>Huyện KiếnꞌThụy mưa lớn</p>", None, []),  # U+A78C
    "a-summary": ("Tin", "Mưa ở Kiếnʻ Thụy", None, None, []),  # U+02BB
    "a-tag": ("Tin", None, None, None, ["Kiếnʼ Thụy"]),  # stored as JSON: "\u02bc"
    "a-author": ("Tin", None, None, "Kiếnʼ Thụy", []),
}
#: what an older feedsvc stored for them: the apostrophe glued to the syllable
OLD_KEYS = "tin kiênʼ1 kiênʼ thuy5 thuy"


def _row(key: str, title: str, summary: str | None, body: str | None, author: str | None,
         tags: list[str], old: str) -> dict[str, object]:  # fmt: skip
    return {
        "k": key, "u": f"https://x.vn/{key}", "title": title, "summary": summary, "body": body,
        "author": author, "tags": json.dumps(tags), "old": old, "t": T,
    }  # fmt: skip


def test_upgrade_makes_stored_articles_with_apostrophe_letters_searchable(db_url: str) -> None:
    db = database_at(db_url, "0036")
    try:
        rows = [_row(k, *v, old=OLD_KEYS) for k, v in AFFECTED.items()]
        # untouched: no apostrophe letter (its keys, even stale, are not this migration's)
        rows.append(_row("plain", "Kiến Thụy", None, None, None, [], old="stale"))
        rows.append(_row("apostrophe", "Kiến' Thụy", None, None, None, [], old="stale2"))
        # more than two batches (500) of affected rows, read by id
        rows += [
            _row(f"b-{n}", "Tin", None, "Đê Kiếnʼ Thụy", None, [], OLD_KEYS) for n in range(1100)
        ]
        run_sql(db, INSERT, **rows[0])
        with db.engine.begin() as conn:
            conn.execute(text(INSERT), rows[1:])
            if conn.dialect.name == "sqlite":  # the index rows ingest wrote with the old keys
                conn.execute(text(SQLITE_INDEX))
        upgrade(db)
        assert (
            preview(db, '"Kiến Thụy"', scan=5000, samples=0).count == 3 + 1100
        )  # title, body, summary
        assert preview(db, 'title:"Kiến Thụy"', samples=0).count == 1  # a-title ("plain": stale)
        assert preview(db, 'tag:"Kiến Thụy"', samples=0).count == 1
        assert preview(db, 'author:"Kiến Thụy"', samples=0).count == 1
        with db.read() as conn:
            stored = dict(conn.execute(select(articles.c.source_key, articles.c.search_text)).all())
        assert stored["plain"] == "stale" and stored["apostrophe"] == "stale2"
        for key, (title, summary, body, author, tags) in AFFECTED.items():
            doc = document_from_text(title, body or "", tags=tags, summary=summary, author=author)
            assert stored[key] == search_keys(doc), key
    finally:
        db.dispose()
