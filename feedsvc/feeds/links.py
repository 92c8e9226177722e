"""**The one address an article is linked to**, on every surface — the feeds, the reader pages,
Telegram's title link and "Đọc bài" button, the Zalo and Apprise texts, the digests, the admin —
and how it is written out in plain text. Pure.

:func:`article_link` is the feeds' form (:func:`feedsvc.feeds.sanitize.absolute_url`): a URI,
as RSS and Atom require, never the stored text as it is. A chat tester's report: an article
URL ``https://example.vn/a?x=1&y=<2>"'`` (import takes it) went raw into the Zalo text and the
Apprise message, where a linkifier stops at ``<`` or ``"``, so a tap opened ``…y=``; a
backslash (``https://example.vn/[e]\\f``) went raw into Telegram's ``href`` and button and
the Zalo text, and a browser reads ``\\`` as ``/``: another page. The feeds said ``%3C``,
``%22`` and ``%5C`` all along. Every character a URI may not hold is percent-encoded as UTF-8
(a space, ``<>"``, ``\\``, ``{}|^```, a Vietnamese letter of a path — the form every app
opens as it is, where a linkifier's idea of which letters belong to a link varies), a
non-ASCII host name in IDNA, a user name and password dropped; ``[]`` and the reserved
characters stay, ``#`` and the fragment too.

:func:`spelled_link` is that address written out in plain text, where the reader's app finds
the link itself (Telegram's plain-text alerts: tdlib's ``fix_url`` and ``match_urls``; Zalo;
the Markdown linkifiers of Apprise's destinations): those drop a link's last character when
it is punctuation — ``.:;,('?!`` and, in GitHub's rules, ``*_~`` — and end it before a ``)``
or ``]`` that closes nothing, so ``…/a)`` or ``…y=%22'`` opened ``…/a`` or ``…y=%22``. Such a
character is percent-encoded there: ``%2E`` for ``.`` is the same URI (RFC 3986 §2.3, an
unreserved character), the others are read alike by servers and browsers (Chrome sends a
query's ``'`` as ``%27`` itself). A ``?`` that starts an empty query is left: encoded, it
would be part of the path.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from feedsvc.feeds.sanitize import absolute_url

#: a link's last characters that linkifiers leave out of it (tdlib's ``bad_path_end_chars``
#: ``.:;,('?!`` — the backtick is encoded already —, GitHub's autolinks' ``*_~``, and an
#: unmatched closing bracket)
_DROPPED_AT_END = frozenset(".:;,('?!*_~)]")
_CLOSERS = {")": "(", "]": "["}


def article_link(url: str, site_url: str = "") -> str:
    """The address ``url`` (an article's stored ``url``) is linked to everywhere: absolute,
    percent-encoded as the feeds write it (the module's rule). ``site_url`` (the feeds' and
    pages' ``http.public_url``) resolves a relative one and stands in for one that is no
    http(s) URL; ingest stores neither (``article_urls.checked_url``), so a chat's alert,
    which has no ``site_url``, gets "" only for a row no ingest wrote."""
    return absolute_url(url, site_url or url) or site_url


def spelled_link(link: str) -> str:
    """``link`` (an :func:`article_link`) as plain text writes it out so that a linkifier
    takes all of it: a closing ``)`` or ``]`` after the host that closes nothing, and a last
    character linkifiers drop, percent-encoded (the module's rule)."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return link
    start = len(parts.scheme) + 3 + len(parts.netloc) if parts.netloc else 0
    chars = list(link)
    opened = {"(": 0, "[": 0}
    for at in range(start, len(chars)):
        c = chars[at]
        if c in opened:
            opened[c] += 1
        elif c in _CLOSERS:
            if opened[_CLOSERS[c]]:
                opened[_CLOSERS[c]] -= 1
            else:
                chars[at] = _encoded(c)
    last = len(chars) - 1
    if last >= start and chars[last] in _DROPPED_AT_END:
        empty_query = chars[last] == "?" and link.find("?", start) == last
        if not empty_query:
            chars[last] = _encoded(chars[last])
    return "".join(chars)


def _encoded(c: str) -> str:
    return f"%{ord(c):02X}"
