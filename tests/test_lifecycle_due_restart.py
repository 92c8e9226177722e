"""The due check's overlap across processes (tester 2, finding 2): each run looks back 10
minutes (``DUE_OVERLAP_SECONDS``) and remembered what it had released only in memory, so the
second run of every new process — a restart, a deploy, a crash loop, a replica taking the
ingest lease over — released again the articles that became public in the 10 minutes before
it: logged "due check: N scheduled article(s) became public" and alerted chats that had
subscribed since. A release is now recorded on the article (``articles.released_at``,
migration 0022), and the overlap still releases, once, a row that committed after a check
had passed its time. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from factories import article, builtin_ingestor
from lifecycle_world import CHAT, SLUG, Clock, World, make_world
from sqlalchemy import Connection, select, text
from upgrades import OLD_ARTICLE, database_at, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, deliveries
from feedsvc.ingest.model import Change
from feedsvc.lifecycle.due import DueCheck
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.outbox import Outbox
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import get_topic

LATE = 1002  # a reader who subscribes after the article is out
DUE_LOG = "feedsvc.lifecycle.due"


def new_process(w: World) -> None:
    """A restart (or another replica taking the ingest lease over): a new ingestor with new
    hooks and a new due check on the same DB, as ``Service`` builds them at each start."""
    ing = builtin_ingestor(w.db, overlap_seconds=60)
    ing.clock = w.clock
    ing.hooks.append(Outbox(timedelta(hours=24)))
    ing.after_commit.append(w.pub.on_ingest)
    w.ing = ing
    w.due = DueCheck(w.db, ing.hooks, ing.after_commit, clock=w.clock)


def restart_and_poll_twice(w: World) -> None:
    """A restart, then its first two polls 2 s apart (the second used to reach back past the
    stored watermark)."""
    new_process(w)
    for _ in range(2):
        w.clock.advance(seconds=2)
        w.poll()


def subscribe_late(w: World) -> None:
    with w.db.write() as conn:
        topic = get_topic(conn, SLUG)
        assert topic is not None
        ensure_chat(conn, LATE, "private", "Bạn đọc mới", w.clock())
        subscribe(conn, LATE, topic_id=topic.id, query=None, now=w.clock())


def alerts(w: World) -> list[tuple[int, str]]:
    """(chat, source key) of every delivery queued, in order."""
    stmt = (
        select(deliveries.c.chat_id, articles.c.source_key)
        .join(articles, articles.c.id == deliveries.c.article_id)
        .order_by(deliveries.c.id)
    )
    with w.db.read() as conn:
        return [(int(c), str(k)) for c, k in conn.execute(stmt)]


def due_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == DUE_LOG]


def test_the_reproduction_a_restart_alerts_no_late_subscriber(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Tester 2's steps: A scheduled 20 s ahead, released 10 s after its time (chat 4242
    alerted); chat 1002 subscribes; a deploy restarts the service; its polls over the next
    minutes (2 s apart, then across the whole overlap) release nothing, log nothing and queue
    nothing for 1002 — as for any article that was public when a reader subscribed."""
    caplog.set_level(logging.INFO, logger=DUE_LOG)
    w = make_world(db)
    w.publish(article(1, published_at=w.clock() + timedelta(seconds=20)))
    w.clock.advance(seconds=30)
    w.poll()
    assert alerts(w) == [(CHAT, "TEST-00001")]
    assert due_lines(caplog) == ["due check: 1 scheduled article(s) became public"]
    subscribe_late(w)
    caplog.clear()
    for restart in range(3):  # a deploy, then a crash loop
        w.clock.advance(seconds=4)
        new_process(w)
        for _ in range(3):
            w.poll()
            w.clock.advance(seconds=2)
        w.clock.advance(minutes=3 * restart)
        w.poll()
    w.clock.advance(minutes=11)  # and past the overlap
    w.poll()
    assert due_lines(caplog) == []
    assert alerts(w) == [(CHAT, "TEST-00001")]
    assert w.feed_keys("rss") == ["1.html"]


