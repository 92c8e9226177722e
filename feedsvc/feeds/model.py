"""What every feed format needs, computed once from stored articles.

Articles come from the database (or a CMS) and may hold anything; :func:`prepare_items` turns
them into :class:`FeedItem` values whose strings are XML-safe and whose HTML is sanitised, so
the per-format writers only lay them out. Identity (:func:`article_guid`) and URLs
(:func:`feed_urls`) live here too because the HTTP layer and the CLI need the same answers.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from urllib.parse import quote, urlsplit

from feedsvc import heap_trim
from feedsvc.articles import Article
from feedsvc.blank_text import shows_nothing
from feedsvc.feeds.item_memo import ItemMemo
from feedsvc.feeds.links import article_link
from feedsvc.feeds.sanitize import (
    absolute_url,
    field_text,
    plain_text,
    sanitize_html,
    shown_summary,
    shown_title,
    xml_clean,
)
from feedsvc.feeds.words import feed_words
from feedsvc.http_dates import utc_seconds

FORMATS = ("rss", "atom", "json")
#: The format with no feed-level date of its own, whose stored bytes date a topic feed's other
#: formats (``feedsvc.publish.metas.topic_feed_dated``).
DATED_BY = "json"
#: How each format is named to people (buttons, link titles).
FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}

MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}

#: ``updated`` of a feed with no items when the caller knows no better date (a search with no
#: hits): fixed so an empty feed is byte-identical every time, and after 1990, since the W3C
#: validator flags older feed dates as implausible (1970 did).
EMPTY_FEED_DATE = datetime(2024, 1, 1, tzinfo=UTC)

#: The date part of our ``tag:`` URIs (RFC 4151). It must never change: ids are forever.
TAG_DATE = "2024"

SUMMARY_CHARS = 300

_TAG_SAFE = "-._~!$'()*+,;=:@/"


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Feed-level data for one format of one feed (the caller builds one per format).

    ``self_url`` is this format's own URL (see :func:`feed_urls`); ``site_url`` is the
    publisher's site, used as RSS ``<link>`` / Atom ``rel=alternate`` / JSON ``home_page_url``.
    ``feed_id`` must be stable for the life of the feed (see :func:`feed_id`).
    """

    title: str
    description: str
    site_url: str
    self_url: str
    feed_id: str
    language: str = "vi"
    hub_url: str | None = None
    stylesheet_url: str | None = None
    author: str | None = None  # publisher name for Atom/JSON; defaults to the site host
    #: Feed-level updated/lastBuildDate while there are no items, e.g. when the topic was last
    #: defined: a date the data gives, so an empty feed stays byte-identical until it changes.
    empty_updated: datetime = EMPTY_FEED_DATE
    #: The feed's last change as its caller knows it (an item taken down, corrected, edited out:
    #: see :func:`feed_updated`), None when it knows none; never in the future.
    changed: datetime | None = None

    def __post_init__(self) -> None:
        """Topic text enters rendering here: XML-clean, and a title every format requires."""
        title = " ".join(xml_clean(self.title).split()) or feed_words(self.language).untitled
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "description", xml_clean(self.description).strip())
        if self.author is not None:
            object.__setattr__(self, "author", " ".join(xml_clean(self.author).split()) or None)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One article, cleaned and ready to lay out in any format."""

    guid: str
    url: str
    title: str
    summary_html: str | None  # sanitised; None when the article has no summary
    summary_text: str  # plain excerpt (summary, else body, else title)
    content_html: str | None  # sanitised body, else summary; None when neither exists
    author: str | None
    categories: tuple[str, ...]
    image_url: str | None
    image_type: str | None
    published: datetime  # UTC, whole seconds
    updated: datetime  # UTC, whole seconds, >= published


@lru_cache(maxsize=64)  # called per item with the same few site URLs
def _host(url: str) -> str:
    host = urlsplit(url).hostname
    return (host or "localhost").lower().rstrip(".")


def article_guid(site_url: str, source_key: str) -> str:
    """Stable item id: ``tag:HOST,2024:article/KEY``.

    Derived from the configured *site* host and the source key only, so it is the same in every
    format and does not depend on the Host header, the scheme, or the article URL (which an
    editor may change). One key, one id: every character outside ASCII is percent-encoded (UTF-8;
    a lone surrogate, which no key parsed now holds, as its three bytes), so a noncharacter
    (U+FFFE, U+FDD0) XML cannot hold never reaches it and two keys never share an id: ``X3`` and
    ``X3\uffff`` did when it was deleted instead, and a feed showed one article for both (a
    takedown of one left its id in the feed over the other's text; a tester's).
    """
    key = quote(source_key, safe=_TAG_SAFE, errors="surrogatepass")
    return f"tag:{_host(site_url)},{TAG_DATE}:article/{key}"


def feed_id(public_url: str, slug: str) -> str:
    """Stable feed id (Atom ``<id>``) from the public URL's host and the slug."""
    return f"tag:{_host(public_url)},{TAG_DATE}:feed/{quote(xml_clean(slug), safe=_TAG_SAFE)}"


