"""A parameter given twice with values that disagree is a 400, as ``/readyz?ingest`` is.

``/feeds/<slug>.xml?limit=5&limit=6`` was 200 with the last one (self link ``?limit=6``),
while ``/readyz`` answers 400 to ``ingest`` given twice with different answers (README: "as when
a monitor's URL is built by appending"; a tester's U7). ``web.queries.query_param``, the one
reader of a route's parameters outside ``/api/``, now refuses values that the route reads
differently (``same``: ``?limit=5&limit=05`` is one limit) and takes the same value given again.
The feed fast path takes no query string, so every such request reaches the routes.
"""

from __future__ import annotations

import pytest
from starlette.requests import Request
from test_web_path_text import exchange
from test_web_path_text import request as raw_request
from test_web_queries import served  # noqa: F401  (the module's served app: a fixture)

from feedsvc.catalogue import Translator
from feedsvc.web.queries import QueryNotText, query_param


def scope_request(raw: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": raw,
                    "headers": []})  # fmt: skip


def test_query_param_takes_agreeing_repeats_and_refuses_disagreeing_ones() -> None:
    from feedsvc.web.queries import QueryRepeated

    request = scope_request(b"limit=5&limit=5&q=tin&q=khac&page=1&page=01&n=1")
    assert query_param(request, "limit") == "5"
    assert query_param(request, "n") == "1" and query_param(request, "x", "d") == "d"
    with pytest.raises(QueryRepeated) as refused:
        query_param(request, "q")
    assert refused.value.params == {"name": "q", "first": "tin", "other": "khac"}
    with pytest.raises(QueryRepeated):
        query_param(request, "page")  # the same text is the default rule
    assert query_param(request, "page", same=int) == "1"  # read alike by the route: one


def test_a_value_not_text_is_refused_before_the_repeat_is_judged() -> None:
    with pytest.raises(QueryNotText):
        query_param(scope_request(b"q=tin&q=%FF"), "q")


def test_the_values_are_shown_escaped_and_cut() -> None:
    from feedsvc.web.queries import QueryRepeated

    request = scope_request(b"q=a%1B%5B31m&q=" + b"x" * 5000)
    with pytest.raises(QueryRepeated) as refused:
        query_param(request, "q")
    shown = refused.value.params
    assert shown["first"] == "a\\x1b[31m" and len(shown["other"]) < 200


def worded(**values: str) -> str:
    return Translator("vi")("http.query_repeated", **values) + "\n"


#: (path, the parameter, the first value, the other) as the 400 names them
DISAGREEING = [
    ("/feeds/kien-thuy.rss?limit=5&limit=6", "limit", "5", "6"),  # the tester's
    ("/feeds/kien-thuy.atom?limit=2&x=1&limit=3", "limit", "2", "3"),
    ("/feeds/kien-thuy.json?limit=20&limit=030", "limit", "20", "030"),
    ("/feeds/search.rss?q=tin&q=kien", "q", "tin", "kien"),
    ("/feeds/search.json?q=tin&limit=1&limit=2", "limit", "1", "2"),
    ("/?q=tin&q=kien", "q", "tin", "kien"),  # the index: the app's handler
    ("/?page=1&page=2", "page", "1", "2"),
]


@pytest.mark.parametrize(("path", "name", "first", "other"), DISAGREEING)
def test_disagreeing_repeats_are_a_worded_400(
    served: int,  # noqa: F811
    path: str,
    name: str,
    first: str,
    other: str,
) -> None:
    for method in ("GET", "HEAD"):
        status, headers, body = exchange(served, raw_request(method, path))
        assert status == 400, (method, path, body)
        expected = worded(name=name, first=first, other=other).encode()
        assert body == (b"" if method == "HEAD" else expected), body
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert headers["cache-control"] == "no-store"
        assert "etag" not in headers


#: (path, what a single parameter answers the same)
AGREEING = [
    ("/feeds/kien-thuy.rss?limit=2&limit=2", "/feeds/kien-thuy.rss?limit=2"),
    ("/feeds/kien-thuy.rss?limit=2&limit=02", "/feeds/kien-thuy.rss?limit=2"),  # one number
    ("/feeds/kien-thuy.atom?limit=1&utm=a&limit=1", "/feeds/kien-thuy.atom?limit=1"),
    ("/feeds/search.rss?q=tin&q=tin", "/feeds/search.rss?q=tin"),
    ("/feeds/search.rss?q=tin&q=tin%20", "/feeds/search.rss?q=tin"),  # searched alike
    ("/?page=1&page=1", "/?page=1"),
]


@pytest.mark.parametrize(("path", "single"), AGREEING)
def test_agreeing_repeats_answer_as_one(served: int, path: str, single: str) -> None:  # noqa: F811
    status, headers, body = exchange(served, raw_request("GET", path))
    once = exchange(served, raw_request("GET", single))
    assert status == once[0] == 200, body
    assert headers.get("etag") == once[1].get("etag")
    assert body == once[2]


def test_readyz_keeps_its_rule(served: int) -> None:  # noqa: F811
    status, _, _ = exchange(served, raw_request("GET", "/readyz?ingest=1&ingest=0"))
    assert status == 400
    status, _, _ = exchange(served, raw_request("GET", "/readyz?ingest=1&ingest=yes"))
    assert status in (200, 503)
