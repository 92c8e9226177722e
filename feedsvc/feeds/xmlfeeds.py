"""RSS 2.0 and Atom 1.0 through feedgen 1.0.0, with its known bugs worked around.

feedgen is mandated but unmaintained; this module is the only place that touches it, and it
never lets a feedgen default reach the output:

* A **new FeedGenerator per format**: feedgen shares one self link between RSS and Atom.
* RSS channel ``<link>`` is the **last** ``fg.link()``: the self link is added first, the site
  link last.
* Atom entry links lose ``rel``/``type``/``length`` (upstream issue #135), so an enclosure set
  through feedgen becomes a second ``alternate`` link (invalid Atom). In Atom we give feedgen
  only the alternate link (whose ``rel`` is the default anyway) and write the image
  ``rel="enclosure"`` link ourselves in an entry extension. In RSS, where feedgen's enclosure
  is correct, we use it.
* ``updated``/``lastBuildDate`` default to now(): every date is set from the data. An Atom
  entry's ``updated`` carries a fraction of a second from its id
  (:func:`feedsvc.feeds.model.atom_updated`: the validator's ``DuplicateUpdated``).
* A name-only author is dropped from RSS: we emit ``dc:creator``.
* RSS drops ``rel="hub"`` links: our channel extension writes ``atom:link rel="hub"``.
* ``add_entry()`` prepends: items are added with ``order="append"`` in our (sorted) order.

Thread safety: feedgen formats RSS dates with ``locale.setlocale`` (process-global). Renders are
serialised by :data:`RENDER_LOCK`; still, do not render while *other* threads rely on the locale.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree  # type: ignore[import-untyped]  # no stubs installed

from feedsvc.feeds.model import MEDIA_TYPES, FeedItem, FeedMeta, atom_updated, feed_updated
from feedsvc.feeds.sanitize import xml_clean

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
GENERATOR = "feedsvc"

#: Serialises feedgen renders (its RSS date code swaps the process locale).
RENDER_LOCK = threading.Lock()


class _RssChannelExt(BaseExtension):  # type: ignore[misc]  # feedgen is untyped
    """Adds ``xmlns:dc`` and the WebSub hub link that feedgen's RSS writer drops."""

    hub_url: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}

    def extend_rss(self, rss: Any) -> Any:
        if self.hub_url:
            channel = rss.find("channel")
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=self.hub_url, rel="hub")
        return rss


class _RssItemExt(BaseEntryExtension):  # type: ignore[misc]
    """``dc:creator`` for a name-only author (RSS ``<author>`` must be an e-mail address)."""

    creator: str | None = None

    def extend_rss(self, item: Any) -> Any:
        if self.creator:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        return item


class _AtomFeedExt(BaseExtension):  # type: ignore[misc]
    """Nothing at feed level; exists because feedgen registers entry extensions through it."""

    def extend_ns(self) -> dict[str, str]:
        return {}


class _AtomEntryExt(BaseEntryExtension):  # type: ignore[misc]
    """The image as ``<link rel="enclosure">`` with its type, which feedgen would lose (#135)."""

    image: tuple[str, str] | None = None

    def extend_atom(self, entry: Any) -> Any:
        if self.image:
            url, mime = self.image
            # No namespace: feedgen builds Atom in the null namespace and writes xmlns literally.
            etree.SubElement(entry, "link", rel="enclosure", type=mime, href=url)
        return entry


def _clean(text: str) -> str:
    return xml_clean(text)


# RSS elements that hold plain text. Whether readers take them as HTML is undefined in RSS 2.0;
# the RSS Best Practices Profile ("Character data", https://www.rssboard.org/rss-profile) asks
# for "&", "<" and ">" as hexadecimal character references, the form the widest range of
# aggregators shows as the character itself (the W3C validator warns otherwise). Same document
# to an XML parser: a title whose text is "<img …>" stays text.
_RSS_PLAIN = re.compile(rb"<(title|category|dc:creator)>([^<]*&[^<]*)</\1>")
_ENTITY = re.compile(rb"&(lt|gt|amp);")
_HEX_REF = {b"lt": b"&#x3C;", b"gt": b"&#x3E;", b"amp": b"&#x26;"}


def _rss_plain_refs(document: bytes) -> bytes:
    def element(m: re.Match[bytes]) -> bytes:
        text = _ENTITY.sub(lambda e: _HEX_REF[e[1]], m[2])
        return b"<" + m[1] + b">" + text + b"</" + m[1] + b">"

    return _RSS_PLAIN.sub(element, document)


