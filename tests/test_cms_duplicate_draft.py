"""A second CMS row of a live article's key that is not public does not take it over (a
newsroom tester's M2, medium).

Two rows carry one key: row A, published, holds the article; row B appears with the key as a
draft (an editor's working copy, hidden, or scheduled for later), with a newer ``updated_at``.
feedsvc stored B as the article's new version: the live article was withdrawn from every feed
(and its sent alerts retracted) by a row that was never the article's. A reader-facing
takedown comes from the row holding the article (or from an editor's hide, or the last row of
the key deleted), never from another row's draft: :func:`feedsvc.versions.takes_over`,
``other_row``. Once A is deleted (reconciliation, ``held_gone``) or taken down by its own row,
B may hold the key as before. Ticks are driven directly on a simulated clock, on SQLite,
PostgreSQL and (with a SQLite state DB) MariaDB sources."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from cms_news import News, news
from lifecycle_world import World, make_world
from sqlalchemy import select

from feedsvc.db.schema import articles
from feedsvc.lifecycle.reconcile import Reconciler

__all__ = ["news"]  # the CMS table fixture, shared (cms_news)

DUP = "not applied (the key column is not unique"


def world(news: News, db: object) -> tuple[World, Reconciler]:
    w = make_world(db, news.clock, source=news.source())  # type: ignore[arg-type]
    return w, Reconciler(w.db, w.ing.source, days=7, clock=news.clock, reread=w.ing.reread)


def held(w: World, key: str = "k") -> tuple[str, str | None, str | None]:
    """(title, source row id, withdrawn_reason) of the article ``key``."""
    with w.db.read() as conn:
        row = conn.execute(select(articles).where(articles.c.source_key == key)).one()
        return row.title, row.source_id, row.withdrawn_reason


def live_a(w: World, news: News) -> None:
    """Row 1 (key k) published and alerted."""
    news.put(1, "k", title="Kiến Thụy bản chính", edited=news.clock() - timedelta(minutes=5))
    w.poll()
    assert held(w) == ("Kiến Thụy bản chính", "1", None)
    assert w.feed_keys("rss") == ["1.html"]
    assert w.deliveries() == [("k", "pending", None)]


def still_live(w: World) -> None:
    w.poll()
    assert held(w) == ("Kiến Thụy bản chính", "1", None)
    for fmt in ("rss", "atom", "json"):
        assert w.feed_keys(fmt) == ["1.html"], fmt
    assert w.deliveries() == [("k", "pending", None)]


@pytest.mark.parametrize("status", ["draft", "hidden", None])
def test_the_testers_case_a_newer_draft_copy(
    db: object, news: News, status: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 2 (key k, a draft, edited now) appears after row 1 is live: row 1 stays."""
    w, _ = world(news, db)
    live_a(w, news)
    with caplog.at_level(logging.WARNING, logger="feedsvc.ingest"):
        news.put(2, "k", title="Kiến Thụy bản nháp", status=status, edited=news.clock())
        still_live(w)
    said = [r.getMessage() for r in caplog.records if DUP in r.getMessage()]
    assert len(said) == 1 and "row id=2 carries key k, held from row id=1" in said[0], said


def test_a_newer_copy_scheduled_for_later(db: object, news: News) -> None:
    """Row 2 is published but dated tomorrow (a scheduled copy): the article is not moved to
    tomorrow (out of every feed, its alert retracted)."""
    w, _ = world(news, db)
    live_a(w, news)
    tomorrow = news.clock() + timedelta(days=1)
    news.put(2, "k", title="Kiến Thụy bản hẹn giờ", created=tomorrow, edited=news.clock())
    still_live(w)


def test_a_public_newer_copy_still_takes_over(db: object, news: News) -> None:
    """A re-post (row 2 published now, newer) holds the key as before."""
    w, _ = world(news, db)
    live_a(w, news)
    news.put(2, "k", title="Kiến Thụy bản đăng lại", edited=news.clock())
    w.poll()
    assert held(w) == ("Kiến Thụy bản đăng lại", "2", None)
    assert w.feed_keys("rss") == ["2.html"]


@pytest.mark.parametrize("draft_first", [True, False])
def test_both_rows_in_the_first_poll(db: object, news: News, draft_first: bool) -> None:
    """Nothing held yet, both rows in one poll (a first sync): the public row is the article,
    whichever row the poll reads first."""
    w, _ = world(news, db)
    now = news.clock()
    draft, live = (1, 2) if draft_first else (2, 1)
    news.put(live, "k", title="Kiến Thụy bản chính", edited=now - timedelta(minutes=5))
    news.put(draft, "k", title="Kiến Thụy bản nháp", status="draft", edited=now)
    w.poll()
    assert held(w) == ("Kiến Thụy bản chính", str(live), None)
    assert w.feed_keys("rss") == [f"{live}.html"]
    assert w.deliveries() == [("k", "pending", None)]


def test_the_held_row_edited_in_the_same_poll_as_the_draft(db: object, news: News) -> None:
    """Row 1's correction and row 2's newer draft in one poll: the correction is applied."""
    w, _ = world(news, db)
    live_a(w, news)
    news.put(1, title="Kiến Thụy bản chính (đính chính)", edited=news.clock())
    news.put(2, "k", title="Kiến Thụy bản nháp", status="draft", edited=news.clock())
    w.poll()
    assert held(w) == ("Kiến Thụy bản chính (đính chính)", "1", None)
    assert w.feed_keys("rss") == ["1.html"]


