"""A scheduled post published by a status change alone appears within one poll (SPEC §10).

WordPress schedules a post as ``post_status = 'future'``; at its time WP-cron's
``wp_publish_post`` writes ``post_status = 'publish'`` without touching ``post_modified``, the
cursor column. Before :mod:`feedsvc.lifecycle.published` the post, read while ``future`` and
passed by the cursor, never appeared and nobody was alerted. A real ``wp_posts`` table (SQLite
file or PostgreSQL), ingest, the check, the outbox, the due check and the feeds on one clock;
a poll runs them in the service's order (``Service.ingest_tick``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lifecycle_world import Clock, World, make_world
from sqlalchemy import event, select
from wp_posts import WpPosts, wp_posts

from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.lifecycle.published import LOOKUP, Checked, PublishedCheck
from feedsvc.source import SqlSource

WINDOW = timedelta(days=7)


class Newsroom:
    """The world, its WordPress table and the check, polled as the service polls."""

    def __init__(self, world: World, wp: WpPosts, source: SqlSource) -> None:
        self.world, self.wp, self.source = world, wp, source
        self.check = PublishedCheck(world.db, source, world.ing.reread, WINDOW, world.clock)
        self.statements: list[str] = []
        event.listen(source.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "wp_posts" in statement:  # not a driver's own (a PRAGMA, a version query)
            self.statements.append(statement)

    def poll(self) -> Checked:
        result = self.world.ing.tick()
        assert result.error is None, result.error
        checked = self.check.run()
        self.world.due.run()
        self.world.pub.sync()
        return checked

    def lookups(self) -> tuple[Checked, int]:
        """One check alone: what it did and how many statements it sent to the source."""
        before = len(self.statements)
        checked = self.check.run()
        return checked, len(self.statements) - before

    def feed(self) -> list[str]:
        return self.world.feed_keys("rss")

    def reason(self, n: int) -> str | None:
        with self.world.db.read() as conn:
            stmt = select(articles.c.withdrawn_reason).where(articles.c.source_id == str(n))
            found: str | None = conn.execute(stmt).scalar_one()
            return found


@pytest.fixture
def newsroom(db: Database, tmp_path: Path) -> Iterator[Newsroom]:
    clock = Clock()
    with wp_posts(db, tmp_path, clock) as wp:
        source = wp.source()
        yield Newsroom(make_world(db, clock, source), wp, source)
        source.dispose()


def test_cron_publishes_a_scheduled_post_it_appears_and_alerts_once(newsroom: Newsroom) -> None:
    wp, clock = newsroom.wp, newsroom.world.clock
    wp.save(1, "future", clock() + timedelta(minutes=10))
    newsroom.poll()
    assert newsroom.reason(1) == "draft" and newsroom.feed() == []
    for _ in range(3):  # the cursor is past it; other posts come and go
        clock.advance(minutes=4)
        newsroom.poll()
    wp.cron_publish(1)  # its time came (12 minutes on): post_status only
    checked = newsroom.poll()
    assert checked.shown == ("1",) and checked.stored == 1
    assert newsroom.feed() == ["1.html"]
    assert newsroom.world.deliveries() == [("tin-1", "pending", None)]
    for _ in range(3):
        clock.advance(seconds=30)
        assert newsroom.poll().shown == ()
    assert newsroom.world.deliveries() == [("tin-1", "pending", None)]  # one alert, ever


def test_future_post_published_early_appears_at_its_time(newsroom: Newsroom) -> None:
    """The status flipped before ``published_at`` (a CMS that schedules so): not looked up
    while its time has not come, then public and alerted at that time, within one poll."""
    wp, clock = newsroom.wp, newsroom.world.clock
    wp.save(1, "future", clock() + timedelta(minutes=10))
    newsroom.poll()
    wp.cron_publish(1)
    clock.advance(minutes=5)
    checked = newsroom.poll()
    assert checked.looked == 0 and newsroom.feed() == []
    clock.advance(minutes=5, seconds=1)
    checked = newsroom.poll()
    assert checked.shown == ("1",)
    assert newsroom.feed() == ["1.html"]
    assert newsroom.world.deliveries() == [("tin-1", "pending", None)]


def test_switched_back_to_draft_and_published_again_alerts_once(newsroom: Newsroom) -> None:
    """WordPress's "switch to draft" is a save (``post_modified`` moves: the cursor reads it,
    the article is withdrawn); cron publishing it again brings it back, not alerting again."""
    wp, clock = newsroom.wp, newsroom.world.clock
    wp.save(1, "future", clock() - timedelta(minutes=1))
    newsroom.poll()
    wp.cron_publish(1)
    newsroom.poll()
    assert newsroom.feed() == ["1.html"]
    clock.advance(minutes=1)
    wp.save(1, "draft", clock() - timedelta(minutes=2))
    newsroom.poll()
    assert newsroom.reason(1) == "draft" and newsroom.feed() == []
    clock.advance(minutes=1)
    wp.cron_publish(1)
    assert newsroom.poll().shown == ("1",)
    assert newsroom.reason(1) is None and newsroom.feed() == ["1.html"]
    assert [d[0] for d in newsroom.world.deliveries()] == ["tin-1"]


def test_a_draft_never_published_is_looked_up_less_and_less(newsroom: Newsroom) -> None:
    """One source statement per tick in its first hour, then one per 5 minutes, then one per
    hour, then none once its ``published_at`` is older than the window."""
    wp, clock = newsroom.wp, newsroom.world.clock
    start = clock()
    wp.save(1, "draft", start)
    newsroom.poll()

    def looked_up(minutes: range) -> list[int]:
        """The minutes (since the draft's date) at which a check looked it up."""
        at = []
        for minute in minutes:
            clock.now = start + timedelta(minutes=minute)
            checked, statements = newsroom.lookups()
            assert statements == checked.looked <= 1
            if checked.looked:
                at.append(minute)
        return at

    assert looked_up(range(1, 60)) == list(range(1, 60))  # its first hour: every tick
    hour = looked_up(range(60, 3 * 60))
    assert (
        len(hour) >= 23 and hour[0] <= 65 and all(b - a == 5 for a, b in itertools.pairwise(hour))
    )
    days = looked_up(range(24 * 60, 30 * 60, 10))
    assert (
        len(days) >= 5
        and days[0] <= 24 * 60 + 60
        and all(b - a == 60 for a, b in itertools.pairwise(days))
    )
    assert looked_up(range(7 * 24 * 60 - 120, 7 * 24 * 60, 10)) != []  # still in the window
    assert looked_up(range(7 * 24 * 60 + 1, 9 * 24 * 60, 30)) == []  # past it: never


def test_many_drafts_are_looked_up_in_bounded_slices_each_in_turn(newsroom: Newsroom) -> None:
    """More drafts than a slice: at most :data:`LOOKUP` per tick, one source statement, and
    every draft gets its turn (the last one published is found within the rotation)."""
    wp, clock = newsroom.wp, newsroom.world.clock
    total = 2 * LOOKUP + LOOKUP // 2
    for n in range(1, total + 1):
        wp.save(n, "draft", clock() - timedelta(minutes=30))
    assert newsroom.poll().looked == LOOKUP  # the poll's check: the first slice
    wp.cron_publish(total)
    seen: list[Checked] = []
    for _ in range(2):
        checked, statements = newsroom.lookups()
        assert statements == 1 + len(checked.shown)  # the lookup; the re-read of one shown
        seen.append(checked)
    assert [c.looked for c in seen] == [LOOKUP, LOOKUP // 2]
    assert [c.shown for c in seen] == [(), (str(total),)]
    assert newsroom.lookups() == (Checked(LOOKUP, (), 0), 1)  # the next pass starts again
    newsroom.world.pub.sync()
    assert newsroom.feed() == [f"{total}.html"]


def test_the_source_down_during_the_lookup_changes_nothing(newsroom: Newsroom) -> None:
    wp, clock = newsroom.wp, newsroom.world.clock
    wp.save(1, "future", clock() - timedelta(minutes=1))
    newsroom.poll()
    wp.cron_publish(1)
    wp.rename("wp_posts", "wp_posts_away")  # every statement at the source fails
    with pytest.raises(Exception, match="wp_posts"):
        newsroom.check.run()
    assert newsroom.reason(1) == "draft" and newsroom.world.deliveries() == []
    wp.rename("wp_posts_away", "wp_posts")
    clock.advance(seconds=30)
    assert newsroom.poll().shown == ("1",)
    assert newsroom.feed() == ["1.html"]
    assert newsroom.world.deliveries() == [("tin-1", "pending", None)]


def test_the_reread_failing_keeps_the_draft_for_the_next_tick(
    newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup found the row shown but its re-read failed (the source went away between
    the two statements): the band's place does not move, so the next tick finds it again."""
    wp, clock = newsroom.wp, newsroom.world.clock
    wp.save(1, "draft", clock() - timedelta(hours=2))  # a band passed over every 5 minutes
    newsroom.poll()  # looked up: still a draft
    wp.cron_publish(1)
    clock.advance(minutes=5, seconds=1)  # the band's next pass
    reread = newsroom.check.reread

    def away(ids: Any) -> int:
        wp.rename("wp_posts", "wp_posts_away")
        try:
            return reread(ids)
        finally:
            wp.rename("wp_posts_away", "wp_posts")

    monkeypatch.setattr(newsroom.check, "reread", away)
    with pytest.raises(Exception, match="wp_posts"):
        newsroom.check.run()
    monkeypatch.setattr(newsroom.check, "reread", reread)
    clock.advance(seconds=30)  # within the band's 5 minutes: looked up again all the same
    assert newsroom.poll().shown == ("1",)
    assert newsroom.feed() == ["1.html"]
