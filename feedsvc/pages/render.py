"""Rendering of the reader pages with Jinja2 (autoescape on; every value is text).

Deterministic: the same data renders the same bytes (absolute local times, no "… ago", no
random ids), so an unchanged page keeps its ETag like an unchanged feed. The QR code of the
Telegram link is drawn by segno (pure Python, no image files, no JavaScript) as an SVG document
served on its own (``/topics/{slug}/telegram.svg``), which the pages reference: drawn inline it
cost ~7 ms per topic at every render (segno's mask scoring), ~35 s of CPU for a restart's
render of 5,000 topics, and ~1.9 KB per topic of the index page. segno is imported by the
first code drawn (~20 ms of CPU), not by every process that renders pages.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote, quote_plus

import jinja2
from markupsafe import Markup

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.echoes import echoed
from feedsvc.feeds.links import article_link
from feedsvc.feeds.model import (
    FORMAT_LABELS,
    MEDIA_TYPES,
    article_guid,
    feed_urls,
    search_feed_urls,
)
from feedsvc.feeds.sanitize import (
    field_text,
    plain_text,
    shown_summary,
    shown_title,
    xml_clean,
)
from feedsvc.feeds.words import feed_words
from feedsvc.logs import escape_controls

from .inline import SCRIPT, STYLE
from .listing import Paging, paging, topic_key

SUMMARY_CHARS = 280
INDEX_HEADLINES = 3
TOPIC_ARTICLES = 30
#: Telegram passes a ``?start=`` payload of at most 64 characters of ``A-Za-z0-9_-`` to the bot
#: (core.telegram.org/bots/features#deep-linking); a longer one opens the bot without it.
START_PAYLOAD_MAX = 64


@dataclass(frozen=True, slots=True)
class PageArticle:
    title: str
    url: str
    published_at: datetime
    section: str | None = None
    summary: str = ""  # plain text, shortened
    #: the feeds' item id (:func:`feedsvc.feeds.model.article_guid`): the index page marks each
    #: headline with it, so a restart finds a taken-down article there whatever its URL became
    guid: str = ""


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Every way to follow one topic: feed URLs by format, and chat links when the channel
    is configured (``telegram``: ``https://t.me/<bot>?start=<slug>``; ``zalo``: the bot's
    ``zalo.link``, :func:`feedsvc.channel_modes.zalo_link`). ``telegram_qr``/``zalo_qr`` are
    the URLs of each link's QR code (an SVG image, ``/topics/{slug}/telegram.svg``,
    ``…/zalo.svg``). ``zalo_command`` is what to send the Zalo bot, ``/sub <slug>``: its Bot
    API has no start payload like Telegram's ``?start=`` (FIELD-NOTES), so the link opens the
    chat and the reader sends the command."""

    feeds: dict[str, str]
    telegram: str | None = None
    telegram_qr: str | None = None
    zalo: str | None = None
    zalo_qr: str | None = None
    zalo_command: str | None = None


@dataclass(frozen=True, slots=True)
class PageTopic:
    slug: str
    title: str
    description: str
    count: int  # articles in the topic's feed history
    articles: Sequence[PageArticle]  # newest first
    subscribe: Subscribe
    newest_at: datetime | None = field(default=None)


def page_article(article: Article, site_url: str, language: str = "vi") -> PageArticle:
    """An article as the pages show it: the visible text of each field (CMS fields carry
    entities and tags, shown as text as in the feeds), the summary shortened, the link an
    absolute http(s) URL (a relative one resolved against the site, anything else → the site:
    never a ``javascript:`` link); an untitled one's title in ``language`` (site.language)."""
    shown = shown_summary(article.summary)
    summary = plain_text(shown, SUMMARY_CHARS) if shown else ""
    return PageArticle(
        shown_title(article.title, feed_words(language).untitled),
        article_link(article.url, site_url),
        article.published_at,
        field_text(article.section) if article.section else None,
        summary,
        article_guid(site_url, article.source_key),
    )


def page_topic(
    slug: str,
    title: str,
    description: str,
    count: int,
    articles: Sequence[PageArticle],
    subscribe: Subscribe,
) -> PageTopic:
    """A topic as the pages show it: its admin-typed text XML-clean (no control characters)."""
    return PageTopic(
        slug=slug,
        title=xml_clean(title),
        description=xml_clean(description),
        count=count,
        articles=articles,
        subscribe=subscribe,
        newest_at=articles[0].published_at if articles else None,
    )


def qr_svg(url: str) -> bytes:
    """The QR code of ``url`` as an SVG document (error correction M, 3 px modules, black on
    white), ~7 ms: :meth:`feedsvc.publish.serving.Served.telegram_qr` (and ``zalo_qr``) keeps
    each one drawn."""
    import segno

    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=3, border=2, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue()


