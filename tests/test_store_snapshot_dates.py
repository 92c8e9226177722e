"""The dates a stored feed version gets: its Last-Modified a later whole second than the version
it replaces (HTTP dates have one-second resolution, so a reader polling with only
If-Modified-Since that held the first version's date was answered 304 for the second), even when
another process stores it; the same bytes keep their dates; ``rendered_at`` (when the bytes last
changed) never goes back; a put told which row its render read stores nothing once that row
changed (``feedsvc.store.snapshots``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from feedsvc.db import Database
from feedsvc.db.schema_service import feed_snapshots as t
from feedsvc.store.snapshots import StoredSnapshot, get_snapshots, put_many, put_snapshot

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SOON = NOW + timedelta(milliseconds=300)  # the same second


def snap(body: bytes, slug: str = "kien-thuy", fmt: str = "rss") -> StoredSnapshot:
    return StoredSnapshot(slug, fmt, body, f'"{body.decode()}"', NOW)


def dates(db: Database) -> dict[tuple[str, str], tuple[datetime, datetime]]:
    """(slug, format) → (last_modified, rendered_at) of every stored row."""
    stmt = select(t.c.topic_slug, t.c.format, t.c.last_modified, t.c.rendered_at)
    with db.read() as conn:
        return {(slug, fmt): (lm, at) for slug, fmt, lm, at in conn.execute(stmt)}


KEY = ("kien-thuy", "rss")


def test_each_version_in_one_second_gets_the_next_second(db: Database) -> None:
    seen = []
    for body, at in ((b"a", NOW), (b"b", SOON), (b"c", SOON), (b"c", SOON + timedelta(seconds=5))):
        with db.write() as conn:
            put_snapshot(conn, snap(body), at)
        seen.append(dates(db)[KEY])
    assert seen == [
        (NOW, NOW),
        (NOW + timedelta(seconds=1), SOON),  # a second after the first's, ahead of the clock
        (NOW + timedelta(seconds=2), SOON),
        (NOW + timedelta(seconds=2), SOON),  # the same bytes: dated as they were
    ]
    with db.write() as conn:
        put_snapshot(conn, snap(b"d"), NOW + timedelta(seconds=9))  # a later second: its own
    assert dates(db)[KEY] == (NOW + timedelta(seconds=9), NOW + timedelta(seconds=9))


def test_a_version_rendered_on_a_clock_behind_is_still_dated_after(db: Database) -> None:
    """A replica whose render began before the stored one's (or whose clock is behind)."""
    with db.write() as conn:
        put_snapshot(conn, snap(b"a"), NOW)
    with db.write() as conn:
        assert put_snapshot(conn, snap(b"b"), NOW - timedelta(minutes=1)) is True
    assert dates(db)[KEY] == (NOW + timedelta(seconds=1), NOW)


def test_put_many_dates_each_row_by_its_own_predecessor(db: Database) -> None:
    with db.write() as conn:
        put_many(conn, [snap(b"p1", "_index", "html"), snap(b"p2", "_index/2", "html")], NOW)
    with db.write() as conn:
        put_many(conn, [snap(b"p1", "_index", "html"), snap(b"q2", "_index/2", "html"),
                        snap(b"q3", "_index/3", "html")], SOON)  # fmt: skip
    assert dates(db) == {
        ("_index", "html"): (NOW, NOW),
        ("_index/2", "html"): (NOW + timedelta(seconds=1), SOON),
        ("_index/3", "html"): (SOON, SOON),
    }


def test_what_a_put_kept_and_a_put_expecting_a_changed_row(db: Database) -> None:
    from feedsvc.store.snapshots import (
        Kept,
        Mark,
        SnapshotConflict,
        feed_mark,
        put_rows,
        put_snapshots,
    )

    with db.write() as conn:
        assert put_rows(conn, [snap(b"a")], NOW) == {KEY: Kept(NOW, NOW, True)}
        assert put_rows(conn, [snap(b"a")], SOON) == {KEY: Kept(NOW, NOW, False)}
    with db.read() as conn:
        read = feed_mark(conn, *KEY)
        assert read == Mark('"a"', NOW) and feed_mark(conn, "kien-thuy", "json") is None
    with db.write() as conn:  # another process stores the feed after this render read it
        put_rows(conn, [snap(b"b")], NOW + timedelta(seconds=3))
    html = snap(b"p", fmt="html")
    with pytest.raises(SnapshotConflict), db.write() as conn:
        put_snapshots(conn, [html, snap(b"c")], SOON, ("rss", read))
    with pytest.raises(SnapshotConflict), db.write() as conn:  # read as there: it is not
        put_snapshots(conn, [html], SOON, ("json", Mark('"x"', NOW)))
    with db.read() as conn:
        assert [(s.fmt, s.body) for s in get_snapshots(conn)] == [("rss", b"b")]
    with db.write() as conn:  # as read now: stored
        now_read = Mark('"b"', NOW + timedelta(seconds=3))
        kept = put_snapshots(conn, [html], SOON, ("rss", now_read))
    assert kept == {"html": Kept(SOON, SOON, True)}


def test_replicas_storing_new_versions_at_once_get_a_second_each(pg_db: Database) -> None:
    """Two processes store other bytes for one feed in the same second, both transactions open
    before either writes: the second waits for the first's row and dates its version a second
    after it (with one upsert each, both were dated that second)."""
    with pg_db.write() as conn:
        put_snapshot(conn, snap(b"a"), NOW)
    started = threading.Barrier(2)
    errors: list[BaseException] = []

    def replica(body: bytes) -> None:
        try:
            with pg_db.write() as conn:
                conn.execute(select(1))
                started.wait(timeout=10)
                put_snapshot(conn, snap(body), SOON)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(body,)) for body in (b"b", b"c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert dates(pg_db)[KEY] == (NOW + timedelta(seconds=2), SOON)
