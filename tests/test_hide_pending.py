"""A hide recorded before ingest read the key (``pending_hides``, migration 0023), applied by
the ingest transaction that stores the article: the cases around the plain one
(``test_hide_not_ingested.py``) — cancelled before ingest, several in one batch, a scheduled
article, edits and imports under it, keys with ``/`` or in another Unicode form, an unhide
after ingest (released as an article hidden before it was public), a batch write that fails,
and an external CMS (``pending`` asked explicitly). The clock is the world's; SQLite and
PostgreSQL."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cms_table import Cms, cms_table
from factories import article
from lifecycle_world import World, make_world
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import OperationalError

from feedsvc.db import Database
from feedsvc.db.schema import pending_hides
from feedsvc.ingest.model import Change
from feedsvc.lifecycle.editors import find_articles, hide_article, unhide_article
from feedsvc.operations import OperationError
from feedsvc.store.lifecycle import editor_state
from feedsvc.store.source_articles import upsert_source_articles

KEY = "TEST-00001"


def imported(w: World, *items: object) -> None:
    """``feedsvc import``'s write to the built-in table, no ingest yet."""
    with w.db.write() as conn:
        upsert_source_articles(conn, list(items), w.clock())  # type: ignore[arg-type]


def hidden(w: World, key: str = KEY) -> bool:
    with w.db.read() as conn:
        held = editor_state(conn, key)
    assert held is not None, f"{key} not ingested"
    return held.hidden_at is not None


def records(w: World) -> list[str]:
    with w.db.read() as conn:
        return sorted(conn.execute(select(pending_hides.c.source_key)).scalars())


def test_hidden_then_unhidden_before_ingest_ingests_as_any_other(db: Database) -> None:
    w = make_world(db)
    imported(w, article(1, published_at=w.clock()))
    assert hide_article(w.db, KEY, "?", "cli").pending
    cancelled = unhide_article(w.db, KEY, w.ing.hooks)
    assert (cancelled.ingested, cancelled.pending, cancelled.state(w.clock())) == (
        False, False, "not_ingested",
    )  # fmt: skip
    assert records(w) == []
    w.poll()
    assert not hidden(w)
    assert w.deliveries() == [(KEY, "pending", None)]
    assert w.feed_keys("rss") == ["1.html"]
    with pytest.raises(OperationError) as unknown:  # nothing pending any more: a typo
        unhide_article(w.db, "TEST-00002", w.ing.hooks)
    assert unknown.value.code == "article_not_found"


def test_a_batch_with_several_pending_hides_hides_exactly_those(db: Database) -> None:
    w = make_world(db)
    imported(w, *(article(n, published_at=w.clock()) for n in range(1, 7)))
    for n in (2, 4, 5):
        hide_article(w.db, f"TEST-{n:05d}", f"gỡ {n}", "api")
    assert records(w) == ["TEST-00002", "TEST-00004", "TEST-00005"]
    w.poll()
    assert [n for n in range(1, 7) if hidden(w, f"TEST-{n:05d}")] == [2, 4, 5]
    assert sorted(k for k, _, _ in w.deliveries()) == ["TEST-00001", "TEST-00003", "TEST-00006"]
    assert sorted(w.feed_keys("rss")) == ["1.html", "3.html", "6.html"]
    assert records(w) == []
    with w.db.read() as conn:
        held = editor_state(conn, "TEST-00004")
    assert held is not None and (held.hidden_reason, held.hidden_by) == ("gỡ 4", "api")


def test_a_scheduled_article_hidden_ahead_is_not_released_at_its_time(db: Database) -> None:
    """Hidden before ingest and before its time: its time comes, nothing is released; the
    unhide after it releases it once, as an article hidden before it was public."""
    w = make_world(db)
    imported(w, article(1, published_at=w.clock() + timedelta(minutes=10)))
    hide_article(w.db, KEY, "chờ duyệt", "admin")
    w.poll()
    w.clock.advance(minutes=30)
    w.poll()
    assert hidden(w) and w.deliveries() == [] and w.feed_keys("rss") == []
    unhide_article(w.db, KEY, w.ing.hooks)
    w.poll()
    assert w.deliveries() == [(KEY, "pending", None)]
    assert w.feed_keys("rss") == ["1.html"]
    w.clock.advance(minutes=1)
    w.poll()
    assert len(w.deliveries()) == 1


