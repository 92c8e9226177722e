"""A CMS row whose ``source_key`` changes, same row id (tester 3 F7): it became two articles,
both public, every subscriber alerted twice. Now the old key's article is handed over to the
new key in ingest's transaction: its alerts move (no second alert; a correction edits the
message the chat holds), an editor's hide moves, and it is withdrawn as ``re-keyed``. A row id
reused after a deletion is another row. Migration 0024 (the ``articles.source_id`` index) on a
DB holding data."""

from __future__ import annotations

from datetime import timedelta

from cms_news import News, news
from lifecycle_world import World, make_world
from sqlalchemy import inspect, select, update
from upgrades import OLD_ARTICLE, database_at, downgrade, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import alert_followups, articles, deliveries
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.retraction.hooks import Corrections
from feedsvc.store.followup_queue import sweep_retired

__all__ = ["news"]  # the CMS table fixture, shared (cms_news)


def world(db: Database, news: News) -> World:
    w = make_world(db, news.clock, source=news.source())
    w.ing.hooks.append(Corrections(True))
    return w


def states(w: World) -> dict[str, tuple[str | None, bool, bool]]:
    """key → (withdrawn_reason, withdrawn, hidden)."""
    with w.db.read() as conn:
        rows = conn.execute(
            select(
                articles.c.source_key, articles.c.withdrawn_reason, articles.c.withdrawn_at,
                articles.c.hidden_at,
            )
        ).all()  # fmt: skip
    return {r[0]: (r[1], r[2] is not None, r[3] is not None) for r in rows}


def sent(w: World) -> None:
    with w.db.write() as conn:
        conn.execute(update(deliveries).values(state="sent", message_id=5, finished_at=w.clock()))


def followups(w: World) -> list[str]:
    with w.db.read() as conn:
        return [k for (k,) in conn.execute(select(alert_followups.c.kind))]


def test_a_re_keyed_row_is_one_article_alerted_once(db: Database, news: News) -> None:
    """The tester's case: ``ren1`` becomes ``2026-12-02-ren1`` on the same row."""
    w = world(db, news)
    news.put(1, "ren1")
    w.poll()
    assert w.deliveries() == [("ren1", "pending", None)]
    sent(w)
    news.put(1, "2026-12-02-ren1")
    w.poll()
    assert states(w) == {"ren1": ("re-keyed", True, False), "2026-12-02-ren1": (None, False, False)}
    assert w.deliveries() == [("2026-12-02-ren1", "sent", None)]  # moved, nobody alerted twice
    assert w.feed_keys("rss") == ["1.html"]  # one entry
    with w.db.write() as conn:  # the follow-up worker's sweep of withdrawn articles
        sweep_retired(conn, w.clock() - timedelta(hours=1), w.clock())
    assert followups(w) == []  # nothing retracted: the chat keeps its message


def test_a_re_key_with_a_new_title_edits_the_sent_alert(db: Database, news: News) -> None:
    w = world(db, news)
    news.put(7, "k7")
    w.poll()
    sent(w)
    news.put(7, "k7-fixed", title="Lịch hẹn công an Kiến Thụy (đã sửa)")
    w.poll()
    assert w.deliveries() == [("k7-fixed", "sent", None)]
    assert followups(w) == ["correct"]


def test_a_hidden_article_stays_hidden_under_its_new_key(db: Database, news: News) -> None:
    from feedsvc.lifecycle.editors import hide_article

    w = world(db, news)
    news.put(1, "k1")
    w.poll()
    hide_article(w.db, "k1", "pháp lý", "cli")
    news.put(1, "k1-new")
    w.poll()
    assert states(w)["k1-new"] == (None, False, True)
    assert w.feed_keys("rss") == []