def feed_urls(public_url: str, slug: str, limit: int | None = None) -> dict[str, str]:
    """``{"rss": ".../feeds/SLUG.rss", "atom": ..., "json": ...}`` under ``public_url``;
    with ``limit`` (a ``?limit=`` variant's, not the default) ``...rss?limit=N``: the address
    that variant is served at names itself so (``rel="self"``, ``feed_url``), or the W3C
    validator warns ``SelfDoesntMatchLocation`` (a tester's: ``?limit=70`` named the plain
    feed)."""
    base = public_url.rstrip("/")
    path = quote(slug, safe="-._~")
    query = "" if limit is None else f"?limit={limit}"
    return {fmt: f"{base}/feeds/{path}.{fmt}{query}" for fmt in FORMATS}


def topic_page_url(public_url: str, slug: str) -> str:
    """``.../topics/SLUG`` under ``public_url``: the reader page a topic's feeds are about
    (OPML's ``htmlUrl``)."""
    return f"{public_url.rstrip('/')}/topics/{quote(slug, safe='-._~')}"


def search_feed_urls(public_url: str, query: str) -> dict[str, str]:
    """Self URLs of the ad-hoc search feeds for ``query`` (percent-encoded, UTF-8, a space
    ``%20``): **the one spelling of a search feed's address**, named as its ``rel="self"`` and
    by every link feedsvc gives to one (the search page, the demo's banner). Another encoding
    of the same text (``+`` for the space, ``%41``) is served the same cached feed, which names
    this address: the feed is cached per query text, not per encoding (README, "Feeds")."""
    base = public_url.rstrip("/")
    q = quote(query, safe="")
    return {fmt: f"{base}/feeds/search.{fmt}?q={q}" for fmt in FORMATS}


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Visible text of each value (CMS tags and sections carry entities too), once each."""
    kept: list[str] = []
    folded: set[str] = set()
    for value in values:
        text = field_text(value) if value else ""
        if text and text.casefold() not in folded:
            kept.append(text)
            folded.add(text.casefold())
    return tuple(kept)


#: Extension → media type: Python's built-in table (not the host's /etc/mime.types, so output does
#: not depend on the machine), without the URL parsing ``guess_type`` would add per item.
_MEDIA_TYPES = {ext.lstrip("."): mime for ext, mime in mimetypes.types_map.items()}


def _image(article: Article) -> tuple[str | None, str | None]:
    if not article.image_url:
        return None, None
    url = absolute_url(article.image_url, article.url)
    if url is None:
        return None, None
    path = url.split("#", 1)[0].split("?", 1)[0]
    guessed = _MEDIA_TYPES.get(path.rpartition(".")[2].lower()) if "." in path else None
    return url, guessed if guessed and guessed.startswith("image/") else "image/jpeg"


def prepare_item(site_url: str, article: Article, language: str) -> FeedItem:
    """Clean one article, its words in ``language`` (the feed's, ``FeedMeta.language``);
    never raises on odd content (that is the point)."""
    url = article_link(article.url, site_url)  # the one address of an article (feeds.links)
    words = feed_words(language)
    html_of = partial(sanitize_html, base_url=url, language=language)
    summary = shown_summary(article.summary)
    summary_html = html_of(summary) if summary else None
    body_html = html_of(article.body) if article.body else None
    # Every text field is shown as its visible text: CMS fields carry entities (``&amp;``,
    # ``&lt;img&gt;``) and sometimes tags; decoded markup stays text in every format. A title,
    # author, section or tag is text that may hold markup: "Sách <Số đỏ>" keeps "<Số đỏ>".
    title = shown_title(article.title, words.untitled)
    excerpt = plain_text(summary or article.body or "", SUMMARY_CHARS)
    author = field_text(article.author) if article.author else ""
    image_url, image_type = _image(article)
    published = utc_seconds(article.published_at)
    updated = utc_seconds(article.updated_at) if article.updated_at else published
    return FeedItem(
        guid=article_guid(site_url, article.source_key),
        url=url,
        title=title,
        summary_html=summary_html or None,
        summary_text=title if shows_nothing(excerpt) else excerpt,
        content_html=body_html or summary_html or None,
        author=author or None,
        categories=_unique((article.section, *article.tags)),
        image_url=image_url,
        image_type=image_type,
        published=published,
        updated=max(updated, published),
    )


def newest_first(articles: Iterable[Article]) -> list[Article]:
    """Sort by publication time, newest first; ties broken by source key for stable output.

    One item per id (:func:`article_guid`: one per source key; the latest version wins):
    duplicate ids make readers show an article twice and validators reject the feed.
    """
    latest: dict[str, Article] = {}
    for article in articles:
        key = article.source_key
        seen = latest.get(key)
        if seen is None or utc_seconds(article.version) > utc_seconds(seen.version):
            latest[key] = article
    return sorted(
        latest.values(), key=lambda a: (utc_seconds(a.published_at), a.source_key), reverse=True
    )


#: Memo of prepared items (``item_memo``): keyed by a digest of the article, not the article, so
#: no article body outlives its render; bounded in items and characters.
ITEMS = ItemMemo()


def clear_item_cache() -> None:
    """Forget prepared items (benchmarks measure cold renders with it)."""
    ITEMS.clear()


class RenderStopped(Exception):
    """A render given up between two items because the process is stopping (``stop``)."""


def prepare_items(
    site_url: str,
    articles: Sequence[Article],
    language: str,
    stop: Callable[[], bool] | None = None,
) -> list[FeedItem]:
    """Articles → items, newest first (memoised per article version in :data:`ITEMS`),
    their words in ``language`` (:func:`prepare_item`).

    ``stop`` is asked before each item; when it says so, :class:`RenderStopped` is raised. Why:
    cleaning one article of a few MB takes most of a second (its visible text for the excerpt),
    so a topic of 50 such articles rendered for most of a minute, and a SIGTERM waited for it
    past the shutdown budget (exit 1). Stopped, the render is dropped whole, never half stored."""
    items = []
    for article in newest_first(articles):
        if stop is not None and stop():
            raise RenderStopped
        items.append(ITEMS.get(site_url, article, language, prepare_item))
    heap_trim.worked_on(sum(len(a.body or "") + len(a.summary or "") for a in articles))
    return items


def feed_updated(meta: FeedMeta, items: Sequence[FeedItem]) -> datetime:
    """Feed-level updated/lastBuildDate: the newest item date, or ``meta.changed`` when later,
    so output depends on the arguments only. Why both: the newest item alone moved the date
    back when that item was taken down, withdrawn or edited out, and an aggregator takes a date
    that did not move on as "nothing new"; the caller knows when the feed last changed."""
    newest = max((item.updated for item in items), default=meta.empty_updated)
    return newest if meta.changed is None else max(newest, utc_seconds(meta.changed))


def atom_updated(item: FeedItem) -> datetime:
    """An entry's Atom ``<updated>``: its time (``item.updated``, whole seconds) plus a fraction
    of a second that its id alone gives (:func:`atom_tie_break`), within the same second.

    Why: the W3C validator warns ``DuplicateUpdated`` ("Two entries with the same value for
    atom:updated", a string comparison; https://validator.w3.org/feed/docs/warning/
    DuplicateUpdated.html) when two entries of one feed share a time, and a CMS
    storing minutes with a newsroom publishing several articles at 09:00 makes that common
    (SPEC §5: feeds validate clean). RFC 4287 §4.2.15 allows it; readers show minutes. The
    fraction depends on nothing but the entry's id (``tag:…:article/KEY``), so an entry has
    the same ``<updated>`` in every feed it is in (its topics', searches', ``?limit=``
    variants), in every render (byte-identical output while nothing changes), whatever other
    articles arrive, on every replica and after the state DB is rebuilt (a row id would
    change then, and readers take a moved ``<updated>`` for an edit). RSS (no such element)
    and JSON Feed (``date_modified``) keep the true time."""
    return item.updated + timedelta(microseconds=atom_tie_break(item.guid))


def atom_tie_break(guid: str) -> int:
    """Microseconds (0–999,999) from an entry's id: the first 8 bytes of its BLAKE2b digest,
    mod 10⁶. Two entries of one second share it with odds of one in a million (the validator's
    warning for that pair, as before); a hash rather than an order, since no order of a feed's
    entries is the same in every feed."""
    digest = hashlib.blake2b(guid.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 1_000_000