def test_unhidden_after_ingest_alerts_once_as_never_public(db: Database) -> None:
    """It never was public: the unhide is its first public moment (README, "Hidden by an
    editor"), alerted once; a second unhide and a restart's due check add nothing."""
    w = make_world(db)
    imported(w, article(1, published_at=w.clock()))
    hide_article(w.db, KEY, None, "cli")
    w.poll()
    assert w.deliveries() == []
    w.clock.advance(minutes=20)
    unhide_article(w.db, KEY, w.ing.hooks)
    unhide_article(w.db, KEY, w.ing.hooks)
    w.poll()
    assert w.deliveries() == [(KEY, "pending", None)]


def test_imported_again_and_edited_under_the_hide_stays_hidden(db: Database) -> None:
    w = make_world(db)
    t0 = w.clock()
    first = article(1, published_at=t0, updated_at=t0)
    imported(w, first)
    hide_article(w.db, KEY, "pháp lý", "cli")
    w.clock.advance(minutes=1)
    imported(w, replace(first, title="Kiến Thụy: bản sửa", updated_at=w.clock()))
    w.poll()
    assert hidden(w)
    w.clock.advance(minutes=1)
    w.publish(replace(first, title="Kiến Thụy: bản sửa 2", updated_at=w.clock()))
    assert hidden(w) and w.deliveries() == [] and w.feed_keys("rss") == []


def test_a_second_hide_while_pending_renews_the_reason_keeps_the_time(db: Database) -> None:
    w = make_world(db)
    imported(w, article(1, published_at=w.clock()))
    first = hide_article(w.db, KEY, "một", "cli")
    w.clock.advance(minutes=1)
    same = hide_article(w.db, KEY, None, "api")  # no reason: nothing changes
    assert (same.hidden_reason, same.hidden_by, same.hidden_at) == ("một", "cli", first.hidden_at)
    renewed = hide_article(w.db, KEY, "hai", "admin")
    assert (renewed.hidden_reason, renewed.hidden_by) == ("hai", "admin")
    assert renewed.hidden_at == first.hidden_at
    w.poll()
    with w.db.read() as conn:
        held = editor_state(conn, KEY)
    assert held is not None
    assert (held.hidden_reason, held.hidden_by, held.hidden_at) == ("hai", "admin", first.hidden_at)


@pytest.mark.parametrize("key", ["CMS/2026/11/0042", "/lead", "x//y/"])
def test_keys_holding_slashes(db: Database, key: str) -> None:
    w = make_world(db)
    imported(w, article(1, source_key=key, published_at=w.clock()))
    assert hide_article(w.db, key, None, "api").pending
    w.poll()
    assert hidden(w, key) and w.deliveries() == []


def test_keys_are_trimmed_and_read_in_any_unicode_form(db: Database) -> None:
    """A key is trimmed (``keys.trim_key``), and its NFD form typed means the NFC key the
    table holds (``store.article_keys``; it said "unknown" while an equivalent key waited, and
    a hide of it never applied): hidden ahead under the table's key, found either way."""
    w = make_world(db)
    nfc = unicodedata.normalize("NFC", "TIN-Kiến-Thụy")
    nfd = unicodedata.normalize("NFD", nfc)
    imported(w, article(1, source_key=nfc, published_at=w.clock()))
    ahead = hide_article(w.db, nfd, None, "cli")
    assert (ahead.source_key, ahead.typed_as, ahead.pending) == (nfc, nfd, True)
    assert hide_article(w.db, f" {nfc}\u200b\n", None, "cli").source_key == nfc
    assert records(w) == [nfc]
    assert [a.source_key for a in find_articles(w.db, nfc)] == [nfc]
    assert [a.source_key for a in find_articles(w.db, nfd)] == [nfc]
    w.poll()
    assert hidden(w, nfc) and w.deliveries() == []


def test_pending_hides_are_listed_first_with_no_text(db: Database) -> None:
    w = make_world(db)
    w.publish(article(2, published_at=w.clock()))
    imported(w, article(1, published_at=w.clock()))
    hide_article(w.db, KEY, None, "cli")
    found = find_articles(w.db, "")
    assert [(a.source_key, a.pending) for a in found] == [(KEY, True), ("TEST-00002", False)]
    assert found[0].title == article(1).title  # from the built-in table


def test_a_restart_between_the_hide_and_ingest(db: Database) -> None:
    """The record is in the state DB: a new process (a restart, another replica) applies it."""
    w = make_world(db)
    imported(w, article(1, published_at=w.clock()))
    hide_article(w.db, KEY, "trước khi khởi động lại", "cli")
    again = make_world(db, w.clock)  # a fresh ingestor, publisher and due check
    again.poll()
    assert hidden(again) and again.deliveries() == [] and again.feed_keys("rss") == []


