"""Feed snapshots over a real state DB: rendered on ingest, served from memory, shared."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
from factories import VN, article, builtin_ingestor
from sqlalchemy import event

from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.publish import FeedPublisher
from feedsvc.store.snapshots import StoredSnapshot, feed_mark, get_snapshots, put_snapshot
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, list_topics, save_topic, set_enabled
from feedsvc.web.http_cache import Snapshot, strong_etag


def setup(db: Database) -> tuple[Ingestor, FeedPublisher]:
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "Huyện cũ"), "cli", now)
    settings = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
    publisher = FeedPublisher(db, settings)
    ing = builtin_ingestor(db, overlap_seconds=60)
    ing.after_commit.append(publisher.on_ingest)
    publisher.sync()
    return ing, publisher


def publish(db: Database, ing: Ingestor, *items: object) -> None:
    with db.write() as conn:
        upsert_source_articles(conn, list(items), datetime.now(UTC))  # type: ignore[arg-type]
    assert ing.tick().error is None


def test_ingest_renders_and_serving_touches_no_db(db: Database) -> None:
    ing, pub = setup(db)
    empty = pub.snapshot("kien-thuy", "rss", 50)
    assert empty is not None and feedparser.parse(empty.body).entries == []
    publish(db, ing, article(1), article(2))
    snap = pub.snapshot("kien-thuy", "atom", 50)
    assert snap is not None and snap.etag != empty.etag
    parsed = feedparser.parse(snap.body)
    assert parsed.bozo == 0 and len(parsed.entries) == 2
    assert parsed.feed.links[0].href.startswith("https://")
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for fmt in ("rss", "atom", "json"):
        assert pub.snapshot("kien-thuy", fmt, 50) is not None
    pub.opml()
    pub.index_html()
    assert statements == []


def test_unchanged_data_keeps_bytes_and_etag(db: Database) -> None:
    ing, pub = setup(db)
    publish(db, ing, article(1))
    before = pub.snapshot("kien-thuy", "rss", 50)
    assert pub.refresh(["kien-thuy"]) == 0
    fresh = FeedPublisher(db, pub.settings)  # another replica, rendering from scratch
    fresh.refresh(["kien-thuy"])
    after = fresh.snapshot("kien-thuy", "rss", 50)
    assert before is not None and after is not None
    assert (after.body, after.etag) == (before.body, before.etag)


def test_replica_sync_and_topic_state(db: Database) -> None:
    ing, pub = setup(db)
    other = FeedPublisher(db, pub.settings)
    other.sync()
    publish(db, ing, article(1, published_at=datetime.now(VN) - timedelta(hours=1)))
    other.sync()
    mine, theirs = pub.snapshot("kien-thuy", "json", 50), other.snapshot("kien-thuy", "json", 50)
    assert mine is not None and theirs is not None and mine.etag == theirs.etag
    assert pub.snapshot("khong-co", "rss", 50) is None
    with db.write() as conn:
        set_enabled(conn, "kien-thuy", False, datetime.now(UTC))
    pub.sync()
    assert pub.snapshot("kien-thuy", "rss", 50) is None
    assert b"kien-thuy" not in pub.opml().body


def test_a_render_committed_after_a_replica_synced_is_still_picked_up(db: Database) -> None:
    _, pub = setup(db)
    other = FeedPublisher(db, pub.settings)
    # A snapshot's rendered_at is taken before its render and commits after: a replica may
    # sync in between. Here it is stamped before the replica's sync and stored after it
    # (after the render the replica serves, which a sync never replaces with older bytes).
    other.sync()
    stamped = db.now()
    other._synced_at = stamped + timedelta(seconds=2)  # the sync ran after the stamp
    body = '<rss version="2.0"><channel><title>mới</title></channel></rss>'.encode()
    late = StoredSnapshot("kien-thuy", "rss", body, strong_etag(body), stamped)
    with db.write() as conn:
        put_snapshot(conn, late, stamped)
    other.sync()
    adopted = other.snapshot("kien-thuy", "rss", 50)
    assert adopted is not None and adopted.body == body and adopted.etag == strong_etag(body)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    other.sync()  # nothing new: etags compared, no bytes fetched
    assert not any("body" in sql for sql in statements)


def test_search_and_limits(db: Database) -> None:
    ing, pub = setup(db)
    publish(
        db,
        ing,
        *(article(i) for i in range(1, 6)),
        article(9, title="Giải bóng đá", body="<p>Sân vận động.</p>", summary=None),
    )
    job = pub.search_job('"bóng đá"', "rss", 50)
    assert not isinstance(job, Snapshot)  # not cached: a render job, run in the thread pool
    found = feedparser.parse(job().body)
    cached = pub.search_job('"bóng đá"', "rss", 50)
    assert isinstance(cached, Snapshot) and feedparser.parse(cached.body) == found
    assert [e.title for e in found.entries] == ["Giải bóng đá"]
    limited = pub.snapshot("kien-thuy", "rss", 2)
    assert limited is not None and len(feedparser.parse(limited.body).entries) == 2


def test_an_empty_topic_feed_dates_from_the_topic_definition(db: Database) -> None:
    """Not 1970: from its first render after the topic was defined (when its stored bytes last
    changed, ``publish.metas.topic_feed_dated``), never before the definition."""
    _, pub = setup(db)
    with db.read() as conn:
        (topic,) = list_topics(conn)
        stored = feed_mark(conn, "kien-thuy", "json")
    assert stored is not None and stored.rendered_at >= topic.updated_at
    defined = stored.rendered_at.timetuple()[:6]
    for fmt in ("rss", "atom"):
        snap = pub.snapshot("kien-thuy", fmt, 50)
        assert snap is not None
        parsed = feedparser.parse(snap.body)
        assert parsed.bozo == 0 and parsed.entries == []
        assert parsed.feed.updated_parsed[:6] == defined  # not 1970
    again = FeedPublisher(
        db, load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
    )
    again.sync()
    rendered = again.snapshot("kien-thuy", "atom", 10)  # a fresh render: the same date
    assert rendered is not None
    assert feedparser.parse(rendered.body).feed.updated_parsed[:6] == defined


def test_a_topics_snapshots_are_stored_in_one_write_transaction(db: Database) -> None:
    """Four snapshots per topic each in its own write transaction were most of a 5,000-topic
    start-up render (a commit each): now one per topic, plus the index page's."""
    now = datetime.now(UTC)
    with db.write() as conn:
        for i in range(4):
            save_topic(conn, TopicSpec(f"t{i}", f"T{i}", f'"kiến thụy {i}"'), "cli", now)
    settings = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
    publisher = FeedPublisher(db, settings)
    opened: list[str] = []
    write = db.write

    def counted() -> object:
        opened.append("write")
        return write()

    db.write = counted  # type: ignore[method-assign]
    try:
        publisher.sync()  # the first sync: every topic, every format, all new
    finally:
        db.write = write  # type: ignore[method-assign]
    # a transaction per topic, one for the index page, one for the watermark (warm_start),
    # one each for the rendering settings' digests (a first start's, or another settings':
    # the on-demand feeds' date and their page's, ``serving.RENDERING_KEY``,
    # ``serving.PAGE_RENDERING_KEY``)
    assert len(opened) == 4 + 1 + 1 + 2, opened
    with db.read() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM feed_snapshots").scalar()
    # rss, atom, json and the html page per topic, all stored, the index page, the OPML and
    # the rendering settings' two digests
    assert stored == 4 * 4 + 1 + 1 + 2


def test_a_sync_never_serves_stored_bytes_older_than_its_own_render(db: Database) -> None:
    """A sync reads the stored snapshots, then adopts them under the render lock; a render
    here in between (ingest's) is newer than what it read and is kept."""
    ing, pub = setup(db)
    with db.read() as conn:
        (read_before,) = get_snapshots(conn, [("kien-thuy", "rss")])
    publish(db, ing, article(1))  # renders kien-thuy here, after that read
    rendered = pub.snapshot("kien-thuy", "rss", 50)
    assert rendered is not None and rendered.etag != read_before.etag
    pub._adopt([read_before])
    assert pub.snapshot("kien-thuy", "rss", 50) == rendered
    later = replace(read_before, last_modified=rendered.last_modified + timedelta(seconds=1))
    pub._adopt([later])  # another replica's later render is served
    assert pub.snapshot("kien-thuy", "rss", 50).etag == read_before.etag  # type: ignore[union-attr]
