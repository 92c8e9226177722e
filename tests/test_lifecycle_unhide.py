"""An editor hides a scheduled article before its time and unhides it after (attack F2).

It alerted only when the unhide came within the due check's overlap (10 minutes) of its time:
later, it appeared in every feed and no alert ever went out. An unhide that makes an article
public for the first time now runs it through the due check's hooks (the outbox), once, within
``telegram.alert_max_age_hours``; an article that was public and alerted before its hide is not
alerted again. The clock is the world's (no sleeping); SQLite and PostgreSQL.

How long after its time the article is unhidden, and the alert age limit, are given one backend
per case, rotating (``backend_cases.on_backends``): a moment and a limit change the values the
due check compares, not its statements, which each backend still runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from backend_cases import on_backends
from factories import article
from lifecycle_world import World, make_world

from feedsvc.db import Database
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.store.subscriptions import ensure_chat, subscribe

KEY = "TEST-00001"
QUERY_CHAT = 5151  # subscribed by its own query, not the topic


def scheduled_and_hidden(w: World, ahead: timedelta = timedelta(minutes=10)) -> None:
    """Stored ``ahead`` of its time, hidden for review at once (the newsroom's "chờ duyệt")."""
    w.publish(article(1, published_at=w.clock() + ahead))
    w.clock.advance(seconds=30)
    hide_article(w.db, KEY, "chờ duyệt", "admin")
    w.poll()


def unhide(w: World) -> None:
    """The editor's unhide (CLI, API and admin share it), then the service's next poll (the due
    check runs, with its overlap) and one more a minute later."""
    unhide_article(w.db, KEY, w.ing.hooks)
    w.poll()
    w.clock.advance(minutes=1)
    w.poll()


@pytest.mark.parametrize(
    ("db_url", "after"),
    on_backends(
        [
            timedelta(minutes=5),  # inside the due check's overlap: alerted before the fix too
            timedelta(minutes=30),
            timedelta(hours=3),
            timedelta(hours=23),
        ],
        label=lambda d: f"{int(d.total_seconds()) // 60}min",
    ),
    indirect=["db_url"],
)
def test_unhidden_after_its_time_alerts_once(db: Database, after: timedelta) -> None:
    w = make_world(db)
    scheduled_and_hidden(w)
    w.clock.advance(minutes=10, seconds=after.total_seconds())  # its time came, hidden, and
    w.poll()  # the due check released nothing
    assert w.deliveries() == [] and w.feed_keys("rss") == []
    unhide(w)
    assert w.deliveries() == [(KEY, "pending", None)]
    assert w.feed_keys("rss") == ["1.html"]


def test_own_query_subscribers_are_alerted_too(db: Database) -> None:
    """The outbox's prepared chat queries: a chat subscribed by its own query gets it too."""
    w = make_world(db)
    with w.db.write() as conn:
        ensure_chat(conn, QUERY_CHAT, "private", "Biên tập", w.clock())
        subscribe(conn, QUERY_CHAT, topic_id=None, query='"đối tượng trộm cắp"', now=w.clock())
    scheduled_and_hidden(w)
    w.clock.advance(minutes=40)
    w.poll()
    unhide(w)
    assert w.deliveries() == [(KEY, "pending", None)] * 2


@pytest.mark.parametrize(
    ("db_url", "max_age_hours", "alerts"),
    on_backends([(24, 0), (72, 1)], start=1, label=lambda n: str(n)),
    indirect=["db_url"],
)
def test_two_days_after_follows_the_alert_age_limit(
    db: Database, max_age_hours: int, alerts: int
) -> None:
    """Public in every feed either way; alerted only within ``alert_max_age_hours`` of its
    time, as a scheduled article released late by the due check or a late import would be."""
    w = make_world(db, alert_max_age=timedelta(hours=max_age_hours))
    scheduled_and_hidden(w)
    w.clock.advance(days=2)
    w.poll()
    unhide(w)
    assert w.deliveries() == [(KEY, "pending", None)] * alerts
    assert w.feed_keys("rss") == ["1.html"]


def test_hidden_after_it_was_public_and_alerted_is_not_alerted_again(db: Database) -> None:
    """A takedown undone: the alert withdrawn by the hide stays withdrawn, none is added."""
    w = make_world(db)
    w.publish(article(1, published_at=w.clock() + timedelta(minutes=2)))
    w.clock.advance(minutes=3)
    w.poll()  # released by the due check: alerted
    assert w.deliveries() == [(KEY, "pending", None)]
    w.clock.advance(minutes=1)
    hide_article(w.db, KEY, None, "api")
    assert w.deliveries() == [(KEY, "withdrawn", "hidden")]
    w.clock.advance(minutes=30)
    unhide(w)
    assert w.deliveries() == [(KEY, "withdrawn", "hidden")]
    assert w.feed_keys("rss") == ["1.html"]


def test_alerted_then_moved_later_and_hidden_before_the_new_time(db: Database) -> None:
    """Public and alerted, then rescheduled later (a correction) and hidden before that new
    time: hidden before its (current) time, but it was public and alerted; the unhide after
    the new time queues nothing and revives no withdrawn alert."""
    w = make_world(db)
    t0 = w.clock()
    first = article(1, published_at=t0 - timedelta(minutes=1), updated_at=t0)
    w.publish(first)
    assert w.deliveries() == [(KEY, "pending", None)]
    w.clock.advance(minutes=1)
    w.publish(replace(first, published_at=t0 + timedelta(hours=1), updated_at=w.clock()))
    hide_article(w.db, KEY, None, "cli")
    assert w.deliveries() == [(KEY, "withdrawn", "hidden")]
    w.clock.advance(hours=2)
    w.poll()
    unhide(w)
    assert w.deliveries() == [(KEY, "withdrawn", "hidden")]


def test_hidden_and_unhidden_before_its_time_is_released_at_its_time_once(db: Database) -> None:
    w = make_world(db)
    scheduled_and_hidden(w)
    w.clock.advance(minutes=2)
    unhide(w)  # still before its time: nothing yet
    assert w.deliveries() == [] and w.feed_keys("rss") == []
    w.clock.advance(minutes=10)
    w.poll()
    assert w.deliveries() == [(KEY, "pending", None)]
    w.clock.advance(minutes=1)
    w.poll()
    assert len(w.deliveries()) == 1


def test_unhidden_twice_alerts_once(db: Database) -> None:
    """Twice in a row, and hidden again after the first unhide's alert then unhidden: that
    second takedown's withdrawn alert stays withdrawn."""
    w = make_world(db)
    scheduled_and_hidden(w)
    w.clock.advance(minutes=40)
    unhide(w)
    unhide(w)
    assert w.deliveries() == [(KEY, "pending", None)]
    hide_article(w.db, KEY, None, "admin")
    w.clock.advance(minutes=5)
    unhide(w)
    assert w.deliveries() == [(KEY, "withdrawn", "hidden")]


def test_withdrawn_by_the_source_while_hidden_stays_out(db: Database) -> None:
    w = make_world(db)
    t0 = w.clock()
    w.publish(article(1, published_at=t0 + timedelta(minutes=10), updated_at=t0))
    hide_article(w.db, KEY, None, "cli")
    w.clock.advance(minutes=1)
    w.publish(article(1, published_at=t0 + timedelta(minutes=10), updated_at=w.clock(),
                      withdrawn=True))  # fmt: skip
    w.clock.advance(minutes=40)
    unhide(w)
    assert w.deliveries() == [] and w.feed_keys("rss") == []