def test_the_held_row_deleted_the_draft_holds_the_key(db: object, news: News) -> None:
    """Row 1 deleted: the key's remaining row (the draft) holds it (``held_gone``), so the
    article is a draft, not deleted; published later, row 2 shows it again."""
    w, rec = world(news, db)
    live_a(w, news)
    news.put(2, "k", title="Kiến Thụy bản nháp", status="draft", edited=news.clock())
    still_live(w)
    news.delete(1)
    news.clock.advance(seconds=5)
    done = rec.run()
    assert (done.withdrawn, done.fallen_back) == ((), ("k",))
    assert held(w) == ("Kiến Thụy bản nháp", "2", "draft")
    w.poll()
    assert w.feed_keys("rss") == []
    news.put(2, status="published", edited=news.clock())
    w.poll()
    assert held(w) == ("Kiến Thụy bản nháp", "2", None)
    assert w.feed_keys("rss") == ["2.html"]


def test_the_held_row_taken_down_then_the_copy_published(db: object, news: News) -> None:
    """Row 1 sent back to draft by its editor: the article is withdrawn (its own row); row 2
    published afterwards takes the key over."""
    w, _ = world(news, db)
    live_a(w, news)
    news.put(2, "k", title="Kiến Thụy bản nháp", status="draft", edited=news.clock())
    still_live(w)
    news.put(1, status="draft", edited=news.clock())
    w.poll()
    assert held(w) == ("Kiến Thụy bản chính", "1", "draft")
    assert w.feed_keys("rss") == []
    news.put(2, status="published", edited=news.clock())
    w.poll()
    assert held(w) == ("Kiến Thụy bản nháp", "2", None)
    assert w.feed_keys("rss") == ["2.html"]


def test_a_draft_article_taken_over_by_a_newer_draft(db: object, news: News) -> None:
    """Held not public (row 1 a draft): another row's newer draft still holds the key (nothing a
    reader sees changes)."""
    w, _ = world(news, db)
    news.put(1, "k", title="Kiến Thụy bản 1", status="draft", edited=news.clock())
    w.poll()
    news.put(2, "k", title="Kiến Thụy bản 2", status="draft", edited=news.clock())
    w.poll()
    assert held(w) == ("Kiến Thụy bản 2", "2", "draft")


def test_an_import_line_is_the_keys_own_record(db: object) -> None:
    """``feedsvc import``'s built-in table holds one row per key: a line with
    ``"withdrawn": true`` and a newer ``updated_at`` is the deliberate takedown (SPEC §10),
    never another row's copy."""
    from factories import article

    w = make_world(db)  # type: ignore[arg-type]
    now = w.clock()
    w.publish(article(1, title="Kiến Thụy bản chính", published_at=now - timedelta(hours=1)))
    assert len(w.feed_keys("rss")) == 1
    w.clock.advance(seconds=5)
    w.publish(
        article(1, title="Kiến Thụy bản chính", published_at=now - timedelta(hours=1),
                updated_at=w.clock(), withdrawn=True)
    )  # fmt: skip
    assert w.feed_keys("rss") == []


def test_the_held_row_deleted_a_public_row_before_a_newer_draft(db: object, news: News) -> None:
    """Row 2 holds the key; row 1 (published, older) and row 3 (a draft copy, newer than row 1)
    carry it too. Row 2 deleted: the remaining public row holds the article, not the draft."""
    w, rec = world(news, db)
    now = news.clock()
    news.put(1, "k", title="Kiến Thụy bản 1", edited=now - timedelta(minutes=60))
    news.put(2, "k", title="Kiến Thụy bản 2", edited=now - timedelta(minutes=5))
    news.put(3, "k", title="Kiến Thụy bản nháp", status="draft", edited=now - timedelta(minutes=10))
    w.poll()
    assert held(w) == ("Kiến Thụy bản 2", "2", None)
    news.delete(2)
    news.clock.advance(seconds=5)
    assert rec.run().fallen_back == ("k",)
    assert held(w) == ("Kiến Thụy bản 1", "1", None)
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]


@pytest.mark.parametrize("carrier", ["public", "none"])
def test_the_holding_row_sent_to_draft_then_deleted(db: object, news: News, carrier: str) -> None:
    """Two public rows of key k, the newer (row 2) holding it; row 2 sent back to draft (the
    article withdrawn, its own row's takedown), then deleted: the article stayed withdrawn for
    good, row 1's edits "not applied: held from row id=2", a row that was gone (a verifier's
    N1). Reconciliation looks up the drafts it holds too: row 1 takes the key back, public.
    With no other row, the key stays withdrawn as the draft it was."""
    w, rec = world(news, db)
    news.put(1, "k", title="Kiến Thụy bản cũ", edited=news.clock() - timedelta(minutes=9))
    news.put(2, "k", title="Kiến Thụy bản mới", edited=news.clock() - timedelta(minutes=5))
    w.poll()
    assert held(w) == ("Kiến Thụy bản mới", "2", None)
    if carrier == "none":
        news.delete(1)
    news.put(2, status="draft", edited=news.clock())
    w.poll()
    assert held(w) == ("Kiến Thụy bản mới", "2", "draft")
    news.delete(2)
    news.clock.advance(seconds=5)
    rec.run()
    w.poll()
    if carrier == "public":
        assert held(w) == ("Kiến Thụy bản cũ", "1", None)
        assert w.feed_keys("rss") == ["1.html"]
    else:
        assert held(w) == ("Kiến Thụy bản mới", "2", "draft")
        assert w.feed_keys("rss") == []
