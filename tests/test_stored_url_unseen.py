"""An article URL stored before ingest percent-encoded its invisible characters links, in every
output, to the page ingest now stores (:func:`feedsvc.url_chars.unseen_encoded`, the one rule).

Ingest encodes a bidi control, LRM/RLM/ALM, a zero-width space or joiner, a word joiner, a BOM
or a soft hyphen in ``url``/``image_url`` (``tests/test_articles_url_unseen.py``), but a row
stored before holds them raw, and the outputs deleted the bidi controls from it
(``feeds.sanitize.xml_clean``): ``https://x.vn/\\u202e/a`` was linked as ``https://x.vn//a`` —
another page — by the RSS, Atom and JSON feeds, the reader's topic page, the Telegram alert and
its photo, the Zalo/Apprise text, the digest and the admin's articles page, and the JSON API
gave it raw. Now every output links a stored URL to one address,
:func:`feedsvc.feeds.links.article_link` (through :func:`feedsvc.feeds.sanitize.link_url`): the
characters encoded as ingest encodes them, then the whole a URI as the feeds need it — a
Vietnamese letter percent-encoded in the alerts too, since a chat tester's report
(``tests/test_article_links.py``) —, a C0 control still never in a feed; the JSON API gives
the stored URL (``encoded``).

The service test's places are given one state DB backend each, rotating
(``backend_cases.on_backends``): each case stores every character on its backend, and where in
the URL it sits only changes what the outputs write, never the SQL.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import feedparser
import pytest
from backend_cases import on_backends
from factories import article
from migrated import premigrated
from sqlalchemy import select, update
from test_lifecycle_editors import AUTH, CSRF_FIELD, TOKEN

from feedsvc.app import Service, create_app
from feedsvc.articles import Article
from feedsvc.channels.plain import format_plain_alert
from feedsvc.config import load_config
from feedsvc.db.schema import articles
from feedsvc.digest.message import DigestEntry, DigestGroup, DigestWords, format_digest
from feedsvc.feeds import FeedMeta, render_feed
from feedsvc.notify.message import format_alert
from feedsvc.pages.render import page_article
from feedsvc.roles import Roles
from feedsvc.store.articles import articles_by_ids
from feedsvc.store.source_articles import upsert_source_articles

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

UNSEEN = {
    "RLO": "\u202e", "LRE": "\u202a", "RLE": "\u202b", "PDF": "\u202c", "LRO": "\u202d",
    "LRI": "\u2066", "RLI": "\u2067", "FSI": "\u2068", "PDI": "\u2069",
    "LRM": "\u200e", "RLM": "\u200f", "ALM": "\u061c", "ZWSP": "\u200b", "ZWNJ": "\u200c",
    "ZWJ": "\u200d", "WJ": "\u2060", "BOM": "\ufeff", "SHY": "\u00ad",
}  # fmt: skip
#: where in the URL: (url, image_url), ``{c}`` the character
PLACES = {
    "path": ("https://x.vn/{c}/a", None),
    "slug": ("https://x.vn/tin-tức/kiến-thụy{c}-1.html", None),
    "query": ("https://x.vn/a?id=1{c}2", None),
    "fragment": ("https://x.vn/a#p{c}1", None),
    "image": ("https://x.vn/a", "https://x.vn/anh/{c}x.jpg"),
}
CASES = [
    pytest.param(c, place, id=f"{name}-{place}") for name, c in UNSEEN.items() for place in PLACES
]
URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SITE = "https://x.vn/"
WORDS = DigestWords("Tin mới ({count})", "Xem tất cả", "(tiếp)")
TOPIC = {"slug": "kien-thuy", "title": "Kiến Thụy", "query": '"Kiến Thụy"'}


def encoded(url: str) -> str:
    """``url`` as ingest stores it now: each invisible character as its UTF-8 bytes, %XX."""
    return "".join(quote(c, safe="") if not c.isprintable() else c for c in url)


def uri(url: str) -> str:
    """What feeds and pages link to for a stored ``url``: the encoded one as a URI (a
    Vietnamese letter percent-encoded too, as before this change)."""
    return quote(encoded(url), safe=URI_SAFE)


def stored(place: str, c: str) -> tuple[str, str | None]:
    url, image = PLACES[place]
    return url.format(c=c), image.format(c=c) if image else None


def old_row(n: int, url: str, image: str | None) -> Article:
    """An article as a row stored before ingest encoded these characters reads back."""
    return article(n, url=url, image_url=image, title="Tin Kiến Thụy")


def feed_links(a: Article) -> dict[str, tuple[str, str | None]]:
    """Each feed format's (link, image) of its one item."""
    meta = FeedMeta(title="Kiến Thụy", description="Tin", site_url=SITE,
                    self_url="https://feeds.x.vn/k.{fmt}", feed_id="urn:feedsvc:k")  # fmt: skip
    return {fmt: links_of(fmt, render_feed(meta, [a], fmt)) for fmt in ("rss", "atom", "json")}


