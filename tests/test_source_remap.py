"""A changed ``[source.columns]`` or source zone read again (``feedsvc.ingest.remap``): rows the
old cursor had passed are re-read silently, rows after it (already waiting, or arriving while
the re-read catches up) alert; replicas with different configs never reset each other. The
CMS table is on the test's backend: a SQLite file, or a table in the PostgreSQL schema.

The re-read's batch sizes are given one backend each (``backend_cases.on_backends``): a batch
size changes where the re-read is cut, not its statements. A changed source zone keeps both
backends: it changes how the CMS's stored timestamps are read."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from backend_cases import on_backends
from cms_table import COLUMNS, Cms, cms_table
from lifecycle_world import World, make_world
from sqlalchemy import inspect, select, text, update
from upgrades import database_at, downgrade

from feedsvc.config import SourceColumns
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.db.schema_service import leases
from feedsvc.ingest import IngestLease, Ingestor
from feedsvc.ingest.model import Change
from feedsvc.source import external_source
from feedsvc.store.cursors import Cursor, get_cursor, record_success
from feedsvc.topic_index import TopicIndex

#: ``visible`` widened: posts marked 'featured' are public too
FEATURED = COLUMNS.model_copy(update={"visible": "status IN ('published', 'featured')"})
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


def restarted(
    w: World, cms: Cms, columns: SourceColumns, tz: tzinfo = UTC, batch_size: int = 100
) -> Ingestor:
    """The service started again on the same state DB with ``columns`` and zone ``tz``."""
    old = w.ing
    source = external_source(cms.url, "posts", columns, tz)
    w.ing = Ingestor(db=w.db, source=source, index=TopicIndex(), tz=tz, poll_seconds=1,
                     overlap_seconds=60, batch_size=batch_size)  # fmt: skip
    w.ing.clock, w.ing.hooks, w.ing.after_commit = old.clock, old.hooks, old.after_commit
    return w.ing


def cursor(db: Database, cms: Cms) -> Cursor:
    with db.read() as conn:
        return get_cursor(conn, cms.source().name)


def alerted(w: World) -> list[str]:
    """The keys with a delivery (an alert queued), in order."""
    return [key for key, _, _ in w.deliveries()]


def old_world(db: Database, cms: Cms, posts: int = 6) -> World:
    """``posts`` old posts read with :data:`COLUMNS` (odd ones published, even ones
    'featured': not visible yet), dated an hour apart this morning."""
    w = make_world(db, cms.clock, source=cms.source())
    t0 = cms.clock()
    for n in range(1, posts + 1):
        cms.clock.advance(seconds=1)
        cms.put(n, "published" if n % 2 else "featured", t0 - timedelta(hours=12 - n))
    w.poll()
    assert alerted(w) == [f"TEST-{n:05d}" for n in range(1, posts + 1, 2)]
    return w


@pytest.mark.parametrize(
    ("db_url", "batch_size"),
    on_backends([2, 100], label=lambda n: f"batch{n}"),
    indirect=["db_url"],
)
def test_rows_after_the_old_cursor_alert_while_old_ones_become_visible_silently(
    db: Database, cms: Cms, batch_size: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A widened ``visible``: old 'featured' posts appear in the feed without an alert (old
    news); posts the old cursor had not reached, and one the CMS adds while the re-read is
    catching up, alert. They were all read as the re-read's archive: never alerted."""
    w = old_world(db, cms)
    t0 = cms.clock()
    cms.clock.advance(seconds=5)
    cms.put(7, "featured", t0 - timedelta(minutes=1))  # written while the service was down
    cms.put(8, "published", t0 - timedelta(minutes=1))
    ing = restarted(w, cms, FEATURED, batch_size=batch_size)

    def arrives(changes: Sequence[Change]) -> None:  # the CMS publishes during the re-read
        if any(c.article.source_key == "TEST-00002" for c in changes):
            cms.clock.advance(seconds=1)
            cms.put(9, "featured", cms.clock() - timedelta(seconds=30))

    ing.after_commit.insert(0, arrives)
    caplog.set_level(logging.INFO, logger="feedsvc.ingest")
    w.poll()
    said = "catching up (read again after a mapping change: only rows after the old cursor"
    assert (said in caplog.text) == (batch_size == 2)  # a backlog: several batches
    w.poll()  # row 9, when it came after the tick's last batch
    old, new = ["TEST-00001", "TEST-00003", "TEST-00005"], ["TEST-00007", "TEST-00008"]
    assert alerted(w) == [*old, *new, "TEST-00009"]
    assert sorted(w.feed_keys("rss")) == sorted(f"{n}.html" for n in range(1, 10))
    after = cursor(db, cms)
    assert not after.first_sync and (after.alert_ts, after.alert_id) == (None, None)
    cms.clock.advance(seconds=5)
    cms.put(10, "featured", cms.clock() - timedelta(seconds=10))
    w.poll()
    assert alerted(w)[-1] == "TEST-00010"


