"""One article never freezes a feed (issue #12 §5).

No XML-illegal character reaches any output from any field at any stage (raw, or decoded from
a character reference such as ``&#11;``), and entity-encoded markup in CMS text stays text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from factories import article, builtin_ingestor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]
from lxml import html as lxml_html

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_formats, render_opml
from feedsvc.feeds.model import clear_item_cache
from feedsvc.pages import Site, page_article, page_topic, render_index, subscribe_links
from feedsvc.publish import FeedPublisher
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic

SITE = "https://baohaiphong.example/"
PUBLIC = "https://tin.baohaiphong.example"
T0 = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)

# What XML 1.0 readers take as text: the Char production minus C1 controls, DEL and the
# noncharacters (what feedsvc promises; U+FFFE/U+FFFF and C0 controls are the fatal ones).
ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(chr(p << 16 | 0xFFFE) + chr(p << 16 | 0xFFFF) for p in range(1, 17))
    + "]"
)
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


def metas(title: str = "Kiến Thụy", description: str = "Tin") -> dict[str, FeedMeta]:
    urls = feed_urls(PUBLIC, "kien-thuy")
    return {
        fmt: FeedMeta(title, description, SITE, urls[fmt], feed_id(PUBLIC, "kien-thuy"))
        for fmt in ("rss", "atom", "json")
    }


def xml_texts(doc: bytes) -> list[str]:
    """Every text and attribute value of a strictly parsed XML document."""
    root = etree.fromstring(doc, STRICT)
    out: list[str] = []
    for el in root.iter():
        out += [el.text or "", el.tail or "", *el.attrib.values()]
    return out


def json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *json_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in json_strings(v)]
    return []


def check_outputs(feeds: dict[str, bytes], *extra_xml: bytes) -> dict[str, Any]:
    """Every output parses strictly and carries only legal characters; returns the parses."""
    parsed: dict[str, Any] = {}
    for fmt in ("rss", "atom"):
        texts = xml_texts(feeds[fmt])
        assert not [t for t in texts if ILLEGAL.search(t)], fmt
        parsed[fmt] = feedparser.parse(feeds[fmt])
        assert parsed[fmt].bozo == 0, (fmt, parsed[fmt].get("bozo_exception"))
    data = json.loads(feeds["json"].decode("utf-8"))
    assert not [s for s in json_strings(data) if ILLEGAL.search(s)]
    parsed["json"] = data
    for doc in extra_xml:
        assert not [t for t in xml_texts(doc) if ILLEGAL.search(t)]
    return parsed


# -- the input, through the real ingest → publish path ------------------------------


def test_word_vertical_tab_never_freezes_topic_or_search_feeds(db: Database) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("gia-vang", "Giá vàng", '"giá vàng"', ""), "cli", now)
    publisher = FeedPublisher(db, load_config(None, {"http": {"public_url": PUBLIC}}))
    ing = builtin_ingestor(db, overlap_seconds=60)
    ing.after_commit.append(publisher.on_ingest)
    publisher.sync()
    items = [
        article(1, title="Giá vàng sáng nay", body="<p>Giá vàng ổn định.</p>"),
        article(
            2,
            title="Giá vàng&#11;chiều",
            body="<p>Giá vàng&#11;tăng mạnh</p>",
            summary="Giá vàng\x0btăng &#xFFFE;&#xD800;&#0;",
            author="A&#1;B",
            tags=("vàng&#x1F;", "giá\x0cvàng"),
        ),
        article(3, title="Giá vàng tối", body="<p>Giá vàng giảm.</p>"),
    ]
    with db.write() as conn:
        upsert_source_articles(conn, items, now)
    assert ing.tick().error is None
    for fmt in ("rss", "atom", "json"):
        snap = publisher.snapshot("gia-vang", fmt, 50)
        found = publisher.search('"giá vàng"', fmt, 50)
        assert snap is not None and found is not None
        for body in (snap.body, found.body):
            parsed = check_outputs({fmt: body} | _others(fmt, body))[fmt]
            titles = (
                [i["title"] for i in parsed["items"]]
                if fmt == "json"
                else [e.title for e in parsed.entries]
            )
            assert "Giá vàng chiều" in titles, titles  # the VT read as a space, not glued


def _others(fmt: str, body: bytes) -> dict[str, bytes]:
    """check_outputs wants all three formats; fill the others with an empty valid feed."""
    empty = render_formats(metas(), [])
    return {f: empty[f] for f in ("rss", "atom", "json") if f != fmt}


# -- every field, every stage: a property over arbitrary text ---------------------------------

# Character references to any code point (NUL, controls, surrogates, noncharacters, beyond
# U+10FFFF), in decimal and hex; named entities; markup that must stay text once decoded.
REFS = st.integers(min_value=0, max_value=0x11FFFF).flatmap(
    lambda cp: st.sampled_from([f"&#{cp};", f"&#x{cp:X};", f"&#x{cp:x}"])
)
PIECES = st.sampled_from(
    ["&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&lt;img src=x onerror=alert(1)&gt;",
     "<b>", "</b>", "<p>", "]]>", "<![CDATA[", "<!--", "&", "<", "\x0b", "\x00", "\ud83d",
     "\ufffe", "\U0001fffe", "\x85", "\u2028", "javascript:", " ", "\n"]
)  # fmt: skip
ANY_CHAR = st.characters(exclude_categories=())  # every code point, lone surrogates included
HOSTILE = st.lists(REFS | PIECES | ANY_CHAR | st.text(max_size=5), max_size=12).map("".join)


@st.composite
def hostile_articles(draw: st.DrawFn, n: int) -> Article:
    url = draw(st.sampled_from(["https://baohaiphong.example/a", "/rel", ""])) + draw(HOSTILE)
    return Article(
        source_key=f"K{n}-" + draw(HOSTILE),
        url=url,
        title=draw(HOSTILE),
        published_at=T0 + timedelta(minutes=n),
        updated_at=draw(st.none() | st.just(T0 + timedelta(hours=n))),
        summary=draw(st.none() | HOSTILE),
        body=draw(st.none() | HOSTILE),
        author=draw(st.none() | HOSTILE),
        section=draw(st.none() | HOSTILE),
        tags=tuple(draw(st.lists(HOSTILE, max_size=3))),
        image_url=draw(st.none() | HOSTILE),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(st.integers(0, 10_000), min_size=1, max_size=3).flatmap(
        lambda ns: st.tuples(*(hostile_articles(i) for i in range(len(ns))))
    ),
    topic_title=HOSTILE,
    topic_description=HOSTILE,
)
def test_any_text_in_any_field_renders_every_format(
    items: tuple[Article, ...], topic_title: str, topic_description: str
) -> None:
    clear_item_cache()
    feeds = render_formats(metas(topic_title, topic_description), list(items))
    opml = render_opml(topic_title, [(topic_title, feed_urls(PUBLIC, "x")["rss"], SITE)])
    shown = [page_article(a, SITE) for a in items]
    topic = page_topic(
        "x", topic_title, topic_title, len(shown), shown, subscribe_links(PUBLIC, "x", "TinBot")
    )
    index = render_index(Translator("vi"), Site(topic_title, SITE, PUBLIC), [topic])
    parsed = check_outputs(feeds, opml)
    assert len(parsed["rss"].entries) == len(parsed["json"]["items"])
    assert not ILLEGAL.search(index.decode("utf-8"))
    lxml_html.fromstring(index)


# -- entity-encoded markup is text in every output --------------------------------------------

MARKUP_TITLE = "Bão số 3 &amp; mưa lớn &lt;img src=x onerror=alert(1)&gt; <b>Kiến Thụy</b>"
VISIBLE = "Bão số 3 & mưa lớn <img src=x onerror=alert(1)> Kiến Thụy"


@pytest.mark.parametrize("summary", [None, "Tóm tắt &lt;script&gt;alert(1)&lt;/script&gt;"])
def test_entity_encoded_markup_is_text_in_every_format(summary: str | None) -> None:
    a = Article(
        source_key="M1",
        url="https://baohaiphong.example/m1",
        title=MARKUP_TITLE,
        published_at=T0,
        summary=summary,
        author="Minh &amp; Châu &lt;b&gt;",
        section="Thời sự &amp; &lt;i&gt;",
        tags=("An ninh &amp; trật tự",),
    )
    feeds = render_formats(metas(), [a])
    parsed = check_outputs(feeds)
    rss_item = etree.fromstring(feeds["rss"], STRICT).find("channel/item")
    assert rss_item.findtext("title") == VISIBLE
    # RSS plain-text elements use hexadecimal references, as the RSS Best Practices Profile asks
    rss = feeds["rss"].decode()
    assert "<title>Bão số 3 &#x26; mưa lớn &#x3C;img src=x onerror=alert(1)&#x3E;" in rss
    assert "<category>An ninh &#x26; trật tự</category>" in rss
    assert parsed["rss"].entries[0].title == VISIBLE
    assert parsed["rss"].entries[0].title_detail.type == "text/plain"
    atom = etree.fromstring(feeds["atom"], STRICT)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    title = atom.find("a:entry/a:title", ns)
    assert title.text == VISIBLE and title.get("type", "text") == "text"
    assert atom.findtext("a:entry/a:author/a:name", namespaces=ns) == "Minh & Châu <b>"
    item = parsed["json"]["items"][0]
    assert item["title"] == VISIBLE
    assert item["authors"] == [{"name": "Minh & Châu <b>"}]
    assert item["tags"] == ["Thời sự & <i>", "An ninh & trật tự"]
    # No HTML payload of any format holds an element the CMS text only spelled out.
    details = [
        d
        for fmt in ("rss", "atom")
        for e in parsed[fmt].entries
        for d in (e.get("summary_detail"), *e.get("content", []))
        if d is not None and d.type == "text/html"
    ]
    payloads = [d.value for d in details] + [item.get("content_html", "")]
    for payload in payloads:
        if payload:
            fragment = lxml_html.fragment_fromstring(payload, create_parent="div")
            assert not fragment.xpath("//img | //script | //*[@onerror]"), payload


@pytest.mark.parametrize("bidi", ["\u202a", "\u202e", "\u2066", "\u2069"])
def test_bidi_controls_reach_no_reader_page(bidi: str) -> None:
    """Tester F14: the reader pages showed an article's U+202E (its title, section, summary)
    as they got it; the pages clean with the feeds' cleaner."""
    item = Article(
        source_key="HP-B-1",
        url="https://baohaiphong.example/b.html",
        title=f"Kiến Thụy {bidi} điều khiển",
        published_at=datetime(2022, 1, 1, tzinfo=UTC),
        summary=f"<p>Công an {bidi}xã &#x{ord(bidi):x};Đại Đồng</p>",
        section=f"Thời sự{bidi}",
    )
    shown = page_article(item, SITE)
    assert (shown.title, shown.section, shown.summary) == (
        "Kiến Thụy điều khiển", "Thời sự", "Công an xã Đại Đồng",
    )  # fmt: skip
    topic = page_topic("x", "X", "", 1, [shown], subscribe_links(PUBLIC, "x", "TinBot"))
    index = render_index(Translator("vi"), Site("Tin", SITE, PUBLIC), [topic]).decode("utf-8")
    assert bidi not in index and f"#x{ord(bidi):x};" not in index.lower()
