"""An error answer names what the request sent by its start only (:mod:`feedsvc.echoes`).

Found by a tester on a fresh ``feedsvc demo``: ``GET /topics/<30,000 × "a">`` answered 404 with
30,025 bytes of text, "Không có chủ đề aaaa…" with the whole slug, and a browser's navigation a
65,011-byte page naming it twice: escaped, so no XSS, but a request that costs little made an
answer that costs much, on public error paths no cache holds. No slug is longer than 100
characters (:data:`feedsvc.limits.SLUG`). The class: every error answer that copies a value the
request sent — a path's slug, a parameter, a JSON key's or a form field's name — without a
bound: the feeds' and reader pages' 404s (text and page), the QR codes', ``?limit=``'s 400, the
API's 404s, its ``slug_mismatch`` and the position of an unknown key or parameter (named three
times: 90 KB), the admin's one-shot message (a 30 KB cookie, every later request 431) and its
editor re-rendered for a path no topic has. Each family is asked here with a very long ASCII
value and a long Vietnamese one typed decomposed (tone marks as combining characters), placed
so that a cut by code points would split a letter from its marks: the answer stays small, shows
the value's start, and is cut between whole letters. Through the whole app (``create_app``)
over HTTP with a real SQLite state DB, as ``test_web_words``.
"""

from __future__ import annotations

import re
import unicodedata

import httpx
import pytest
from test_not_found_page import BROWSER
from test_web_words import AUTH, TOKEN, client, service  # noqa: F401  (fixtures)

from feedsvc.app import Service
from feedsvc.echoes import ECHOED
from feedsvc.operations import save_topic
from feedsvc.store.topics import TopicSpec

#: 30,000 ASCII characters, as the tester sent
LONG = "a" * 30_000
#: ~22,000 code points (~40 KB in UTF-8) of Vietnamese typed decomposed ("ệ" = e, U+0323,
#: U+0302): six letters first put every cut by code points (at 64, the admin's old bound, or
#: at ECHOED - 1) between an "e" and its marks
VIET = "abcdef" + unicodedata.normalize("NFD", "Việt Nam ") * 2_000
VALUES = pytest.mark.parametrize("value", [LONG, VIET], ids=["ascii", "vietnamese"])
#: what an answer naming a long value may weigh at most: the tester's was 30-65 KB
TEXT_MAX = 2_048
#: what a page naming it may weigh more than the same page naming a short one
PAGE_MORE = 1_024

#: where a JSON answer names a key or parameter: its words, and ``field``, its position
NAMED = ("error", "message", "field")


def cut_well(text: str, value: str) -> None:
    """``text`` shows ``value``'s start, cut at a boundary between letters and marked "…" (a
    closing quote between them or not)."""
    at = text.find(value[:24])
    assert at >= 0, text[:300]
    shown = next(
        (value[:n] for n, c in enumerate(text[at : at + ECHOED]) if c != value[n]), text[at:]
    )
    assert len(shown) < ECHOED, text[:300]
    assert "…" in text[at + len(shown) : at + len(shown) + 6], text[at : at + ECHOED + 6]
    assert not unicodedata.combining(value[len(shown)]), "a letter cut from its tone mark"


def bounded(
    r: httpx.Response,
    value: str,
    short: httpx.Response | None = None,
    fields: tuple[str, ...] = ("error", "message"),
) -> None:
    """A text or JSON answer under :data:`TEXT_MAX`, a page at most :data:`PAGE_MORE` over
    ``short``'s (the same page for a short value); each shows ``value`` cut well (a JSON
    answer in each of ``fields``)."""
    if short is not None:
        assert r.headers["content-type"].startswith("text/html"), r.headers
        assert len(r.content) - len(short.content) < PAGE_MORE, (len(r.content), r.text[:200])
    else:
        assert len(r.content) < TEXT_MAX, (r.status_code, len(r.content), r.text[:200])
    if r.headers["content-type"].startswith("application/json"):
        out = r.json()
        for name in fields:
            cut_well(out[name], value)
    else:
        cut_well(r.text, value)


# -- the reader side: pages, feeds, QR codes, ?limit= -------------------------------------------
@VALUES
@pytest.mark.parametrize(
    "path",
    [
        "/topics/{}",
        "/feeds/{}.rss",
        "/feeds/{}.atom",
        "/feeds/{}.json",
        "/topics/{}/telegram.svg",
        "/topics/{}/zalo.svg",
        "/feeds/kt.rss?limit={}",
        "/feeds/kt.json?limit={}",
    ],
)
async def test_a_reader_sides_error_names_the_values_start(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    path: str,
    value: str,
) -> None:
    r = await client.get(path.format(value))
    assert r.status_code in (400, 404), r.status_code
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    bounded(r, value)