def links_of(fmt: str, body: bytes | str) -> tuple[str, str | None]:
    """(link, image) of the first item of a feed document; the XML ones must parse cleanly."""
    if fmt == "json":
        item = json.loads(body)["items"][0]
        return item["url"], item.get("image")
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.bozo_exception
    entry = parsed.entries[0]
    images = [e["href"] for e in entry.get("enclosures", [])]
    images += [x["href"] for x in entry.get("links", []) if x.get("rel") == "enclosure"]
    return entry.link, images[0] if images else None


# -- 1. each output's pure formatter, for a row holding the raw character ---------------------


@pytest.mark.parametrize(("c", "place"), CASES)
def test_every_output_links_to_the_encoded_url(c: str, place: str) -> None:
    url, image = stored(place, c)
    a = old_row(1, url, image)
    feeds = feed_links(a)
    want_image = uri(image) if image else None
    assert feeds == {fmt: (uri(url), want_image) for fmt in ("rss", "atom", "json")}
    alert = format_alert(a, ["Kiến Thụy"], TZ, with_image=True)
    assert f'<a href="{html.escape(uri(url))}">' in alert.text
    assert alert.photo_url == (uri(image) if image else None)
    assert format_plain_alert(a, ["Kiến Thụy"], TZ).endswith("\n" + uri(url))
    part = format_digest([DigestEntry(1, a, DigestGroup("Kiến Thụy"))], TZ, WORDS)[0]
    assert f'<a href="{html.escape(uri(url))}">' in part.message.text
    assert "\n  " + uri(url) in part.message.plain_text
    assert page_article(a, SITE).url == uri(url)


def test_the_shown_input() -> None:
    a = old_row(1, "https://x.vn/\u202e/a", None)
    assert feed_links(a)["rss"][0] == "https://x.vn/%E2%80%AE/a"  # was https://x.vn//a
    assert 'href="https://x.vn/%E2%80%AE/a"' in format_alert(a, [], TZ).text
    assert format_plain_alert(a, [], TZ).endswith("\nhttps://x.vn/%E2%80%AE/a")


def test_a_vietnamese_letter_is_linked_as_the_feeds_link_it() -> None:
    """An alert links the letters percent-encoded, as a feed does (``feeds.links``: Zalo's
    plain text, where a linkifier's idea of a link's letters varies, gets the same address)."""
    a = old_row(1, "https://x.vn/tin-tức/kiến-thụy-1.html", None)
    want = "https://x.vn/tin-t%E1%BB%A9c/ki%E1%BA%BFn-th%E1%BB%A5y-1.html"
    assert feed_links(a)["atom"][0] == want
    assert f'href="{want}"' in format_alert(a, [], TZ).text
    assert format_plain_alert(a, [], TZ).endswith("\n" + want)


@pytest.mark.parametrize("c", ["\x01", "\x0b", "\x1f", "\x85", "\ud800", "\ufffe"])
def test_a_character_xml_cannot_hold_never_reaches_a_feed(c: str) -> None:
    """A control or lone surrogate stored raw (never accepted by ingest) is still removed, a
    separator read as a space (encoded), so every feed parses; a noncharacter, which ingest
    encodes, is encoded."""
    a = old_row(1, f"https://x.vn/a{c}b", f"https://x.vn/{c}.jpg")
    between = {"\x0b": "%20", "\x1f": "%20", "\x85": "%20", "\ufffe": "%EF%BF%BE"}.get(c, "")
    for link, image in feed_links(a).values():  # each parsed without error
        assert link == f"https://x.vn/a{between}b"
        assert image is not None and image.isascii() and image.isprintable()


def test_a_link_in_the_body_keeps_its_character_encoded() -> None:
    """The feeds' cleaner of link attributes in a body: a bidi control in an ``href`` is
    encoded, not deleted; the text loses it as before."""
    a = old_row(1, "https://x.vn/a", None)
    body = '<p>Xem <a href="https://x.vn/\u202e/b">tin\u202e cũ</a> <img src="/\u2067x.jpg"></p>'
    a = replace(a, body=body)
    meta = FeedMeta(title="K", description="T", site_url=SITE,
                    self_url="https://feeds.x.vn/k.{fmt}", feed_id="urn:k")  # fmt: skip
    content = json.loads(render_feed(meta, [a], "json"))["items"][0]["content_html"]
    assert 'href="https://x.vn/%E2%80%AE/b"' in content
    assert 'src="https://x.vn/%E2%81%A7x.jpg"' in content
    assert "tin cũ" in content and "\u202e" not in content


