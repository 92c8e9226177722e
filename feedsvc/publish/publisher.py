"""Feed snapshots: rendered once when ingest changes a topic, served from memory.

The HTTP routes (``feedsvc.web.feeds``) read this object's in-memory snapshots, so serving a
topic feed touches no database. Snapshots are also stored in ``feed_snapshots`` so every replica
serves the same bytes and ETags: a replica that did not render a change picks it up on its next
``sync`` tick. Re-rendering identical data yields identical bytes (dates come from the data,
a feed's own from when its stored bytes last changed: :func:`.metas.topic_feed_dated`), so an
unchanged feed keeps its ETag and readers keep getting 304s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from feedsvc import metrics
from feedsvc.articles import Article
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.feeds import RenderStopped, feed_urls, render_formats
from feedsvc.feeds.model import DATED_BY
from feedsvc.on_demand_dates import settings_dated
from feedsvc.pages import PageTopic, render_topic
from feedsvc.stale import StaleTopics
from feedsvc.store.article_reads import (
    last_article_change,
    topic_article_counts,
    topic_articles,
)
from feedsvc.store.snapshots import (
    Mark,
    SnapshotConflict,
    StoredSnapshot,
    drop_watermark,
    feed_mark,
    get_snapshots,
    snapshot_etags,
)
from feedsvc.store.topics import Topic, deleted_slugs, list_topics
from feedsvc.touched import TouchedTopics
from feedsvc.web.http_cache import Snapshot
from feedsvc.websub import HubPinger

from .index_pages import INDEX_SLUG, page_of
from .metas import opml_body, topic_feed_dated, topic_metas
from .rendered import BOT_KEY, OPML_KEY, SERVED_TYPES, SNAPSHOT_TYPES, Rendered
from .serving import DEFAULT_LIMIT, rendering_digests
from .warm_start import (
    VERIFY_BATCH,
    RenderedThrough,
    Stored,
    Verification,
    fingerprint,
    read_stored,
)

if TYPE_CHECKING:
    from feedsvc.ingest.model import Change

log = logging.getLogger(__name__)

#: How far back each sync re-checks snapshot etags: longer than any render-and-commit takes.
SYNC_OVERLAP = timedelta(minutes=5)
#: Renders of one topic per refresh while other processes store it in between.
STORE_ATTEMPTS = 3


class TopicRender(NamedTuple):
    """A topic rendered and stored: its page's view (the index's entry), the formats whose
    stored bytes changed, and the topics' article counts read for it."""

    entry: PageTopic
    stored: set[str]
    counts: dict[int, int]


