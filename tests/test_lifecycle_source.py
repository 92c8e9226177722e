"""An external CMS and the lifecycle (issue #13 §2): `[source.columns] visible` (drafts never
shown, a row sent back to draft withdrawn) and reconciliation of deleted rows (never fooled by
an outage, an empty table or a date moved out of the window). The CMS table lives on the same
backend as the state DB: a SQLite file, or a table in the test's PostgreSQL schema.

The later ``visible`` mappings are given one backend each (``backend_cases.on_backends``): both
are portable SQL, and which one is mapped only changes the mapping recorded with the rows (a
fingerprint made in Python), not the statements that withdraw the drafts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from backend_cases import on_backends
from cms_table import COLUMNS, Cms, cms_table
from lifecycle_world import World, make_world
from sqlalchemy import inspect, select, update
from upgrades import database_at, downgrade

from feedsvc.config import SourceColumns
from feedsvc.db import Database, upgrade
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.ingest import Ingestor
from feedsvc.ingest.remap import MappingCheck
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.source import external_source
from feedsvc.source.recent import NotReconcilable
from feedsvc.store.cursors import Cursor, get_cursor, get_state, record_success
from feedsvc.topic_index import TopicIndex


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


def _restarted(w: World, cms: Cms, columns: SourceColumns) -> None:
    """The service started again on the same state DB with ``columns`` as its mapping."""
    old = w.ing
    w.ing = Ingestor(db=w.db, source=cms.source(columns), index=TopicIndex(), tz=UTC,
                     poll_seconds=1, overlap_seconds=60, batch_size=100)  # fmt: skip
    w.ing.clock, w.ing.hooks, w.ing.after_commit = old.clock, old.hooks, old.after_commit


def _cursor(db: Database, cms: Cms) -> Cursor:
    with db.read() as conn:
        return get_cursor(conn, cms.source().name)


@pytest.mark.parametrize(
    ("db_url", "later"),
    on_backends(
        [COLUMNS, COLUMNS.model_copy(update={"visible": "status = 'published' AND id > 0"})],
        label=lambda c: "visible-status" if c == COLUMNS else "visible-with-id",
    ),
    indirect=["db_url"],
)
def test_a_visible_mapping_added_later_withdraws_the_drafts_already_stored(
    db: Database, cms: Cms, later: SourceColumns
) -> None:
    """Drafts ingested before ``visible`` was mapped stayed public until each was edited in
    the CMS: nothing recorded the mapping the stored rows were read with."""
    w = make_world(db, cms.clock, source=cms.source(COLUMNS.model_copy(update={"visible": None})))
    t0 = cms.clock()
    cms.put(1, "published", t0 - timedelta(minutes=10))
    cms.put(2, "draft", t0 - timedelta(minutes=9))
    cms.put(3, None, t0 - timedelta(minutes=8))
    w.poll()
    assert sorted(w.feed_keys("rss")) == ["1.html", "2.html", "3.html"]
    _restarted(w, cms, later)
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    assert w.deliveries() == [
        ("TEST-00001", "pending", None),
        ("TEST-00002", "withdrawn", "withdrawn:draft"),
        ("TEST-00003", "withdrawn", "withdrawn:draft"),
    ]
    assert not _cursor(db, cms).first_sync  # caught up: what comes next alerts again
    cms.clock.advance(seconds=5)
    cms.put(4, "published", cms.clock() - timedelta(minutes=1))
    w.poll()
    assert w.feed_keys("rss") == ["4.html", "1.html"]
    assert w.deliveries()[-1] == ("TEST-00004", "pending", None)


def test_the_same_mapping_or_one_never_recorded_reads_nothing_again(db: Database, cms: Cms) -> None:
    """A restart with an unchanged mapping keeps the cursor; a cursor from before the mapping
    was recorded (a database upgraded to 0030) takes the running one as its own."""
    w = make_world(db, cms.clock, source=cms.source())
    cms.put(1, "published", cms.clock() - timedelta(minutes=10))
    w.poll()
    before = _cursor(db, cms)
    _restarted(w, cms, COLUMNS)
    w.poll()
    assert _cursor(db, cms).ts == before.ts is not None
    with db.write() as conn:
        conn.execute(update(source_cursors).values(mapping=None))
    _restarted(w, cms, COLUMNS.model_copy(update={"visible": None}))
    w.poll()
    after = _cursor(db, cms)
    assert after.ts == before.ts and not after.first_sync


def test_upgrade_from_0029_keeps_the_cursor_and_reads_nothing_again(
    db_url: str, tmp_path: Path
) -> None:
    """A state DB at 0029 with a cursor: the upgrade keeps it, the first start records its
    mapping without reading anything again, and the downgrade drops only the column."""
    db = database_at(db_url, "0029")
    try:
        with cms_table(db, tmp_path) as cms:
            name, at = cms.source().name, cms.clock().replace(microsecond=0)
            with db.write() as conn:  # what 0029's ingest left
                record_success(conn, name, at, "7", at)
            upgrade(db)
            with db.read() as conn:
                state = get_state(conn, name)
            assert MappingCheck(UTC).lead(db, cms.source(), state, lambda conn, now: None)
            with db.read() as conn:
                cursor = get_cursor(conn, name)
                mapping = conn.execute(select(source_cursors.c.mapping)).scalar_one()
            assert (cursor.ts, cursor.id, cursor.first_sync) == (at, "7", False)
            assert mapping == cms.source().mapping_key
            downgrade(db, "0029")
            with db.read() as conn:  # read as 0029's code reads it
                kept = conn.execute(select(source_cursors.c.cursor_id)).scalar_one()
                names = [c["name"] for c in inspect(conn).get_columns("source_cursors")]
            assert kept == "7" and "mapping" not in names and "first_sync" in names
    finally:
        db.dispose()