def test_keyed_back_is_still_one_alert(db: Database, news: News) -> None:
    w = world(db, news)
    news.put(1, "a")
    w.poll()
    sent(w)
    news.put(1, "b")
    w.poll()
    news.put(1, "a")
    w.poll()
    assert states(w) == {"a": (None, False, False), "b": ("re-keyed", True, False)}
    assert w.deliveries() == [("a", "sent", None)]
    assert w.feed_keys("rss") == ["1.html"]


def test_a_row_id_reused_after_a_deletion_is_another_row(db: Database, news: News) -> None:
    w = world(db, news)
    news.put(1, "old")
    news.put(2, "keep")
    w.poll()
    rec = Reconciler(db, w.ing.source, days=7, clock=news.clock, reread=w.ing.reread)
    news.delete(1)
    assert len(rec.run().withdrawn) == 1
    news.put(1, "fresh", link="https://example.vn/tin/fresh.html")
    w.poll()
    assert states(w)["old"] == ("deleted", True, False)
    assert ("fresh", "pending", None) in w.deliveries()  # a new story: alerted


def test_upgrade_to_0024_adds_the_source_id_index(db_url: str) -> None:
    db = database_at(db_url, "0023")
    try:
        run_sql(db, OLD_ARTICLE, t="2026-11-01 08:00:00")
        upgrade(db)
        names = {ix["name"] for ix in inspect(db.engine).get_indexes("articles")}
        assert "ix_articles_source_id" in names
        with db.engine.connect() as conn:
            assert conn.execute(select(articles.c.source_key)).scalars().all() == ["a-1"]
        downgrade(db, "0023")
        names = {ix["name"] for ix in inspect(db.engine).get_indexes("articles")}
        assert "ix_articles_source_id" not in names
    finally:
        db.dispose()


def test_the_old_key_goes_within_the_same_poll(db: Database, news: News) -> None:
    """No reconciliation pass needed: the old key leaves the feed with the poll that reads the
    new key."""
    w = world(db, news)
    news.put(3, "x", created=news.clock() - timedelta(minutes=5))
    w.poll()
    news.put(3, "y")
    w.poll()
    assert w.feed_keys("json") == ["3.html"]


def subscribe_late(w: World, chat: int) -> None:
    """Another chat follows the topic after the article went public."""
    from feedsvc.store.subscriptions import ensure_chat, subscribe
    from feedsvc.store.topics import get_topic

    with w.db.write() as conn:
        topic = get_topic(conn, "kien-thuy")
        assert topic is not None
        ensure_chat(conn, chat, "group", "Nhóm mới", w.clock())
        subscribe(conn, chat, topic_id=topic.id, query=None, now=w.clock())


def alerted_chats(w: World) -> list[int]:
    with w.db.read() as conn:
        return sorted(conn.execute(select(deliveries.c.chat_id)).scalars())


def test_a_re_key_does_not_alert_a_chat_that_subscribed_after_it_went_public(
    db: Database, news: News
) -> None:
    """A tester's case: the group subscribed to ``kien-thuy`` after N1 was public, then the CMS
    changed only N1's key: the group got N1 as news (the README: a reader who subscribes after
    an article went public is not alerted about it)."""
    w = world(db, news)
    news.put(1, "N1")
    w.poll()
    sent(w)
    subscribe_late(w, -600)
    news.put(1, "N1-NEW")
    w.poll()
    assert w.deliveries() == [("N1-NEW", "sent", None)]  # the first chat's, moved
    news.put(1, "N1-NEWER", title="Công an Kiến Thụy tin số 1 (cập nhật)")  # with an edit too
    w.poll()
    assert alerted_chats(w) == [4242]


def test_a_re_keyed_article_that_was_not_public_alerts_as_new(db: Database, news: News) -> None:
    """A draft (not public) under its old key, published under a new one: that is its first
    showing, so every subscriber is alerted, the late one too."""
    w = world(db, news)
    news.put(1, "draft-1", status="draft")
    w.poll()
    assert w.deliveries() == []
    subscribe_late(w, -600)
    news.put(1, "tin-1", status="published")
    w.poll()
    assert alerted_chats(w) == [-600, 4242]