class FeedPublisher(Rendered):
    """Implements :class:`feedsvc.web.feed_backend.FeedBackend` over the state DB: renders on
    change and at a restart, stores and shares snapshots; :class:`~.serving.Served` holds what
    is served; :class:`~.rendered.Rendered` the snapshot writes and the index page.

    ``db`` serves the background work (refresh, sync); ``web_db`` (default: ``db``) the renders
    that requests trigger (search feeds, ``?limit=`` variants), so a flood of those can only
    drain the web pool (see :class:`feedsvc.app.Service`).
    """

    def __init__(self, db: Database, settings: Settings, web_db: Database | None = None) -> None:
        self.web_db = web_db or db
        super().__init__(db, settings, self.web_db)
        self._rendered_versions: dict[str, datetime] = {}  # slug → topic.updated_at rendered
        self._synced_at: datetime | None = None
        #: lifecycle changes no render here shows yet (and what renders here do show)
        self.touched = TouchedTopics()
        self._stopping = threading.Event()
        #: topics a catch-up changed, rendered by :meth:`sync` (not after every batch)
        self.stale = StaleTopics()
        hub = settings.http.websub_hub
        self.pinger = HubPinger(hub) if hub else None
        self.last_ping: threading.Thread | None = None
        #: restarts (:mod:`.warm_start`): what is served from storage until rendered again,
        #: and what the stored snapshots show
        self.verification = Verification()
        self.through = RenderedThrough()
        self._print = fingerprint(settings)

    # -- rendering -------------------------------------------------------------------
    def _render_feeds(
        self, topic: Topic, items: list[Article], dated_by: Mark | None, now: datetime
    ) -> dict[str, bytes]:
        t0 = time.perf_counter()
        bodies = render_formats(
            topic_metas(self.settings, topic),
            items,
            self._stopping.is_set,
            topic_feed_dated(dated_by, now),
        )
        metrics.RENDER_SECONDS.labels("all").observe(time.perf_counter() - t0)
        return bodies

    def _render_topic(
        self, topic: Topic, now: datetime, counts: dict[int, int]
    ) -> TopicRender | None:
        """Render a topic's feeds and page as of ``now`` and store them; the feeds are dated
        by their stored :data:`~feedsvc.feeds.model.DATED_BY` row (:func:`.metas.topic_feed_dated`),
        so when another process stored that row between this render's read and its write
        (:class:`SnapshotConflict`), nothing is stored and the topic is rendered again from
        what it stored, :data:`STORE_ATTEMPTS` times at most (None then). ``counts``: the
        topics' article counts, read here when empty."""
        for _ in range(STORE_ATTEMPTS):
            with self.db.read() as conn:
                items = topic_articles(conn, topic.id, DEFAULT_LIMIT, now)
                counts = counts or topic_article_counts(conn, now)
                dated_by = feed_mark(conn, topic.slug, DATED_BY)
            bodies = self._render_feeds(topic, items, dated_by, now)
            entry = self._page_topic(topic, items, counts.get(topic.id, 0))
            page = render_topic(self.t, self.site, entry)
            try:
                stored = self._store(topic.slug, {**bodies, "html": page}, now, dated_by)
            except SnapshotConflict:
                now = max(now, self.db.now())
                continue
            return TopicRender(entry, stored, counts)
        log.info("feeds of %s stored by other processes meanwhile: rendered next sync", topic.slug)
        return None

    # -- snapshots -------------------------------------------------------------------
    def refresh(self, slugs: Iterable[str] | None = None, *, index: bool = True) -> int:
        """Re-render the given topics (default: those new or edited since their last render),
        store changed snapshots, and update memory. Returns how many feeds changed. ``index``
        False: a changed feed leaves the index page for later (the background pass after a
        restart); a changed topic list rebuilds it at once either way."""
        with self._lock:
            with self.db.read() as conn:
                topics = {t.slug: t for t in list_topics(conn)}
                self._gone = deleted_slugs(conn)  # 410 Gone (cheap: a small table)
            wanted = (
                set(slugs)
                if slugs is not None
                else {
                    s for s, t in topics.items() if self._rendered_versions.get(s) != t.updated_at
                }
            )
            changed: list[str] = []  # URLs of feeds whose bytes this call stored
            listed = False  # an entry of the index page changed
            now = self.db.now()
            pages = False
            counts: dict[int, int] = {}
            for slug in sorted(wanted & set(topics)):
                if self._stopping.is_set():
                    break
                topic = topics[slug]
                try:  # stopping ends a topic's render at its next item: dropped whole, and
                    done = self._render_topic(topic, now, counts)  # rendered at the next start
                except RenderStopped:
                    break
                if done is None:  # other processes kept storing it meanwhile: next sync's
                    self.stale.retry([slug])
                    continue
                counts = done.counts
                listed |= self._index.keep(done.entry)
                urls = feed_urls(self.public_url, slug)
                changed += [url for fmt, url in urls.items() if fmt in done.stored]
                pages |= "html" in done.stored
                self._rendered_versions[slug] = topic.updated_at
            if self._stopping.is_set():  # the index reads every topic: seconds, left to the
                return len(changed)  # next start (its first sync renders every topic)
            moved = topics != self._topics  # the list changed: kept whole otherwise (the
            if moved:  # OPML is rebuilt for another list only)
                self._topics = topics
            if moved or ((changed or pages or listed) and index):
                self._rebuild_pages(now)
            elif changed or pages or listed:
                self.verification.index = True
            if changed:
                self.cache.clear()
                if self.pinger is not None:  # only the replica that stored the change pings
                    self.last_ping = self.pinger.ping(changed)
            return len(changed)

    @property
    def loaded(self) -> bool:
        """The snapshots stored in the DB have been loaded once (this process can serve)."""
        return self._synced_at is not None

    def sync(self) -> None:
        """Load snapshots other replicas rendered, then render what is stale here.

        A snapshot's ``rendered_at`` is taken before its render and commits after it, so a
        replica whose sync falls in between would skip it for good with a plain "since last
        sync": each sync looks back :data:`SYNC_OVERLAP` further, compares etags only, and
        fetches bytes just for what differs.
        """
        started = self.db.now()
        if self._synced_at is None:
            self._restart(started)
            self._mark(started)
            return
        with self.db.read() as conn:
            recent = snapshot_etags(conn, self._synced_at - SYNC_OVERLAP)
            fresh = get_snapshots(conn, self._differing(recent)) if recent else []
        self._synced_at = started
        if touched := self._touched(started):  # taken as shown now: held until rendered
            self.stale.retry(touched)
        self._adopt(fresh)
        self.refresh()
        if pending := self.stale.due():  # one render each, whatever the reasons
            self._render_or_remark(pending)
        self.verification.run(self._verify, self._stopping)
        self._mark(started)

    def _adopt(self, fresh: Iterable[StoredSnapshot]) -> None:
        """Serve stored snapshots (another replica's renders, or the last process's), unless
        what is served here was rendered later: a sync reads the stored bytes before taking
        the lock, and a render here in between (ingest's, the bot's name) must not be undone
        by the older bytes it read until the next sync."""
        with self._lock:
            for s in fresh:
                current = self._snaps.get((s.slug, s.fmt))
                if current is None or (
                    current.etag != s.etag and s.last_modified >= current.last_modified
                ):
                    if self._index.forget([s.slug]):  # the index page: at this sync's end
                        self.verification.index = True
                    if (page := page_of(s.slug)) is not None:  # rendered here again then
                        self._pages.forget(page)
                    self._snaps[(s.slug, s.fmt)] = Snapshot(
                        s.body,
                        s.etag,
                        s.last_modified,
                        SERVED_TYPES.get(s.fmt, "application/xml"),
                    )

    def _restart(self, started: datetime) -> None:
        """The first sync: serve what is stored, render first what changed since it was
        rendered, the rest again in the background (:mod:`feedsvc.warm_start`)."""
        stored = read_stored(self.db, started, self.settings, frozenset(SNAPSHOT_TYPES), INDEX_SLUG)
        plan, topics = stored.plan, stored.topics
        if plan.reason and stored.mark is not None:  # until this full render is done, the
            # next start renders in full too
            with self.db.write() as conn:
                drop_watermark(conn)
        self._synced_at = started
        self._touched(started)  # the baseline of later syncs; what came before is planned here
        self._adopt(stored.snapshots)
        with self._lock:
            self._stored_bot()
            # the on-demand feeds' date moves with the settings they show (Served.rendered_at),
            # dated in a passed second unless a change is that recent (settings_dated)
            dated = settings_dated(started, self._dated_by(stored))
            for key, digest in rendering_digests(self.settings).items():
                self._keep(key, digest, dated)
            for slug in plan.adopted:
                self._rendered_versions[slug] = topics[slug].updated_at
            self.verification.start(plan.adopted, index=not plan.index)
            if not plan.index:  # the stored pages of the index are served as they are
                self._topics = topics
                self._pages.total = sum(t.enabled for t in topics.values())
                self._keep(OPML_KEY, opml_body(self.settings, topics.values()), started)
                self._opml_of = topics
        log.info("%s", plan.describe())
        self.refresh(plan.urgent)

    def _dated_by(self, stored: Stored) -> list[datetime | None]:
        """What may have dated an on-demand render of the process before (``settings_dated``):
        the store's last article change, the rendering digests stored (their dates), every
        topic's version. Not the stored feeds' dates: a ``?limit=`` variant's stored default
        feed is rendered again when the settings it shows change, and a row may be dated ahead
        of the clock (``store.snapshots.next_modified``), which would date these so too."""
        with self.db.read() as conn:
            changed = last_article_change(conn, self.db.now())
        digests = set(rendering_digests(self.settings))
        rows = [s.last_modified for s in stored.snapshots if (s.slug, s.fmt) in digests]
        return [changed, *rows, *(t.updated_at for t in stored.topics.values())]

    def _mark(self, started: datetime) -> None:
        """Write the watermark when everything changed before ``started`` is rendered: no
        catch-up marks or failed renders pending, the restart's background pass done, no render
        stopped midway (ingest renders in flight hold it back: :class:`.RenderedThrough`)."""
        if self._stopping.is_set() or len(self.stale) or not self.verification.done:
            return
        with self._lock:
            topics = list(self._topics.values())
        self.through.write(self.db, started, self._print, topics)

    def _verify(self, slugs: list[str]) -> None:
        """Render again topics served from storage (none: the index page)."""
        if slugs:
            self.refresh(slugs, index=False)
        else:
            with self._lock:
                self._rebuild_pages(self.db.now())

    def _touched(self, now: datetime) -> list[str]:
        """Topics whose public list changed with no render here to show it: a scheduled
        article's time came, or one was withdrawn, hidden or shown again (maybe by another
        process: the CLI, a replica's reconciliation). SPEC §10: within one sync."""
        ids = self.touched.since_last(self.db, now)
        if ids is None:
            return []
        # search feeds list articles of no topic too: never serve one cached before a takedown
        self.cache.clear()
        return [t.slug for t in self._topics.values() if t.id in ids]

    def _differing(self, recent: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        with self._lock:
            snaps = dict(self._snaps)
        return [
            (slug, fmt)
            for slug, fmt, etag in recent
            if (mine := snaps.get((slug, fmt))) is None or mine.etag != etag
        ]

    def on_ingest(self, changes: Sequence[Change], *, catching_up: bool = False) -> None:
        """Re-render the feeds of the topics an ingest batch (or the due check) changed;
        during a catch-up only mark them (:mod:`feedsvc.stale`: :meth:`sync` renders them
        together). Either way :meth:`sync` does not render them again (:mod:`feedsvc.touched`)."""
        token = self.through.begin(self.db.now())  # holds the watermark back until rendered
        try:
            topic_ids = set().union(*(c.affected_topic_ids for c in changes))
            self.touched.rendering(self.db, [c.article_id for c in changes])  # before the render
            slugs = [t.slug for t in self._topics.values() if t.id in topic_ids]
            if catching_up:
                self.stale.mark(slugs)
            elif slugs:
                self._render_or_remark(slugs)
        finally:
            self.through.end(token)

    def render_stale(self) -> None:
        """A catch-up ended: render what it marked now (the ingest thread; ends between
        topics once stopping)."""
        token = self.through.begin(self.db.now())
        try:
            if slugs := self.stale.due(now=True):
                self._render_or_remark(slugs)
        finally:
            self.through.end(token)

    def _render_or_remark(self, slugs: Iterable[str]) -> None:
        """Render topics a change touched; if the render fails (a locked or lost database),
        mark them and the index page to render at the next sync (what they show was already
        taken as shown: :mod:`feedsvc.touched`); no watermark is written meanwhile."""
        slugs = list(slugs)
        try:
            self.refresh(slugs)
        except BaseException:  # the failed step may have been the index page's: render it too
            self.stale.retry(slugs)
            self.verification.index = True
            raise

    def stop(self) -> None:
        """A render pass in progress ends at its current topic's next article (shutdown waits
        neither for thousands of topics nor for one of huge articles); what it skipped or
        dropped is rendered at the next start's first sync."""
        self._stopping.set()

    def set_bot_username(self, username: str | None) -> None:
        """The bot's @username became known (getMe): re-render the pages with its links,
        :data:`VERIFY_BATCH` topics per hold of the render lock. Why: without
        ``telegram.username`` this runs at every start, and 5,000 topics in one hold (~8 s,
        ``bench/startup_render.py``'s full render) kept ingest's renders waiting that long.
        Ends between batches once stopping (the next start learns the name again)."""
        with self._lock:
            if username is not None:  # what a restart renders with (:meth:`_stored_bot`)
                self._keep(BOT_KEY, username.encode(), self.db.now())
            if username == self.bot_username:
                return
            self._use_bot(username)
            slugs = sorted(self._topics)
        for start in range(0, len(slugs), VERIFY_BATCH):
            if self._stopping.is_set():
                return
            self.refresh(slugs[start : start + VERIFY_BATCH], index=False)
        with self._lock:
            self._rebuild_pages(self.db.now())
