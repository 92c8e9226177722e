"""The URL fields of an article record (SPEC §3): ``url`` and ``image_url``, trimmed
(:func:`feedsvc.keys.trim_key`), refused with an :class:`~feedsvc.article_errors.ArticleError`
naming the field when unusable, and the characters no reader sees percent-encoded
(:func:`feedsvc.url_chars.unseen_encoded`), a user name and password dropped
(:func:`feedsvc.url_credentials.without_userinfo`: never stored, never published; the edges
say so, :data:`DROPPED`) and never quoted in an error (:func:`shown`). Used by
:func:`feedsvc.articles.parse_article` only — pure."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from feedsvc.article_errors import ArticleError, char_name
from feedsvc.keys import trim_key
from feedsvc.url_chars import unseen_encoded
from feedsvc.url_credentials import holds_userinfo, masked, no_host_after, without_userinfo

# URLs: no whitespace (of any kind) and no control characters inside.
_URL_BAD = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The common URL, checked without ``urlsplit`` (a third of parsing an article): http(s), a host
# of letters, digits, dots and hyphens, a port of at most 4 digits, then printable ASCII
# without spaces. ``urlsplit`` accepts each such URL, with a host, so ``checked_url`` returns
# it.
_PLAIN_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:[/?#][!-~]*)?")

#: What an edge says of a field whose user name and password were dropped (after the field's
#: name): ingest's log line (:func:`feedsvc.ingest.committed.say_dropped`), ``feedsvc
#: import``'s warning. The URL stored follows it.
DROPPED = (
    "held a user name or password (before '@'), which every reader would be given: stored and"
    " published without it, as"
)


def shown(url: str) -> str:
    """``url`` as an error quotes it: its first 80 characters, ``repr``'d, a user name and
    password as ``***`` (:func:`feedsvc.url_credentials.masked`): a quarantine reason is
    logged, stored and shown in the admin."""
    return repr(masked(url)[:80])


def dropped_fields(url: str | None, image_url: str | None) -> tuple[str, ...]:
    """The URL fields of a record (their raw values) whose user name or password
    :func:`checked_url` drops: what the edges say (:data:`DROPPED`)."""
    fields = (("url", url), ("image_url", image_url))
    return tuple(name for name, value in fields if value is not None and holds_userinfo(value))


def checked_url(name: str, value: str, absolute: bool) -> str:
    """Trimmed ``value`` if it is a usable URL; ``absolute``: must be http(s) with a host.
    Raises :class:`ArticleError` naming ``name`` otherwise."""
    url = trim_key(value)
    if _PLAIN_URL.fullmatch(url):  # passes every check below (test_articles_fast_paths.py)
        return url
    bad = _URL_BAD.search(url)
    if bad is not None:
        raise ArticleError(
            name,
            f"contains whitespace or a control character ({char_name(bad.group())}) at"
            f" character {bad.start() + 1}: percent-encode it (a space is %20)",
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ArticleError(name, f"not a valid URL ({_reason(exc, url)}): {shown(url)}") from None
    if absolute and (parts.scheme.lower() not in ("http", "https") or not parts.hostname):
        raise ArticleError(name, f"must be an absolute http(s) URL, got {shown(url)}")
    if no_host_after(url):
        raise ArticleError(name, f"names no host after its user name or password: {shown(url)}")
    if not url.isprintable():
        _check_host(name, url, parts.netloc.rpartition("@")[2])
    return unseen_encoded(without_userinfo(url))


def _reason(exc: ValueError, url: str) -> str:
    """urllib's reason, which may quote the URL's netloc (``netloc 'u:p@…' contains invalid
    characters under NFKC normalization``): not quoted when it would show a user name or
    password."""
    text = str(exc)
    return "invalid netloc or port" if holds_userinfo(url) and "@" in text else text


def _check_host(name: str, url: str, host: str) -> None:
    """Refuse a character no reader sees in ``url``'s ``host`` (its port too), naming the
    field and its position in ``url``; elsewhere such a character is percent-encoded by the
    one rule, :func:`feedsvc.url_chars.unseen_encoded` (the outputs apply it to URLs stored
    before it): a bidi control (:mod:`feedsvc.bidi`), LRM/RLM/ALM, a zero-width space or
    joiner, a BOM, a soft hyphen, a private-use or unassigned code point (whitespace and
    controls are refused already). Why: feeds, pages and alerts deleted the bidi controls from
    what they show (:func:`feedsvc.feeds.sanitize.xml_clean`), so ``https://x.vn/\\u202e/a``
    was linked as ``https://x.vn//a``, another page, while the JSON API gave it raw; encoded,
    every output links to the page the CMS meant. One in the host names no host (IDNA refuses
    them): the record is refused."""
    at = url.find(host, url.find("//") + 2) + 1  # the host's first character, counted from 1
    for i, c in enumerate(host):
        if not c.isprintable():
            raise ArticleError(
                name,
                f"contains an invisible character ({char_name(c)}) in its host at character"
                f" {at + i}",
            )


def checked_image_url(value: str, page: str | None) -> str:
    """``image_url`` as an absolute http(s) URL: a relative one (``/anh/1.jpg``, ``1.jpg``,
    ``//cdn…``) resolved against the article's ``url``, as feeds resolved it at every render
    (and a Telegram alert, which needs it absolute, dropped it). Any other scheme
    (``javascript:``, ``data:``, ``ftp:``) is refused, as for ``url``: every output left such
    an image out without a word. ``page`` None: the ``url`` is refused itself (reported)."""
    image = checked_url("image_url", value, absolute=False)
    if _PLAIN_URL.fullmatch(image):
        return image
    try:
        joined = urljoin(page, image) if page else image
        parts = urlsplit(joined)
        host = parts.hostname
    except ValueError as exc:
        raise ArticleError(
            "image_url", f"not a valid URL ({_reason(exc, image)}): {shown(image)}"
        ) from None
    if parts.scheme.lower() in ("http", "https") and host:
        return without_userinfo(joined)
    if page is None and not parts.scheme:
        return image  # relative, and no url to resolve it against: the record is refused
    raise ArticleError(
        "image_url",
        f"must be an http(s) URL, absolute or relative to url, got {shown(image)}"
        " (an image of another kind is shown nowhere)",
    )
