"""Hostile article data never breaks a feed and never leaks active content (hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import lxml.html  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedsvc.articles import Article
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_feed
from feedsvc.feeds.sanitize import MAX_HTML_CHARS

PUBLIC = "https://tin.baohaiphong.example"
SITE = "https://baohaiphong.example/"
FORMATS = ("rss", "atom", "json")
SAFE_SCHEMES = ("http://", "https://", "mailto:")

HOSTILE = [
    "<script>alert('xss')</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">bấm</a>',
    '<a href=" jAvAsCrIpT:alert(1)">x</a>',
    '<a href="data:text/html,<script>x</script>">d</a>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<div style="background:url(javascript:x)" onmouseover=x>t</div>',
    "<style>*{display:none}</style>",
    "<iframe src=https://evil.example/></iframe>",
    "]]>",
    "<![CDATA[ x ]]>",
    "&bogus; &#0; &#xD800; &amp;",
    "<p>Công an huyện <b>Kiến Thụy</b></p>",
    '<a href="/tuong-doi">tương đối</a>',
    "\ufeff\u200b\u00ad\u202e",
]

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
controls = st.sampled_from([chr(c) for c in (*range(0, 0x20), 0x7F, 0x85, 0xFFFE, 0xFFFF)])
hostile_text = st.lists(
    st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE), surrogates, controls), max_size=12
).map("".join)
optional_text = st.none() | hostile_text
offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2099, 12, 30)),
    offsets,
)
urls = st.one_of(
    hostile_text.map(lambda s: "https://baohaiphong.example/" + s),
    hostile_text,
    st.just("https://baohaiphong.example/bai-viet.html"),
)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    published = draw(moments)
    updated = draw(st.none() | st.just(published + timedelta(hours=1)))
    return Article(
        source_key=draw(hostile_text.filter(bool)),
        url=draw(urls),
        title=draw(hostile_text),
        published_at=published,
        updated_at=updated,
        summary=draw(optional_text),
        body=draw(optional_text),
        author=draw(optional_text),
        section=draw(optional_text),
        tags=tuple(draw(st.lists(hostile_text, max_size=3))),
        image_url=draw(st.none() | urls),
    )


def meta(fmt: str) -> FeedMeta:
    return FeedMeta(
        title="Tin <nóng> & \x0b mới",
        description="Mô tả\ud800",
        site_url=SITE,
        self_url=feed_urls(PUBLIC, "an-ninh")[fmt],
        feed_id=feed_id(PUBLIC, "an-ninh"),
        hub_url="https://hub.example/",
        stylesheet_url="/feed.xsl",
    )


def assert_safe_html(fragment: str) -> None:
    """No active content: scripts, event attributes or non-http(s) URLs."""
    if not fragment.strip():
        return
    for element in lxml.html.fragment_fromstring(fragment, create_parent="div").iter():
        if not isinstance(element.tag, str):
            continue  # comments / processing instructions carry no behaviour
        assert element.tag not in ("script", "style", "iframe", "svg", "object", "embed")
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            assert name.lower() != "style"
            if name.lower() in ("href", "src", "cite", "action", "formaction"):
                assert value.startswith(SAFE_SCHEMES), (name, value)


def check_xml(fmt: str, body: bytes, count: int) -> None:
    etree.fromstring(body)  # well-formed for a strict XML parser
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == count
    for entry in parsed.entries:
        assert entry.id.startswith("tag:baohaiphong.example,2024:article/")
        assert entry.link.startswith(("http://", "https://"))
        for content in entry.get("content", []):
            if content.type == "text/html":  # text/plain content is shown as text, not markup
                assert_safe_html(content.value)
        if entry.get("summary_detail", {}).get("type") == "text/html":
            assert_safe_html(entry.summary)


def check_json(body: bytes, count: int) -> None:
    feed = json.loads(body.decode("utf-8"))  # strict UTF-8: no surrogates survived
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert len(feed["items"]) == count
    for item in feed["items"]:
        assert item["id"] and ("content_html" in item or "content_text" in item)
        assert_safe_html(item.get("content_html", ""))
        assert item["title"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(articles(), max_size=4))
def test_hostile_articles_give_wellformed_safe_feeds(items: list[Article]) -> None:
    unique_ids = len({a.source_key for a in items})  # one item per key (article_guid)
    for fmt in FORMATS:
        body = render_feed(meta(fmt), items, fmt)
        assert render_feed(meta(fmt), items, fmt) == body  # still deterministic
        if fmt == "json":
            check_json(body, unique_ids)
        else:
            check_xml(fmt, body, unique_ids)


def test_huge_body_is_capped_in_every_format() -> None:
    huge = Article(
        source_key="HP-HUGE-1",
        url="https://baohaiphong.example/bai-rat-dai.html",
        title="Bài viết rất dài",
        published_at=datetime(2022, 3, 1, 8, 0, tzinfo=UTC),
        body="<p>" + "Hải Phòng <b>mưa lớn</b> kéo dài. " * 60_000 + "</p>",  # ~2 MB
    )
    for fmt in FORMATS:
        body = render_feed(meta(fmt), [huge], fmt)
        assert len(body) < 4 * MAX_HTML_CHARS  # capped (escaping at most doubles/triples it)
        if fmt == "json":
            check_json(body, 1)
        else:
            check_xml(fmt, body, 1)


def test_missing_optional_fields_everywhere() -> None:
    minimal = Article(
        source_key="HP-MIN-1",
        url="https://baohaiphong.example/toi-thieu.html",
        title="",
        published_at=datetime(2022, 3, 1, 8, 0, tzinfo=UTC),
    )
    for fmt in FORMATS:
        body = render_feed(meta(fmt), [minimal], fmt)
        if fmt == "json":
            check_json(body, 1)
        else:
            check_xml(fmt, body, 1)
