"""An article never public and never alerted gets its alert once when it first becomes public,
whatever the order of the edits (SPEC §10; README "Hidden by an editor").

An unhide decided "was it ever public" from the row it clears: hidden at or before its
*current* ``published_at``. A correction from the CMS that moved the time of a hidden
scheduled article to before the hide ("đăng lúc 8 giờ", not 10) made it look public since
then: the unhide after it released nothing, and the article appeared in every feed with no
alert. The same for an article hidden while the source still held it back (a draft) and
published by the source under the hide. The hide now records whether the article was public
when it was hidden (``articles.hidden_unpublic``, migration 0021); the unhide reads that. The
clock is the world's (no sleeping); SQLite and PostgreSQL.

How far before the hide the time is moved is given one state DB backend per case
(``backend_cases.on_backends``): a moment changes the values compared, not the statements."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import article
from lifecycle_world import CHAT, World, make_world
from sqlalchemy import delete, select
from upgrades import OLD_ARTICLE, database_at, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, subscriptions
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.store.subscriptions import subscribe
from feedsvc.store.topics import get_topic

KEY = "TEST-00001"
ONE = [(KEY, "pending", None)]


def unhide(w: World) -> None:
    """The editor's unhide, then the service's next poll and one more a minute later."""
    unhide_article(w.db, KEY, w.ing.hooks)
    w.poll()
    w.clock.advance(minutes=1)
    w.poll()


def scheduled(w: World, ahead: timedelta = timedelta(hours=2)) -> datetime:
    """Stored ``ahead`` of its time (dated: a correction is newer); returns that time."""
    at = w.clock() + ahead
    w.publish(article(1, published_at=at, updated_at=w.clock()))
    return at


def correct(w: World, published_at: datetime, **over: object) -> None:
    """A correction from the CMS a minute later: a newer version with this time."""
    w.clock.advance(minutes=1)
    w.publish(article(1, published_at=published_at, updated_at=w.clock(), **over))


def hide(w: World, reason: str | None = "chờ duyệt") -> None:
    w.clock.advance(seconds=30)
    hide_article(w.db, KEY, reason, "admin")
    w.poll()


@pytest.mark.parametrize(
    ("db_url", "before"),
    on_backends(
        [
            timedelta(seconds=10),  # between its storing and the hide
            timedelta(hours=1),  # before it was even stored ("published an hour ago")
        ],
        label=lambda d: f"{int(d.total_seconds())}s",
    ),
    indirect=["db_url"],
)
def test_time_moved_before_the_hide_alerts_once_on_unhide(db: Database, before: timedelta) -> None:
    """The sequence from the field: scheduled, hidden for review, the CMS corrects its time to
    before the hide, the editor approves."""
    w = make_world(db)
    scheduled(w)
    hide(w)
    hidden_at = w.clock()
    correct(w, hidden_at - before)
    w.clock.advance(minutes=20)  # the due check's overlap long past the new time
    w.poll()
    assert w.deliveries() == [] and w.feed_keys("rss") == []
    unhide(w)
    assert w.deliveries() == ONE
    assert w.feed_keys("rss") == ["1.html"]
    unhide(w)  # a second unhide (a double click): nothing more
    w.clock.advance(minutes=30)
    w.poll()
    assert w.deliveries() == ONE


def test_time_moved_later_still_alerts_once_on_unhide_after_it(db: Database) -> None:
    w = make_world(db)
    at = scheduled(w)
    hide(w)
    correct(w, at + timedelta(hours=1))
    w.clock.advance(hours=4)
    w.poll()
    assert w.deliveries() == []
    unhide(w)
    assert w.deliveries() == ONE


def test_time_moved_later_and_unhidden_before_it_is_released_at_it(db: Database) -> None:
    w = make_world(db)
    at = scheduled(w)
    hide(w)
    correct(w, at + timedelta(hours=1))
    w.clock.advance(hours=2)  # past the old time, before the new one
    unhide(w)
    assert w.deliveries() == [] and w.feed_keys("rss") == []
    w.clock.advance(hours=1)
    w.poll()
    assert w.deliveries() == ONE
    w.clock.advance(minutes=1)
    w.poll()
    assert w.deliveries() == ONE


def test_unhidden_before_its_time_then_hidden_again_and_moved_before_the_first_hide(
    db: Database,
) -> None:
    """Hide, unhide (still scheduled), hide again, the time corrected to before the first
    hide, unhide: it was never public, so the last unhide alerts, once."""
    w = make_world(db)
    t0 = w.clock()
    scheduled(w)
    hide(w)
    w.clock.advance(minutes=5)
    unhide(w)
    assert w.deliveries() == []
    hide(w, None)
    correct(w, t0 + timedelta(seconds=1))
    w.clock.advance(minutes=30)
    w.poll()
    unhide(w)
    assert w.deliveries() == ONE


def test_hidden_again_with_a_new_reason_keeps_what_the_first_hide_recorded(db: Database) -> None:
    """A second hide of a hidden article (a new reason) keeps the first hiding time, and that
    it was not public then, though its time, corrected meanwhile, has passed by then."""
    w = make_world(db)
    scheduled(w)
    hide(w)
    correct(w, w.clock() - timedelta(seconds=10))
    w.clock.advance(minutes=10)
    hide(w, "chờ pháp lý")
    w.clock.advance(minutes=30)
    w.poll()
    unhide(w)
    assert w.deliveries() == ONE


def test_hidden_while_a_draft_and_published_under_the_hide_alerts_once_on_unhide(
    db: Database,
) -> None:
    """The source held it back (``"withdrawn": true``, a CMS draft) when it was hidden, then
    published it, dated in the past: never public, never alerted."""
    w = make_world(db)
    t0 = w.clock()
    w.publish(article(1, published_at=t0 - timedelta(minutes=5), updated_at=t0, withdrawn=True))
    hide(w)
    correct(w, t0 - timedelta(minutes=5), withdrawn=False)
    assert w.deliveries() == [] and w.feed_keys("rss") == []
    w.clock.advance(minutes=20)
    unhide(w)
    assert w.deliveries() == ONE


def test_public_when_hidden_is_not_news_on_unhide_whatever_its_time_becomes(
    db: Database,
) -> None:
    """Public (read, though nobody was subscribed yet) when hidden; a correction then moves
    its time to after the hide; the chat subscribes; the unhide after that time alerts nobody:
    a takedown undone is no news, as for an article public and alerted before its hide."""
    w = make_world(db)
    with w.db.write() as conn:
        conn.execute(delete(subscriptions))
    t0 = w.clock()
    w.publish(article(1, published_at=t0 - timedelta(minutes=1), updated_at=t0))
    assert w.feed_keys("rss") == ["1.html"] and w.deliveries() == []
    hide(w)
    correct(w, t0 + timedelta(minutes=30))
    with w.db.write() as conn:
        topic = get_topic(conn, "kien-thuy")
        assert topic is not None
        subscribe(conn, CHAT, topic_id=topic.id, query=None, now=w.clock())
    w.clock.advance(hours=1)
    w.poll()
    unhide(w)
    assert w.deliveries() == []
    assert w.feed_keys("rss") == ["1.html"]


def test_upgrade_to_0021_keeps_what_the_old_rule_read_from_hidden_rows(db_url: str) -> None:
    """Rows hidden before the upgrade: hidden at or before their time, or while withdrawn,
    count as hidden while not public; hidden after their time, as hidden while public; shown
    ones as neither."""
    db = database_at(db_url, "0020")
    hidden = (  # key, published_at, hidden_at, withdrawn_at
        ("before", "2026-11-01 10:00:00", "2026-11-01 09:00:00", None),
        ("after", "2026-11-01 08:00:00", "2026-11-01 09:00:00", None),
        ("draft", "2026-11-01 08:00:00", "2026-11-01 09:00:00", "2026-11-01 08:30:00"),
    )
    try:
        run_sql(db, OLD_ARTICLE, t="2026-11-01 08:00:00")
        for key, published, hidden_at, withdrawn in hidden:
            run_sql(
                db,
                "INSERT INTO articles (source_key, version, url, title, tags, published_at,"
                " search_text, source_cursor, first_seen_at, last_changed_at, hidden_at,"
                " withdrawn_at)"
                " VALUES (:k, :t, 'https://x.vn/k', 'Tin', '[]', :p, '', :t, :t, :t, :h, :w)",
                k=key, t="2026-11-01 08:00:00", p=published, h=hidden_at, w=withdrawn,
            )  # fmt: skip
        upgrade(db)
        with db.engine.connect() as conn:
            rows = conn.execute(select(articles.c.source_key, articles.c.hidden_unpublic))
            got = dict(rows.tuples().all())
        assert got == {"a-1": False, "before": True, "after": False, "draft": True}
    finally:
        db.dispose()