def test_replicas_taking_turns_release_each_article_once(db: Database) -> None:
    """PostgreSQL replicas share the watermark and take the ingest lease in turns: A releases
    one article, B (the new leader) another; neither releases the other's again, B's second
    run included, nor A's when it leads again (its memory was minutes old and had not seen
    B's release)."""
    w = make_world(db)
    a = DueCheck(w.db, w.ing.hooks, clock=w.clock)
    b_hooks = [Outbox(timedelta(hours=24))]
    b = DueCheck(w.db, b_hooks, clock=w.clock)
    t0 = w.clock()
    with w.db.write() as conn:
        upsert_source_articles(
            conn,
            [
                article(1, published_at=t0 + timedelta(seconds=20)),
                article(2, published_at=t0 + timedelta(seconds=90)),
            ],
            t0,
        )
    assert w.ing.tick().error is None
    w.clock.advance(seconds=30)
    assert [c.article.source_key for c in a.run()] == ["TEST-00001"]
    subscribe_late(w)
    w.clock.advance(minutes=1)  # A lost the lease; B leads
    assert [c.article.source_key for c in b.run()] == ["TEST-00002"]
    w.clock.advance(seconds=2)
    assert b.run() == []
    w.clock.advance(minutes=2)  # A leads again
    assert a.run() == []
    assert sorted(alerts(w)) == [(LATE, "TEST-00002"), (CHAT, "TEST-00001"), (CHAT, "TEST-00002")]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_checks_at_once_release_an_article_once(db: Database) -> None:
    """A lease handover on PostgreSQL: the new leader's check starts while the old leader's is
    still in its transaction (its outbox writing). The second waits for the first (the
    watermark row's lock, taken first) and then reads its release: one release, not two."""
    w = make_world(db)
    w.publish(article(1, published_at=w.clock() + timedelta(seconds=20)))
    w.clock.advance(seconds=30)
    entered, go = threading.Event(), threading.Event()

    def slow_hook(conn: Connection, changes: Sequence[Change], now: datetime) -> None:
        entered.set()
        assert go.wait(30)

    first = DueCheck(w.db, [*w.ing.hooks, slow_hook], clock=w.clock)
    second = DueCheck(w.db, [Outbox(timedelta(hours=24))], clock=w.clock)
    results: dict[str, list[Change]] = {}
    threads = [
        threading.Thread(target=lambda: results.__setitem__("first", first.run())),
        threading.Thread(target=lambda: results.__setitem__("second", second.run())),
    ]
    threads[0].start()
    assert entered.wait(30)
    threads[1].start()
    deadline = time.monotonic() + 30  # a condition polled, not a sleep standing in for one
    while not _waiting_on_a_lock(w.db) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_on_a_lock(w.db)
    go.set()
    for thread in threads:
        thread.join(30)
    assert [c.article.source_key for c in results["first"]] == ["TEST-00001"]
    assert results["second"] == []
    assert alerts(w) == [(CHAT, "TEST-00001")]


def _waiting_on_a_lock(db: Database) -> bool:
    """Is the second check waiting for a lock: the watermark row's (or, with no such lock taken
    first, the outbox row the first check is writing)?"""
    with db.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                " AND (query ILIKE '%due_watermark%' OR query ILIKE '%deliveries%')"
            )
        ).scalar_one()
    return bool(found)


@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "restarted"])
def test_a_row_committed_after_the_check_passed_its_time_is_released_once(
    db: Database, caplog: pytest.LogCaptureFixture, restart: bool
) -> None:
    """What the overlap is for: an import whose transaction began at 10:00:00 stores an article
    for 10:00:30 (scheduled then) and commits at 10:01, after a check at 10:00:45 had passed
    its time without seeing it. The next check releases it — in the same process, or the first
    check of the next one (a restart right after) — once; later checks do not."""
    caplog.set_level(logging.INFO, logger=DUE_LOG)
    w = make_world(db)
    t0 = w.clock()
    checked = w.clock.advance(seconds=45)
    assert w.due.run() == []  # passed 10:00:30 with nothing there
    w.clock.now = t0  # the slow writer: its rows are dated when its transaction began
    with w.db.write() as conn:
        upsert_source_articles(conn, [article(1, published_at=t0 + timedelta(seconds=30))], t0)
    assert w.ing.tick().error is None
    w.clock.now = checked + timedelta(seconds=15)  # its commit, after the check
    with w.db.read() as conn:
        seen, published = conn.execute(
            select(articles.c.first_seen_at, articles.c.published_at)
        ).one()
    assert seen == t0 < published  # stored as scheduled: no alert at the import
    assert alerts(w) == []
    w.clock.advance(seconds=5)
    if restart:
        new_process(w)
    assert [c.article.source_key for c in w.due.run()] == ["TEST-00001"]
    assert alerts(w) == [(CHAT, "TEST-00001")]
    subscribe_late(w)
    for _ in range(3):
        w.clock.advance(seconds=2)
        assert w.due.run() == []
        new_process(w)
        assert w.due.run() == []
    assert alerts(w) == [(CHAT, "TEST-00001")]
    assert due_lines(caplog) == ["due check: 1 scheduled article(s) became public"]


