"""A query parameter whose percent-encoded bytes are not UTF-8 text is read as what it is
(:mod:`feedsvc.web.queries`): outside ``/api/``, where a route reads it, a worded 400 naming the
bytes (the site's language; the admin's under ``/admin``), with the headers of every error; ``/``
shows every topic with a notice instead (``tests/test_index_pages.py``); the API's 422
``not_text`` as before (``tests/test_web_path_text.py``). A parameter the route does not read
is ignored: the request is served as if it were absent.

Starlette and the feed routes decoded such bytes as U+FFFD: ``/feeds/search.rss?q=%FF``
searched for "�" (400 "'�' has no letters or digits", as if the reader had typed it),
``?limit=%FF`` was refused as a limit of "'�'", the admin's deliveries log filtered by a state
"�", ``/readyz?ingest=%FF`` answered as if no parameter was given. Then, for one commit
(4ec5ea1), every route refused the whole request, also for a parameter it never reads: a feed
URL carrying a Latin-1 ``utm_source=caf%E9`` from an old newsletter was a 400, which a feed
poller takes for a broken feed.
Over real sockets against the service's own wiring (readers in Vietnamese, the admin in
English, one topic).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import test_web_path_text as paths
from factories import article
from starlette.requests import Request
from test_web_path_text import exchange, request

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec

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


def test_read_query_keeps_text_and_names_what_is_not() -> None:
    from feedsvc.web.queries import read_query

    found = read_query(b"q=tin&utm_source=caf%E9&%FF=1&limit=5&to%C3pic=x&q=%ED%A0%80&x")
    assert found.items == (("q", "tin"), ("limit", "5"), ("x", ""))
    assert found.kept == b"q=tin&limit=5&x"  # what Starlette is left to read
    assert found.refused == {"utm_source": "%E9", "q": "%ED%A0%80"}  # names that are not text: gone
    assert read_query(b"q=a+b&r=%E1%BA%A1").refused == {}


def scope_request(raw: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": raw,
                    "headers": []})  # fmt: skip


def test_query_param_reads_utf8_and_refuses_only_the_name_read() -> None:
    from feedsvc.web.queries import QueryNotText, QueryRepeated, query_param

    request = scope_request("q=Kiến&utm=caf%E9&limit=5&limit=7".encode())
    assert query_param(request, "q") == "Kiến"  # raw UTF-8: never read as Latin-1
    with pytest.raises(QueryRepeated):  # given twice, disagreeing: /readyz's rule
        query_param(request, "limit")
    assert query_param(request, "page") is None and query_param(request, "page", "1") == "1"
    with pytest.raises(QueryNotText) as refused:
        query_param(request, "utm")
    assert (refused.value.name, refused.value.shown) == ("utm", "%E9")


def test_query_values_gives_every_value_and_none_where_given_bare() -> None:
    from feedsvc.web.queries import QueryNotText, query_values

    request = scope_request(b"ingest&x=1&ingest=&ingest=on&%69ngest&ingest=a=b&bad=%FF")
    assert query_values(request, "ingest") == [None, "", "on", None, "a=b"]
    assert query_values(request, "x") == ["1"] and query_values(request, "y") == []
    with pytest.raises(QueryNotText):
        query_values(request, "bad")


# -- over real sockets, the service's own wiring ----------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The whole app over uvicorn: readers in Vietnamese, the admin in English, the topic
    ``kien-thuy``; a client's search budget large enough for every case here."""

    def fill(service: Service) -> None:
        with service.db.write() as conn:
            now = datetime.now(UTC)
            upsert_source_articles(conn, [article(i, published_at=now) for i in (1, 2, 3)], now)
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli")
        assert service.ingest_tick().error is None
        service.publisher.sync()  # the feeds and pages, as a start renders them

    with paths.serving(tmp_path_factory.mktemp("queries"), {"client_burst": 100_000}, fill) as port:
        yield port


