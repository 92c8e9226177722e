"""Writes to the built-in source table (``feedsvc import`` and the demo's generator)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from feedsvc.articles import Article
from feedsvc.db.schema import source_articles as t
from feedsvc.versions import replaces


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


def _values(a: Article) -> dict[str, object]:
    return {
        "source_key": a.source_key,
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
        "withdrawn": a.withdrawn,
    }


def upsert_source_articles(
    conn: Connection, batch: Sequence[Article], now: datetime
) -> UpsertCounts:
    """Insert new keys; update a key only when its version (``updated_at``) replaces the held
    one (:func:`feedsvc.versions.replaces`: newer, or the held one far in the future).

    The last occurrence of a key within one batch wins, as it would in a file read top to bottom.
    ``changed_at`` is the ingest cursor column: it moves on insert and update only, so an
    identical re-import costs ingest nothing.
    """
    latest: dict[str, Article] = {}
    for a in batch:
        prev = latest.get(a.source_key)
        if prev is None or a.version >= prev.version:
            latest[a.source_key] = a
    counts = UpsertCounts(unchanged=len(batch) - len(latest))
    rows = conn.execute(
        select(t.c.source_key, t.c.published_at, t.c.updated_at).where(
            t.c.source_key.in_(list(latest))
        )
    ).tuples()
    existing = {key: updated or published for key, published, updated in rows}
    new_rows = []
    for key, a in latest.items():
        old_version = existing.get(key)
        if old_version is None:
            new_rows.append({**_values(a), "changed_at": now})
        elif replaces(a.version, old_version, now):
            conn.execute(
                update(t).where(t.c.source_key == key).values(**_values(a), changed_at=now)
            )
            counts.updated += 1
        else:
            counts.unchanged += 1
    if new_rows:
        conn.execute(insert(t), new_rows)
        counts.inserted += len(new_rows)
    return counts
