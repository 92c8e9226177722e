"""An external CMS and the lifecycle (issue #13 §2): `[source.columns] visible` (drafts never
shown, a row sent back to draft withdrawn) and reconciliation of deleted rows (never fooled by
an outage, an empty table or a date moved out of the window). The CMS table lives on the same
backend as the state DB: a SQLite file, or a table in the test's PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from cms_table import COLUMNS, Cms, cms_table
from lifecycle_world import World, make_world

from feedsvc.db import Database
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.source import external_source
from feedsvc.source.recent import NotReconcilable


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


def world(db: Database, cms: Cms) -> World:
    w = make_world(db, cms.clock, source=cms.source())
    return w


def test_drafts_are_never_shown_and_back_to_draft_withdraws(db: Database, cms: Cms) -> None:
    w = world(db, cms)
    t0 = cms.clock()
    cms.put(1, "draft", t0 - timedelta(minutes=10))
    cms.put(2, None, t0 - timedelta(minutes=10))  # no status: NULL is not "published"
    w.poll()
    assert w.feed_keys("rss") == [] and w.deliveries() == []

    cms.clock.advance(seconds=5)
    cms.put(1, "published", t0 - timedelta(minutes=10))
    w.poll()
    assert w.feed_keys("atom") == ["1.html"]
    assert w.deliveries() == [("TEST-00001", "pending", None)]

    cms.clock.advance(seconds=5)
    cms.put(1, "draft", t0 - timedelta(minutes=10))  # `edited` (its version) does not move
    w.poll()
    assert w.feed_keys("json") == []
    assert w.deliveries() == [("TEST-00001", "withdrawn", "withdrawn:draft")]

    cms.clock.advance(seconds=5)
    cms.put(1, "published", t0 - timedelta(minutes=10))
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    assert len(w.deliveries()) == 1  # one delivery per (chat, article), ever


def test_reconciliation_withdraws_deleted_rows_only(db: Database, cms: Cms) -> None:
    w = world(db, cms)
    t0 = cms.clock()
    for n in range(1, 6):
        cms.put(n, "published", t0 - timedelta(minutes=n))
    cms.put(6, "published", t0 - timedelta(days=30))  # outside the 7-day window
    w.poll()
    assert sorted(w.feed_keys("rss")) == sorted(f"{n}.html" for n in range(1, 7))
    rec = Reconciler(db, w.ing.source, days=7, clock=cms.clock)
    assert rec.run().withdrawn == ()

    cms.delete(2, 6)  # 6 is outside the window: not reconciled, kept
    cms.clock.advance(seconds=5)
    cms.put(3, "published", t0 - timedelta(days=20))  # moved out of the window: not deleted
    cms.clock.advance(seconds=5)
    done = rec.run()
    assert (done.refused, len(done.withdrawn)) == (None, 1)
    w.poll()
    assert sorted(w.feed_keys("rss")) == sorted(f"{n}.html" for n in (1, 3, 4, 5, 6))
    assert ("TEST-00002", "withdrawn", "withdrawn:deleted") in w.deliveries()
    assert rec.run().withdrawn == ()  # once


def test_an_unreachable_or_empty_source_withdraws_nothing(
    db: Database, cms: Cms, tmp_path: Path
) -> None:
    w = world(db, cms)
    t0 = cms.clock()
    for n in range(1, 4):
        cms.put(n, "published", t0 - timedelta(hours=n))
    w.poll()
    # unreachable: the CMS file/schema is not there any more → an error, nothing withdrawn
    gone = external_source(f"sqlite:///{tmp_path / 'missing' / 'cms.db'}", "posts", COLUMNS, UTC)
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error
        Reconciler(db, gone, days=7, clock=cms.clock).run()
    cms.delete(1, 2, 3)  # emptied (a restore in progress): refused
    refused = Reconciler(db, w.ing.source, days=7, clock=cms.clock).run()
    assert refused.withdrawn == () and refused.refused
    w.poll()
    assert sorted(w.feed_keys("rss")) == ["1.html", "2.html", "3.html"]


def test_a_half_empty_window_is_refused(db: Database, cms: Cms) -> None:
    """A partly restored table (most of the week missing) looks like an outage, not deletions."""
    w = world(db, cms)
    t0 = cms.clock()
    for n in range(1, 31):
        cms.put(n, "published", t0 - timedelta(hours=n))
    w.poll()
    cms.delete(*range(1, 21))
    refused = Reconciler(db, w.ing.source, days=7, clock=cms.clock).run()
    assert refused.withdrawn == () and "20 of 30" in (refused.refused or "")
    cms.delete()  # nothing else
    assert len(w.feed_keys("rss")) == 30


def test_reconciliation_needs_a_published_at_column(db: Database, cms: Cms) -> None:
    cols = COLUMNS.model_copy(update={"published_at": "COALESCE(created, modified)"})
    w = make_world(db, cms.clock, source=cms.source(cols))
    cms.put(1, "published", cms.clock() - timedelta(hours=1))
    w.poll()
    with pytest.raises(NotReconcilable):
        Reconciler(db, w.ing.source, days=7, clock=cms.clock).run()


def test_a_cms_without_edit_times_publishing_a_scheduled_post_now(db: Database, cms: Cms) -> None:
    """`updated_at` not mapped: a post's version is its `created`. Scheduled for later, then
    published now (or moved earlier) by the CMS: the earlier `created` was an older version
    and was ignored; the post stayed unseen until its first time."""
    w = make_world(db, cms.clock, source=cms.source(COLUMNS.model_copy(update={"updated_at": ""})))
    t0 = cms.clock()
    cms.put(1, "published", t0 + timedelta(hours=3))
    cms.put(2, "published", t0 + timedelta(hours=3))
    w.poll()
    assert w.feed_keys("rss") == [] and w.deliveries() == []
    cms.clock.advance(seconds=5)
    cms.put(1, "published", t0)  # "publish now"
    cms.put(2, "published", t0 + timedelta(hours=1))  # moved earlier, still to come
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    assert w.deliveries() == [("TEST-00001", "pending", None)]
    cms.clock.advance(hours=1)
    w.poll()
    assert w.feed_keys("atom") == ["2.html", "1.html"]
    assert [d[0] for d in w.deliveries()] == ["TEST-00001", "TEST-00002"]