def test_a_second_change_during_the_re_read_keeps_the_first_boundary(
    db: Database, cms: Cms
) -> None:
    """Restarted with yet another mapping before the re-read caught up: the boundary stays
    where the cursor stood before the first change, not where the re-read had got to (the
    old 'featured' posts after that point would alert as news)."""
    w = old_world(db, cms)
    ing = restarted(w, cms, FEATURED, batch_size=2)
    ing.after_commit.insert(0, lambda _: ing.request_stop())  # stopped after one batch
    ing.tick()
    assert cursor(db, cms).first_sync and cursor(db, cms).alert_id is not None
    cms.clock.advance(seconds=5)
    cms.put(7, "featured", cms.clock() - timedelta(minutes=1))
    widest = FEATURED.model_copy(update={"visible": "status IN ('published', 'featured', 'x')"})
    restarted(w, cms, widest, batch_size=2)
    w.poll()
    done = cursor(db, cms)
    assert (done.alert_ts, done.alert_id, done.first_sync) == (None, None, False)
    assert alerted(w) == ["TEST-00001", "TEST-00003", "TEST-00005", "TEST-00007"]
    assert sorted(w.feed_keys("rss")) == sorted(f"{n}.html" for n in range(1, 8))


def test_a_change_before_anything_was_read_reads_nothing_again(db: Database, cms: Cms) -> None:
    """An empty table read with one mapping, then another: nothing stored to re-read, so what
    comes next is no first sync (it alerts)."""
    w = make_world(db, cms.clock, source=cms.source())
    w.poll()
    restarted(w, cms, FEATURED)
    cms.put(1, "featured", cms.clock() - timedelta(minutes=1))
    w.poll()
    assert alerted(w) == ["TEST-00001"]


def naive_published(db: Database) -> dict[str, datetime]:
    with db.read() as conn:
        rows = conn.execute(select(articles.c.source_key, articles.c.published_at)).all()
    return {key: at for key, at in rows}


@pytest.mark.parametrize("zone", [VN, ZoneInfo("Europe/Berlin")])
def test_a_changed_source_zone_reads_every_row_again(
    db: Database, cms: Cms, zone: ZoneInfo
) -> None:
    """``source.timezone`` fixed (UTC → +07:00, or → +01:00): every naive date moves, for
    rows not edited since too, and nothing alerts again. A zone east of the old one makes
    every version read older than the one held: the re-read's own rows replace them anyway.
    (The CMS writes UTC: a zone west of it would date its rows in the future, held back.)"""
    w = old_world(db, cms, posts=3)
    before = naive_published(db)
    restarted(w, cms, COLUMNS, tz=zone)
    w.poll()
    moved = {k: v.replace(tzinfo=None).replace(tzinfo=zone) for k, v in before.items()}
    assert naive_published(db) == {k: v.astimezone(UTC) for k, v in moved.items()}
    assert alerted(w) == ["TEST-00001", "TEST-00003"]
    assert sorted(w.feed_keys("rss")) == ["1.html", "3.html"]
    assert not cursor(db, cms).first_sync


def test_a_database_without_a_recorded_zone_adopts_the_running_one(
    db: Database, cms: Cms, caplog: pytest.LogCaptureFixture
) -> None:
    """A cursor recorded by 0030 (a mapping, no zone): the first start after the upgrade
    takes its zone as the recorded one and reads nothing again; a change after that is one."""
    w = old_world(db, cms, posts=3)
    with db.write() as conn:
        conn.execute(source_cursors.update().values(mapping_zone=None, mapping_at=None))
    before, published = cursor(db, cms), naive_published(db)
    restarted(w, cms, COLUMNS, tz=VN)
    w.poll()
    assert naive_published(db) == published and cursor(db, cms).id == before.id
    with db.read() as conn:
        zone = conn.execute(select(source_cursors.c.mapping_zone)).scalar_one()
    assert zone == "Asia/Ho_Chi_Minh" and "reading every row" not in caplog.text
    restarted(w, cms, COLUMNS, tz=UTC)
    w.poll()
    assert "reading every row of" in caplog.text
    assert cursor(db, cms).id == before.id and not cursor(db, cms).first_sync


def test_the_built_in_table_records_no_zone(db: Database) -> None:
    """The built-in table's times carry their zone: ``site.timezone`` changes nothing there."""
    w = make_world(db)
    w.poll()
    with db.read() as conn:
        row = conn.execute(select(source_cursors.c.mapping, source_cursors.c.mapping_zone)).one()
    assert row[0] is not None and row[1] is None


def replica(w: World, cms: Cms, columns: SourceColumns, holder: str) -> Ingestor:
    """Another service process on the same state DB, with ``columns``: on PostgreSQL with the
    ingest lease as ``feedsvc run`` takes it (SQLite has none)."""
    lease = IngestLease(holder, poll_seconds=1) if w.db.dialect == "postgresql" else None
    ing = Ingestor(db=w.db, source=cms.source(columns), index=TopicIndex(), tz=UTC,
                   poll_seconds=1, overlap_seconds=60, batch_size=2, lease=lease)  # fmt: skip
    ing.clock, ing.hooks, ing.after_commit = w.ing.clock, w.ing.hooks, w.ing.after_commit
    return ing


