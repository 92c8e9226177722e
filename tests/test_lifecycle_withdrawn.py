"""Withdrawn and hidden articles (issue #13 §2): an import line withdraws (and republishes), an
editor hides (and unhides), and either way the article leaves every feed within one poll and
its queued alerts end as ``withdrawn``, never sent. On SQLite and PostgreSQL.

A hide's errors are given one backend each, rotating (``backend_cases.on_backends``): a blank key,
a long or control-character reason are refused before any SQL, and an unknown key is looked up by
equality, the statement every hide runs on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from backend_cases import on_backends
from factories import article, jsonl
from lifecycle_world import CHAT, SLUG, Clock, World, entry_keys, make_world
from sqlalchemy import select, update

from feedsvc.articles import DEFAULT_TZ, ArticleError, parse_article
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.jsonlines import read_jsonl
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.operations import OperationError, resend_delivery
from feedsvc.publish import FeedPublisher
from feedsvc.store import delivery_log
from feedsvc.store.subscriptions import ensure_chat, subscribe, unsubscribe
from feedsvc.store.topics import get_topic

FORMATS = ("rss", "atom", "json")
SENT_CHAT, DIGEST_CHAT, GONE_CHAT = 5001, 5002, 5003


def listed_everywhere(w: World, key: str) -> list[str]:
    """Where ``key`` (e.g. ``7.html``) is listed after one feed sync: topic feeds, a fresh
    replica, search feeds."""
    w.pub.sync()
    where = [fmt for fmt in FORMATS if key in w.feed_keys(fmt)]
    other = FeedPublisher(w.db, w.pub.settings)
    other.sync()
    where += [f"replica-{fmt}" for fmt in FORMATS if key in w.feed_keys(fmt, other)]
    w.pub.cache.clear()  # a search cached a minute ago may still list it (RENDER_TTL)
    where += [
        f"search-{fmt}"
        for fmt in FORMATS
        if key in entry_keys(w.pub.search('"Kiến Thụy"', fmt, 50).body)
    ]
    return where


EVERYWHERE = [*FORMATS, *(f"replica-{f}" for f in FORMATS), *(f"search-{f}" for f in FORMATS)]


def test_withdrawn_json_field_is_strict() -> None:
    base = article(1).to_json()
    assert parse_article({**base, "withdrawn": True}).withdrawn
    assert not parse_article({**base, "withdrawn": False}).withdrawn
    assert not parse_article(base).withdrawn
    assert not parse_article({**base, "withdrawn": None}).withdrawn
    for bad in ("true", "false", 1, 0, [], {}):
        with pytest.raises(ArticleError) as info:
            parse_article({**base, "withdrawn": bad})
        assert info.value.field == "withdrawn"
    line = jsonl({**base, "withdrawn": True})
    [(_, parsed)] = list(read_jsonl([line], DEFAULT_TZ))
    assert getattr(parsed, "withdrawn", None) is True
    assert parse_article({**base, "withdrawn": True}).to_json()["withdrawn"] is True
    assert "withdrawn" not in parse_article(base).to_json()  # optional in SPEC §3


def test_an_import_line_withdraws_and_republishes(db: Database) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(7, published_at=t0 - timedelta(minutes=5), updated_at=t0))
    assert listed_everywhere(w, "7.html") == EVERYWHERE
    assert w.deliveries() == [("TEST-00007", "pending", None)]

    w.clock.advance(minutes=1)
    same = article(7, published_at=t0 - timedelta(minutes=5), updated_at=t0, withdrawn=True)
    # the same version withdrawn takes it down, as a CMS row sent back to draft without a new
    # updated_at does (feedsvc.versions.takes_over); it was kept public, counted "unchanged"
    w.publish(same)
    assert listed_everywhere(w, "7.html") == []
    assert w.deliveries() == [("TEST-00007", "withdrawn", "withdrawn:source")]

    gone = article(7, published_at=t0 - timedelta(minutes=5), updated_at=w.clock(), withdrawn=True)
    w.publish(gone)  # a newer version withdrawn: stays down
    assert listed_everywhere(w, "7.html") == []
    assert w.deliveries() == [("TEST-00007", "withdrawn", "withdrawn:source")]
    with w.db.write() as conn:  # not a dead letter: an admin cannot re-send a withdrawn alert
        dead, _ = delivery_log.list_deliveries(conn, state=delivery_log.DEAD, limit=10, offset=0)
        [row] = dead or [None]
    assert row is None
    with pytest.raises(OperationError):
        resend_delivery(w.db, 1)

    w.clock.advance(minutes=1)
    w.publish(article(7, published_at=t0 - timedelta(minutes=5), updated_at=w.clock()))
    assert listed_everywhere(w, "7.html") == EVERYWHERE
    # the alert withdrawn before it went out is owed again, in the same row: one per (chat,
    # article); it stayed "withdrawn" for good, so the chat never heard of the article
    assert w.deliveries() == [("TEST-00007", "pending", None)]


def _deliveries_of(w: World) -> list[tuple[int, str]]:
    with w.db.read() as conn:
        stmt = select(deliveries.c.chat_id, deliveries.c.state).order_by(deliveries.c.chat_id)
        return [(int(c), str(s)) for c, s in conn.execute(stmt)]


def test_republished_owes_only_the_alerts_never_sent(db: Database) -> None:
    """Republished after a withdrawal: a chat whose alert went out before it is not sent it
    again; one whose alert was withdrawn while queued (a private chat, a digest chat) gets it
    once; one that unsubscribed meanwhile does not; nor does a second withdrawal and
    republish queue anything twice."""
    w = make_world(db, Clock())
    t0 = w.clock()
    with w.db.write() as conn:
        topic = get_topic(conn, SLUG)
        assert topic is not None
        for chat in (SENT_CHAT, DIGEST_CHAT, GONE_CHAT):
            ensure_chat(conn, chat, "private", f"chat {chat}", t0)
            subscribe(conn, chat, topic_id=topic.id, query=None, now=t0)
    w.publish(article(7, published_at=t0, updated_at=t0))
    with w.db.write() as conn:  # one alert went out; one waits for a digest
        conn.execute(update(deliveries).where(deliveries.c.chat_id == SENT_CHAT)
                     .values(state="sent", message_id=99))  # fmt: skip
        digest_at = t0 + timedelta(hours=3)
        conn.execute(update(deliveries).where(deliveries.c.chat_id == DIGEST_CHAT)
                     .values(state="held", digest=True, due_at=digest_at))  # fmt: skip
    for round_ in range(2):
        w.clock.advance(minutes=1)
        w.publish(article(7, published_at=t0, updated_at=w.clock(), withdrawn=True))
        assert _deliveries_of(w) == [
            (CHAT, "withdrawn"), (SENT_CHAT, "sent"), (DIGEST_CHAT, "withdrawn"),
            (GONE_CHAT, "withdrawn"),
        ]  # fmt: skip
        if round_ == 0:
            with w.db.write() as conn:
                unsubscribe(conn, GONE_CHAT, topic_id=topic.id, query=None)
        w.clock.advance(minutes=1)
        w.publish(article(7, published_at=t0, updated_at=w.clock()))
        assert _deliveries_of(w) == [
            (CHAT, "pending"), (SENT_CHAT, "sent"), (DIGEST_CHAT, "held"), (GONE_CHAT, "withdrawn"),
        ]  # fmt: skip
    with w.db.read() as conn:
        due, error = conn.execute(select(deliveries.c.due_at, deliveries.c.error)
                                  .where(deliveries.c.chat_id == DIGEST_CHAT)).one()  # fmt: skip
    assert due == t0 + timedelta(hours=3) and error is None  # still at its digest's time


def test_republished_too_late_to_alert_stays_withdrawn(db: Database) -> None:
    """Shown again after the alert age (24 h here): no alert, as for a new old article."""
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(7, published_at=t0, updated_at=t0))
    w.clock.advance(minutes=1)
    w.publish(article(7, published_at=t0, updated_at=w.clock(), withdrawn=True))
    w.clock.advance(hours=25)
    w.publish(article(7, published_at=t0, updated_at=w.clock()))
    assert [d[1] for d in w.deliveries()] == ["withdrawn"]


def test_a_withdrawn_first_version_is_never_shown_and_alerts_when_published(db: Database) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(8, published_at=t0 - timedelta(minutes=1), updated_at=t0, withdrawn=True))
    assert listed_everywhere(w, "8.html") == []
    assert w.deliveries() == []
    w.clock.advance(minutes=1)
    w.publish(article(8, published_at=t0 - timedelta(minutes=1), updated_at=w.clock()))
    assert listed_everywhere(w, "8.html") == EVERYWHERE
    assert w.deliveries() == [("TEST-00008", "pending", None)]


def test_an_editor_hides_and_the_source_cannot_bring_it_back(db: Database) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(9, published_at=t0 - timedelta(minutes=1), updated_at=t0))
    other = FeedPublisher(w.db, w.pub.settings)  # a replica that serves feeds
    other.sync()
    assert "9.html" in w.feed_keys("rss", other)

    hidden = hide_article(w.db, " TEST-00009 ", "Yêu cầu pháp lý", "cli")
    assert (hidden.hidden_reason, hidden.hidden_by) == ("Yêu cầu pháp lý", "cli")
    other.sync()  # one sync, no ingest in that process
    assert "9.html" not in w.feed_keys("rss", other)
    assert listed_everywhere(w, "9.html") == []
    assert w.deliveries() == [("TEST-00009", "withdrawn", "hidden")]

    w.clock.advance(minutes=1)  # the CMS edits it: still hidden
    w.publish(article(9, title="Kiến Thụy: bản sửa", published_at=t0, updated_at=w.clock()))
    assert listed_everywhere(w, "9.html") == []

    shown = unhide_article(w.db, "TEST-00009", w.ing.hooks)
    assert shown.hidden_at is None and shown.hidden_reason is None
    other.sync()
    assert "9.html" in w.feed_keys("rss", other)
    assert listed_everywhere(w, "9.html") == EVERYWHERE


def test_unhide_leaves_a_source_withdrawal_alone(db: Database) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(10, published_at=t0, updated_at=t0))
    hide_article(w.db, "TEST-00010", None, "api")
    w.clock.advance(minutes=1)
    w.publish(article(10, published_at=t0, updated_at=w.clock(), withdrawn=True))
    unhide_article(w.db, "TEST-00010", w.ing.hooks)
    w.pub.sync()
    assert listed_everywhere(w, "10.html") == []


@pytest.mark.parametrize(
    ("db_url", "key", "reason", "kind"),
    on_backends(
        [
            ("NO-SUCH-KEY", None, "not_found"),
            ("   ", None, "invalid"),
            ("TEST-00011", "x" * 501, "invalid"),
            ("TEST-00011", "bad\x07bell", "invalid"),
        ],
        label=lambda v: ascii(v).strip("'")[:24],
    ),
    indirect=["db_url"],
)
def test_hide_errors(db: Database, key: str, reason: str | None, kind: str) -> None:
    w = make_world(db, Clock())
    w.publish(article(11, published_at=w.clock()))
    with pytest.raises(OperationError) as info:
        hide_article(w.db, key, reason, "cli")
    assert info.value.kind == kind
    assert "11.html" in w.feed_keys("rss")
    assert CHAT
