"""What a process serves from memory: the topic feeds' and pages' snapshots, the topic list,
the OPML document, and the on-demand variants — the read side of
:class:`feedsvc.web.feed_backend.FeedBackend`. Serving a topic feed touches no database;
:class:`~.publisher.FeedPublisher` fills this in (renders on change, a restart's stored
snapshots, other replicas' renders)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache, partial

import feedsvc
from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.channel_modes import zalo_link
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.feeds import render_feed, render_formats
from feedsvc.feeds.model import DATED_BY
from feedsvc.on_demand import RENDER_TTL, LimitFeeds, RenderJob, RenderSlots, SearchFeeds
from feedsvc.on_demand_dates import limit_changed, rendered_changed
from feedsvc.pages import (
    Site,
    page_article,
    page_topic,
    qr_svg,
    render_search,
    search_subscribe,
    shown_chats,
    telegram_link,
)
from feedsvc.slugs import slug_forms
from feedsvc.stats.polls import PollCounter
from feedsvc.store.article_reads import topic_articles
from feedsvc.store.snapshots import feed_mark, get_snapshots
from feedsvc.store.topics import Topic, find_topic
from feedsvc.web.feed_backend import SEARCH_PAGE, NoQr
from feedsvc.web.http_cache import Snapshot, make_snapshot
from feedsvc.web.snapshot_cache import SnapshotCache

from .metas import search_metas, search_page_text, topic_feed_dated, topic_metas

#: Items in a topic feed as stored (``?limit=`` asks for others, rendered on demand).
DEFAULT_LIMIT = 50
#: Rows stored beside the snapshots (``feed_snapshots``, under a slug no topic can have): the
#: digest of the settings the on-demand feeds' bytes show, and of those their reader page's
#: show (:func:`rendering_digests`), each kept by ``Rendered._keep`` (same bytes, same date):
#: the on-demand renders are dated by them too (:meth:`Served.rendered_at`).
RENDERING_KEY = ("_rendering", "digest")
PAGE_RENDERING_KEY = ("_page_rendering", "digest")


def rendering_digests(settings: Settings) -> dict[tuple[str, str], bytes]:
    """What :data:`RENDERING_KEY` and :data:`PAGE_RENDERING_KEY` hold: digests (hex SHA-256)
    of exactly the settings the on-demand feeds' bytes (search feeds, ``?limit=`` variants:
    :func:`.metas.search_metas`, :func:`.metas.topic_metas`, the items' words) and the search
    page's show — feedsvc's version, the site's title, URL and language, the public URL; the
    page's also ``site.timezone`` (its times). Why not :func:`.warm_start.fingerprint`: it
    holds what any render reads (the timezone, the WebSub hub, the bot's name, the Zalo link),
    and a restart changing one of those moved these feeds' ``Last-Modified`` with the same
    bytes and ETag, so If-Modified-Since got a 200 (a tester's: ``site.timezone``)."""
    site = settings.site
    feeds = {
        "version": feedsvc.__version__,
        "title": site.title,
        "url": site.url,
        "language": site.language,
        "public_url": settings.http.public_url.rstrip("/"),  # as the feeds write it
    }
    page = feeds | {"timezone": site.timezone}
    return {
        key: hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest().encode()
        for key, parts in ((RENDERING_KEY, feeds), (PAGE_RENDERING_KEY, page))
    }


class Served:
    """The snapshots served (``(slug, format) → Snapshot``; a topic's page as format ``html``),
    the topics they belong to, and the OPML document; ``web_db`` renders the search feeds and
    ``?limit=`` variants a request asks for, within the render slots and the byte-bounded
    cache."""

    def __init__(self, settings: Settings, web_db: Database) -> None:
        self._snaps: dict[tuple[str, str], Snapshot] = {}
        self._topics: dict[str, Topic] = {}
        #: the slugs of topics deleted (``deleted_topics``), read with the topics: 410 Gone
        self._gone: frozenset[str] = frozenset()
        http = settings.http
        #: On-demand renders (search feeds and ``?limit=`` variants), bounded in bytes.
        self.cache = SnapshotCache(http.render_cache_mb * 2**20, RENDER_TTL)
        self.slots = RenderSlots(http.search_concurrency)
        self.searches = SearchFeeds(
            web_db, self.cache, self.slots, self.resolve, partial(search_metas, settings),
            self.search_page, self.rendered_at,
        )  # fmt: skip
        self.limits = LimitFeeds(
            web_db, self.cache, self.slots, partial(topic_metas, settings), self.rendered_at
        )
        #: the Telegram bot's @username for deep links and their QR codes (config, or getMe
        #: at start: :meth:`FeedPublisher.set_bot_username`)
        self.bot_username: str | None = settings.telegram.username
        #: the Zalo bot's link the pages show, None when they show none (``zalo.link`` unset or
        #: the channel off)
        self.zalo_link: str | None = zalo_link(settings)
        self.settings = settings
        self.public_url = settings.http.public_url.rstrip("/")
        self.t = Translator(settings.site.language, settings.site.timezone)
        chats = shown_chats(self.bot_username, self.zalo_link)
        self.site = Site(settings.site.title, settings.site.url, self.public_url, chats)
        self.polls = PollCounter()
        #: :meth:`FeedBackend.polled`: the counter's own method, one call on the hot path
        self.polled: Callable[[str], None] = self.polls.count

    def rendered_at(self, fmt: str) -> datetime | None:
        """When what the on-demand renders of format ``fmt`` show besides the articles last
        changed (None: not known yet): the stored :data:`RENDERING_KEY` row's date, or for
        the search page (:data:`~feedsvc.web.feed_backend.SEARCH_PAGE`)
        :data:`PAGE_RENDERING_KEY`'s. Why: those feeds were dated by their articles alone, so
        a restart with another ``site.title`` changed their bytes but not their Last-Modified,
        and a reader sending only If-Modified-Since got 304 and kept the old title (a
        tester's); a row's date moves only when its bytes do, as a stored page's. The bot's
        name is in neither: these renders do not show it."""
        row = self._snaps.get(PAGE_RENDERING_KEY if fmt == SEARCH_PAGE else RENDERING_KEY)
        return None if row is None else row.last_modified

    def resolve(self, slug: str) -> str | None:
        """``@slug`` in a search query: that topic's query text (None: unknown)."""
        topic = self._topics.get(slug)
        return topic.query if topic is not None else None

    def snapshot(self, slug: str, fmt: str, limit: int) -> Snapshot | None:
        """The topic feed; a non-default ``limit`` is rendered here if not cached."""
        if limit == DEFAULT_LIMIT:
            topic = self._topics.get(slug)
            return self._snaps.get((slug, fmt)) if topic is not None and topic.enabled else None
        found = self.limited(slug, fmt, limit)
        return found if not isinstance(found, RenderJob) else found()

    def limited(self, slug: str, fmt: str, limit: int) -> Snapshot | RenderJob | None:
        """A ``?limit=`` variant: cached, or a job rendering it (holding a render slot).
        Raises :class:`~feedsvc.web.feed_backend.Overloaded` when no slot is free."""
        topic = self._topics.get(slug)
        if topic is None or not topic.enabled:
            return None
        return self.limits.feed(topic, fmt, limit, self._snaps.get((slug, fmt)))

    def search_job(self, query: str, fmt: str, limit: int) -> Snapshot | RenderJob:
        """The ad-hoc search feed if cached, else a job rendering it (holding a render slot;
        :meth:`feedsvc.on_demand.SearchFeeds.feed`). What the HTTP routes call."""
        return self.searches.feed(query, fmt, limit)

    def search(self, query: str, fmt: str, limit: int) -> Snapshot:
        """The ad-hoc search feed, rendered here if not cached (CLI and tests; the routes use
        :meth:`search_job` to render off the event loop). Raises ``QueryError`` and
        :class:`~feedsvc.web.feed_backend.Overloaded` like it."""
        found = self.search_job(query, fmt, limit)
        return found if isinstance(found, Snapshot) else found()

    def search_page(self, query: str, articles: list[Article]) -> bytes:
        """The reader page of the search feed for ``query`` (a browser opening
        ``/feeds/search.rss?q=…``, SPEC §13): its results as a topic's page shows them, the
        feed addresses to copy, not indexed. Chromium 156 shows such a feed as raw text: it no
        longer applies ``feed.xsl``, and a topic's page exists only for a topic."""
        site_url, language = self.settings.site.url, self.settings.site.language
        title, description = search_page_text(self.settings, query)
        shown = page_topic(
            "search", title, description, len(articles),
            [page_article(a, site_url, language) for a in articles],
            search_subscribe(self.public_url, query),
        )  # fmt: skip
        return render_search(self.t, self.site, shown)

    def gone(self, slug: str) -> bool:
        """Whether ``slug`` (as given, or in the forms :func:`feedsvc.slugs.slug_forms` reads
        it) names a topic that was deleted and not created again: its feeds and page answer
        410 Gone. A switched-off topic is not (it may be switched on: 404), nor a slug never
        known."""
        if not self._gone:
            return False
        return any(f in self._gone and f not in self._topics for f in slug_forms(slug))

    def page(self, slug: str) -> Snapshot | None:
        """``/topics/{slug}``: an enabled topic's reader page, None otherwise (→ 404)."""
        topic = self._topics.get(slug)
        if topic is None or not topic.enabled:
            return None
        return self._snaps.get((slug, "html"))

    def telegram_qr(self, slug: str) -> Snapshot | NoQr:
        """``/topics/{slug}/telegram.svg``: the QR code of an enabled topic's Telegram link,
        else why not (:class:`~feedsvc.web.feed_backend.NoQr`: another slug or a disabled
        topic, no bot, a slug too long for a ``/start`` payload). Drawn once per link (~7 ms)
        and kept: only enabled topics' links are drawn, so what a client asks for cannot grow
        the memo past the topics served."""
        topic = self._topics.get(slug)
        if topic is None or not topic.enabled:
            return NoQr.TOPIC
        if not self.bot_username:
            return NoQr.BOT
        link = telegram_link(self.bot_username, slug)
        return NoQr.SLUG if link is None else self._qr(slug, link)

    def zalo_qr(self, slug: str) -> Snapshot | NoQr:
        """``/topics/{slug}/zalo.svg``: the QR code of the Zalo bot's link on an enabled
        topic's page (the same link for every topic: drawn once, kept like Telegram's), else
        why not (:class:`~feedsvc.web.feed_backend.NoQr`: no such topic, no link shown)."""
        topic = self._topics.get(slug)
        if topic is None or not topic.enabled:
            return NoQr.TOPIC
        return NoQr.ZALO if self.zalo_link is None else self._qr(slug, self.zalo_link)

    def _qr(self, slug: str, link: str) -> Snapshot:
        """The QR code of ``link`` on ``slug``'s page, dated as that page (stored: the same
        across restarts; the page shows the link, so a new link moves the page's date). Why:
        it was dated when this process first drew it, so every restart moved its
        ``Last-Modified`` with the same bytes and If-Modified-Since got them again."""
        page = self._snaps.get((slug, "html"))
        return _qr_snapshot(link, page.last_modified if page is not None else _EPOCH)


#: QR codes kept (~2 KB each): every enabled topic's at one bot name, at 5,000 topics.
QR_KEPT = 8192


#: The date of a QR code on a page not stored yet (never served: the page is checked first).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=QR_KEPT)
def _qr_body(link: str) -> bytes:
    return qr_svg(link)


@lru_cache(maxsize=QR_KEPT)
def _qr_snapshot(link: str, modified: datetime) -> Snapshot:
    return make_snapshot(_qr_body(link), "image/svg+xml", modified)


def render_topic_feed(
    db: Database, settings: Settings, slug: str, fmt: str, limit: int
) -> bytes | None:
    """``feedsvc render``: one feed, rendered fresh from the state DB (None: unknown slug),
    dated as the server dates it (:func:`.metas.topic_feed_dated`, a ``?limit=`` variant's
    :func:`feedsvc.on_demand_dates.limit_changed` and, when the stored :data:`RENDERING_KEY`
    row holds these settings' digest, its date: ``rendered_changed``)."""
    with db.read() as conn:
        topic = find_topic(conn, slug)
        if topic is None:
            return None
        now = db.now()
        items = topic_articles(conn, topic.id, limit, now)
        dated_by = feed_mark(conn, slug, DATED_BY)
        changed = None if limit == DEFAULT_LIMIT else limit_changed(conn, topic, items, limit, now)
        digest = rendering_digests(settings)[RENDERING_KEY]
        held = [r.last_modified for r in get_snapshots(conn, [RENDERING_KEY]) if r.body == digest]
    if limit == DEFAULT_LIMIT:
        metas = topic_metas(settings, topic)
        return render_formats(metas, items, dated=topic_feed_dated(dated_by, now))[fmt]
    meta = topic_metas(settings, topic, limit)[fmt]  # named as the server names it
    own = rendered_changed(changed, held[0] if held else None)
    return render_feed(replace(meta, changed=own), items, fmt)