# -- 2. rows stored raw in the state DB (SQLite, PostgreSQL), through the service --------------


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "topics": {"import_on_start": False},
            "site": {"url": SITE},
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    yield service
    service.close()


def store_old_rows(
    service: Service, client: TestClient, urls: list[tuple[str, str | None]]
) -> None:
    """One article per (url, image_url), ingested clean, then given the raw URLs in the state
    DB's ``articles`` table, as an install from before the ingest change holds them."""
    assert client.post("/api/topics", json=TOPIC, headers=AUTH).status_code == 201
    now = service.db.now()
    rows = [article(n, title=f"Tin Kiến Thụy số {n}", published_at=now - timedelta(minutes=n),
                    image_url="https://x.vn/anh.jpg") for n in range(1, len(urls) + 1)]  # fmt: skip
    with service.db.write() as conn:
        upsert_source_articles(conn, rows, now)
    assert service.ingest_tick().error is None
    with service.db.write() as conn:
        for n, (url, image) in enumerate(urls, 1):
            conn.execute(
                update(articles)
                .where(articles.c.source_key == f"TEST-{n:05d}")
                .values(url=url, image_url=image)
            )
    with service.db.read() as conn:
        got = {r.source_key: (r.url, r.image_url) for r in conn.execute(select(articles))}
    assert got == {f"TEST-{n:05d}": u for n, u in enumerate(urls, 1)}  # held raw
    service.topic_changed("kien-thuy")  # its feeds and page rendered from the rows as stored


@pytest.mark.parametrize(("db_url", "place"), on_backends(list(PLACES)), indirect=["db_url"])
def test_rows_stored_raw_link_encoded_everywhere(service: Service, place: str) -> None:
    urls = [stored(place, c) for c in UNSEEN.values()]
    by_title = {f"Tin Kiến Thụy số {n}": u for n, u in enumerate(urls, 1)}
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        store_old_rows(service, client, urls)
        for fmt in ("rss", "atom", "json"):
            r = client.get(f"/feeds/kien-thuy.{fmt}")
            assert r.status_code == 200, r.text
            items = feed_items(fmt, r.content)
            assert len(items) == len(urls)
            for title, (link, image) in items.items():
                url, raw_image = by_title[title]
                assert (link, image) == (uri(url), uri(raw_image) if raw_image else None), fmt
        page = client.get("/topics/kien-thuy")
        assert page.status_code == 200
        for url, _ in urls:
            assert f'href="{html.escape(uri(url))}"' in page.text
        r = client.get("/api/articles", params={"q": "Kiến Thụy"}, headers=AUTH)
        assert r.status_code == 200, r.text
        api = {a["title"]: a["url"] for a in r.json()["articles"]}
        assert api == {t: encoded(u) for t, (u, _) in by_title.items()}
        csrf = CSRF_FIELD.search(client.get("/admin/login").text)
        assert csrf is not None
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
        admin = client.get("/admin/articles", params={"q": "Kiến Thụy"})
        assert admin.status_code == 200
        for url, _ in urls:  # the admin's link to each article
            assert f'href="{html.escape(uri(url))}"' in admin.text
    with service.db.read() as conn:
        ids = list(conn.execute(select(articles.c.id).order_by(articles.c.id)).scalars())
        held = articles_by_ids(conn, ids)
    for a in held.values():
        url, image = by_title[a.title]
        alert = format_alert(a, ["Kiến Thụy"], TZ, with_image=True)
        assert f'<a href="{html.escape(uri(url))}">' in alert.text
        assert alert.photo_url == (uri(image) if image else None)
        assert format_plain_alert(a, ["Kiến Thụy"], TZ).endswith("\n" + uri(url))
    entries = [DigestEntry(i, a, DigestGroup("Kiến Thụy")) for i, a in held.items()]
    text = "".join(p.message.text for p in format_digest(entries, TZ, WORDS))
    for url, _ in urls:
        assert f'<a href="{html.escape(uri(url))}">' in text


def feed_items(fmt: str, body: bytes) -> dict[str, tuple[str, str | None]]:
    """Each item's title → (link, image) in a feed document."""
    if fmt == "json":
        return {i["title"]: (i["url"], i.get("image")) for i in json.loads(body)["items"]}
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.bozo_exception
    out = {}
    for e in parsed.entries:
        images = [x["href"] for x in e.get("enclosures", [])]
        images += [x["href"] for x in e.get("links", []) if x.get("rel") == "enclosure"]
        out[e.title] = (e.link, images[0] if images else None)
    return out
