"""A restart serves the stored feeds at once and renders first only what changed since
(``feedsvc.warm_start``), on SQLite and PostgreSQL: never a takedown, never another topic list,
other settings or a topic's old definition; the rest rendered again in the background.

How an edit takes an article out of a topic is given one state DB backend, rotating
(``backend_cases.on_backends``): every way removes the article's match row by the same
statements; the test keeps a PostgreSQL case."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from backend_cases import on_backends
from factories import article, builtin_ingestor
from in_process import feedsvc as in_process
from processes import answers_ok, free_port, get, start_feedsvc, wait_until
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import OperationalError
from upgrades import database_at

import feedsvc
from feedsvc.config import Settings, load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, topics
from feedsvc.db.schema_service import feed_snapshots, feed_watermark
from feedsvc.lifecycle.editors import hide_article
from feedsvc.publish import INDEX_SLUG, SNAPSHOT_TYPES, FeedPublisher, render_topic_feed
from feedsvc.publish.index_pages import page_slug
from feedsvc.publish.warm_start import (
    OVERLAP,
    Evidence,
    RenderedThrough,
    StartPlan,
    fingerprint,
    plan_start,
    topics_digest,
)
from feedsvc.store.lifecycle import set_hidden
from feedsvc.store.records import Topic
from feedsvc.store.snapshots import StoredWatermark, get_watermark
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, delete_topic, save_topic, set_enabled
from feedsvc.store.withdrawals import withdraw_deleted

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FORMATS = frozenset(SNAPSHOT_TYPES)
SLUGS = ("an-ninh", "kien-thuy", "do-son")
HOURS_2 = timedelta(hours=2)


def settings(**site: str) -> Settings:
    return load_config(None, {"http": {"public_url": "https://feeds.example.vn"}, "site": site})


# -- the plan (pure) -------------------------------------------------------------------------
Stored = dict[str, tuple[frozenset[str], datetime]]


def topic(i: int, slug: str, updated: datetime = NOW - HOURS_2, on: bool = True) -> Topic:
    return Topic(i, slug, slug.title(), "", f'"{slug}"', on, "cli", updated)


def plan(
    topic_list: list[Topic],
    stored: Stored,
    mark: StoredWatermark | None,
    changed: AbstractSet[int] = frozenset(),
    showing: AbstractSet[str] = frozenset(),
    index_showing: bool = False,
    started: datetime = NOW + timedelta(minutes=1),
) -> StartPlan:
    seen = Evidence(stored, mark, changed, showing, index_showing, started)
    return plan_start(
        {t.slug: t for t in topic_list}, seen,
        formats=FORMATS, settings_print="print", index_slug=INDEX_SLUG,
    )  # fmt: skip


def stored_all(*slugs: str, at: datetime = NOW - timedelta(hours=1)) -> Stored:
    return {s: (FORMATS, at) for s in (*slugs, INDEX_SLUG)}


def test_the_plan_adopts_only_what_nothing_changed() -> None:
    ts = [topic(1, "a"), topic(2, "b", updated=NOW), topic(3, "c"), topic(4, "d"), topic(5, "e")]
    stored = stored_all("a", "b", "c", "e")
    stored["c"] = (FORMATS - {"html"}, NOW - timedelta(hours=1))  # a render stopped midway
    mark = StoredWatermark(NOW, "print", topics_digest(ts))
    p = plan(ts, stored, mark, changed={5})
    assert (p.urgent, p.adopted, p.index, p.reason) == ({"b", "c", "d", "e"}, {"a"}, True, "")


def test_a_topic_edited_just_before_its_render_is_rendered_again() -> None:
    """``updated_at`` within the overlap before the render and the watermark: the edit may have
    committed after them."""
    rendered = NOW - timedelta(hours=1)
    ts = [topic(1, "a", updated=rendered - OVERLAP + timedelta(seconds=1))]
    mark = StoredWatermark(rendered, "print", topics_digest(ts))
    assert plan(ts, stored_all("a", at=rendered), mark).urgent == {"a"}
    ts = [topic(1, "a", updated=rendered - OVERLAP - timedelta(seconds=1))]
    mark = StoredWatermark(rendered, "print", topics_digest(ts))
    assert plan(ts, stored_all("a", at=rendered), mark).urgent == set()


def test_an_edit_that_left_the_bytes_alone_is_shown_once_the_watermark_passed_it() -> None:
    """A disabled topic's feed bytes do not change, so its ``rendered_at`` stays older than the
    edit; the watermark says every edit before it was rendered (a disabled topic was rendered
    before every start, for good: 4.7 s at 1,000 of 2,000 topics)."""
    rendered, edited = NOW - HOURS_2, NOW - timedelta(hours=1)
    ts = [topic(1, "a", updated=edited, on=False)]
    mark = StoredWatermark(NOW, "print", topics_digest(ts))
    assert plan(ts, stored_all("a", at=rendered), mark).urgent == set()
    behind = StoredWatermark(edited, "print", topics_digest(ts))
    assert plan(ts, stored_all("a", at=rendered), behind).urgent == {"a"}


def test_a_stored_feed_showing_an_unpublic_article_renders_first_whatever_the_clocks() -> None:
    ts = [topic(1, "a"), topic(2, "b")]
    mark = StoredWatermark(NOW, "print", topics_digest(ts))
    p = plan(ts, stored_all("a", "b"), mark, showing={"b", "gone"})
    assert (p.urgent, p.index) == ({"b"}, True)
    assert plan(ts, stored_all("a", "b"), mark, index_showing=True).index is True


def test_a_stored_feed_listing_an_article_written_since_the_watermark_renders_first() -> None:
    """No match row names the topic an edit took the article out of: its stored feed does."""
    ts = [topic(1, "a"), topic(2, "b")]
    mark = StoredWatermark(NOW, "print", topics_digest(ts))
    seen = Evidence(stored_all("a", "b"), mark, set(), set(), False, NOW, listing={"a", "x"})
    p = plan_start({t.slug: t for t in ts}, seen, formats=FORMATS, settings_print="print",
                   index_slug=INDEX_SLUG)  # fmt: skip
    assert (p.urgent, p.adopted, p.index, p.takedowns) == ({"a"}, {"b"}, True, 0)


@pytest.mark.parametrize(
    ("mark", "reason"),
    [
        (None, "nothing records what the stored renders show"),
        (StoredWatermark(NOW, "other", ""), "the settings or the feedsvc version changed"),
        (StoredWatermark(NOW + HOURS_2, "print", ""), "dated after now: the clock moved back"),
    ],
    ids=["none", "other settings", "from the future"],
)
def test_without_a_trustworthy_watermark_everything_renders(
    mark: StoredWatermark | None, reason: str
) -> None:
    ts = [topic(1, "a"), topic(2, "b")]
    p = plan(ts, stored_all("a", "b"), mark)
    assert (p.urgent, p.adopted, p.index) == ({"a", "b"}, set(), True)
    assert reason in p.reason and reason in p.describe()


def test_the_index_page_renders_first_when_the_topic_list_changed() -> None:
    ts = [topic(1, "a"), topic(2, "b")]
    same = StoredWatermark(NOW, "print", topics_digest(ts))
    assert plan(ts, stored_all("a", "b"), same).index is False
    deleted = StoredWatermark(NOW, "print", topics_digest([*ts, topic(3, "c")]))
    assert plan(ts, stored_all("a", "b", "c"), deleted).index is True
    disabled = StoredWatermark(NOW, "print", topics_digest([ts[0], topic(2, "b", on=False)]))
    assert plan(ts, stored_all("a", "b"), disabled).index is True
    no_index = stored_all("a", "b")
    del no_index[INDEX_SLUG]
    assert plan(ts, no_index, same).index is True


def test_the_fingerprint_follows_what_renders_read(monkeypatch: pytest.MonkeyPatch) -> None:
    base = fingerprint(settings())
    assert fingerprint(settings()) == base
    assert fingerprint(settings(title="Báo khác")) != base
    other_url = load_config(None, {"http": {"public_url": "https://tin.example.vn"}})
    assert fingerprint(other_url) != base
    monkeypatch.setattr(feedsvc, "__version__", "99.0.0")
    assert fingerprint(settings()) != base


def test_rendered_through_waits_for_renders_in_flight() -> None:
    through = RenderedThrough()
    assert through.through(NOW) == NOW
    token = through.begin(NOW - timedelta(seconds=5))
    other = through.begin(NOW - timedelta(seconds=2))
    assert through.through(NOW) == NOW - timedelta(seconds=5) - OVERLAP
    through.end(token)
    assert through.through(NOW) == NOW - timedelta(seconds=2) - OVERLAP
    through.end(other)
    assert through.through(NOW) == NOW
    assert through.due(NOW)
    through.written = NOW
    assert not through.due(NOW + timedelta(seconds=59))
    assert through.due(NOW + timedelta(seconds=60))


# -- restarts over a real state DB -----------------------------------------------------------
def world(db: Database) -> FeedPublisher:
    """Three topics, two articles each (one shared), ingested two hours ago, rendered by a
    publisher as the last process did; returns that (stopped) publisher."""
    now = datetime.now(UTC)
    with db.write() as conn:
        for slug, place in zip(SLUGS, ("Công an", "Kiến Thụy", "Đồ Sơn"), strict=True):
            save_topic(conn, TopicSpec(slug, place, f'"{place}"'), "cli", now)
        plain = {"summary": None, "body": "<p>Tin trong ngày.</p>", "tags": (), "section": None}
        upsert_source_articles(conn, [
            article(1, title="Công an Kiến Thụy tuần tra", **plain),
            article(2, title="Công an Đồ Sơn giữ an ninh", **plain),
            article(3, title="Kiến Thụy và Đồ Sơn mở đường mới", **plain),
        ], now)  # fmt: skip
    ing = builtin_ingestor(db, overlap_seconds=60)
    assert ing.tick().error is None
    past = now - timedelta(hours=2)
    with db.write() as conn:
        conn.execute(update(articles).values(last_changed_at=past, first_seen_at=past))
        conn.execute(update(topics).values(updated_at=past))
    last = FeedPublisher(db, settings())
    last.sync()
    return last


def renders_of(pub: FeedPublisher) -> list[str]:
    """Record the topics ``pub`` renders."""
    seen: list[str] = []
    render = pub._render_feeds

    def counted(topic: Topic, items: list[object], *dating: Any) -> dict[str, bytes]:
        seen.append(topic.slug)
        return render(topic, items, *dating)  # type: ignore[arg-type]

    pub._render_feeds = counted  # type: ignore[assignment,method-assign]
    return seen


def titles(pub: FeedPublisher, slug: str) -> list[str]:
    snap = pub.snapshot(slug, "atom", 50)
    assert snap is not None
    return [e.title for e in feedparser.parse(snap.body).entries]


def test_a_restart_with_nothing_changed_renders_nothing_before_serving(db: Database) -> None:
    last = world(db)
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert rendered == []  # every start rendered every topic before
    for slug in SLUGS:
        for fmt in ("rss", "atom", "json"):
            assert pub.snapshot(slug, fmt, 50) == last.snapshot(slug, fmt, 50)
        assert pub.page(slug) == last.page(slug)
    assert pub.index_html() == last.index_html()
    assert pub.opml().body == last.opml().body


def hide(db: Database) -> None:
    with db.write() as conn:
        assert set_hidden(conn, "TEST-00003", True, datetime.now(UTC), "sai", "bt") is not None


def withdraw(db: Database) -> None:
    with db.write() as conn:
        (sid,) = conn.execute(
            select(articles.c.source_id).where(articles.c.source_key == "TEST-00003")
        ).one()
        assert withdraw_deleted(conn, [sid], NOW - timedelta(days=400), lambda: datetime.now(UTC))


@pytest.mark.parametrize("takedown", [hide, withdraw], ids=["hidden", "withdrawn"])
def test_a_takedown_while_stopped_is_never_served(
    db: Database, takedown: Callable[[Database], None]
) -> None:
    world(db)
    takedown(db)
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == ["do-son", "kien-thuy"]  # the article's topics only
    for slug in ("do-son", "kien-thuy"):
        assert "Kiến Thụy và Đồ Sơn mở đường mới" not in titles(pub, slug)
        page = pub.page(slug)
        assert page is not None and "mở đường mới" not in page.body.decode()
    assert "mở đường mới" not in pub.index_html().body.decode()
    assert titles(pub, "an-ninh") == ["Công an Đồ Sơn giữ an ninh", "Công an Kiến Thụy tuần tra"]


def test_a_scheduled_article_whose_time_came_while_stopped_is_shown(db: Database) -> None:
    world(db)
    now = datetime.now(UTC)
    ahead = update(articles).where(articles.c.source_key == "TEST-00001")
    with db.write() as conn:  # the CMS scheduled it (an edit: ingest moves last_changed_at)
        conn.execute(ahead.values(published_at=now + timedelta(minutes=5), last_changed_at=now))
    last = FeedPublisher(db, settings())
    last.sync()  # the last process: rendered the change, so without it
    assert "Công an Kiến Thụy tuần tra" not in titles(last, "kien-thuy")
    with db.write() as conn:  # then its time came while no process ran (nothing written)
        conn.execute(
            ahead.values(published_at=now - timedelta(seconds=1), last_changed_at=now - HOURS_2)
        )
    pub = FeedPublisher(db, settings())
    pub.sync()
    assert "Công an Kiến Thụy tuần tra" in titles(pub, "kien-thuy")


def test_topic_edits_while_stopped_are_served_at_once(db: Database) -> None:
    world(db)
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Huyện Kiến Thụy", '"Kiến Thụy"'), "cli", now)
        assert set_enabled(conn, "do-son", False, now)
        assert delete_topic(conn, "an-ninh", now)
        save_topic(conn, TopicSpec("hai-an", "Hải An", '"Hải An"'), "cli", now)
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == ["do-son", "hai-an", "kien-thuy"]
    snap = pub.snapshot("kien-thuy", "rss", 50)
    assert snap is not None and "Huyện Kiến Thụy" in snap.body.decode()
    assert pub.snapshot("an-ninh", "rss", 50) is None and pub.page("an-ninh") is None
    assert pub.snapshot("do-son", "rss", 50) is None and pub.page("do-son") is None
    assert pub.snapshot("hai-an", "rss", 50) is not None
    index, opml = pub.index_html().body.decode(), pub.opml().body.decode()
    assert "Hải An" in index and "Hải An" in opml
    assert "/an-ninh" not in index and "/an-ninh" not in opml and "Đồ Sơn" not in opml


def test_other_settings_render_everything_first(db: Database) -> None:
    world(db)
    pub = FeedPublisher(db, settings(title="Báo Hải Phòng điện tử"))
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == sorted(SLUGS)
    for slug in SLUGS:
        snap = pub.snapshot(slug, "rss", 50)
        assert snap is not None and "Báo Hải Phòng điện tử" in snap.body.decode()
    assert "Báo Hải Phòng điện tử" in pub.index_html().body.decode()


def _undated(body: bytes) -> bytes:
    return re.sub(rb"<lastBuildDate>[^<]*</lastBuildDate>", b"", body)


def test_the_background_pass_heals_what_no_timestamp_shows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes differing for a reason no timestamp shows (here: altered in the table) are served
    after the restart, then rendered again by later syncs, the index page last."""
    last = world(db)
    good = last.snapshot("do-son", "rss", 50)
    good_json = last.snapshot("do-son", "json", 50)
    with db.write() as conn:
        conn.execute(
            update(feed_snapshots)
            .where(feed_snapshots.c.topic_slug.in_(["do-son", INDEX_SLUG]))
            .values(body=b"<rss>old template</rss>", etag='"old"')
        )
    monkeypatch.setattr("feedsvc.publish.warm_start.VERIFY_BATCH", 1)
    monkeypatch.setattr("feedsvc.publish.warm_start.VERIFY_SECONDS", 0.0)  # one batch per sync
    pub = FeedPublisher(db, settings())
    pub.sync()
    assert pub.snapshot("do-son", "rss", 50).body == b"<rss>old template</rss>"  # type: ignore[union-attr]
    for _ in range(len(SLUGS) + 1):
        pub.sync()
    healed = pub.snapshot("do-son", "rss", 50)
    assert healed is not None and good is not None and good_json is not None
    # as before but for its own date, the heal's: its stored bytes changed then
    # (``publish.metas.topic_feed_dated``), as a fresh render of the state shows it
    assert _undated(healed.body) == _undated(good.body)
    assert healed.body == render_topic_feed(db, settings(), "do-son", "rss", 50)
    healed_json = pub.snapshot("do-son", "json", 50)
    assert healed_json is not None and healed_json.body == good_json.body
    assert pub.index_html().body == last.index_html().body
    with db.read() as conn:
        bodies = conn.execute(select(feed_snapshots.c.body)).scalars().all()
    assert b"<rss>old template</rss>" not in bodies


