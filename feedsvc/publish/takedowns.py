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
now (withdrawn, hidden, scheduled). The same reading finds the topics whose stored feed lists
an article written since the watermark: an edit that took the article out of a topic took
that match row with it, so only the bytes still name that topic. Pure.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedsvc.feeds.model import article_guid
from feedsvc.feeds.sanitize import absolute_url
from feedsvc.store.snapshots import StoredSnapshot

_HREF = re.compile(rb'href="([^"]*)"')
_GUID = re.compile(rb'data-guid="([^"]*)"')


@dataclass(frozen=True, slots=True)
class Sought:
    """Articles looked for in the stored renders (not public now, or written since the
    watermark), as those renders name them: item ids and page links."""

    guids: frozenset[str]
    urls: frozenset[str]

    @classmethod
    def of(cls, articles: Iterable[tuple[str, str]], site_url: str) -> Sought:
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
    snapshots: Iterable[StoredSnapshot], sought: Sought, index_slug: str
) -> tuple[set[str], bool]:
    """``(slugs of topics whose stored JSON feed lists a sought article or cannot be read,
    whether a stored page of the index (``index_slug``, ``index_slug/N``) shows one: by item id,
    or by link for an older page)``."""
    return showing_each(snapshots, [sought], index_slug)[0]


def showing_each(
    snapshots: Iterable[StoredSnapshot], sought: Sequence[Sought], index_slug: str
) -> list[tuple[set[str], bool]]:
    """:func:`showing` for several sets of articles, reading each stored body once (a
    5,000-topic restart parses 5,000 JSON feeds)."""
    found: list[tuple[set[str], bool]] = [(set(), False) for _ in sought]
    if not any(s.guids for s in sought):
        return found
    for snap in snapshots:
        if snap.fmt == "json" and snap.slug != index_slug:
            guids = _guids(snap.body)
            for (slugs, _), one in zip(found, sought, strict=True):
                if one.guids and (guids is None or not guids.isdisjoint(one.guids)):
                    slugs.add(snap.slug)
        elif snap.slug.partition("/")[0] == index_slug and snap.fmt == "html":  # any page
            ids, links = _attrs(_GUID, snap.body), _attrs(_HREF, snap.body)
            found = [
                (
                    slugs,
                    shown  # an earlier page showed one
                    or (
                        bool(one.guids)
                        and (not ids.isdisjoint(one.guids) or not links.isdisjoint(one.urls))
                    ),
                )
                for (slugs, shown), one in zip(found, sought, strict=True)
            ]
    return found