def lapse(db: Database) -> None:
    """The ingest lease's holder stalled: its lease ran out."""
    if db.dialect == "postgresql":
        with db.write() as conn:
            conn.execute(update(leases).values(expires_at=db.now() - timedelta(seconds=1)))


def recorded(db: Database) -> str | None:
    with db.read() as conn:
        return conn.execute(select(source_cursors.c.mapping)).scalar_one()


def test_replicas_with_different_mappings_never_reset_each_other(
    db: Database, cms: Cms, caplog: pytest.LogCaptureFixture
) -> None:
    """A rolling deploy: the old config (``a``) and the new one (``b``) run at once. ``b``
    applies its mapping once, when it leads; ``a``, started before that, never sends the
    cursor back again nor reads new rows with its old mapping (a 'featured' post read by it
    was stored hidden and never alerted), and says why."""
    w = old_world(db, cms)
    a = replica(w, cms, COLUMNS, "replica-a")
    assert not a.tick().standby
    cms.clock.advance(seconds=2)  # within a's lease
    b = replica(w, cms, FEATURED, "replica-b")
    first = b.tick()
    if db.dialect == "postgresql":  # a leads: b only says its mapping differs
        assert first.standby and recorded(db) == cms.source().mapping_key
        assert "nothing is read again while another replica leads" in caplog.text
        assert not cursor(db, cms).first_sync
        a.lease.release(db)  # type: ignore[union-attr]  # a stopped cleanly
        assert not b.tick().standby
    assert recorded(db) == cms.source(FEATURED).mapping_key
    assert not cursor(db, cms).first_sync  # b's re-read is done
    assert sorted(w.feed_keys("rss")) == sorted(f"{n}.html" for n in range(1, 7))
    done = cursor(db, cms)
    for n in (7, 8):  # a leads again (b stalled), then b
        cms.clock.advance(seconds=10)
        cms.put(n, "featured", cms.clock() - timedelta(minutes=1))
        lapse(db)
        assert a.tick().standby
        assert "restart it with the current config" in caplog.text
        assert cursor(db, cms).ts == done.ts and not cursor(db, cms).first_sync
        lapse(db)
        assert not b.tick().standby
        done = cursor(db, cms)
    assert recorded(db) == cms.source(FEATURED).mapping_key
    assert alerted(w) == ["TEST-00001", "TEST-00003", "TEST-00005", "TEST-00007", "TEST-00008"]
    assert sorted(w.feed_keys("rss")) == sorted(f"{n}.html" for n in range(1, 9))


def test_upgrade_from_0030_keeps_the_cursor_and_adopts_the_running_zone(
    db_url: str, tmp_path: Path
) -> None:
    """A state DB at 0030 with a cursor and its mapping: the upgrade keeps both, the first
    start records its zone without reading anything again, and the downgrade drops only the
    new columns."""
    from feedsvc.ingest.remap import MappingCheck
    from feedsvc.store.cursors import get_state

    db = database_at(db_url, "0030")
    try:
        with cms_table(db, tmp_path) as cms:
            source = external_source(cms.url, "posts", COLUMNS, VN)
            name, at = source.name, cms.clock().replace(microsecond=0)
            with db.write() as conn:  # what 0030's ingest left
                record_success(conn, name, at, '["2026-12-04 08:00:00","7"]', at)
                conn.execute(update(source_cursors).values(mapping=source.mapping_key))
            upgrade(db)
            with db.read() as conn:
                row = conn.execute(select(source_cursors)).one()._mapping
            assert (row["mapping_zone"], row["mapping_at"], row["alert_ts"]) == (None,) * 3
            with db.read() as conn:
                state = get_state(conn, name)
            assert MappingCheck(VN).lead(db, source, state, lambda conn, now: None)
            with db.read() as conn:
                cursor = get_cursor(conn, name)
                zone = conn.execute(select(source_cursors.c.mapping_zone)).scalar_one()
            assert (cursor.ts, cursor.id, cursor.first_sync, zone) == (
                at, '["2026-12-04 08:00:00","7"]', False, "Asia/Ho_Chi_Minh"
            )  # fmt: skip
            downgrade(db, "0030")
            with db.read() as conn:  # read as 0030's code reads it
                kept = conn.execute(text("SELECT mapping, cursor_id FROM source_cursors")).one()
                names = {c["name"] for c in inspect(conn).get_columns("source_cursors")}
            assert tuple(kept) == (source.mapping_key, '["2026-12-04 08:00:00","7"]')
            assert names.isdisjoint({"mapping_zone", "mapping_at", "alert_ts", "alert_id"})
            assert {"mapping", "first_sync"} <= names
    finally:
        db.dispose()