def test_the_watermark_waits_for_every_pending_render(db: Database) -> None:
    pub = world(db)
    with db.read() as conn:
        first = get_watermark(conn)
    assert first is not None and first.fingerprint == fingerprint(settings())
    pub.through.written = None  # due again
    pub.stale.mark(["do-son"])  # a catch-up's mark, not rendered yet (not due either)
    pub.sync()
    with db.read() as conn:
        assert get_watermark(conn) == first
    began = datetime.now(UTC)
    token = pub.through.begin(began)  # an ingest render in flight
    pub.stale.due(now=True)
    pub.sync()
    with db.read() as conn:
        held = get_watermark(conn)
    assert held is not None and held.rendered_through == began - OVERLAP
    pub.through.end(token)
    pub.through.written = None
    pub.sync()
    with db.read() as conn:
        after = get_watermark(conn)
    assert after is not None and after.rendered_through > first.rendered_through


def test_upgrade_from_0014_with_snapshots_renders_everything_once(db_url: str) -> None:
    """Migration 0015 on a DB holding topics and snapshots keeps them and adds no watermark, so
    the first start renders every topic, as before, and writes one; the next renders none."""
    db = database_at(db_url, "0014")
    past = datetime.now(UTC) - timedelta(hours=2)
    with db.write() as conn:
        conn.execute(insert(topics), [
            {"slug": s, "title": s, "description": "", "query": f'"{s}"', "enabled": True,
             "origin": "cli", "created_at": past, "updated_at": past} for s in SLUGS
        ])  # fmt: skip
        conn.execute(insert(feed_snapshots), [
            {"topic_slug": s, "format": f, "body": b"<old/>", "etag": '"old"',
             "last_modified": past, "rendered_at": past} for s in SLUGS for f in FORMATS
        ])  # fmt: skip
    upgrade(db)
    with db.read() as conn:
        assert get_watermark(conn) is None
        assert conn.execute(select(func.count()).select_from(feed_snapshots)).scalar() == 12
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == sorted(SLUGS)
    snap = pub.snapshot("kien-thuy", "rss", 50)
    assert snap is not None and snap.body != b"<old/>"
    again = FeedPublisher(db, settings())
    rendered = renders_of(again)
    again.sync()
    assert rendered == []
    db.dispose()


