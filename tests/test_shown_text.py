"""What an article's summary or body shows is one reading, whatever shows it (feedsvc.markup).

The feeds' cleaner (nh3: Rust ammonia over html5ever) and the matcher's scanner read HTML
differently: ammonia removed the content of every element named as MathML or SVG name one
(``<not>``, ``<text>``, ``<set>``, ``<list>``…) outside ``<math>``/``<svg>``, html5ever dropped
a tag that nothing closes and all that followed it (``Nếu a<b thì c``), and each had its own
list of elements whose content no one sees (``<title>``, ``<head>``, a ``<math>``'s direct
text, an iframe's fallback). So a reader got an article matched on words they could not see,
and newsroom text vanished from feeds and alerts while the matcher read it. Now the feed's
HTML, the plain forms (excerpts, Telegram summaries, Zalo/Apprise ``plain_lines``) and the
matcher read the same words.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]
from lxml import html as lxml_html

from feedsvc.articles import Article
from feedsvc.channels.plain import format_plain_alert
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_formats
from feedsvc.feeds.model import clear_item_cache
from feedsvc.feeds.sanitize import plain_lines, plain_text, sanitize_html, shown_summary
from feedsvc.html_text import BLOCK_TAGS, html_to_text
from feedsvc.markup import HIDDEN_CONTENT, KNOWN_ELEMENTS, html_as_read
from feedsvc.matching import document_from_text, match_document, parse_query
from feedsvc.matching.normalize import visible_text
from feedsvc.notify.message import alert_summary

SITE = "https://baohaiphong.example/tin/1.html"
PUBLIC = "https://tin.baohaiphong.example"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)

#: (summary as the CMS holds it, the text every output shows and the matcher reads)
SHOWN = [
    # an unknown element named as MathML or SVG names one: ammonia removed it with its text
    ("Trước <not>chữ ẩn</not> sau", "Trước chữ ẩn sau"),
    ("Trước <NOT>chữ ẩn</NOT> sau", "Trước chữ ẩn sau"),
    ('Trước <text class="x">chữ ẩn</text> sau', "Trước chữ ẩn sau"),
    ("Trước <set>chữ</set> <list>ẩn</list> sau", "Trước chữ ẩn sau"),
    ("Trước <max>chữ</max><g>ẩn</g> sau", "Trước chữẩn sau"),
    ("<p>Trước <in>chữ ẩn</in> sau</p>", "Trước chữ ẩn sau"),
    ("<p>Trước <mi>chữ ẩn sau", "Trước chữ ẩn sau"),  # never closed: to the end, as in browsers
    # no HTML at all (a start tag of no element only: feedsvc.markup.has_markup): plain text
    ("Trước <mi>chữ ẩn sau", "Trước <mi>chữ ẩn sau"),
    ("Trước <o:p>chữ ẩn</o:p> sau", "Trước chữ ẩn sau"),
    # a tag that nothing closes is text: html5ever dropped it and everything after it
    ("Nếu a<b thì chữ ẩn sau", "Nếu a<b thì chữ ẩn sau"),
    ("<p>Giá <b>vàng</b> x <a chữ ẩn sau", "Giá vàng x <a chữ ẩn sau"),
    ('Trước <b class="x>chữ ẩn sau', 'Trước <b class="x>chữ ẩn sau'),
    ("Trước chữ ẩn </b sau", "Trước chữ ẩn </b sau"),
    ("Trước chữ ẩn </ sau", "Trước chữ ẩn </ sau"),
    # comments end where html5ever ends them
    ("Trước <!--> chữ ẩn sau", "Trước chữ ẩn sau"),
    ("Trước <!---> chữ ẩn <!-- x --!> sau", "Trước chữ ẩn sau"),
    # a head tag in a fragment is ignored by browsers, its text shown
    ("Trước <head>chữ ẩn</head> sau", "Trước chữ ẩn sau"),
    # what no reader sees is dropped everywhere
    ("Trước <title>Trang chủ</title>chữ ẩn sau", "Trước chữ ẩn sau"),
    ("Trước <template>x</template>chữ ẩn sau", "Trước chữ ẩn sau"),
    ("Trước <noscript>Bật JavaScript</noscript>chữ ẩn sau", "Trước chữ ẩn sau"),
    ("Trước <math><mi>x</mi> bình phương</math>chữ ẩn sau", "Trước chữ ẩn sau"),
    ("Trước <svg><text>nhãn</text>nền</svg>chữ ẩn sau", "Trước chữ ẩn sau"),
    ('Trước <iframe src="/v">Trình duyệt không hỗ trợ</iframe>chữ ẩn sau', "Trước chữ ẩn sau"),
    ("Trước <video>Trình duyệt không hỗ trợ video</video>chữ ẩn sau", "Trước chữ ẩn sau"),
    ("Trước <audio controls><source src=a.mp3>Không hỗ trợ</audio>chữ ẩn sau", "Trước chữ ẩn sau"),
    ("Trước <canvas>x</canvas><noembed>y</noembed><noframes>z</noframes>chữ ẩn sau",
     "Trước chữ ẩn sau"),
    ('Trước <datalist><option value="a">x</datalist>chữ ẩn sau', "Trước chữ ẩn sau"),
    # self-closed (XHTML-style CMS output): holds nothing; html5ever hid all that followed
    ('Trước <iframe src="https://www.youtube.com/embed/x" />chữ ẩn sau', "Trước chữ ẩn sau"),
    ("Trước <video /><title/><script src=x.js />chữ ẩn sau", "Trước chữ ẩn sau"),
    # a character reference to Word's line break separates words in the matcher too
    ("Giá vàng&#11;chiều &#x0B;nay", "Giá vàng chiều nay"),
]  # fmt: skip


def _matcher_text(fragment: str) -> str:
    return " ".join(visible_text(fragment).split())


def _feed_text(fragment: str) -> str:
    """The text a feed reader shows of the sanitised HTML (lxml's HTML parser)."""
    cleaned = sanitize_html(fragment, SITE)
    if not cleaned.strip():
        return ""
    root = lxml_html.fragment_fromstring(cleaned, create_parent="div")
    for block in root.iter(*BLOCK_TAGS):  # a reader shows a block on its own line
        block.text = " " + (block.text or "")
        block.tail = " " + (block.tail or "")
    return " ".join(root.text_content().split())


@pytest.mark.parametrize(("raw", "shown"), SHOWN)
def test_every_output_and_the_matcher_read_the_same_words(raw: str, shown: str) -> None:
    assert _feed_text(raw) == shown
    assert plain_text(raw) == shown
    assert " ".join(plain_lines(raw).split()) == shown
    assert _matcher_text(raw) == shown
    item = Article(
        source_key="ST-1",
        url=SITE,
        title="Tin",
        summary=raw,
        published_at=datetime(2024, 5, 1, 3, 0, tzinfo=UTC),
    )
    assert " ".join(alert_summary(item).split()) == shown  # Telegram's summary line
    assert shown in " ".join(format_plain_alert(item, [], UTC).split())  # Zalo, Apprise


@pytest.mark.parametrize(("raw", "shown"), SHOWN)
def test_a_topic_matches_the_words_readers_see_and_only_those(raw: str, shown: str) -> None:
    doc = document_from_text("Tin", summary=raw)
    assert match_document(parse_query('"chữ ẩn"'), doc) == ("chữ ẩn" in shown)
    for hidden in ("Trang chủ", "JavaScript", "bình phương", "nhãn", "không hỗ trợ"):
        assert not match_document(parse_query(f'"{hidden}"'), doc)


def test_a_summary_of_hidden_content_only_shows_nothing() -> None:
    """The body stands in for a summary whose only text no reader sees."""
    for summary in ("<template>Tóm tắt</template>", "<title>Trang</title>", "<svg>x</svg>"):
        assert shown_summary(summary) is None
    assert shown_summary("<not>Tóm tắt</not>") == "<not>Tóm tắt</not>"


def test_the_section_blocks_of_a_cms_keep_words_apart_in_the_feed() -> None:
    """nh3 stripped ``<section>``, ``<main>``, ``<address>``…: adjacent blocks ran together."""
    raw = "<section>Hà Nội</section><section>Kiến An</section><main>Đồ Sơn</main>"
    assert _feed_text(raw) == plain_text(raw) == "Hà Nội Kiến An Đồ Sơn"
    assert plain_lines(raw) == "Hà Nội\nKiến An\nĐồ Sơn"


def test_the_read_html_keeps_ordinary_markup_as_it_is() -> None:
    """The hot path: known, closed tags and text without a stray ``<`` are not copied."""
    body = '<p>Tin <a href="/x">Kiến Thụy</a> &amp; <b>Đồ Sơn</b><br/>5 < 7</p>'
    assert html_as_read(body) is body
    assert html_as_read("Nếu a<b") == "Nếu a&lt;b"
    assert html_as_read("<not>x</not>") == "<x-not>x</x-not>"
    assert html_as_read("a<!-- x -->b<script>c</script>d") == "abd"


def test_a_feed_with_such_summaries_stays_well_formed() -> None:
    clear_item_cache()
    urls = feed_urls(PUBLIC, "tin")
    metas = {
        fmt: FeedMeta("Tin", "Tin", PUBLIC, urls[fmt], feed_id(PUBLIC, "tin"))
        for fmt in ("rss", "atom", "json")
    }
    items = [
        Article(
            source_key=f"ST-{n}",
            url=f"{PUBLIC}/{n}.html",
            title=f"Tin {n}",
            summary=raw,
            body=f"<p>{raw}</p>",
            published_at=datetime(2024, 5, 1, 3, n, tzinfo=UTC),
        )
        for n, (raw, _) in enumerate(SHOWN)
    ]
    feeds = render_formats(metas, items)
    etree.fromstring(feeds["rss"], STRICT)
    etree.fromstring(feeds["atom"], STRICT)
    shown = {item["id"]: item for item in json.loads(feeds["json"])["items"]}
    assert len(shown) == len(SHOWN)
    for item in shown.values():
        assert "x-" not in item["content_html"]  # a renamed element never reaches a reader


# -- the property: random soups of real and unknown tags, text, comments ---------------------------

_NAMES = [
    *sorted(KNOWN_ELEMENTS - {"xmp", "textarea", "plaintext"}),
    *("not", "text", "set", "g", "mi", "o:p", "x-y", "foo"),
]
_TAG = st.builds(
    lambda close, name, attr, end: f"<{close}{name}{attr}{end}",
    st.sampled_from(["", "/"]),
    st.sampled_from(_NAMES),
    st.sampled_from(["", " x=1", ' t="a>b"', " y='q'", ' z="', " /"]),
    st.sampled_from([">", ">", ""]),
)
_TEXT = st.sampled_from(
    ["chữ", "công an", "a<b", "x", "<", "</", "<!--", "-->", ">", "&amp;", "&lt;", "=", "<!",
     "<?", " ", "\n", "<!-->", "--!>", "&#11;"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(_TAG | _TEXT, min_size=1, max_size=10).map("".join))
def test_the_feed_the_plain_forms_and_the_matcher_agree_on_any_soup(markup: str) -> None:
    """Whatever the markup (attribute quotes where HTML puts them: ``<b "x>`` is a known
    difference, as are ``xmp``/``textarea``/``plaintext``, whose raw text the matcher reads as
    markup): the same characters in the same order. Spacing may differ in the feed (a stray
    block end tag is a space to the matcher, nothing to html5ever)."""
    words = plain_text(markup)
    assert words == _matcher_text(markup).replace("\n", " ")
    assert re.sub(r"\s", "", _feed_text(markup)) == re.sub(r"\s", "", words)
    assert re.sub(r"\s", "", plain_lines(markup)) == re.sub(r"\s", "", words)


def test_the_hidden_elements_are_the_known_ones() -> None:
    assert HIDDEN_CONTENT <= KNOWN_ELEMENTS
    assert "head" not in HIDDEN_CONTENT
    assert html_to_text("<head>a</head><title>b</title>") == "a"