def worded(language: str, shown: str) -> str:
    return Translator(language)("http.query_not_text", bytes=shown) + "\n"


#: A route and the parameter it reads: ``{}`` marks where the value goes.
READ = [
    "/feeds/search.rss?q={}",
    "/feeds/search.atom?q={}",
    "/feeds/search.json?q={}",
    "/feeds/search.rss?q=tin&limit={}",
    "/feeds/kien-thuy.rss?limit={}",
    "/feeds/kien-thuy.json?limit={}",
    "/feeds/kien-thuy.atom?limit=5&limit={}",  # given twice: one value is not text
    "/readyz?ingest={}",
]
#: The value (``q=%FF``'s part after ``=``) → the bytes named.
BAD_VALUES = {q[2:]: shown for q, shown in NOT_TEXT.items() if q.startswith("q=") and "&" not in q}


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("route", READ)
def test_a_parameter_a_route_reads_that_is_not_text_is_a_worded_400(
    served: int, route: str, value: str
) -> None:
    for method in ("GET", "HEAD"):
        status, headers, body = exchange(served, request(method, route.format(value)))
        assert status == 400, (method, route, value, body)
        expected = worded("vi", BAD_VALUES[value]).encode()
        assert body == (b"" if method == "HEAD" else expected)
        # the headers of every error (http_cache.text_response), as for a path not text
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert headers["content-length"] == str(len(expected))
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
        assert "date" in headers


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("q=%FF&utm_source=caf%E9", "%FF"),  # the one read is named, not the first
        ("utm_source=caf%E9&q=%ED%A0%80", "%ED%A0%80"),
        ("%FF=1&q=%C3", "%C3"),
        ("q=tin&q=%FE", "%FE"),  # given twice, the second not text
        ("q=%FE&q=tin", "%FE"),  # never read as absent, nor as its other value
    ],
)
def test_the_parameter_read_is_the_one_named(served: int, query: str, shown: str) -> None:
    status, _, body = exchange(served, request("GET", f"/feeds/search.rss?{query}"))
    assert status == 400 and body.decode() == worded("vi", shown)


#: Parameters no route reads, not text: a Latin-1 newsletter tag, a referrer tag, names that are
#: not text, several at once.
UNREAD = [
    "utm_source=caf%E9",
    "ref=%FF",
    "%FF=1",
    "to%C3pic=kt",
    "x=%ED%A0%80&y=%C0%AF&%E1%BA",
    "utm_source=newsletter&utm_campaign=th%E1ng+9",
]
#: Routes that read no parameter: each answers as if the query string were absent.
NOT_READING = {
    "/feeds/kien-thuy.rss": 200,
    "/feeds/kien-thuy.atom": 200,
    "/feeds/kien-thuy.json": 200,
    "/feeds/nope.rss": 404,  # the same 404
    "/topics/kien-thuy": 200,
    "/topics/kien-thuy/telegram.svg": 404,  # no bot username here: the same 404
    "/feeds.opml": 200,
    "/feed.xsl": 200,
    "/healthz": 200,
    "/": 200,
}


@pytest.mark.parametrize("query", UNREAD)
@pytest.mark.parametrize("route", NOT_READING)
def test_a_parameter_no_route_reads_is_ignored(served: int, route: str, query: str) -> None:
    """A feed poll keeps getting its feed (a 400 makes a poller take it for broken): the same
    status, type, validator and body as without the query string."""
    plain = exchange(served, request("GET", route))
    assert plain[0] == NOT_READING[route]
    for method in ("GET", "HEAD"):
        status, headers, body = exchange(served, request(method, f"{route}?{query}"))
        assert status == plain[0], (method, route, query, body)
        assert body == (b"" if method == "HEAD" else plain[2])
        for name in ("content-type", "etag", "cache-control"):
            assert headers.get(name) == plain[1].get(name), name
    if route == "/":
        assert b'id="unread"' not in plain[2]


