"""A character no reader sees in an article URL is percent-encoded at ingest, so every output
links to the page the CMS meant.

``https://x.vn/\\u202e/a`` (a RIGHT-TO-LEFT OVERRIDE in the path) was accepted as it was, and
the outputs' cleaner (:func:`feedsvc.feeds.sanitize.xml_clean`) deletes bidi controls: the RSS,
Atom and JSON feeds, the Telegram alert's link and the Zalo alert's text linked to
``https://x.vn//a``, another page, while the JSON API gave the URL raw. A zero-width space or an
LRM went raw into the alerts' links (the feeds percent-encoded them). Now :func:`parse_article`,
the one place that accepts a URL (import, the source readers, the API), stores each such
character percent-encoded, as a browser sends it (RFC 3987 §3.1): ``https://x.vn/%E2%80%AE/a``,
the same in every output. One in the host names no host and is refused, naming the field;
whitespace and control characters stay refused (a browser drops a tab or line break inside a
URL, so there is no one page they mean).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import feedparser
import pytest
from sqlalchemy import select, text
from test_ingest_cursor_edges import bounded_tick, cms_at, pg_cms_url

from feedsvc.articles import Article, ArticleError, parse_article
from feedsvc.channels.plain import format_plain_alert
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.feeds import FeedMeta, render_feed
from feedsvc.notify.message import format_alert

UNSEEN = {
    "RLO": "\u202e",
    "LRE": "\u202a",
    "LRI": "\u2066",
    "RLI": "\u2067",
    "FSI": "\u2068",
    "PDI": "\u2069",
    "LRM": "\u200e",
    "RLM": "\u200f",
    "ZWSP": "\u200b",
    "WJ": "\u2060",
    "BOM": "\ufeff",
    "SHY": "\u00ad",
}
#: (where in the URL, the URL with ``{c}`` for the character)
PLACES = [
    ("path", "https://x.vn/{c}/a"),
    ("slug", "https://x.vn/tin-tức/kiến-thụy{c}-1.html"),
    ("query", "https://x.vn/a?id=1{c}2"),
    ("fragment", "https://x.vn/a#p{c}1"),
]
CASES = [
    pytest.param(c, shape, id=f"{name}-{place}")
    for name, c in UNSEEN.items()
    for place, shape in PLACES
    if not (name == "SHY" and place != "path")  # a few of the rest are enough
]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
__all__ = ["cms_at", "pg_cms_url"]  # fixtures


def article(url: str, image_url: str | None = None) -> Article:
    record = {"source_key": "K-1", "url": url, "title": "Tin Kiến Thụy",
              "published_at": "2026-12-01T08:00:00+07:00"}  # fmt: skip
    if image_url is not None:
        record["image_url"] = image_url
    return parse_article(record)


def encoded(url: str) -> str:
    """What a browser requests for ``url``: each character no reader sees as its UTF-8 bytes."""
    return "".join(quote(c, safe="") if not c.isprintable() else c for c in url)


def feed_links(a: Article) -> list[str]:
    meta = FeedMeta(
        title="Kiến Thụy", description="Tin", site_url="https://x.vn/",
        self_url="https://feeds.x.vn/feeds/k.{fmt}", feed_id="urn:feedsvc:k",
    )  # fmt: skip
    links = []
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(render_feed(meta, [a], fmt))
        assert parsed.bozo == 0
        links.append(parsed.entries[0].link)
    data = json.loads(render_feed(meta, [a], "json"))
    links.append(data["items"][0]["url"])
    return links


@pytest.mark.parametrize(("c", "shape"), CASES)
def test_the_stored_url_holds_the_character_percent_encoded(c: str, shape: str) -> None:
    url = shape.format(c=c)
    stored = article(url).url
    assert stored.isprintable()  # nothing any output deletes or hides
    assert unquote(stored) == unquote(encoded(url)) == url  # the same page: nothing lost
    assert quote(c, safe="") in stored


@pytest.mark.parametrize(("c", "shape"), CASES)
def test_every_output_links_to_the_page_the_cms_meant(c: str, shape: str) -> None:
    url = shape.format(c=c)
    a = article(url)
    # feeds resolve the stored URL as a URI (the slug's letters encoded too): the same page
    meant = quote(encoded(url), safe=":/?#[]@!$&'()*+,;=-._~%")
    assert feed_links(a) == [meant] * 3
    # and so do the alerts (feeds.links: one address everywhere)
    assert f'<a href="{meant}">' in format_alert(a, ["Kiến Thụy"], TZ).text
    assert format_plain_alert(a, ["Kiến Thụy"], TZ).endswith("\n" + meant)  # Zalo
    assert a.to_json()["url"] == encoded(url)  # the JSON API's article


def test_the_shown_input() -> None:
    a = article("https://x.vn/\u202e/a")
    assert a.url == "https://x.vn/%E2%80%AE/a"  # was kept raw, linked as https://x.vn//a
    assert feed_links(a) == ["https://x.vn/%E2%80%AE/a"] * 3
    assert 'href="https://x.vn/%E2%80%AE/a"' in format_alert(a, [], TZ).text


def test_an_image_url_is_encoded_the_same_way() -> None:
    a = article("https://x.vn/a", image_url="/anh/\u2067x.jpg")
    assert a.image_url == "https://x.vn/anh/%E2%81%A7x.jpg"


@pytest.mark.parametrize("c", ["\u202e", "\u200b", "\u2066"])
def test_one_in_the_host_is_refused_naming_the_field(c: str) -> None:
    with pytest.raises(ArticleError) as caught:
        article(f"https://x{c}.vn/a")
    assert str(caught.value).startswith("url: contains an invisible character")
    assert f"U+{ord(c):04X}" in str(caught.value)


@pytest.mark.parametrize("c", ["\x01", "\x1b", " ", "\t", "\u2028", "\x85"])
def test_whitespace_and_controls_stay_refused(c: str) -> None:
    """(A pin: refused before too.) A browser drops a tab or line break inside a URL and
    encodes a space: no one page such a URL means."""
    with pytest.raises(ArticleError) as caught:
        article(f"https://x.vn/a{c}b")
    assert str(caught.value).startswith("url: contains whitespace or a control character")


def test_a_printable_url_is_kept_as_written() -> None:
    """Vietnamese letters and an encoded character are kept: only unseen ones are encoded."""
    url = "https://x.vn/tin-tức/kiến-thụy-1.html?q=an%20ninh"
    assert article(url).url == url
    assert article(url).published_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_a_cms_row_is_stored_with_the_url_encoded(db: Database, cms_at: Any) -> None:
    """Through ingest from a CMS table (the same parse): the stored URL, which the JSON API
    gives and every output links to, is the encoded one; the row is not quarantined."""
    cms = cms_at("sqlite", "TEXT")
    cms.post(1)
    with cms.engine.begin() as conn:
        conn.execute(
            text("UPDATE posts SET link = :l WHERE id = 1"), {"l": "https://x.vn/\u202e/a"}
        )
    ing = cms.ingestor(db)
    result = bounded_tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 1, [])
    with db.read() as conn:
        assert conn.execute(select(articles.c.url)).scalars().all() == ["https://x.vn/%E2%80%AE/a"]
    ing.source.dispose()
