"""What a feed says about itself (title, self links, id, stylesheet, hub) per format, and the
OPML list of the topic feeds — pure.

One place for the topic feeds' and the search feeds' metadata, so the snapshots rendered on
change, the ``?limit=`` variants and the search feeds cannot describe the same feed differently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from feedsvc.catalogue import Translator
from feedsvc.config import Settings
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_opml
from feedsvc.feeds.model import EMPTY_FEED_DATE, search_feed_urls, topic_page_url
from feedsvc.fieldtext import quoted_query
from feedsvc.store.records import Topic
from feedsvc.store.snapshots import Mark, bytes_changed_at
from feedsvc.web.http_cache import strong_etag


def _metas(
    settings: Settings,
    title: str,
    description: str,
    urls: dict[str, str],
    id_: str,
    empty_updated: datetime = EMPTY_FEED_DATE,
    *,
    hub: bool = True,
) -> dict[str, FeedMeta]:
    site, public_url = settings.site, settings.http.public_url.rstrip("/")
    return {
        fmt: FeedMeta(
            title=title,
            description=description or title,
            site_url=site.url,
            self_url=url,
            feed_id=id_,
            author=site.title,
            language=site.language,
            stylesheet_url=None if fmt == "json" else f"{public_url}/feed.xsl",
            hub_url=settings.http.websub_hub if hub else None,
            empty_updated=empty_updated,
        )
        for fmt, url in urls.items()
    }


def topic_metas(settings: Settings, topic: Topic, limit: int | None = None) -> dict[str, FeedMeta]:
    """``format → FeedMeta`` of a topic's feed; an empty feed dates from the topic's last
    definition (``updated_at``), not from 1970. ``limit``: a ``?limit=`` variant's (None: the
    feed as stored), whose self URL carries it (:func:`feedsvc.feeds.feed_urls`) and which
    names no WebSub hub: the hub is pinged for the plain addresses only, so a subscriber to
    ``?limit=N`` through it would wait for pings that never come (as for search feeds)."""
    public_url = settings.http.public_url.rstrip("/")
    title = f"{topic.title} — {settings.site.title}"
    urls = feed_urls(public_url, topic.slug, limit)
    id_ = feed_id(public_url, topic.slug)
    return _metas(
        settings, title, topic.description, urls, id_, topic.updated_at, hub=limit is None
    )


def topic_feed_dated(stored: Mark | None, now: datetime) -> Callable[[bytes], datetime]:
    """A topic feed's last change (its ``updated``/``lastBuildDate``: ``FeedMeta.changed``),
    given its JSON Feed's bytes rendered at ``now`` over ``stored``, that format's row
    (:data:`~feedsvc.feeds.model.DATED_BY`) as read before the render: when those bytes last
    changed (:func:`feedsvc.store.snapshots.bytes_changed_at`), which the row keeps.

    Why: the newest item's date moved back when that item was taken down, withdrawn or edited
    out of the topic, and readers took the feed for unchanged. The JSON Feed lists every item
    with its dates and has no feed-level date of its own, so its bytes change exactly when what
    the feed shows does; its row is the same on every replica and an identical render keeps it,
    so the same state renders the same bytes anywhere (a render stores only if the row is still
    as read: ``store.snapshots.put_rows``). The articles' own change times could not serve: an
    edit that took one out of the topic took its match row with it, and the store's last
    change anywhere (``store.article_reads.last_article_change``) would move every topic's
    bytes at each restart's render."""
    return lambda body: bytes_changed_at(stored, strong_etag(body), now)


def search_metas(settings: Settings, query: str) -> dict[str, FeedMeta]:
    """``format → FeedMeta`` of the search feed for ``query`` (title and self URLs show it).

    No WebSub hub: a search feed is made per request for any query, so feedsvc never knows
    which of them changed and never pings the hub for one; naming the hub told subscribers
    (Inoreader, Feedly) to wait for pings that never came, and to poll less (a tester's; W3C
    WebSub §4: a publisher that advertises a hub MUST ping it on every change)."""
    urls = search_feed_urls(settings.http.public_url.rstrip("/"), query)
    title = f"{quoted_query(query)} — {settings.site.title}"
    description = search_page_text(settings, query)[1]
    return _metas(settings, title, description, urls, urls["atom"], hub=False)


def search_page_text(settings: Settings, query: str) -> tuple[str, str]:
    """The search page's heading and the feed's and page's description: the query quoted
    (:func:`feedsvc.fieldtext.quoted_query`, as the feed's title and alerts show it; the
    description showed it bare, "Tìm kiếm: an ninh" under "“an ninh”")."""
    words = Translator(settings.site.language)
    shown = quoted_query(query)
    return shown, words("reader.search_feed_description", query=shown)


def opml_body(settings: Settings, topics: Iterable[Topic]) -> bytes:
    """The OPML document listing the enabled ``topics``' RSS feeds, each with its topic's page
    as ``htmlUrl`` (OPML 2.0: the page the feed is about; it was the site's home for all)."""
    public_url = settings.http.public_url.rstrip("/")
    feeds = [
        (t.title, feed_urls(public_url, t.slug)["rss"], topic_page_url(public_url, t.slug))
        for t in topics
        if t.enabled
    ]
    return render_opml(settings.site.title, feeds)
