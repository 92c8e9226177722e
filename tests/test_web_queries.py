"""A query string whose percent-encoded bytes are not UTF-8 text is read as what it is
(:mod:`feedsvc.web.queries`): outside ``/api/`` a worded 400 naming the bytes (the site's
language; the admin's under ``/admin``), with the headers of every error; ``/`` shows every
topic with a notice instead (``tests/test_index_pages.py``); the API's 422 ``not_text`` as
before (``tests/test_web_path_text.py``).

Starlette and the feed routes decoded such bytes as U+FFFD: ``/feeds/search.rss?q=%FF``
searched for "�" (400 "'�' has no letters or digits", as if the reader had typed it),
``?limit=%FF`` was refused as a limit of "'�'", the admin's deliveries log filtered by a state
"�", ``/healthz?ingest=%FF`` answered as if no parameter was given.
Over real sockets against the service's own wiring (test_web_path_text's served app: readers
in Vietnamese, the admin in English).
"""

from __future__ import annotations

import pytest
import test_web_path_text as paths
from test_web_path_text import exchange, request

from feedsvc.catalogue import Translator

served = paths.served

#: query string → the bytes named: escapes that are not UTF-8 once decoded
NOT_TEXT: dict[str, str] = {
    "q=%FF": "%FF",
    "q=%ED%A0%80": "%ED%A0%80",  # a lone surrogate, encoded
    "q=%ED%BF%BF": "%ED%BF%BF",
    "q=%C0%AF": "%C0%AF",  # overlong "/"
    "q=%E0%80%80": "%E0%80%80",  # overlong NUL
    "q=%C1%BF": "%C1%BF",
    "q=%E1%BA": "%E1%BA",  # "ạ" cut short
    "q=%C3%28": "%C3",  # a continuation byte missing
    "q=%F4%90%80%80": "%F4%90%80%80",  # above U+10FFFF
    "q=%F8%88%80%80%80": "%F8%88%80%80%80",  # a five-byte form
    "q=%80": "%80",  # a lone continuation byte
    "q=ki%E1%BA%BFn%FFth": "%FF",  # valid, then not
    "q=tin+%FE": "%FE",
    "q=tin&limit=%FF": "%FF",
    "%FF=1": "%FF",  # the name
    "to%C3pic=kt": "%C3",
    "limit=5&q=%ED%A0%80&x=%FF": "%ED%A0%80",  # the first named
}
#: text once decoded: read as before (each route's own answer, never this refusal)
TEXT = [
    "q=ki%E1%BA%BFn",
    "q=%E1%BA%A1",  # "ạ"
    "q=Ki%E1%BA%BFn+Th%E1%BB%A5y",
    "q=Ki%E1%BA%BFn%20Th%E1%BB%A5y",
    "q=%EF%BF%BD",  # a real U+FFFD is text
    "q=%00",
    "q=tin%00",
    "q=%F0%9F%93%B0",  # 📰
    "q=%25FF",  # "%FF" typed
    "q=100%",
    "q=%zz",
    "q=a%2Bb",
    "q=&limit=",
]


# -- the decision, pure -----------------------------------------------------------------------


def query_items(raw: bytes) -> list[tuple[str, str]] | None:
    from feedsvc.web.queries import query_items  # new: the old-code run imports this module

    return query_items(raw)


@pytest.mark.parametrize("query", NOT_TEXT)
def test_query_items_refuses_what_is_not_utf8(query: str) -> None:
    from feedsvc.web.queries import refused_query

    assert query_items(query.encode()) is None
    found = refused_query(query.encode())
    assert found is not None and found[1] == NOT_TEXT[query]


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        (b"q=ki%E1%BA%BFn", [("q", "kiến")]),
        (b"q=%E1%BA%A1", [("q", "ạ")]),
        (b"q=Ki%E1%BA%BFn+Th%E1%BB%A5y", [("q", "Kiến Thụy")]),
        (b"q=Ki%E1%BA%BFn%20Th%E1%BB%A5y", [("q", "Kiến Thụy")]),
        ("q=Kiến Thụy".encode(), [("q", "Kiến Thụy")]),  # raw UTF-8, as some readers send it
        (b"q=%00&limit=5", [("q", "\x00"), ("limit", "5")]),
        (b"q=%EF%BF%BD", [("q", "\ufffd")]),
        (b"q=a%2Bb&&x&=y", [("q", "a+b"), ("x", ""), ("", "y")]),
        (b"q=100%&r=%zz", [("q", "100%"), ("r", "%zz")]),
        (b"k=1&k=2", [("k", "1"), ("k", "2")]),
    ],
)
def test_query_items_reads_text_as_parse_qsl_does(raw: bytes, items: list[tuple[str, str]]) -> None:
    from urllib.parse import parse_qsl

    assert query_items(raw) == items
    if raw.isascii():
        assert items == parse_qsl(raw.decode(), keep_blank_values=True)


def test_raw_bytes_that_are_not_utf8_are_refused_too() -> None:
    """The HTTP parser refuses them in a request line; an ASGI server that does not, or an
    in-process client, gets the same decision."""
    assert query_items(b"q=Ki\xff\xfen") is None
    assert query_items(b"q=\xed\xa0\x80") is None