@VALUES
@pytest.mark.parametrize("path", ["/topics/{}", "/feeds/{}.rss", "/feeds/kt.atom?limit={}"])
async def test_a_browsers_error_page_names_the_values_start(
    client: httpx.AsyncClient,  # noqa: F811
    path: str,
    value: str,
) -> None:
    r = await client.get(path.format(value), headers=BROWSER)
    short = await client.get(path.format("x y"), headers=BROWSER)
    assert r.status_code == short.status_code and r.status_code in (400, 404)
    bounded(r, value, short)


@VALUES
async def test_readyz_names_the_values_start(
    client: httpx.AsyncClient,  # noqa: F811
    value: str,
) -> None:
    r = await client.get("/readyz", params={"ingest": value})
    assert r.status_code == 400
    assert len(r.content) < TEXT_MAX
    cut_well(r.json()["message"], value)


# -- the JSON API ---------------------------------------------------------------------------------
@VALUES
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/topics/{}"),
        ("DELETE", "/api/topics/{}"),
        ("POST", "/api/topics/{}/enable"),
        ("POST", "/api/topics/{}/disable"),
        ("POST", "/api/topics/{}/backfill"),
    ],
)
async def test_an_api_404_names_the_slugs_start(
    client: httpx.AsyncClient,  # noqa: F811
    method: str,
    path: str,
    value: str,
) -> None:
    body = {} if path.endswith("backfill") else None
    r = await client.request(method, path.format(value), headers=AUTH, json=body)
    assert r.status_code == 404, r.text[:300]
    assert r.json()["code"] == "topic_not_found"
    bounded(r, value)


@VALUES
async def test_an_api_slug_mismatch_names_the_paths_start(
    client: httpx.AsyncClient,  # noqa: F811
    value: str,
) -> None:
    body = {"slug": "kt", "title": "T", "query": "a"}
    r = await client.put(f"/api/topics/{value}", headers=AUTH, json=body)
    assert r.status_code == 422 and r.json()["code"] == "slug_mismatch", r.text[:300]
    bounded(r, value)


@VALUES
async def test_an_api_unknown_key_or_parameter_is_named_by_its_start(
    client: httpx.AsyncClient,  # noqa: F811
    value: str,
) -> None:
    """A body's unknown key, a query string's unknown parameter and one whose value is not
    UTF-8 are named where they are (``field``, the English ``error``, the words)."""
    r = await client.post(
        "/api/topics", headers=AUTH, json={"slug": "kt", "title": "T", "query": "a", value: 1}
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_body", r.text[:300]
    bounded(r, value, fields=NAMED)
    r = await client.get("/api/deliveries", headers=AUTH, params={value: "1"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_body", r.text[:300]
    bounded(r, value, fields=NAMED)
    query = str(httpx.QueryParams({value: "1"})).removesuffix("=1") + "=%FF"
    r = await client.get("/api/deliveries?" + query, headers=AUTH)
    assert r.status_code == 422 and r.json()["code"] == "not_text", r.text[:300]
    bounded(r, value, fields=NAMED)


# -- the admin ------------------------------------------------------------------------------------
async def logged_in(http: httpx.AsyncClient) -> str:
    """Log ``http`` in; the CSRF token of its session."""
    page = await http.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert csrf, page.text
    done = await http.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
    assert done.status_code == 303, done.text
    found = re.search(r'name="csrf" value="([^"]*)"', (await http.get("/admin/topics")).text)
    assert found
    return found.group(1)


@VALUES
@pytest.mark.parametrize("action", ["enable", "disable", "delete", "backfill"])
async def test_the_admins_message_names_the_slugs_start(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
    action: str,
    value: str,
) -> None:
    """The one-shot message after a button for a slug no topic has is a signed cookie: it held
    the whole slug (30 KB, which a browser drops, or sends with every request until refused)."""
    save_topic(service.db, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "cli")
    csrf = await logged_in(client)
    r = await client.post(f"/admin/topics/{value}/{action}", data={"csrf": csrf})
    assert r.status_code == 303, r.text[:300]
    cookie = "; ".join(r.headers.get_list("set-cookie"))
    assert len(cookie) < TEXT_MAX, len(cookie)
    page = await client.get(r.headers["location"])
    assert page.status_code == 200
    flash = re.search(r'<p class="flash bad"[^>]*>(.*?)</p>', page.text, re.S)
    assert flash, page.text[:2000]
    cut_well(flash.group(1), value)


@VALUES
async def test_the_admins_refused_form_names_a_fields_start(
    client: httpx.AsyncClient,  # noqa: F811
    value: str,
) -> None:
    """A form giving a field twice names it; its old bound cut a decomposed letter in two."""
    csrf = await logged_in(client)
    data = [("csrf", csrf), ("slug", "kt"), ("title", "T"), ("query", "a")]
    data += [(value[:3_000], "1"), (value[:3_000], "2")]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = await client.post("/admin/topics/new", content=str(httpx.QueryParams(data)), headers=form)
    assert r.status_code == 400, r.text[:300]
    assert len(r.content) < 8 * TEXT_MAX
    cut_well(r.text, value)
