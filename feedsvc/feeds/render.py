"""Entry point of feed rendering: stored articles in, feed bytes out (pure, no I/O).

``render_feed`` is what callers use; ``render_formats`` renders several formats of one feed
while cleaning and sanitising each article only once (the expensive part after feedgen).

Not thread-safe to call concurrently with other locale users: see :mod:`feedsvc.feeds.xmlfeeds`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from feedsvc.articles import Article
from feedsvc.feeds.jsonfeed import render_json
from feedsvc.feeds.model import FORMATS, FeedItem, FeedMeta, RenderStopped, prepare_items
from feedsvc.feeds.xmlfeeds import render_atom, render_rss


class UnknownFormat(ValueError):
    """A format other than ``rss``, ``atom`` or ``json``."""


def _author(meta: FeedMeta) -> str:
    return meta.author or urlsplit(meta.site_url).hostname or meta.title


def render_items(meta: FeedMeta, items: Sequence[FeedItem], fmt: str) -> bytes:
    """Lay out already prepared (cleaned, sorted) items in one format."""
    if fmt == "rss":
        return render_rss(meta, items)
    if fmt == "atom":
        return render_atom(meta, items, _author(meta))
    if fmt == "json":
        return render_json(meta, items, _author(meta))
    raise UnknownFormat(f"unknown feed format {fmt!r}; expected one of {', '.join(FORMATS)}")


def render_feed(meta: FeedMeta, articles: Sequence[Article], fmt: str) -> bytes:
    """One feed in ``fmt`` ("rss", "atom" or "json"), items newest first.

    The caller applies the item limit. Output depends only on the arguments (no clock), so the
    same input gives the same bytes.
    """
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown feed format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return render_items(meta, prepare_items(meta.site_url, articles, meta.language), fmt)


def render_formats(
    metas: Mapping[str, FeedMeta],
    articles: Sequence[Article],
    stop: Callable[[], bool] | None = None,
) -> dict[str, bytes]:
    """Several formats of one feed (``{fmt: meta}``, metas differing in ``self_url``).

    All metas must share ``site_url`` and ``language``: items are prepared once. ``stop``
    ends the render at its next item or format (:class:`~feedsvc.feeds.model.RenderStopped`).
    """
    if not metas:
        return {}
    shared = {(meta.site_url, meta.language) for meta in metas.values()}
    if len(shared) != 1:
        raise ValueError("all formats of one feed must share site_url and language")
    site_url, language = shared.pop()
    items = prepare_items(site_url, articles, language, stop)
    bodies = {}
    for fmt, meta in metas.items():
        if stop is not None and stop():
            raise RenderStopped
        bodies[fmt] = render_items(meta, items, fmt)
    return bodies