def telegram_link(bot_username: str | None, slug: str) -> str | None:
    """``https://t.me/<bot>?start=<slug>``, or None without a bot or for a slug longer than a
    ``/start`` payload may be (:data:`START_PAYLOAD_MAX`: the bot would lose the topic)."""
    if not bot_username or len(slug) > START_PAYLOAD_MAX:
        return None
    return f"https://t.me/{quote(bot_username)}?start={quote(slug)}"


def qr_path(slug: str, chat: str) -> str:
    """The path of a topic's QR code of ``chat``'s link (:data:`QR_CHATS`), served by the one
    route ``/topics/{slug}/{chat}.svg``."""
    return f"/topics/{quote(slug)}/{chat}.svg"


#: the chats whose link a topic's QR code draws (``/topics/{slug}/{chat}.svg``)
QR_CHATS = ("telegram", "zalo")


def zalo_command(slug: str) -> str:
    """What a reader sends the Zalo bot to follow the topic (``/sub <slug>``, the bot's
    command: :mod:`feedsvc.channels.zalo.bot`)."""
    return f"/sub {slug}"


def shown_chats(bot_username: str | None, zalo_url: str | None) -> tuple[str, ...]:
    """The chat apps whose buttons :func:`subscribe_links` gives (a topic whose slug is too
    long for a ``/start`` payload lacks Telegram's alone), as :attr:`Site.chats` names them."""
    return (("Telegram",) if bot_username else ()) + (("Zalo",) if zalo_url else ())


def subscribe_links(
    public_url: str, slug: str, bot_username: str | None, zalo_url: str | None = None
) -> Subscribe:
    """A topic's :class:`Subscribe`; ``zalo_url`` is the Zalo bot's link when the pages show
    it (:func:`feedsvc.channel_modes.zalo_link`)."""
    base = public_url.rstrip("/")
    telegram = telegram_link(bot_username, slug)
    return Subscribe(
        feeds=feed_urls(public_url, slug),
        telegram=telegram,
        telegram_qr=base + qr_path(slug, "telegram") if telegram else None,
        zalo=zalo_url,
        zalo_qr=base + qr_path(slug, "zalo") if zalo_url else None,
        zalo_command=zalo_command(slug) if zalo_url else None,
    )


def search_subscribe(public_url: str, query: str) -> Subscribe:
    """The search page's ways to follow: the search feed's addresses (no chat link: a chat's
    own query is typed with ``/sub``, not a link's ``/start`` payload, which takes a slug)."""
    return Subscribe(feeds=search_feed_urls(public_url, query))


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("feedsvc.pages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        formats=FORMAT_LABELS, media_types=MEDIA_TYPES, page_style=STYLE, page_script=SCRIPT
    )
    return env