def test_an_unhide_inside_the_overlap_is_not_released_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Held for review before its time and approved 5 minutes after it: the unhide releases it
    (its subscribers alerted once); the due checks after it — whose overlap still covers its
    time — do not release it again, in this process or the next."""
    w = make_world(db)
    w.publish(article(1, published_at=w.clock() + timedelta(minutes=1)))
    hide_article(w.db, "TEST-00001", "chờ duyệt", "admin")
    w.clock.advance(minutes=6)
    w.poll()
    assert alerts(w) == []
    unhide_article(w.db, "TEST-00001", w.ing.hooks)
    assert alerts(w) == [(CHAT, "TEST-00001")]
    subscribe_late(w)
    caplog.set_level(logging.INFO, logger=DUE_LOG)
    w.clock.advance(seconds=2)
    w.poll()
    restart_and_poll_twice(w)
    assert due_lines(caplog) == []
    assert alerts(w) == [(CHAT, "TEST-00001")]


def test_a_schedule_moved_back_by_the_cms_is_released_by_ingest_only(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A scheduled article the CMS publishes now (its time moved back): the ingest of that
    version alerts it; the due check right after it in the same poll, and after a restart,
    does not release it a second time."""
    caplog.set_level(logging.INFO, logger=DUE_LOG)
    w = make_world(db)
    t0 = w.clock()
    w.publish(article(1, published_at=t0 + timedelta(hours=2), updated_at=t0))
    w.clock.advance(minutes=5)
    w.publish(article(1, published_at=t0 + timedelta(minutes=4), updated_at=w.clock()))
    assert alerts(w) == [(CHAT, "TEST-00001")]
    subscribe_late(w)
    restart_and_poll_twice(w)
    assert due_lines(caplog) == []
    assert alerts(w) == [(CHAT, "TEST-00001")]


def test_a_late_subscriber_gets_nothing_from_a_correction(db: Database) -> None:
    """A correction (new title and summary, same topic) of a scheduled article released before
    the reader subscribed: sent alerts are edited, nothing is queued for the new reader."""
    w = make_world(db)
    t0 = w.clock()
    w.publish(article(1, published_at=t0 + timedelta(seconds=20), updated_at=t0))
    w.clock.advance(seconds=30)
    w.poll()
    subscribe_late(w)
    w.clock.advance(minutes=1)
    w.publish(
        article(
            1,
            title="Công an Kiến Thụy bắt đối tượng trộm cắp số 1 (cập nhật)",
            summary="Đính chính.",
            published_at=t0 + timedelta(seconds=20),
            updated_at=w.clock(),
        )
    )
    new_process(w)
    w.clock.advance(seconds=2)
    w.poll()
    assert alerts(w) == [(CHAT, "TEST-00001")]


def test_upgrade_to_0022_counts_what_the_watermark_passed_as_released(db_url: str) -> None:
    """0022 on a DB holding articles: a scheduled article whose time the stored watermark had
    passed counts as released at its time (the first process after the upgrade — whose
    overlap reaches 10 minutes behind the watermark — does not release it again); one due
    after the watermark, and an article stored after its time, are not marked: the first is
    released by the next check, once."""
    db = database_at(db_url, "0021")
    insert = (
        "INSERT INTO articles (source_key, version, url, title, tags, published_at,"
        " search_text, source_cursor, first_seen_at, last_changed_at)"
        " VALUES (:k, :s, :u, 'Công an Kiến Thụy bắt đối tượng', '[]', :p, '', :s, :s, :s)"
    )
    try:
        run_sql(db, OLD_ARTICLE, t="2026-11-30 10:00:00")
        for key, seen, published in (
            ("passed", "2026-12-01 09:00:00", "2026-12-01 09:55:00"),
            ("after", "2026-12-01 09:00:00", "2026-12-01 10:03:00"),
        ):
            run_sql(db, insert, k=key, s=seen, p=published, u=f"https://x.vn/{key}")
        run_sql(
            db,
            "INSERT INTO due_watermark (name, checked_through) VALUES ('due', :w)",
            w="2026-12-01 10:00:00",
        )
        upgrade(db)
        with db.read() as conn:
            rows = conn.execute(select(articles.c.source_key, articles.c.released_at))
            marked = {k for k, at in rows.tuples() if at is not None}
        assert marked == {"passed"}
        upgraded = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
        clock = Clock(upgraded)
        due = DueCheck(db, [], clock=clock)
        assert [c.article.source_key for c in due.run()] == ["after"]
        clock.advance(seconds=2)
        assert due.run() == []
        assert DueCheck(db, [], clock=Clock(upgraded + timedelta(seconds=4))).run() == []
    finally:
        db.dispose()


def test_upgrade_to_0022_without_a_watermark_marks_nothing(db_url: str) -> None:
    """Never checked: nothing is marked; the first check looks back as before (a day)."""
    db = database_at(db_url, "0021")
    try:
        run_sql(db, OLD_ARTICLE, t="2026-11-30 10:00:00")
        upgrade(db)
        with db.read() as conn:
            assert conn.execute(select(articles.c.released_at)).scalars().all() == [None]
    finally:
        db.dispose()
