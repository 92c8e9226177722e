"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand: feedgen has none.

Output is deterministic (fixed key order, no whitespace variation) so identical input gives
identical bytes and a stable ETag. Dates are RFC 3339 in UTC with a ``Z`` suffix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from feedsvc.feeds.model import FeedItem, FeedMeta
from feedsvc.feeds.sanitize import xml_clean

VERSION_URL = "https://jsonfeed.org/version/1.1"


def rfc3339(dt: datetime) -> str:
    """``2021-12-15T03:34:00Z`` for an aware UTC datetime with whole seconds."""
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(item: FeedItem) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.guid, "url": item.url, "title": item.title}
    if item.content_html:
        out["content_html"] = item.content_html
    else:
        out["content_text"] = item.summary_text
    out["summary"] = item.summary_text
    if item.image_url:
        out["image"] = item.image_url
    out["date_published"] = rfc3339(item.published)
    out["date_modified"] = rfc3339(item.updated)
    if item.author:
        out["authors"] = [{"name": item.author}]
    if item.categories:
        out["tags"] = list(item.categories)
    return out


def render_json(meta: FeedMeta, items: Sequence[FeedItem], author: str) -> bytes:
    """JSON Feed 1.1 bytes (UTF-8, non-ASCII kept readable)."""
    feed: dict[str, Any] = {
        "version": VERSION_URL,
        "title": xml_clean(meta.title),
        "home_page_url": xml_clean(meta.site_url),
        "feed_url": xml_clean(meta.self_url),
    }
    if meta.description:
        feed["description"] = xml_clean(meta.description)
    feed["language"] = meta.language
    feed["authors"] = [{"name": xml_clean(author)}]
    if meta.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": xml_clean(meta.hub_url)}]
    feed["items"] = [_item(item) for item in items]
    # Compact: with ``indent`` the json module falls back to its pure-Python encoder (~8x slower).
    text = json.dumps(feed, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")
