"""The one rule for a user name and password inside a URL (``https://user:pass@host/``, RFC 3986
§3.2.1 *userinfo*): **never published, never stored with an article, never logged**.

Why: a CMS row whose link was copied from a staging site (``https://editor:s3cret@example.vn/
a.html``) put the editor's password into every feed item, reader page, search feed, JSON API
answer and chat alert — to every reader, and to Telegram, which fetches a photo's URL. RFC 3986
§3.2.1 deprecates a password in a URL; browsers strip or refuse it. The page the CMS meant is
the same without it, so the userinfo is dropped, not the article: at ingest and import
(:func:`feedsvc.article_urls.checked_url`, which stores the URL without it and has the edge say
so, naming the row or line and the field), by every output (:func:`feedsvc.url_chars.
stored_url`, which :func:`feedsvc.feeds.sanitize.link_url` and the body's links apply: a row
stored before this rule, or a link inside a body), and in the messages that quote a URL
(:func:`masked`).

Where the userinfo is: read as a browser reads a URL (the WHATWG URL Standard), not as
``urllib.parse`` does, since readers' browsers decide what is sent: ASCII tabs and line breaks
are ignored anywhere; an ``http(s)``/``ws(s)``/``ftp`` URL's authority follows its scheme's
colon after any run of ``/`` and ``\\`` (``https:\\\\u:p@host``, ``https:u:p@host`` are
credentials to a browser); any other scheme's only after ``//``; a relative URL's after two
or more of them (``//u:p@cdn.vn/x.jpg``). The authority ends at the first ``/``, ``\\``,
``?`` or ``#``, and the userinfo is all of it before its **last** ``@``
(``https://u%40x:p@host``, ``https://:p@host``, ``https://u@host``, ``https://@host`` alike,
however encoded; an IPv6 or IDN host after it stays as written). A ``mailto:`` address has no
authority and is untouched. Pure, no imports of feedsvc's.
"""

from __future__ import annotations

import re

#: Schemes whose authority follows any run of slashes and backslashes (WHATWG "special").
_SPECIAL = frozenset(("http", "https", "ws", "wss", "ftp"))
#: What a browser removes from a URL before reading it (anywhere in it).
_IGNORED = str.maketrans("", "", "\t\n\r")
_HEAD = re.compile(r"(?:([A-Za-z][A-Za-z0-9+.\-]*):)?([/\\]*)")
_AUTHORITY_END = re.compile(r"[/\\?#]")


def userinfo_span(url: str) -> tuple[int, int] | None:
    """``(start, end)`` of the userinfo and its ``@`` in ``url`` (as :func:`_read` gives it),
    or None when it has none."""
    head = _HEAD.match(url)
    assert head is not None  # both parts may be empty
    scheme, slashes = head.group(1), head.group(2)
    if scheme is not None and scheme.lower() not in _SPECIAL and len(slashes) < 2:
        return None  # mailto:, tel:, urn:… — no authority
    if scheme is None and len(slashes) < 2:
        return None  # a path, relative or absolute: no authority
    start = head.end()
    end = _AUTHORITY_END.search(url, start)
    authority = url[start : end.start() if end else len(url)]
    at = authority.rfind("@")
    return None if at < 0 else (start, start + at + 1)


def _read(url: str) -> str:
    """``url`` as a browser reads it: tabs and line breaks out."""
    return url.translate(_IGNORED) if "\t" in url or "\n" in url or "\r" in url else url


def holds_userinfo(url: str) -> bool:
    """Whether a browser would send a user name or password with ``url``."""
    return "@" in url and userinfo_span(_read(url)) is not None


def without_userinfo(url: str) -> str:
    """``url`` without its userinfo and ``@`` (``https://u:p@example.vn/a`` is
    ``https://example.vn/a``); ``url`` itself when it holds none (O(1) without an ``@``).
    Tabs and line breaks go with it when it held one (as a browser drops them)."""
    if "@" not in url:
        return url
    read = _read(url)
    span = userinfo_span(read)
    return url if span is None else read[: span[0]] + read[span[1] :]


def no_host_after(url: str) -> bool:
    """Whether ``url``'s userinfo is followed by no host (``https://u:p@/a``): no URL to a
    browser, and without its userinfo another one (``https:///a`` joins as a path)."""
    if "@" not in url:
        return False
    read = _read(url)
    span = userinfo_span(read)
    return span is not None and (span[1] == len(read) or read[span[1]] in "/\\?#")


def masked(url: str) -> str:
    """``url`` for a message (an error, a log line): its userinfo shown as ``***``
    (``https://***@example.vn/a``), so what is quoted never carries a password."""
    if "@" not in url:
        return url
    read = _read(url)
    span = userinfo_span(read)
    return url if span is None else read[: span[0]] + "***@" + read[span[1] :]
