"""The draft re-check's state-DB reads (:mod:`feedsvc.lifecycle.published`) on a million-row
archive: ``store.drafts.held_drafts`` for each age band, on SQLite and PostgreSQL.

The archive holds N articles, one every 30 s back from now (~a year at a million), one in 200 a
draft (``withdrawn_reason = 'draft'``: 5,000 at a million). Each band's first slice is read 20
times; the mean is printed. Goal: the every-tick band in milliseconds, the hourly one well
under a second, whatever the archive's size (the ``published_at`` index bounds each read).

    python bench/published.py [--size 1000000] [--url sqlite:////tmp/x.db | postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from feedsvc.db import Database
from feedsvc.db.revision import ensure_schema
from feedsvc.db.schema import articles
from feedsvc.lifecycle.published import BANDS, LOOKUP
from feedsvc.store.drafts import held_drafts


def fill(db: Database, size: int, now: datetime) -> None:
    rows = []
    with db.write() as conn:
        for i in range(size):
            at = now - timedelta(seconds=i * 30)
            draft = i % 200 == 0
            rows.append({
                "source_key": f"k{i}", "version": at, "url": "u", "title": "t", "tags": [],
                "published_at": at, "search_text": "", "source_cursor": at, "source_id": str(i),
                "first_seen_at": at, "last_changed_at": at,
                "withdrawn_at": at if draft else None,
                "withdrawn_reason": "draft" if draft else None,
            })  # fmt: skip
            if len(rows) == 20_000 or i == size - 1:
                conn.execute(insert(articles), rows)
                rows = []
        if db.dialect == "postgresql":
            conn.execute(text("ANALYZE articles"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--url", required=True, help="an empty state DB")
    args = parser.parse_args()
    db = Database(args.url)
    ensure_schema(db)
    now = datetime.now(UTC).replace(microsecond=0)
    fill(db, args.size, now)
    for band in BANDS:
        oldest = min(band.oldest, timedelta(days=7))
        span = (now - oldest, now - band.newest)
        t0 = time.perf_counter()
        for _ in range(20):
            with db.read() as conn:
                found = held_drafts(conn, "draft", span, None, LOOKUP)
        took = (time.perf_counter() - t0) / 20 * 1000
        print(f"{db.dialect} band {band.newest}..{oldest}: {len(found)} drafts, {took:.1f} ms")


if __name__ == "__main__":
    main()
