"""Feed rendering (RSS 2.0, Atom 1.0, JSON Feed 1.1) and OPML: pure functions, no DB or network.

Public API: :func:`render_feed`, :class:`FeedMeta`, :func:`feed_urls`, :func:`article_guid`,
:func:`render_opml`.
"""

from feedsvc.feeds.model import (
    FeedMeta,
    RenderStopped,
    article_guid,
    feed_id,
    feed_urls,
    search_feed_urls,
)
from feedsvc.feeds.opml import render_opml
from feedsvc.feeds.render import UnknownFormat, render_feed, render_formats

__all__ = [
    "FeedMeta",
    "RenderStopped",
    "UnknownFormat",
    "article_guid",
    "feed_id",
    "feed_urls",
    "render_feed",
    "render_formats",
    "render_opml",
    "search_feed_urls",
]
