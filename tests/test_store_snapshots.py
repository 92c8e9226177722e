"""Feed snapshot storage: change detection, and replicas storing the same new feed at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from feedsvc.db import Database
from feedsvc.db.schema_service import feed_snapshots
from feedsvc.store.snapshots import StoredSnapshot, get_snapshots, put_many, put_snapshot

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def snap(body: bytes, etag: str) -> StoredSnapshot:
    return StoredSnapshot("kien-thuy", "rss", body, etag, NOW)


def test_put_reports_changes_only(db: Database) -> None:
    with db.write() as conn:
        assert put_snapshot(conn, snap(b"a", '"a"'), NOW) is True
        assert put_snapshot(conn, snap(b"a", '"a"'), NOW) is False
        assert put_snapshot(conn, snap(b"b", '"b"'), NOW) is True
    with db.read() as conn:
        assert [(s.body, s.etag) for s in get_snapshots(conn)] == [(b"b", '"b"')]


def test_replicas_storing_the_same_new_feed_concurrently(db: Database) -> None:
    """Both transactions start before either commits; neither may fail (it did, with a
    select-then-insert, when replicas started together)."""
    started = threading.Barrier(2)
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            with db.engine.connect() as conn, conn.begin():
                started.wait(timeout=10)
                put_snapshot(conn, snap(b"same", '"same"'), NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(feed_snapshots)).scalar_one() == 1


def test_put_many_writes_new_and_changed_rows_and_leaves_the_same_bytes(db: Database) -> None:
    """The index's pages in one statement: new rows inserted, changed ones replaced, a row
    with the same ETag left with its old ``rendered_at`` (a replica compares those)."""
    later = NOW.replace(hour=11)

    def page(slug: str, body: bytes) -> StoredSnapshot:
        return StoredSnapshot(slug, "html", body, f'"{body.decode()}"', NOW)

    with db.write() as conn:
        put_many(conn, [page("_index", b"p1"), page("_index/2", b"p2")], NOW)
    with db.write() as conn:
        put_many(conn, [], later)
        put_many(
            conn, [page("_index", b"p1"), page("_index/2", b"q2"), page("_index/3", b"q3")], later
        )
    with db.read() as conn:
        stored = {s.slug: s.body for s in get_snapshots(conn)}
        rows = conn.execute(select(feed_snapshots.c.topic_slug, feed_snapshots.c.rendered_at))
        times = {slug: at for slug, at in rows}
    assert stored == {"_index": b"p1", "_index/2": b"q2", "_index/3": b"q3"}
    assert times == {"_index": NOW, "_index/2": later, "_index/3": later}