@dataclass(frozen=True, slots=True)
class Site:
    """The site a page belongs to; ``chats``: the chat apps whose subscribe buttons the pages
    show (``"Telegram"``, ``"Zalo"``, in that order), named by the index's introduction so it
    never promises a channel a reader cannot find on the page."""

    title: str
    url: str
    public_url: str
    chats: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One topic's parts of the index page, rendered: its ``<link rel="alternate">`` lines and
    its ``<section>``, and ``key``, what the topic filter compares (:func:`.listing.topic_key`
    of its title, slug and description). Kept per topic by the publisher: at 5,000 topics,
    rendering every section again for one changed topic cost ~1.5 s."""

    links: Markup
    section: Markup
    key: str


@dataclass(frozen=True, slots=True)
class IndexView:
    """Which page of ``/`` is shown: its place in the list (``paging``: the whole list's, or
    the filtered list's), the filter typed (``query``, cleaned: :func:`.listing.clean_query`;
    empty: every topic) and whether the search box is shown (``search``: more topics than
    one page holds, so a small site's page stays as it was); ``unread``: the query string sent
    was not UTF-8 text (:mod:`feedsvc.web.queries`), said above every topic's first page."""

    paging: Paging
    query: str = ""
    search: bool = False
    unread: bool = False

    def url(self, base: str, page: int) -> str:
        """The address of another page of this view: ``/``, ``/?page=2``, ``/?q=…&page=2``."""
        params = ([f"q={quote_plus(self.query)}"] if self.query else []) + (
            [f"page={page}"] if page > 1 else []
        )
        return f"{base}/" + ("?" + "&".join(params) if params else "")


def _context(t: Translator, site: Site) -> dict[str, object]:
    site = replace(site, title=xml_clean(site.title))  # config text: no controls
    return {"t": t, "lang": t.language, "site": site, "base": site.public_url.rstrip("/")}


def _render(name: str, t: Translator, site: Site, **values: object) -> bytes:
    html = _env().get_template(name).render(**_context(t, site), **values)
    return html.encode("utf-8")


def index_entries(t: Translator, site: Site, topics: Sequence[PageTopic]) -> list[IndexEntry]:
    """Each topic's parts of the index page (its newest :data:`INDEX_HEADLINES` headlines)."""
    context = {**_context(t, site), "headlines": INDEX_HEADLINES}
    macros: Any = _env().get_template("_index_entry.html").make_module(context)  # its macros
    return [
        IndexEntry(
            macros.links(topic),
            macros.section(topic),
            topic_key(topic.title, topic.slug, topic.description),
        )
        for topic in topics
    ]


def render_index_of(
    t: Translator, site: Site, entries: Sequence[IndexEntry], view: IndexView | None = None
) -> bytes:
    """A page of ``/`` from the rendered parts (:func:`index_entries`) of the topics it shows,
    in order; ``view`` None: one page showing every topic (no page links, no search box)."""
    view = view or IndexView(paging(len(entries), 1))
    base = site.public_url.rstrip("/")
    at, last = view.paging.page, view.paging.pages
    prev_url = view.url(base, at - 1) if at > 1 else None
    next_url = view.url(base, at + 1) if at < last else None
    return _render(
        "index.html", t, site, entries=entries, view=view, prev_url=prev_url, next_url=next_url
    )


def render_index(t: Translator, site: Site, topics: Sequence[PageTopic]) -> bytes:
    """``/`` on one page: each topic with its description, article count, newest headlines,
    buttons (tests and ``bench/pages.py``; the publisher renders pages of entries)."""
    return render_index_of(t, site, index_entries(t, site, topics))


def render_topic(t: Translator, site: Site, topic: PageTopic) -> bytes:
    """``/topics/{slug}``: the topic's newest articles and its subscribe buttons."""
    return _render("topic.html", t, site, topic=topic, limit=TOPIC_ARTICLES, search=False)


def render_search(t: Translator, site: Site, topic: PageTopic) -> bytes:
    """A search feed's page for a browser: ``topic`` holds the query as its title and the
    results as its articles, all of them shown (the feed's ``?limit=``); not indexed (any
    text is a query: a crawler following links would find no end of them)."""
    return _render("topic.html", t, site, topic=topic, limit=len(topic.articles), search=True)


def render_missing(t: Translator, site: Site, slug: str) -> bytes:
    """The 404 page of ``/topics/{slug}`` for a slug no enabled topic has (an old link, a
    topic switched off or removed): the site's page saying so, with the way to every topic,
    not indexed. ``slug`` is shown as given, its control characters as escapes
    (:func:`feedsvc.logs.escape_controls`, as the plain-text answers show it), only its start
    when long (:func:`feedsvc.echoes.echoed`)."""
    return _slug_page(t, site, slug, "reader.missing_title", "http.no_topic", "reader.missing_hint")


def render_gone(t: Translator, site: Site, slug: str) -> bytes:
    """The 410 page of a deleted topic's addresses (its reader page; its feeds, for a browser's
    navigation): :func:`render_missing`'s page saying the topic was deleted."""
    return _slug_page(t, site, slug, "reader.gone_title", "http.topic_gone", "reader.gone_hint")


def _slug_page(t: Translator, site: Site, slug: str, title: str, heading: str, hint: str) -> bytes:
    """The page of a topic address that serves no topic, its words by catalogue key; the
    slug named by its start when long (:func:`feedsvc.echoes.echoed`)."""
    slug = escape_controls(echoed(slug))
    return _render(
        "missing.html",
        t,
        site,
        title=t(title, slug=slug, site=site.title),
        heading=t(heading, slug=slug),
        hint=t(hint),
    )


def render_not_found(t: Translator, site: Site) -> bytes:
    """The 404 page of any other address no route serves (a mistyped or truncated link),
    for a browser: the site's page saying so, in its language, with the way to every topic,
    not indexed. It was one plain-text line, in a monospace font on a phone (no viewport),
    with no ``lang``, no title and no way on."""
    return _render(
        "missing.html",
        t,
        site,
        title=t("reader.not_found_title", site=site.title),
        heading=t("http.not_found"),
        hint=t("reader.not_found_hint"),
    )


def render_error(t: Translator, site: Site, title: str, text: str) -> bytes:
    """The page of any other error a browser is answered (a 405, a 400, a 429…:
    :mod:`feedsvc.web.error_pages`): the site's page with ``title`` (the status in words) as
    its heading and ``text``, the worded answer the plain line gives, below it, with the way to
    every topic, not indexed."""
    return _render(
        "missing.html",
        t,
        site,
        title=t("reader.error_title", error=title, site=site.title),
        heading=title,
        hint=text,
    )
