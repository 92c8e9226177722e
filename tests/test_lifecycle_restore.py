"""A CMS row deleted and later restored (attack F5): reconciliation withdraws it as ``deleted``;
restored unchanged (same cursor value, a restore from backup) behind the ingest cursor, no read
ever took it again and it stayed withdrawn for good. Each reconciliation pass now looks the
deleted ones up by id (a bounded slice) and the ones back are stored again through ingest's
batch write: public again within one pass, one delivery per (chat, article) kept."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from cms_table import COLUMNS, Cms, cms_table
from lifecycle_world import World, make_world
from sqlalchemy import select, update

from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.lifecycle import reconcile
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.lifecycle.visibility import Visibility
from feedsvc.source import external_source
from feedsvc.store.lifecycle import article_visibility


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


class Rereads:
    """The ingestor's re-read, counted: which ids each pass handed over."""

    def __init__(self, w: World) -> None:
        self.w, self.calls = w, list[list[str]]()

    def __call__(self, ids: Sequence[str]) -> int:
        self.calls.append(list(ids))
        return self.w.ing.reread(ids)


def setup(db: Database, cms: Cms, posts: int = 3) -> tuple[World, Reconciler, Rereads]:
    w = make_world(db, cms.clock, source=cms.source())
    t0 = cms.clock()
    for n in range(1, posts + 1):
        cms.put(n, "published", t0 - timedelta(minutes=n))
    w.poll()
    reread = Rereads(w)
    return w, Reconciler(db, w.ing.source, days=7, clock=cms.clock, reread=reread), reread


def state(w: World, key: str) -> tuple[Visibility | None, str | None]:
    with w.db.read() as conn:
        row = conn.execute(
            select(articles.c.id, articles.c.withdrawn_reason).where(articles.c.source_key == key)
        ).one()
        return article_visibility(conn, row.id, w.clock()), row.withdrawn_reason


def delete_and_pass_the_cursor(w: World, rec: Reconciler, cms: Cms, n: int) -> dict[str, object]:
    """Save post ``n``, delete it, reconcile (withdrawn), then move the ingest cursor well past
    it (a later post, past the overlap window). Returns the saved row."""
    saved = cms.row(n)
    cms.delete(n)
    cms.clock.advance(seconds=5)
    assert len(rec.run().withdrawn) == 1
    w.poll()
    assert f"{n}.html" not in w.feed_keys("rss")
    cms.clock.advance(minutes=10)
    cms.put(99, "published", cms.clock() - timedelta(minutes=1), "Tin khác")
    w.poll()
    return saved


def test_restored_unchanged_after_the_overlap_is_public_within_one_pass(
    db: Database, cms: Cms
) -> None:
    w, rec, reread = setup(db, cms)
    saved = delete_and_pass_the_cursor(w, rec, cms, 2)
    cms.insert(saved)  # restored from backup: same `modified` (cursor) and `edited` (version)
    w.poll()
    assert state(w, "TEST-00002") == (Visibility.WITHDRAWN, "deleted")  # ingest alone: never
    done = rec.run()
    assert state(w, "TEST-00002") == (Visibility.PUBLIC, None)
    assert done.back == ("2",) and done.withdrawn == ()
    assert sorted(w.feed_keys("rss")) == ["1.html", "2.html", "3.html"]  # 99: no topic
    # its alert never went out (withdrawn while queued): owed again, the same one row
    assert [d for d in w.deliveries() if d[0] == "TEST-00002"] == [("TEST-00002", "pending", None)]
    w.poll()
    assert rec.run().back == () and reread.calls == [["2"]]  # held again: not looked up


def test_an_alert_sent_before_the_deletion_is_not_sent_again(db: Database, cms: Cms) -> None:
    """One delivery per (chat, article), ever (SPEC §10): the chat had it, the restore does
    not alert it a second time."""
    w, rec, _ = setup(db, cms)
    with db.write() as conn:
        conn.execute(update(deliveries).values(state="sent", message_id=7, finished_at=w.clock()))
    saved = delete_and_pass_the_cursor(w, rec, cms, 2)
    cms.insert(saved)
    done = rec.run()
    assert state(w, "TEST-00002") == (Visibility.PUBLIC, None)
    assert done.back == ("2",)
    assert [d for d in w.deliveries() if d[0] == "TEST-00002"] == [("TEST-00002", "sent", None)]


