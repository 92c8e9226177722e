"""``parse_article``'s fast paths for the common valid record (issue 17 §2) decide exactly as the
full checks they skip: the same value or the same error message, for any input.

The references below are the checks as they were before the fast paths (the URL's, with the
percent-encoding of characters no reader sees added since: ``test_articles_url_unseen.py``; and a
user name and password dropped, never quoted: ``test_article_url_credentials.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from feedsvc.article_urls import _PLAIN_URL, _check_host, _reason, checked_url, shown
from feedsvc.articles import ArticleError, _check_storable
from feedsvc.url_chars import unseen_encoded
from feedsvc.url_credentials import no_host_after, without_userinfo

_URL_BAD = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _char(c: str) -> str:
    return f"U+{ord(c):04X}"


def reference_url(name: str, value: str, absolute: bool) -> str:
    url = value.strip()
    bad = _URL_BAD.search(url)
    if bad is not None:
        raise ArticleError(
            name,
            f"contains whitespace or a control character ({_char(bad.group())}) at character"
            f" {bad.start() + 1}: percent-encode it (a space is %20)",
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


def reference_storable(name: str, value: str) -> None:
    nul = value.find("\x00")
    if nul >= 0:
        raise ArticleError(name, f"contains a NUL character (U+0000) at character {nul + 1}")
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ArticleError(
            name,
            f"contains a lone surrogate ({_char(value[exc.start])}) at character {exc.start + 1}",
        ) from None


def outcome(check: Callable[..., Any], *args: Any) -> tuple[str, object]:
    try:
        return "ok", check(*args)
    except ArticleError as exc:
        return "error", str(exc)


#: Pieces URLs are made of, with the characters each check cares about.
PIECES = st.sampled_from(
    [
        *("http", "https", "HTTP", "hTtPs", "ftp", "mailto", ":", "//", "/", "?", "#", "@"),
        *("[", "]", "::1", ":80", ":0", ":8080", ":65535", ":99999", ":x", "%20", "%zz", "."),
        *("-", "_", "~", "example.vn", "báo.vn", "xn--b-xga.vn", "a", "Z9", " ", "\t", "\n"),
        *("\x00", "\x7f", "\x85", "\xa0", "\u2028", "\ud83d", "\U0001f600", "ｅ", "\u3000"),
        *("=", "&", "'", '"'),
    ]
)
URLS = st.lists(PIECES, max_size=12).map("".join) | st.text(max_size=40)


@settings(max_examples=1500)
@given(url=URLS, absolute=st.booleans())
@example(url="https://baohaiphong.vn/tin/1.html", absolute=True)
@example(url="  HTTP://a:65535/x?y#z  ", absolute=True)
@example(url="https://example.vn:99999/", absolute=True)
@example(url="https:///tin", absolute=True)
@example(url="http://[::1/", absolute=False)
def test_url_decides_as_the_full_check(url: str, absolute: bool) -> None:
    got = outcome(checked_url, "url", url, absolute)
    assert got == outcome(reference_url, "url", url, absolute)


@settings(max_examples=500)
@given(url=st.from_regex(_PLAIN_URL, fullmatch=True), absolute=st.booleans())
def test_every_url_the_fast_path_takes_passes_the_full_check(url: str, absolute: bool) -> None:
    assert reference_url("url", url, absolute) == url


def test_the_fast_path_takes_the_common_url() -> None:
    assert _PLAIN_URL.fullmatch("https://baohaiphong.vn/tin/thoi-su/123.html?utm=x#top")


#: Any code point, lone surrogates and NUL included, in mostly Vietnamese text.
TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=())
    | st.sampled_from("Kiến Thụy \x00\ud83d\udc4d\U0001f44d"),
    max_size=60,
)


@settings(max_examples=1500)
@given(value=TEXT)
@example(value="a\x00\ud83d")
@example(value="\ud83d\x00")
@example(value="Kiến\ud83d")
@example(value="Kiến\x00")
@example(value="plain ascii")
def test_storable_decides_as_the_full_check(value: str) -> None:
    assert outcome(_check_storable, "body", value) == outcome(reference_storable, "body", value)
