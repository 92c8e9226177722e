"""The one rule for the characters no reader sees in a URL (an article's ``url``, ``image_url``):
each is percent-encoded as its UTF-8 bytes, as a browser sends it (RFC 3987 §3.1: ``/\\u202e/a``
is ``/%E2%80%AE/a``). Pure, imports nothing of feedsvc's but :mod:`feedsvc.keys` and
:mod:`feedsvc.url_credentials`.

Which characters: those ``str.isprintable`` refuses that are no whitespace, C0/C1 control or
lone surrogate — a format character (the bidi controls of :mod:`feedsvc.bidi`, LRM/RLM/ALM, a
zero-width space or joiner, a word joiner, a BOM, a soft hyphen), a private-use or unassigned
code point. Whitespace and controls are not this rule's: ingest refuses them in a URL
(:func:`feedsvc.articles.parse_article`), and the outputs' cleaner
(:func:`feedsvc.feeds.sanitize.xml_clean`) removes them, so none reaches an XML document.

Why one rule: ingest stores a URL so (:mod:`feedsvc.articles`), but an article stored before
that holds the characters raw, and the outputs deleted the bidi controls from it:
``https://x.vn/\\u202e/a`` was linked as ``https://x.vn//a``, another page. Every output that
writes a stored URL into a link (:func:`feedsvc.feeds.sanitize.link_url`) applies this rule
too, so it links to the page ingest would now store, whenever the row was stored.
"""

from __future__ import annotations

from urllib.parse import quote

from feedsvc.keys import trim_key
from feedsvc.url_credentials import without_userinfo


def _unseen(c: str) -> bool:
    """``c`` is no printable character, whitespace, control or lone surrogate."""
    if c.isprintable() or c.isspace():
        return False
    code = ord(c)
    return not (code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF)


def unseen_encoded(url: str) -> str:
    """``url`` with each character no reader sees percent-encoded (its UTF-8 bytes); the rest,
    Vietnamese letters and any control character too, as it is. O(1) for a printable URL."""
    if url.isprintable():
        return url
    return "".join(quote(c, safe="") if _unseen(c) else c for c in url)


def stored_url(url: str) -> str:
    """``url`` as ingest stores it, once it passed ingest's checks: trimmed by the identifiers'
    rule (:func:`feedsvc.keys.trim_key`: a ZWSP or BOM at an edge goes), without a user name or
    password (:func:`feedsvc.url_credentials.without_userinfo`: never published, whenever the
    row was stored), then :func:`unseen_encoded`."""
    return unseen_encoded(without_userinfo(trim_key(url)))