def test_restored_unchanged_within_the_overlap_comes_back_too(db: Database, cms: Cms) -> None:
    """The cursor still at the row (no later post): the window holds the withdrawn copy at the
    same position, so ingest does not re-read it either."""
    w, rec, _ = setup(db, cms)
    saved = cms.row(3)
    cms.delete(3)
    cms.clock.advance(seconds=5)
    assert len(rec.run().withdrawn) == 1
    cms.insert(saved)
    w.poll()
    done = rec.run()
    assert state(w, "TEST-00003") == (Visibility.PUBLIC, None)
    assert done.back == ("3",)
    assert "3.html" in w.feed_keys("atom")


def test_restored_with_a_newer_change_time_is_ingested_as_before(db: Database, cms: Cms) -> None:
    w, rec, _ = setup(db, cms)
    saved = delete_and_pass_the_cursor(w, rec, cms, 1)
    cms.clock.advance(seconds=5)
    stamp = cms.clock().replace(tzinfo=None)
    cms.insert({**saved, "modified": stamp, "edited": stamp, "title": "Công an Kiến Thụy (sửa)"})
    w.poll()  # the read takes it (after the cursor), before any reconciliation
    assert state(w, "TEST-00001") == (Visibility.PUBLIC, None)
    assert rec.run().back == ()
    assert "1.html" in w.feed_keys("json")


def test_still_deleted_stays_withdrawn_with_only_the_lookup(db: Database, cms: Cms) -> None:
    w, rec, reread = setup(db, cms)
    delete_and_pass_the_cursor(w, rec, cms, 2)
    for _ in range(3):
        cms.clock.advance(minutes=5)
        done = rec.run()
        assert (done.back, done.withdrawn) == ((), ())
    assert reread.calls == []  # nothing read or written beyond the one lookup by id
    assert state(w, "TEST-00002") == (Visibility.WITHDRAWN, "deleted")


def test_restored_as_a_draft_stays_withdrawn(db: Database, cms: Cms) -> None:
    w, rec, _ = setup(db, cms)
    saved = delete_and_pass_the_cursor(w, rec, cms, 2)
    cms.insert({**saved, "status": "draft"})
    rec.run()
    assert state(w, "TEST-00002")[0] is Visibility.WITHDRAWN
    assert "2.html" not in w.feed_keys("rss")


def test_the_lookup_is_bounded_and_goes_round(
    db: Database, cms: Cms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most LOOKUP ids per pass; the next pass goes on after the last, then from the start:
    a restored row is found whichever slice it is in."""
    monkeypatch.setattr(reconcile, "LOOKUP", 2)
    w, rec, reread = setup(db, cms, posts=30)
    saved = {n: cms.row(n) for n in range(1, 6)}
    cms.delete(*saved)
    cms.clock.advance(seconds=5)
    assert len(rec.run().withdrawn) == 5
    cms.clock.advance(minutes=10)
    cms.put(99, "published", cms.clock() - timedelta(minutes=1))
    w.poll()
    cms.insert(saved[5])  # the last slice
    cms.insert(saved[1])  # the first
    backs = [rec.run().back for _ in range(4)]
    assert backs[:3] == [("1",), (), ("5",)] and backs[3] == ()  # 1 and 5 are held again
    assert all(len(ids) <= 2 for ids in reread.calls)
    for n in (1, 5):
        assert state(w, f"TEST-{n:05d}") == (Visibility.PUBLIC, None)
    for n in (2, 3, 4):
        assert state(w, f"TEST-{n:05d}") == (Visibility.WITHDRAWN, "deleted")


def test_an_unreachable_source_restores_nothing(db: Database, cms: Cms, tmp_path: Path) -> None:
    w, rec, _ = setup(db, cms)
    saved = delete_and_pass_the_cursor(w, rec, cms, 2)
    cms.insert(saved)
    gone = external_source(f"sqlite:///{tmp_path / 'missing' / 'cms.db'}", "posts", COLUMNS)
    broken = Reconciler(db, gone, days=7, clock=cms.clock, reread=w.ing.reread)
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error
        broken.run()
    assert state(w, "TEST-00002") == (Visibility.WITHDRAWN, "deleted")


def test_returned_is_the_pure_rule() -> None:
    from feedsvc.lifecycle.reconcile import returned

    assert returned(["3", "1", "2"], {"1", "3", "9"}) == ["3", "1"]
    assert returned([], {"1"}) == [] and returned(["1"], set()) == []