def _serialise(root: Any, stylesheet_url: str | None) -> bytes:
    """The document as UTF-8 bytes, with an ``xml-stylesheet`` PI for browsers if wanted."""
    if stylesheet_url:
        href = stylesheet_url.replace("&", "&amp;").replace('"', "&quot;")
        pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"')
        root.addprevious(pi)
    doc = root.getroottree()
    return bytes(etree.tostring(doc, encoding="UTF-8", xml_declaration=True))


def _rss_entry(fg: Any, item: FeedItem) -> None:
    fe = fg.add_entry(order="append")
    fe.title(item.title)
    fe.link(href=item.url, rel="alternate")
    fe.guid(item.guid, permalink=False)
    # <description> is HTML to readers: plain text must be escaped or "&lt;b&gt;" turns to markup.
    fe.description(item.summary_html or html.escape(item.summary_text, quote=False))
    if item.content_html:
        fe.content(item.content_html)  # escaped, not CDATA: "]]>" may occur in attributes
    if item.categories:  # one call: feedgen re-validates and re-maps its whole list per call
        fe.category([{"term": term} for term in item.categories])
    if item.image_url:
        fe.enclosure(item.image_url, "0", item.image_type)
    fe.pubDate(item.published)
    fe.feedsvc.creator = item.author


def render_rss(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """RSS 2.0 bytes; channel ``<link>`` = site, ``atom:link rel=self`` = ``meta.self_url``."""
    fg = FeedGenerator()
    fg.register_extension("feedsvc", _RssChannelExt, _RssItemExt, atom=False, rss=True)
    fg.feedsvc.hub_url = _clean(meta.hub_url) if meta.hub_url else None
    fg.title(_clean(meta.title))
    fg.description(_clean(meta.description) or _clean(meta.title))
    fg.link(href=_clean(meta.self_url), rel="self", type=MEDIA_TYPES["rss"])
    fg.link(href=_clean(meta.site_url), rel="alternate")  # last one = channel <link>
    fg.language(meta.language)
    fg.generator(GENERATOR)
    fg.lastBuildDate(feed_updated(meta, items))
    for item in items:
        _rss_entry(fg, item)
    with RENDER_LOCK:
        root, _doc = fg._create_rss()
    return _rss_plain_refs(_serialise(root, meta.stylesheet_url))


def _atom_entry(fg: Any, item: FeedItem) -> None:
    fe = fg.add_entry(order="append")
    fe.id(item.guid)
    fe.title(item.title)
    fe.link(href=item.url, rel="alternate")  # serialised as <link href>: alternate by default
    if item.summary_html:
        fe.summary(item.summary_html, type="html")
    elif item.content_html:
        fe.summary(item.summary_text, type="text")
    if item.content_html:
        fe.content(item.content_html, type="html")
    else:
        fe.content(item.summary_text, type="text")
    if item.author:
        fe.author(name=item.author)
    if item.categories:
        fe.category([{"term": term} for term in item.categories])
    fe.published(item.published)
    fe.updated(atom_updated(item))  # its time and a fraction of a second its id gives
    if item.image_url and item.image_type:
        fe.feedsvc.image = (item.image_url, item.image_type)


def render_atom(meta: FeedMeta, items: Sequence[FeedItem], author: str) -> bytes:
    """Atom 1.0 bytes; ``author`` is the feed-level author Atom requires when entries lack one."""
    fg = FeedGenerator()
    fg.register_extension("feedsvc", _AtomFeedExt, _AtomEntryExt, atom=True, rss=False)
    fg.id(_clean(meta.feed_id))
    fg.title(_clean(meta.title))
    if meta.description:
        fg.subtitle(_clean(meta.description))
    fg.author(name=_clean(author))
    fg.link(href=_clean(meta.self_url), rel="self", type=MEDIA_TYPES["atom"])
    fg.link(href=_clean(meta.site_url), rel="alternate", type="text/html")
    if meta.hub_url:
        fg.link(href=_clean(meta.hub_url), rel="hub")
    fg.language(meta.language)
    fg.generator(GENERATOR)
    # never before an entry's: each entry's time carries its fraction of a second in Atom
    fg.updated(max([feed_updated(meta, items), *(atom_updated(item) for item in items)]))
    for item in items:
        _atom_entry(fg, item)
    with RENDER_LOCK:
        root, _doc = fg._create_atom()
    return _serialise(root, meta.stylesheet_url)