def test_a_restarted_service_serves_at_once_and_never_the_takedown(tmp_path: Path) -> None:
    """The real service over a state DB the last process left (snapshots and watermark), after
    ``feedsvc articles hide`` while it was stopped: its log says what it renders first, and the
    first answers over HTTP already leave the hidden article out."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url)
    upgrade(db)
    world(db)
    db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")} | {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_HTTP__PUBLIC_URL": "https://feeds.example.vn",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_SOURCE__MATCH_WORKERS": "0",
    }
    # the hide in this process (what it leaves in the state DB is the subject, not its process)
    given = {k: v for k, v in env.items() if k.startswith("FEEDSVC_")}
    hid = in_process(["articles", "hide", "TEST-00003", "--reason", "sai"], tmp_path, **given)
    assert hid.returncode == 0, hid.stdout + hid.stderr
    port = free_port()
    proc = start_feedsvc(["run", "--port", str(port), "--no-bot"], env, tmp_path)
    try:
        feed = f"http://127.0.0.1:{port}/feeds/kien-thuy.atom"
        wait_until(lambda: answers_ok(feed), 60, "the first feed answer")
        first = get(feed)
        assert first is not None
        entries = [e.title for e in feedparser.parse(first.content).entries]
        assert entries == ["Công an Kiến Thụy tuần tra"]
        index = get(f"http://127.0.0.1:{port}/")
        assert index is not None and "mở đường mới" not in index.text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    log = out.decode()
    assert (
        "serving the stored feeds and pages of 3 topics (first rendering the 2 changed since "
        "stored, 2 of them showing an article taken down since, then the index page)"
    ) in log, log
    assert proc.returncode == 0, log


# -- what a clock-based plan alone missed (breaker, 2026-11-30) ------------------------------
GONE = "Kiến Thụy và Đồ Sơn mở đường mới"


def test_a_withdrawal_that_rewrote_the_text_is_never_served_after_a_crash(db: Database) -> None:
    """The CMS withdraws TEST-00003 and blanks its text; ingest commits it and the process dies
    before rendering. The withdrawn version matches no topic, so its match rows went with the
    edit and no timestamp names the topics still showing it: their stored feeds do."""
    world(db)
    later = datetime.now(UTC)
    blank = {"summary": None, "body": "<p>Đã gỡ.</p>", "tags": (), "section": None}
    gone = article(3, title="Bài viết đã được gỡ", withdrawn=True, updated_at=later, **blank)
    with db.write() as conn:
        upsert_source_articles(conn, [gone], later)
    assert builtin_ingestor(db, overlap_seconds=60).tick().error is None  # no render: the crash
    pub = FeedPublisher(db, settings())
    pub.sync()
    for slug in ("kien-thuy", "do-son"):
        assert GONE not in titles(pub, slug), slug
        page = pub.page(slug)
        assert page is not None and "mở đường mới" not in page.body.decode()
    assert "mở đường mới" not in pub.index_html().body.decode()


@pytest.mark.parametrize(
    ("db_url", "how"), on_backends(["retitled", "rewritten", "retagged"]), indirect=["db_url"]
)
def test_an_edit_out_of_a_topic_is_never_served_there_after_a_crash(db: Database, how: str) -> None:
    """The CMS edits TEST-00003 so it no longer mentions Kiến Thụy; ingest commits it and the
    process dies before rendering. Its kien-thuy match row went with the edit, so no timestamp
    names kien-thuy: its stored feed, listing the article, does."""
    world(db)
    later = datetime.now(UTC)
    plain = {"summary": None, "body": "<p>Tin trong ngày.</p>", "tags": (), "section": None}
    fields = {
        "retitled": {**plain, "title": "Đồ Sơn mở đường mới"},
        "rewritten": {**plain, "title": "Đồ Sơn mở đường mới", "summary": "<p>Đồ Sơn.</p>"},
        "retagged": {**plain, "title": "Đồ Sơn mở đường mới", "tags": ("Đồ Sơn", "giao thông")},
    }[how]
    with db.write() as conn:
        upsert_source_articles(conn, [article(3, updated_at=later, **fields)], later)
    assert builtin_ingestor(db, overlap_seconds=60).tick().error is None  # no render: the crash
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert set(rendered) == {"kien-thuy", "do-son"}  # before serving; an-ninh is adopted
    assert GONE not in titles(pub, "kien-thuy")
    assert "Đồ Sơn mở đường mới" in titles(pub, "do-son")
    for slug in ("kien-thuy", "do-son"):
        page = pub.page(slug)
        assert page is not None and GONE not in page.body.decode(), slug
    assert GONE not in pub.index_html().body.decode()


def test_a_takedown_whose_render_failed_is_rendered_at_the_next_sync(db: Database) -> None:
    """The feeds-sync job finds a hide, and its render fails once (SQLite "database is locked",
    a failover). The change was already taken as shown, so nothing rendered it again and the
    watermark moved past it: served while running, and after a restart."""
    last = world(db)
    hide(db)
    store = last._store
    failed: list[str] = []

    def failing_once(slug: str, bodies: dict[str, bytes], now: datetime, *dating: Any) -> set[str]:
        if not failed:
            failed.append(slug)
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return store(slug, bodies, now, *dating)

    last._store = failing_once  # type: ignore[method-assign]
    with pytest.raises(OperationalError):
        last.sync()
    with db.read() as conn:
        mark = get_watermark(conn)
    last.through.written = None  # due: a watermark must still wait for the failed render
    last.sync()  # the DB answers again
    assert GONE not in titles(last, "kien-thuy") and GONE not in titles(last, "do-son")
    assert "mở đường mới" not in last.index_html().body.decode()
    restarted = FeedPublisher(db, settings())
    restarted.sync()
    assert GONE not in titles(restarted, "kien-thuy")
    assert mark is not None


def test_a_takedown_stamped_long_before_the_watermark_is_never_served(db: Database) -> None:
    """A hide committed with a ``last_changed_at`` older than the watermark's look-back (a
    long wait for a row lock, a clock stepped back): the stored feeds show it, so they render."""
    world(db)
    hide(db)
    with db.write() as conn:
        conn.execute(
            update(articles)
            .where(articles.c.source_key == "TEST-00003")
            .values(last_changed_at=datetime.now(UTC) - HOURS_2)
        )
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == ["do-son", "kien-thuy"]
    assert GONE not in titles(pub, "kien-thuy") + titles(pub, "do-son")


def test_a_watermark_later_than_now_renders_everything(db: Database) -> None:
    world(db)
    with db.write() as conn:
        conn.execute(update(feed_watermark).values(rendered_through=datetime.now(UTC) + HOURS_2))
    hide(db)
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == sorted(SLUGS)
    assert GONE not in titles(pub, "kien-thuy")


def test_an_unreadable_watermark_renders_everything(lite_db: Database) -> None:
    """SQLite keeps whatever text a hand edit puts in the row (PostgreSQL refuses it)."""
    db = lite_db
    world(db)
    with db.write() as conn:
        conn.execute(text("UPDATE feed_watermark SET rendered_through = 'garbage'"))
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == sorted(SLUGS)


def test_the_watermark_waits_for_the_background_pass(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until every topic served from storage is rendered again, the watermark stays where it
    was: a restart loop never moves it past something only that pass would have fixed."""
    monkeypatch.setattr("feedsvc.publish.warm_start.VERIFY_SECONDS", 60.0)  # one run, loaded too
    world(db)
    with db.read() as conn:
        first = get_watermark(conn)
    pub = FeedPublisher(db, settings())
    pub.sync()  # all adopted
    with db.read() as conn:
        assert get_watermark(conn) == first
    pub.sync()  # the background pass: three topics and the index in one run
    assert pub.verification.done
    with db.read() as conn:
        after = get_watermark(conn)
    assert first is not None and after is not None
    assert after.rendered_through > first.rendered_through