def test_a_feed_poll_with_a_latin1_tag_is_the_feed(served: int) -> None:
    """The case from the field: a feed address from an old newsletter."""
    plain = exchange(served, request("GET", "/feeds/kien-thuy.rss"))
    tagged = exchange(served, request("GET", "/feeds/kien-thuy.rss?utm_source=caf%E9"))
    assert plain[0] == tagged[0] == 200
    assert tagged[2] == plain[2] and b"<rss" in tagged[2]
    conditional = request(
        "GET", "/feeds/kien-thuy.rss?utm_source=caf%E9", {"If-None-Match": plain[1]["etag"]}
    )
    assert exchange(served, conditional)[0] == 304


@pytest.mark.parametrize("query", UNREAD)
def test_health_metrics_and_webhooks_ignore_it(served: int, query: str) -> None:
    status, headers, body = exchange(served, request("GET", f"/metrics?{query}"))
    assert status == 200 and b"feedsvc_" in body
    assert headers["content-type"].startswith("text/plain")
    plain = exchange(served, request("GET", "/readyz"))
    status, _, body = exchange(served, request("GET", f"/readyz?{query}"))
    assert (status, body) == (plain[0], plain[2])
    # no Zalo bot here: the route's own 404, not a 400 for its query string
    plain = exchange(served, request("POST", "/zalo/webhook", body=b"{}"))
    status, _, body = exchange(served, request("POST", f"/zalo/webhook?{query}", body=b"{}"))
    assert (status, body) == (plain[0], plain[2])


@pytest.mark.parametrize(
    ("read", "extra"),
    [
        ("/feeds/search.rss?q=Ki%E1%BA%BFn+Th%E1%BB%A5y", "&utm_source=caf%E9"),
        ("/feeds/search.json?q=tin", "&%FF=1"),
        ("/feeds/kien-thuy.rss?limit=5", "&ref=%FF"),
        ("/feeds/kien-thuy.atom?limit=abc", "&ref=%FF"),  # the read one's own 400
        ("/feeds/search.rss?q=", "&ref=%FF"),  # the missing query's own 400
        ("/?q=kien", "&ref=%FF"),
        ("/?page=2", "&%FF=1"),
        ("/readyz?ingest=1", "&x=%C3"),
    ],
)
def test_a_valid_read_parameter_beside_an_invalid_unread_one_is_served(
    served: int, read: str, extra: str
) -> None:
    plain = exchange(served, request("GET", read))
    for mixed in (read + extra, read.replace("?", "?" + extra[1:] + "&", 1)):
        status, _, body = exchange(served, request("GET", mixed))
        assert (status, body) == (plain[0], plain[2]), mixed
    assert worded("vi", "")[:30].encode() not in plain[2]


@pytest.mark.parametrize("query", ["next=%2Fadmin%E1%BA", "next=%FF&x=1", "x=1&next=%C3"])
def test_the_admin_login_refuses_its_next_in_the_admins_language(served: int, query: str) -> None:
    """Read before the login form is shown or the token checked; the deliveries, subscriptions
    and articles filters, read after the session check: ``tests/test_admin_inputs.py``."""
    shown = {"next=%2Fadmin%E1%BA": "%E1%BA", "next=%FF&x=1": "%FF", "x=1&next=%C3": "%C3"}
    for method in ("GET", "POST"):
        status, _, body = exchange(served, request(method, f"/admin/login?{query}"))
        assert status == 400, (method, body)
        assert body.decode() == worded("en", shown[query])


