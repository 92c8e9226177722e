"""Which stored renders show an article that is not public now, read from the bytes themselves.

Why: a restart serves the stored snapshots (:mod:`.warm_start`), and its clock-based plan (what
was written since the watermark, and to which topics) can miss a change: a withdrawal that
rewrote the article took its old topics' match rows with it, a write was stamped long before it
committed (a wait for a row lock), a clock stepped back, a render failed and was never retried.
Serving old text for a while is tolerable; serving a takedown is not (SPEC §10). So every stored
topic feed is read for the items it lists (JSON Feed item ids:
:func:`feedsvc.feeds.model.article_guid`, the same items as the topic's other formats and page,
stored in one transaction) and the index page for its headlines' item ids (``data-guid``; an
index page from before them: its links), and compared with the articles that are not public
now (withdrawn, hidden, scheduled). Pure.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from feedsvc.feeds.model import article_guid
from feedsvc.feeds.sanitize import absolute_url
from feedsvc.store.snapshots import StoredSnapshot

_HREF = re.compile(rb'href="([^"]*)"')
_GUID = re.compile(rb'data-guid="([^"]*)"')


@dataclass(frozen=True, slots=True)
class Unpublic:
    """The articles not public now, as stored renders name them: item ids and page links."""

    guids: frozenset[str]
    urls: frozenset[str]

    @classmethod
    def of(cls, articles: Iterable[tuple[str, str]], site_url: str) -> Unpublic:
        """From ``(source_key, url)`` pairs, named as ``site_url``'s renders name them."""
        pairs = list(articles)
        guids = frozenset(article_guid(site_url, key) for key, _ in pairs)
        urls = frozenset(u for _, url in pairs if (u := absolute_url(url, site_url)))
        return cls(guids, urls)


def _guids(body: bytes) -> set[str] | None:
    """A JSON Feed's item ids; None when it cannot be read (then it is rendered again)."""
    try:
        items = json.loads(body)["items"]
        return {str(item["id"]) for item in items}
    except (ValueError, KeyError, TypeError):
        return None


def _attrs(pattern: re.Pattern[bytes], body: bytes) -> set[str]:
    return {html.unescape(m.decode("utf-8", "replace")) for m in pattern.findall(body)}


def showing(
    snapshots: Iterable[StoredSnapshot], unpublic: Unpublic, index_slug: str
) -> tuple[set[str], bool]:
    """``(slugs of topics whose stored JSON feed lists an unpublic article or cannot be read,
    whether the stored index page shows one: by item id, or by link for an older page)``."""
    if not unpublic.guids:
        return set(), False
    slugs: set[str] = set()
    index = False
    for snap in snapshots:
        if snap.fmt == "json" and snap.slug != index_slug:
            guids = _guids(snap.body)
            if guids is None or not guids.isdisjoint(unpublic.guids):
                slugs.add(snap.slug)
        elif snap.slug == index_slug and snap.fmt == "html":
            index = not _attrs(_GUID, snap.body).isdisjoint(unpublic.guids) or not _attrs(
                _HREF, snap.body
            ).isdisjoint(unpublic.urls)
    return slugs, index