def test_a_full_render_stopped_midway_is_done_again_at_the_next_start(db: Database) -> None:
    """A start with other settings is stopped after its first topic; the config goes back. The
    stored renders now mix both settings, so the next start must not adopt them."""
    world(db)
    other = FeedPublisher(db, settings(title="Bản thử nghiệm"))
    render = other._render_feeds

    def stop_after_one(topic: Topic, items: list[object], *dating: Any) -> dict[str, bytes]:
        other.stop()
        return render(topic, items, *dating)  # type: ignore[arg-type]

    other._render_feeds = stop_after_one  # type: ignore[assignment,method-assign]
    other.sync()
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()
    assert sorted(rendered) == sorted(SLUGS)
    for slug in SLUGS:
        snap = pub.snapshot(slug, "rss", 50)
        assert snap is not None and b"B\xe1\xba\xa3n th\xe1\xbb\xad" not in snap.body


def test_a_disabled_topic_renders_before_serving_once_not_at_every_start(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    world(db)
    with db.write() as conn:
        assert set_enabled(conn, "do-son", False, datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(minutes=2)  # the next starts come minutes later
    monkeypatch.setattr(db, "now", lambda: later)
    first = FeedPublisher(db, settings())
    rendered = renders_of(first)
    first.sync()
    assert rendered == ["do-son"]
    first.sync()  # the background pass ends: the watermark moves
    again = FeedPublisher(db, settings())
    rendered = renders_of(again)
    again.sync()
    assert rendered == []


def stamp_after_a_wait(db: Database, change: Callable[[], object]) -> None:
    """Run ``change`` to article 3 while an open transaction holds its row (PostgreSQL) or the
    database (SQLite) for 1.5 s; its ``last_changed_at`` must come from after the wait."""
    held = threading.Event()
    released: list[datetime] = []

    def hold() -> None:
        with db.write() as conn:  # SQLite: the database's write lock
            conn.execute(
                select(articles.c.id).where(articles.c.source_key == "TEST-00003").with_for_update()
            )
            held.set()
            time.sleep(1.5)  # the other side waits on the lock; nothing to poll for
            released.append(datetime.now(UTC))

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    change()
    holder.join()
    with db.read() as conn:
        (stamp,) = conn.execute(
            select(articles.c.last_changed_at).where(articles.c.source_key == "TEST-00003")
        ).one()
    assert stamp >= released[0] - timedelta(seconds=0.2)


def test_a_hide_is_stamped_after_waiting_for_the_row(db: Database) -> None:
    """The hide waits for the row, and its change time is taken after the wait, not before it:
    a stamp older than the feeds' look-back is a hide no sync ever renders."""
    world(db)
    stamp_after_a_wait(db, lambda: hide_article(db, "TEST-00003", "lệnh tòa", "cli"))


def fail_once(pub: FeedPublisher, slug: str | None = None) -> list[str]:
    """Make ``pub``'s next snapshot write (of ``slug``, or any) fail as a locked DB does."""
    store = pub._store
    failed: list[str] = []

    def failing(at: str, bodies: dict[str, bytes], now: datetime, *dating: Any) -> set[str]:
        if not failed and (slug is None or at == slug):
            failed.append(at)
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return store(at, bodies, now, *dating)

    store_pages = pub._store_pages

    def failing_pages(bodies: dict[int, bytes], now: datetime, opml: bytes | None) -> None:
        pages = [page_slug(page) for page in bodies]
        if not failed and pages and (slug is None or slug in pages):
            failed.append(slug or pages[0])
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        store_pages(bodies, now, opml)

    pub._store = failing  # type: ignore[method-assign]
    pub._store_pages = failing_pages  # type: ignore[method-assign]  # the index's pages
    return failed


def test_a_hide_whose_index_page_write_failed_leaves_the_index_at_the_next_sync(
    db: Database,
) -> None:
    """The topics' renders of a hide commit, the index page's write fails once; the retry
    renders the topics to the bytes they already have, which did not rebuild the index page."""
    last = world(db)
    hide(db)
    failed = fail_once(last, INDEX_SLUG)
    with pytest.raises(OperationalError):
        last.sync()
    assert failed == [INDEX_SLUG]
    last.sync()
    assert GONE not in titles(last, "kien-thuy")
    assert "mở đường mới" not in last.index_html().body.decode()


def test_a_hide_is_rendered_when_the_same_syncs_topic_edit_render_failed(db: Database) -> None:
    """A topic edit and a hide between two syncs; the edited topic's render fails first, before
    the hide's topics were rendered (and after the hide was taken as shown)."""
    last = world(db)
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"Công an"'), "cli", datetime.now(UTC))
    hide(db)
    fail_once(last)
    with pytest.raises(OperationalError):
        last.sync()
    last.sync()
    assert GONE not in titles(last, "kien-thuy") + titles(last, "do-son")
    snap = last.snapshot("an-ninh", "rss", 50)
    assert snap is not None and "An ninh —" in snap.body.decode()


def test_a_withdrawal_with_a_new_url_is_found_on_a_lagging_index_page(db: Database) -> None:
    """The index page lags the topic feeds during the background pass. Article 3 left every
    topic by an edit; the pass re-rendered the topics and the process died before the index
    page (here: the stored index page put back as the last process left it); the CMS then
    withdrew the article under a new URL. No stored feed lists it and the index page links its
    old URL: its headline's item id finds it."""
    lagging = world(db).index_html()
    plain = {"summary": None, "body": "<p>Tin trong ngày.</p>", "tags": (), "section": None}
    later = datetime.now(UTC)
    with db.write() as conn:
        upsert_source_articles(conn, [article(3, title="Mở đường mới", updated_at=later, **plain)],
                               later)  # fmt: skip
    assert builtin_ingestor(db, overlap_seconds=60).tick().error is None
    second = FeedPublisher(db, settings())
    second._restart(db.now())
    second._verify(list(SLUGS))  # the background pass, killed before the index page
    with db.write() as conn:
        conn.execute(
            update(feed_snapshots)
            .where(feed_snapshots.c.topic_slug == INDEX_SLUG, feed_snapshots.c.format == "html")
            .values(body=lagging.body, etag=lagging.etag)
        )
    gone = article(3, title="Đã gỡ", withdrawn=True, url="https://example.vn/da-go",
                   updated_at=datetime.now(UTC), **plain)  # fmt: skip
    with db.write() as conn:
        upsert_source_articles(conn, [gone], datetime.now(UTC))
    assert builtin_ingestor(db, overlap_seconds=60).tick().error is None
    third = FeedPublisher(db, settings())
    third.sync()
    assert "mở đường mới" not in third.index_html().body.decode().lower()


def test_a_reconciliation_withdrawal_is_stamped_after_waiting_for_the_rows(db: Database) -> None:
    """As an editor's hide: the withdrawal's change time is taken after the rows' lock."""
    world(db)
    with db.read() as conn:
        (sid,) = conn.execute(
            select(articles.c.source_id).where(articles.c.source_key == "TEST-00003")
        ).one()

    def withdraw() -> None:
        with db.write() as conn:
            assert withdraw_deleted(conn, [sid], NOW - timedelta(days=400), db.now)

    stamp_after_a_wait(db, withdraw)


@pytest.mark.parametrize(
    ("urgent", "adopted", "index", "takedowns", "line"),
    [
        (2, 0, True, 0, "of 2 topics (first rendering the 2 changed since stored, then the index "
         "page)"),
        (240, 0, False, 0, "of 240 topics (first rendering the 240 changed since stored)"),
        (2, 3, True, 1, "of 5 topics (first rendering the 2 changed since stored, 1 of them showing"
         " an article taken down since, then the index page); the other 3 are rendered again in "
         "the background"),
        (0, 4, True, 0, "of 4 topics (first rendering the index page); all are rendered again in "
         "the background"),
        (0, 4, False, 0, "of 4 topics (none changed); all are rendered again in the background"),
    ],
)  # fmt: skip
def test_the_start_line_says_what_renders_before_serving(
    urgent: int, adopted: int, index: bool, takedowns: int, line: str
) -> None:
    """A start that rendered every topic before serving logged "rendering 240 changed since
    first, then the index page first); all are rendered again in the background"."""
    plan = StartPlan(
        urgent=frozenset(f"u{i}" for i in range(urgent)),
        index=index,
        adopted=frozenset(f"a{i}" for i in range(adopted)),
        reason="",
        takedowns=takedowns,
    )
    assert plan.describe() == f"serving the stored feeds and pages {line}"