def test_the_api_names_a_name_with_its_bytes_escaped() -> None:
    from feedsvc.web.queries import refused_query

    assert refused_query(b"to%FFpic=t") == ("to%FFpic", "%FF")
    assert refused_query(b"state=sent&topic=%C3") == ("topic", "%C3")
    assert refused_query(b"topic=%EF%BF%BD") is None


# -- over real sockets, the service's own wiring ----------------------------------------------

#: reader and feed routes that read a query parameter, and some that read none
READER_ROUTES = [
    "/feeds/search.rss",
    "/feeds/search.atom",
    "/feeds/search.json",
    "/feeds/kien-thuy.rss",
    "/feeds/kien-thuy.json",
    "/topics/kien-thuy",
    "/topics/kien-thuy/telegram.svg",
    "/feeds.opml",
    "/feed.xsl",
    "/healthz",
    "/readyz",
    "/metrics",
]
ADMIN_ROUTES = ["/admin/deliveries", "/admin/subscriptions", "/admin/articles", "/admin/login"]


def worded(language: str, shown: str) -> str:
    return Translator(language)("http.query_not_text", bytes=shown) + "\n"


@pytest.mark.parametrize("query", NOT_TEXT)
@pytest.mark.parametrize("route", READER_ROUTES)
def test_a_reader_query_string_that_is_not_text_is_a_worded_400(
    served: int, route: str, query: str
) -> None:
    for method in ("GET", "HEAD"):
        status, headers, body = exchange(served, request(method, f"{route}?{query}"))
        assert status == 400, (method, route, query, body)
        expected = worded("vi", NOT_TEXT[query]).encode()
        assert body == (b"" if method == "HEAD" else expected)
        # the headers of every error (http_cache.text_response), as for a path not text
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert headers["content-length"] == str(len(expected))
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
        assert "date" in headers


ADMIN_QUERIES = {"state=%FF": "%FF", "channel=%C3&page=1": "%C3", "q=%ED%A0%80": "%ED%A0%80",
                 "next=%2Fadmin%E1%BA": "%E1%BA", "%FF=1": "%FF"}  # fmt: skip


@pytest.mark.parametrize("query", ADMIN_QUERIES)
@pytest.mark.parametrize("route", ADMIN_ROUTES)
def test_an_admin_query_string_is_worded_in_the_admins_language(
    served: int, route: str, query: str
) -> None:
    """Before the login and the token check: a filter of the deliveries log (``state``,
    ``channel``, ``page``), the editors' search, the login's ``next``."""
    for method in ("GET", "POST"):
        status, _, body = exchange(served, request(method, f"{route}?{query}"))
        assert status == 400, (method, route, body)
        assert body.decode() == worded("en", ADMIN_QUERIES[query])


@pytest.mark.parametrize("query", TEXT)
def test_text_is_read_by_each_route_as_before(served: int, query: str) -> None:
    refusal = Translator("vi")("http.query_not_text", bytes="")[:30].encode()
    for route in ("/feeds/search.rss", "/feeds/kien-thuy.rss", "/topics/kien-thuy", "/healthz"):
        status, _, body = exchange(served, request("GET", f"{route}?{query}"))
        assert refusal not in body, (route, query, body)
        assert status != 500, (route, query, body)
    status, _, body = exchange(served, request("GET", f"/?{query}"))
    assert status == 200 and b'id="unread"' not in body


def test_a_search_for_text_still_runs(served: int) -> None:
    """Vietnamese text escaped, ``+`` and ``%20``: searched unchanged (the same feed)."""
    bodies = [
        exchange(served, request("GET", f"/feeds/search.rss?q={q}"))
        for q in ("Ki%E1%BA%BFn+Th%E1%BB%A5y", "Ki%E1%BA%BFn%20Th%E1%BB%A5y")
    ]
    assert [status for status, _, _ in bodies] == [200, 200]
    assert bodies[0][2] == bodies[1][2] and "“Kiến Thụy”".encode() in bodies[0][2]


@pytest.mark.parametrize("query", ["q=%FF", "%FF=1", "page=%C3", "q=%ED%A0%80&page=2"])
def test_the_index_shows_a_notice_not_an_error(served: int, query: str) -> None:
    for method in ("GET", "HEAD"):
        status, headers, body = exchange(served, request(method, f"/?{query}"))
        assert status == 200, body
        assert headers["content-type"] == "text/html; charset=utf-8"
    notice = Translator("vi")("reader.query_not_text")
    assert notice.encode() in exchange(served, request("GET", f"/?{query}"))[2]


def test_a_path_not_text_is_named_before_its_query(served: int) -> None:
    status, _, body = exchange(served, request("GET", "/topics/%C3?q=%FF"))
    assert status == 400
    assert body.decode() == Translator("vi")("http.path_not_text", bytes="%C3") + "\n"


def test_the_api_still_names_the_parameter(served: int) -> None:
    headers = paths.AUTH | {"Accept-Language": "en"}
    status, _, body = exchange(served, request("GET", "/api/deliveries?topic=%FF", headers))
    assert status == 422 and b'"code":"not_text"' in body and b'"field":"topic"' in body