@pytest.mark.parametrize("query", UNREAD)
def test_admin_pages_ignore_what_they_do_not_read(served: int, query: str) -> None:
    """The login form (its ``next`` absent: the topics page), and a page behind the login (the
    same redirect to it, its ``next`` carrying the page's query for after the login)."""
    for route in ("/admin/login", "/admin/deliveries", "/admin/topics"):
        status, headers, body = exchange(served, request("GET", f"{route}?{query}"))
        plain = exchange(served, request("GET", route))
        assert status == plain[0] != 400, (route, body)
        location, before = headers.get("location"), plain[1].get("location")
        if before is None:
            assert location is None, (route, location)
        else:
            # the same page, its query (what of it is text: web.queries) kept for after login
            assert location == before or location.startswith(before + quote("?")), location
        assert b'action="/admin/login?next=/admin/topics"' in body or status != 200


@pytest.mark.parametrize("query", TEXT)
def test_text_is_read_by_each_route_as_before(served: int, query: str) -> None:
    refusal = Translator("vi")("http.query_not_text", bytes="")[:30].encode()
    for route in ("/feeds/search.rss", "/feeds/kien-thuy.rss", "/topics/kien-thuy", "/readyz"):
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


@pytest.mark.parametrize("sep", ["%00", "%01", "%09", "%1F", "%7F", "%C2%85", "%C2%9F"])
def test_a_control_character_in_a_search_is_a_space(served: int, sep: str) -> None:
    """``a%00b`` searched "a b" under the title "ab" (a newcomer's report): the query shown
    and the query searched are one text, a control character a space in both."""
    spaced = exchange(served, request("GET", "/feeds/search.rss?q=Ki%E1%BA%BFn+Th%E1%BB%A5y"))
    joined = exchange(served, request("GET", f"/feeds/search.rss?q=Ki%E1%BA%BFn{sep}Th%E1%BB%A5y"))
    assert (joined[0], joined[2]) == (200, spaced[2])
    assert "“Kiến Thụy”".encode() in joined[2] and "KiếnThụy".encode() not in joined[2]


@pytest.mark.parametrize(
    "query", ["q=%FF", "page=%C3", "q=%ED%A0%80&page=2", "q=kien&page=%FF", "utm=1&q=%FF"]
)
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
    """The API reads its query string itself (``api_base``): a parameter not text is 422
    ``not_text`` naming it, an unknown one too (its models refuse unknown parameters: 422
    ``extra``), so the API refuses what it does not read either way; a route that takes no
    parameters ignores the query string, as before."""
    headers = paths.AUTH | {"Accept-Language": "en"}
    status, _, body = exchange(served, request("GET", "/api/deliveries?topic=%FF", headers))
    assert status == 422 and b'"code":"not_text"' in body and b'"field":"topic"' in body
    status, _, body = exchange(served, request("GET", "/api/deliveries?utm=%FF", headers))
    assert status == 422 and b'"code":"not_text"' in body and b'"field":"utm"' in body
    status, _, body = exchange(served, request("GET", "/api/deliveries?utm=x", headers))
    assert status == 400 and b'"code":"invalid_body"' in body and b'"field":"utm"' in body
    assert exchange(served, request("GET", "/api/topics?utm=%FF", headers))[0] == 200


# -- one way to read a parameter -------------------------------------------------------------

#: The modules that read the query string themselves: the rule, and the API's own reading.
READERS = {"feedsvc/web/queries.py", "feedsvc/web/api_input.py"}


def test_no_route_reads_the_query_string_past_the_rule() -> None:
    """Outside :mod:`feedsvc.web.queries` (and the API's ``api_input``), nothing reads
    ``request.query_params`` (Starlette's lenient reading), builds one or reads
    ``request.url.query``: a new route reads a
    parameter with ``query_param``, so a value that is not text is refused where it is read
    and ignored where it is not."""
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in sorted((root / "feedsvc").rglob("*.py")):
        where = path.relative_to(root).as_posix()
        if where in READERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
            url_query = (  # request.url.query: the raw query string, read leniently
                name == "query" and isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute) and node.value.attr == "url"
            )  # fmt: skip
            if name in ("query_params", "QueryParams") or url_query:
                offenders.append(f"{where}:{getattr(node, 'lineno', '?')} {name}")
    assert offenders == []
