"""Entry point of feed rendering: stored articles in, feed bytes out (pure, no I/O).

``render_feed`` is what callers use; ``render_formats`` renders several formats of one feed
while cleaning and sanitising each article only once (the expensive part after feedgen).

Not thread-safe to call concurrently with other locale users: see :mod:`feedsvc.feeds.xmlfeeds`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from feedsvc.articles import Article
from feedsvc.feeds.jsonfeed import render_json
from feedsvc.feeds.model import (
    DATED_BY,
    FORMATS,
    FeedItem,
    FeedMeta,
    RenderStopped,
    prepare_items,
)
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
    dated: Callable[[bytes], datetime] | None = None,
) -> dict[str, bytes]:
    """Several formats of one feed (``{fmt: meta}``, metas differing in ``self_url``).

    All metas must share ``site_url`` and ``language``: items are prepared once. ``stop``
    ends the render at its next item or format (:class:`~feedsvc.feeds.model.RenderStopped`).
    ``dated``: the feed's last change (``FeedMeta.changed``) given the bytes of its
    :data:`~feedsvc.feeds.model.DATED_BY` format (JSON Feed, which has no feed-level date),
    rendered first: a topic feed is dated by when those bytes last changed
    (:func:`feedsvc.publish.metas.topic_feed_dated`).
    """
    if not metas:
        return {}
    shared = {(meta.site_url, meta.language) for meta in metas.values()}
    if len(shared) != 1:
        raise ValueError("all formats of one feed must share site_url and language")
    if dated is not None and DATED_BY not in metas:
        raise ValueError(f"a feed dated by its {DATED_BY} bytes must render that format")
    site_url, language = shared.pop()
    items = prepare_items(site_url, articles, language, stop)
    order = sorted(metas, key=lambda fmt: fmt != DATED_BY) if dated is not None else list(metas)
    bodies: dict[str, bytes] = {}
    changed: datetime | None = None
    for fmt in order:
        if stop is not None and stop():
            raise RenderStopped
        meta = metas[fmt]
        if dated is not None and fmt != DATED_BY:
            changed = changed or dated(bodies[DATED_BY])
            meta = replace(meta, changed=changed)
        bodies[fmt] = render_items(meta, items, fmt)
    return {fmt: bodies[fmt] for fmt in metas}