def test_a_batch_write_that_fails_keeps_the_record_and_publishes_nothing(db: Database) -> None:
    """The crash guarantee: the record goes only with the commit that stores the article
    hidden; a write that fails after the hide was taken leaves both as they were."""
    w = make_world(db)
    imported(w, article(1, published_at=w.clock()))
    hide_article(w.db, KEY, None, "cli")

    def broken(conn: Connection, changes: list[Change], now: object) -> None:
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    w.ing.hooks.append(broken)  # type: ignore[arg-type]
    assert w.ing.tick().error is not None
    with w.db.read() as conn:
        assert editor_state(conn, KEY) is None
    assert records(w) == [KEY]
    w.ing.hooks.remove(broken)  # type: ignore[arg-type]
    w.ing.backoff.succeeded()  # the next try now, not after the backoff
    w.poll()
    assert hidden(w) and w.deliveries() == [] and records(w) == []


def test_a_row_stored_alone_in_a_savepoint_keeps_its_hide(db: Database) -> None:
    """A batch the state DB refuses is stored row by row in savepoints: a refused row's record
    stays (rolled back with it), the others' hides apply."""
    w = make_world(db)
    imported(w, article(1, published_at=w.clock()), article(2, published_at=w.clock()))
    hide_article(w.db, KEY, None, "cli")
    hide_article(w.db, "TEST-00002", None, "cli")

    def refuses_two(conn: Connection, changes: list[Change], now: object) -> None:
        if any(c.article.source_key == "TEST-00002" for c in changes):
            raise ValueError("this row only")

    w.ing.hooks.insert(0, refuses_two)  # type: ignore[arg-type]
    w.poll()
    assert hidden(w) and records(w) == ["TEST-00002"]
    with w.db.read() as conn:
        assert editor_state(conn, "TEST-00002") is None
    assert w.deliveries() == []


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


def test_an_external_cms_key_needs_pending_asked(db: Database, cms: Cms) -> None:
    """feedsvc cannot cheaply know whether the CMS holds a key it has not read: without
    ``pending`` the key is unknown (a typo, probably); with it the hide is recorded."""
    w = make_world(db, cms.clock, source=cms.source())
    with pytest.raises(OperationError) as unknown:
        hide_article(w.db, KEY, None, "cli")
    assert unknown.value.code == "article_not_found" and records(w) == []
    recorded = hide_article(w.db, KEY, "CMS chưa đồng bộ", "cli", pending=True)
    assert (recorded.pending, recorded.published_at, recorded.title) == (True, None, "")
    cms.put(1, "published", cms.clock() - timedelta(minutes=1))
    cms.put(2, "published", cms.clock() - timedelta(minutes=1))
    cms.clock.advance(seconds=5)
    w.poll()
    assert hidden(w) and not hidden(w, "TEST-00002")
    assert [k for k, _, _ in w.deliveries()] == ["TEST-00002"]
    assert w.feed_keys("rss") == ["2.html"]


@pytest.mark.postgres
def test_postgres_ingest_waits_for_a_hide_being_recorded(db: Database) -> None:
    """Under READ COMMITTED, a hide recording its record while ingest stores the article could
    pass each other (neither sees the other's write): ingest waits for the hide's lock, then
    reads the record it committed."""
    import threading
    import time

    from feedsvc.store import pending_hides as store

    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's locking")
    w = make_world(db)
    imported(w, article(1, published_at=w.clock()))
    done: list[object] = []
    with w.db.write() as conn:  # the hide's transaction, between its lock and its record
        store.serialize(conn)
        ingest = threading.Thread(target=lambda: done.append(w.ing.tick()))
        ingest.start()
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        deadline = time.monotonic() + 30
        with w.db.engine.connect() as probe:
            while not probe.exec_driver_sql(waiting).scalar():
                probe.rollback()
                assert time.monotonic() < deadline, "ingest never waited for the lock"
                assert ingest.is_alive(), "ingest ended without waiting for the lock"
        store.record(conn, KEY, w.clock(), "đang ghi", "cli")
    ingest.join(30)
    assert not ingest.is_alive() and done
    assert hidden(w) and w.deliveries() == [] and records(w) == []
    with w.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(pending_hides)).scalar() == 0
