"""A draft the CMS publishes by its status alone while a mapping re-read is under way alerts
(``feedsvc.ingest.remap``, migration 0032).

WordPress's cron publishes a scheduled post by writing ``post_status = 'publish'`` alone
(``post_modified`` stays). When ``[source.columns]`` or the zone changed, the re-read goes from
the start and, on a small archive, reaches such a post in the tick, before the published check
(:mod:`feedsvc.lifecycle.published`) runs. Rows before the re-read's alert boundary are stored
silently (a widened ``visible`` shows old drafts: no news), so the post became public and
nobody was alerted; the check then no longer saw a draft. A re-read whose change left
``visible`` as it was now alerts such a draft as the check would (its rule, its window);
with ``visible`` changed, or not known (a re-read begun before 0032), it stays silent. A real
``wp_posts`` table (SQLite file or PostgreSQL), ingest, the check and the outbox on one clock,
polled as ``Service.ingest_tick`` polls.

The re-read's batch size, and whether cron also publishes the draft a widened ``visible`` shows,
are each given one backend (the state DB's and the ``wp_posts`` table's), rotating
(``backend_cases.on_backends``): they change how many rows a statement takes and which rows
change, not the statements; each test keeps a PostgreSQL case. How old the draft is keeps both:
the check's window is a time comparison made in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from backend_cases import on_backends
from lifecycle_world import CHAT, SLUG, Clock, World, make_world
from migrated import premigrated
from sqlalchemy import inspect, select, text, update
from upgrades import database_at, downgrade
from wp_posts import COLUMNS, WpPosts, wp_posts

from feedsvc.app import Roles, Service
from feedsvc.config import SourceColumns, load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, deliveries
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.ingest import Ingestor
from feedsvc.ingest.remap import MappingCheck
from feedsvc.lifecycle.published import PublishedCheck
from feedsvc.source import SqlSource, external_source
from feedsvc.store.cursors import apply_mapping, get_state, record_success
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic
from feedsvc.topic_index import TopicIndex

#: another subscriber of the topic: each is alerted once
OTHER = 4343
#: a change of a column other than ``visible``: the summary now from the title
SUMMARY = COLUMNS.model_copy(update={"summary": "post_title"})
#: ``visible`` widened: scheduled posts show too
WIDENED = COLUMNS.model_copy(update={"visible": "post_status IN ('publish', 'future')"})
VN = ZoneInfo("Asia/Ho_Chi_Minh")


class Newsroom:
    """The world on a WordPress table, with the published check wired as the service wires
    it (``Service.ingestor``: the check's rule given to the ingestor's mapping check)."""

    def __init__(self, world: World, wp: WpPosts, window: timedelta) -> None:
        self.world, self.wp, self.window = world, wp, window
        self.check = self._wire(world.ing)

    def _wire(self, ing: Ingestor) -> PublishedCheck:
        check = PublishedCheck(self.world.db, ing.source, ing.reread, self.window, self.world.clock)
        ing.remap.published = check.alerts
        return check

    def restart(self, columns: SourceColumns, tz: tzinfo = UTC, batch_size: int = 100) -> None:
        """The service started again on the same state DB with ``columns`` and zone ``tz``."""
        old = self.world.ing
        source = wp_source(self.wp, columns, tz)
        ing = Ingestor(db=self.world.db, source=source, index=TopicIndex(), tz=tz,
                       poll_seconds=1, overlap_seconds=60, batch_size=batch_size)  # fmt: skip
        ing.clock, ing.hooks, ing.after_commit = old.clock, old.hooks, old.after_commit
        self.world.ing = ing
        self.check = self._wire(ing)

    def poll(self) -> None:
        result = self.world.ing.tick()
        assert result.error is None, result.error
        self.check.run()
        self.world.due.run()
        self.world.pub.sync()

    def alerts(self) -> list[tuple[int, str]]:
        """(chat, key) of every delivery queued, sorted."""
        stmt = (
            select(deliveries.c.chat_id, articles.c.source_key)
            .join(articles, articles.c.id == deliveries.c.article_id)
            .order_by(deliveries.c.id)
        )
        with self.world.db.read() as conn:
            return sorted((int(chat), str(key)) for chat, key in conn.execute(stmt).tuples())

    def reason(self, n: int) -> str | None:
        with self.world.db.read() as conn:
            stmt = select(articles.c.withdrawn_reason).where(articles.c.source_id == str(n))
            found: str | None = conn.execute(stmt).scalar_one()
            return found


def wp_source(wp: WpPosts, columns: SourceColumns, tz: tzinfo = UTC) -> SqlSource:
    return external_source(wp.url, "wp_posts", columns, tz)


def each(*keys: str) -> list[tuple[int, str]]:
    """One alert per subscriber for each of ``keys`` (sorted, as :meth:`Newsroom.alerts`)."""
    return sorted((chat, key) for key in keys for chat in (CHAT, OTHER))


@pytest.fixture
def room(db: Database, tmp_path: Path) -> Iterator[Newsroom]:
    yield from _room(db, tmp_path, timedelta(days=7))


def _room(db: Database, tmp_path: Path, window: timedelta) -> Iterator[Newsroom]:
    clock = Clock()
    with wp_posts(db, tmp_path, clock) as wp:
        source = wp.source()
        world = make_world(db, clock, source)
        with db.write() as conn:
            topic = get_topic(conn, SLUG)
            assert topic is not None
            ensure_chat(conn, OTHER, "private", "Biên tập viên", clock())
            subscribe(conn, OTHER, topic_id=topic.id, query=None, now=clock())
        yield Newsroom(world, wp, window)
        world.ing.source.dispose()


def held_then_passed(room: Newsroom) -> None:
    """A first read (post 1, too old to alert), then post 2 scheduled 10 minutes on, held as a
    draft, and the cursor past it (post 3 saved after it); then its time comes."""
    wp, clock = room.wp, room.world.clock
    wp.save(1, "publish", clock() - timedelta(hours=30))
    room.poll()
    clock.advance(minutes=1)
    wp.save(2, "future", clock() + timedelta(minutes=10))
    room.poll()
    assert room.reason(2) == "draft"
    clock.advance(minutes=1)
    wp.save(3, "publish", clock() - timedelta(minutes=1))
    room.poll()
    assert room.alerts() == each("tin-3")
    clock.advance(minutes=10)


@pytest.mark.parametrize(
    ("db_url", "batch_size"),
    on_backends([1, 100], label=lambda n: f"batch{n}"),
    indirect=["db_url"],
)
def test_a_draft_published_by_status_during_a_re_read_alerts_once(
    room: Newsroom, batch_size: int
) -> None:
    """The reported case: another column's mapping changed, cron flips the post's status, and
    the re-read reaches it before the check: each subscriber is alerted once, ever."""
    held_then_passed(room)
    room.restart(SUMMARY, batch_size=batch_size)
    room.wp.cron_publish(2)
    room.poll()
    assert room.reason(2) is None and "2.html" in room.world.feed_keys("rss")
    assert room.alerts() == each("tin-3", "tin-2")
    for _ in range(3):
        room.world.clock.advance(seconds=30)
        room.poll()
    assert room.alerts() == each("tin-3", "tin-2")


def test_a_draft_published_before_its_time_alerts_at_its_time_once(room: Newsroom) -> None:
    """Cron flipped the status before ``published_at`` (a CMS that schedules so) and the
    re-read stored it scheduled: the due check alerts it at its time, once."""
    wp, clock = room.wp, room.world.clock
    wp.save(1, "publish", clock() - timedelta(hours=30))
    wp.save(2, "future", clock() + timedelta(minutes=10))
    room.poll()
    clock.advance(minutes=1)
    room.restart(SUMMARY)
    wp.cron_publish(2)
    room.poll()
    assert room.alerts() == []
    clock.advance(minutes=10)
    room.poll()
    room.poll()
    assert room.alerts() == each("tin-2")


def test_a_changed_zone_alerts_the_draft_published_by_status(room: Newsroom) -> None:
    """The zone changed (``source.timezone``), not ``visible``: the same rule."""
    held_then_passed(room)
    room.restart(COLUMNS, tz=VN)
    room.wp.cron_publish(2)
    room.poll()
    assert room.alerts() == each("tin-3", "tin-2")


@pytest.mark.parametrize(
    ("db_url", "publish"),
    on_backends([False, True], start=1, label=lambda p: "and-published" if p else "revealed"),
    indirect=["db_url"],
)
def test_a_widened_visible_shows_the_draft_silently(room: Newsroom, publish: bool) -> None:
    """``visible`` widened: the draft it shows is old news (unchanged behaviour), and so is
    one cron published meanwhile: the re-read cannot tell the two apart."""
    held_then_passed(room)
    room.restart(WIDENED)
    if publish:
        room.wp.cron_publish(2)
    room.poll()
    assert room.reason(2) is None and "2.html" in room.world.feed_keys("rss")
    room.poll()
    assert room.alerts() == each("tin-3")


@pytest.mark.parametrize(
    ("age", "alerted"), [(timedelta(hours=3), False), (timedelta(hours=1), True)]
)
def test_a_draft_beyond_the_window_stays_silent(
    db: Database, tmp_path: Path, age: timedelta, alerted: bool
) -> None:
    """The check's own window (``source.reconcile_days``, two hours here, under the outbox's
    24-hour age limit): a draft dated before it is never looked up, so a re-read finding it
    published does not alert it either; one inside it does."""
    for room in _room(db, tmp_path, timedelta(hours=2)):
        wp, clock = room.wp, room.world.clock
        wp.save(1, "publish", clock() - timedelta(hours=30))
        wp.save(2, "draft", clock() - age)
        room.poll()
        clock.advance(minutes=1)
        wp.save(3, "publish", clock() - timedelta(minutes=1))
        room.poll()
        clock.advance(minutes=1)
        room.restart(SUMMARY)
        wp.cron_publish(2)
        room.poll()
        assert room.reason(2) is None
        assert room.alerts() == each("tin-3", *(["tin-2"] if alerted else []))


def test_a_row_after_the_boundary_alerts_once(room: Newsroom) -> None:
    """The held draft saved published after the cursor stood (``post_modified`` moved): after
    the boundary, it alerts as in any sync, once; so does a new post."""
    held_then_passed(room)
    wp, clock = room.wp, room.world.clock
    wp.save(2, "publish", clock() - timedelta(minutes=1))
    clock.advance(seconds=5)
    wp.save(4, "publish", clock() - timedelta(seconds=5))
    room.restart(SUMMARY)
    room.poll()
    room.poll()
    assert room.alerts() == each("tin-3", "tin-2", "tin-4")


def test_a_re_read_begun_before_0032_stays_silent(room: Newsroom) -> None:
    """A re-read under way when the state DB was upgraded (``visible`` not recorded, whether it
    changed not known): its drafts found published stay silent, as before."""
    held_then_passed(room)
    db, name = room.world.db, room.world.ing.source.name
    with db.write() as conn:  # what 0031's change left, upgraded: NULL in 0032's columns
        cursor, _ = get_state(conn, name)
        conn.execute(
            update(source_cursors).values(
                mapping=wp_source(room.wp, SUMMARY).mapping_key, first_sync=True,
                cursor_ts=None, cursor_id=None, alert_ts=cursor.ts, alert_id=cursor.id,
                mapping_visible=None, reread_visible=None,
            )
        )  # fmt: skip
    room.restart(SUMMARY)
    room.wp.cron_publish(2)
    room.poll()
    assert room.reason(2) is None
    assert room.alerts() == each("tin-3")


def test_the_service_alerts_it_through_its_own_wiring(
    db_url: str, lite_db: Database, tmp_path: Path
) -> None:
    """``Service``: started again with another column mapped, a post cron published after its
    time (cron late) is reached by the re-read inside ``ingest_tick`` and alerted once."""
    with wp_posts(lite_db, tmp_path) as wp:
        url, now = premigrated(db_url), wp.clock()

        def service(columns: SourceColumns) -> Service:
            settings = load_config(None, {
                "database": {"url": url}, "topics": {"import_on_start": False},
                "source": {"url": wp.url, "table": "wp_posts", "match_workers": 0,
                           "columns": columns.model_dump(exclude_unset=True)},
            })  # fmt: skip
            started = Service(settings, Roles(scheduler=True, bot=False))
            started.prepare()
            return started

        first = service(COLUMNS)
        with first.db.write() as conn:
            save_topic(conn, TopicSpec(SLUG, "Kiến Thụy", '"Kiến Thụy"', ""), "cli", now)
            topic = get_topic(conn, SLUG)
            assert topic is not None
            ensure_chat(conn, CHAT, "private", "Phóng viên", now)
            subscribe(conn, CHAT, topic_id=topic.id, query=None, now=now)
        wp.save(1, "publish", now - timedelta(days=3))  # too old to alert (48 hours)
        wp.save(2, "future", now - timedelta(minutes=5))  # its time came; cron has not run
        assert first.ingest_tick().error is None
        first.close()
        again = service(SUMMARY)
        wp.cron_publish(2)
        assert again.ingest_tick().error is None
        with again.db.read() as conn:
            stmt = select(articles.c.source_key).join(
                deliveries, deliveries.c.article_id == articles.c.id
            )
            assert list(conn.execute(stmt).scalars()) == ["tin-2"]
        again.close()


def test_whether_visible_changed_is_kept_for_the_re_read_s_life(db: Database) -> None:
    """A second change during a re-read can only make it "changed"; caught up, it is cleared;
    a mapping recorded without ``visible`` (before 0032) records it, reading nothing again."""
    now, name = Clock()(), "wp"
    with db.write() as conn:
        record_success(conn, name, now, "1", now)
        assert not apply_mapping(conn, name, ("m1", "v1"), "UTC", now)  # adopted
        assert get_state(conn, name)[1].visible == "v1"
        assert apply_mapping(conn, name, ("m2", "v1"), "UTC", now)
        assert get_state(conn, name)[0].visible_changed is False
        assert apply_mapping(conn, name, ("m3", "v2"), "UTC", now)  # during the re-read
        assert get_state(conn, name)[0].visible_changed is True
        assert apply_mapping(conn, name, ("m4", "v2"), "UTC", now)
        assert get_state(conn, name)[0].visible_changed is True
        record_success(conn, name, now, "1", now, first_sync=False)
        assert get_state(conn, name)[0].visible_changed is None
        conn.execute(update(source_cursors).values(mapping_visible=None))
        assert not apply_mapping(conn, name, ("m4", "v2"), "UTC", now)
        assert get_state(conn, name)[1].visible == "v2"
        assert apply_mapping(conn, name, ("m5", "v2"), "UTC", now)
        assert get_state(conn, name)[0].visible_changed is False


def test_upgrade_from_0031_with_a_re_read_under_way(db_url: str, tmp_path: Path) -> None:
    """A state DB at 0031 with a re-read under way: the upgrade keeps it, whether ``visible``
    changed is not known (its drafts stay silent), the first start records ``visible`` without
    reading again; the downgrade drops only 0032's columns."""
    db = database_at(db_url, "0031")
    try:
        with wp_posts(db, tmp_path) as wp:
            source = wp_source(wp, SUMMARY)
            name, at = source.name, wp.clock().replace(microsecond=0)
            with db.write() as conn:  # what 0031's ingest left mid-re-read, in its columns
                record_success(conn, name, None, None, at, first_sync=True)
                conn.execute(
                    text("UPDATE source_cursors SET mapping = :m, mapping_zone = 'UTC', "
                         "alert_ts = :at, alert_id = '[\"x\",\"7\"]'"),
                    {"m": source.mapping_key, "at": at},
                )  # fmt: skip
            upgrade(db)
            with db.read() as conn:
                row = conn.execute(select(source_cursors)).one()._mapping
                assert (row["mapping_visible"], row["reread_visible"]) == (None, None)
                state = get_state(conn, name)
            check = MappingCheck(UTC)
            check.published = lambda _at, _now: True
            cursor = check.lead(db, source, state, lambda conn, now: None)
            assert cursor is not None and cursor.first_sync and cursor.alert_ts == at
            assert cursor.visible_changed is None
            with db.read() as conn:
                assert get_state(conn, name)[1].visible == source.visible_key
            downgrade(db, "0031")
            with db.read() as conn:
                kept = conn.execute(text("SELECT mapping, alert_id FROM source_cursors")).one()
                names = {c["name"] for c in inspect(conn).get_columns("source_cursors")}
            assert tuple(kept) == (source.mapping_key, '["x","7"]')
            assert names.isdisjoint({"mapping_visible", "reread_visible"})
            assert {"mapping_zone", "alert_ts"} <= names
    finally:
        db.dispose()
