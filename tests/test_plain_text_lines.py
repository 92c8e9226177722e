"""A plain-text summary or body keeps its paragraphs and line breaks whatever ``<`` it holds, and
every line break is one (a tester's T2).

"Giá rau < 10.000 đồng/kg.\\n\\nNgười dân vui mừng.\\nChợ đông." was taken for HTML because it held
a ``<``: the feeds published it as one paragraph, the Zalo/Apprise alerts on one line, while the
same text with ``>`` kept both. A text is HTML only when it holds markup by the one rule for
which ``<`` begins markup (:func:`feedsvc.markup.has_markup`). And U+2028/U+2029 (NEL, VT…), which
the matcher reads as line breaks, were a space in alerts and raw in the feeds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from factories import VN, article
from lxml import etree  # type: ignore[import-untyped]

from feedsvc.articles import Article
from feedsvc.channels.plain import format_plain_alert
from feedsvc.channels.zalo import format_zalo_alert
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_formats
from feedsvc.feeds.model import clear_item_cache
from feedsvc.feeds.sanitize import plain_lines, plain_text, sanitize_html
from feedsvc.html_text import html_to_text
from feedsvc.line_breaks import LINE_BREAKS, SEPARATORS, as_newlines
from feedsvc.markup import has_markup
from feedsvc.matching import document_from_text, match_document, parse_query
from feedsvc.matching.normalize import visible_text
from feedsvc.notify.message import format_alert

BASE = "https://example.vn/tin/1.html"
PUBLIC = "https://tin.example.vn"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)

#: (a plain text as the CMS holds it, its feed HTML, its alert lines)
PLAIN = [
    # the tester's BD-3 and its control BD-1
    (
        "Giá rau < 10.000 đồng/kg.\n\nNgười dân vui mừng.\nChợ đông.",
        "<p>Giá rau &lt; 10.000 đồng/kg.</p><p>Người dân vui mừng.<br>Chợ đông.</p>",
        "Giá rau < 10.000 đồng/kg.\nNgười dân vui mừng.\nChợ đông.",
    ),
    (
        "Giá rau > 10.000 đồng/kg.\n\nNgười dân vui mừng.\nChợ đông.",
        "<p>Giá rau &gt; 10.000 đồng/kg.</p><p>Người dân vui mừng.<br>Chợ đông.</p>",
        "Giá rau > 10.000 đồng/kg.\nNgười dân vui mừng.\nChợ đông.",
    ),
    # BD-4, NL-3: "<" before a digit, in a summary with "&" too
    (
        "Giá rau <10.000 đồng/kg.\n\nNgười dân vui mừng.",
        "<p>Giá rau &lt;10.000 đồng/kg.</p><p>Người dân vui mừng.</p>",
        "Giá rau <10.000 đồng/kg.\nNgười dân vui mừng.",
    ),
    ("đoạn 1\n\nđoạn 2, 2 < 4", "<p>đoạn 1</p><p>đoạn 2, 2 &lt; 4</p>", "đoạn 1\nđoạn 2, 2 < 4"),
    ("đoạn 1\n\nđoạn 2 & ba", "<p>đoạn 1</p><p>đoạn 2 &amp; ba</p>", "đoạn 1\nđoạn 2 & ba"),
    ("x <= 5\ny", "<p>x &lt;= 5<br>y</p>", "x <= 5\ny"),
    ("<<Tắt đèn>>\ntái bản", "<p>&lt;&lt;Tắt đèn&gt;&gt;<br>tái bản</p>", "<<Tắt đèn>>\ntái bản"),
    ("a < b > c\n\nd", "<p>a &lt; b &gt; c</p><p>d</p>", "a < b > c\nd"),
    ("Yêu <3\nmãi", "<p>Yêu &lt;3<br>mãi</p>", "Yêu <3\nmãi"),
    ("<Số đỏ> tái bản\n\nhết", "<p>&lt;Số đỏ&gt; tái bản</p><p>hết</p>", "<Số đỏ> tái bản\nhết"),
    # a tag nothing closes is text (feedsvc.markup): still plain
    ("Nếu a<b thì c\n\nhết", "<p>Nếu a&lt;b thì c</p><p>hết</p>", "Nếu a<b thì c\nhết"),
    ("Lỗi <script> khiến\ntrang trắng", "<p>Lỗi &lt;script&gt; khiến<br>trang trắng</p>",
     "Lỗi <script> khiến\ntrang trắng"),
    # every line break of the one list (feedsvc.line_breaks), CR LF one
    ("đoạn 1\u2028đoạn 2", "<p>đoạn 1<br>đoạn 2</p>", "đoạn 1\nđoạn 2"),
    ("đoạn 1\u2029đoạn 2", "<p>đoạn 1</p><p>đoạn 2</p>", "đoạn 1\nđoạn 2"),
    ("a\x85b\x0bc\x0cd", "<p>a<br>b<br>c<br>d</p>", "a\nb\nc\nd"),
    ("đoạn 1\r\nđoạn 2\r\n\r\nđoạn 3 < 4", "<p>đoạn 1<br>đoạn 2</p><p>đoạn 3 &lt; 4</p>",
     "đoạn 1\nđoạn 2\nđoạn 3 < 4"),
    ("a < b\u2028c\rd", "<p>a &lt; b<br>c<br>d</p>", "a < b\nc\nd"),
    # a re-tester's R4: tags of no element only (an address, a URL, a word): plain text, its
    # "<" characters (feedsvc.markup.has_markup)
    ("Liên hệ <banbientap@baohp.vn> ngay.\n\nĐoạn hai.",
     "<p>Liên hệ &lt;banbientap@baohp.vn&gt; ngay.</p><p>Đoạn hai.</p>",
     "Liên hệ <banbientap@baohp.vn> ngay.\nĐoạn hai."),
    ("Gửi <a.b@c.vn>, <d@e.vn>\r\nhết", "<p>Gửi &lt;a.b@c.vn&gt;, &lt;d@e.vn&gt;<br>hết</p>",
     "Gửi <a.b@c.vn>, <d@e.vn>\nhết"),
    ("Gửi <mailto:toasoan@baohp.vn>\n\nhết", "<p>Gửi &lt;mailto:toasoan@baohp.vn&gt;</p><p>hết</p>",
     "Gửi <mailto:toasoan@baohp.vn>\nhết"),
    ("Xem <https://baohp.vn/tin/a?x=1&y=2>\nhết",
     "<p>Xem &lt;https://baohp.vn/tin/a?x=1&amp;y=2&gt;<br>hết</p>",
     "Xem <https://baohp.vn/tin/a?x=1&y=2>\nhết"),
    ("Liên hệ <banbientap> ngay\n\nhết", "<p>Liên hệ &lt;banbientap&gt; ngay</p><p>hết</p>",
     "Liên hệ <banbientap> ngay\nhết"),
    ("Sách <Tên sách> của <tôi>\n\nhết",
     "<p>Sách &lt;Tên sách&gt; của &lt;tôi&gt;</p><p>hết</p>", "Sách <Tên sách> của <tôi>\nhết"),
    ("<st1:place>HN <tin nóng> <mi>\n\nx",
     "<p>&lt;st1:place&gt;HN &lt;tin nóng&gt; &lt;mi&gt;</p><p>x</p>",
     "<st1:place>HN <tin nóng> <mi>\nx"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "html", "lines"), PLAIN)
def test_a_plain_text_keeps_its_paragraphs_and_lines_in_feeds_and_alerts(
    raw: str, html: str, lines: str
) -> None:
    assert not has_markup(raw)
    assert sanitize_html(raw, BASE) == html
    assert plain_lines(raw) == lines
    assert plain_text(raw) == " ".join(lines.split())


@pytest.mark.parametrize(("raw", "html", "lines"), PLAIN)
def test_the_zalo_and_apprise_alerts_have_a_line_per_line(raw: str, html: str, lines: str) -> None:
    for over in ({"summary": raw}, {"summary": None, "body": raw}):
        item = article(1, **over)
        zalo = format_zalo_alert(item, ["Kiến Thụy"], VN)
        assert f"\n\n{lines}\n\nChủ đề: Kiến Thụy\n" in zalo
        apprise = format_plain_alert(item, ["Kiến Thụy"], VN, titled=False)
        assert f"\n\n{lines}\n\nChủ đề: Kiến Thụy\n" in apprise
        assert not any(sep in zalo + apprise for sep in SEPARATORS)


@pytest.mark.parametrize("raw", [p[0] for p in PLAIN])
def test_the_telegram_alert_shows_the_words_apart_and_no_separator(raw: str) -> None:
    """Telegram's summary is one line (``notify.message``): its words stay apart."""
    msg = format_alert(article(1, summary=raw), ["Kiến Thụy"], VN)
    for text in (msg.text, msg.plain_text):
        assert not any(sep in text for sep in SEPARATORS)
    assert " ".join(plain_lines(raw).split()) in msg.plain_text


def _item_html(raw: str, key: str) -> Article:
    return Article(
        source_key=key,
        url=f"{PUBLIC}/{key}.html",
        title=f"Tin {key}",
        body=raw,
        summary=raw,
        published_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
    )


def test_json_rss_and_atom_carry_the_paragraphs() -> None:
    clear_item_cache()
    urls = feed_urls(PUBLIC, "tin")
    metas = {
        fmt: FeedMeta("Tin", "Tin", PUBLIC, urls[fmt], feed_id(PUBLIC, "tin"))
        for fmt in ("rss", "atom", "json")
    }
    items = [_item_html(raw, f"BD-{n}") for n, (raw, _, _) in enumerate(PLAIN)]
    feeds = render_formats(metas, items)
    wanted = {f"{PUBLIC}/BD-{n}.html": html for n, (_, html, _) in enumerate(PLAIN)}
    shown = json.loads(feeds["json"])["items"]
    assert {item["url"]: item["content_html"] for item in shown} == wanted
    rss = etree.fromstring(feeds["rss"], STRICT)
    ns = {"content": "http://purl.org/rss/1.0/modules/content/"}
    assert {
        i.findtext("link"): i.findtext("content:encoded", namespaces=ns) for i in rss.iter("item")
    } == wanted
    assert {i.findtext("link"): i.findtext("description") for i in rss.iter("item")} == wanted
    atom = etree.fromstring(feeds["atom"], STRICT)
    a = "{http://www.w3.org/2005/Atom}"
    got = {
        e.find(f"{a}link").get("href"): e.findtext(f"{a}content") for e in atom.iter(f"{a}entry")
    }
    assert got == wanted
    for fmt in ("rss", "atom", "json"):
        text = feeds[fmt].decode() if isinstance(feeds[fmt], bytes) else str(feeds[fmt])
        assert not any(sep in text for sep in SEPARATORS), fmt


# -- HTML keeps HTML's rules; U+2028/U+2029 are line breaks there too, never raw ----------------

HTML = [
    # an unclosed-looking "<b" that is a tag up to its ">": HTML, its newlines whitespace
    ("Giá <b rau\n\nx > y\n\nz", "Giá <b> y\n\nz</b>", "Giá y z"),
    ("a <b>x</b>\n\nc", "a <b>x</b>\n\nc", "a x c"),
    ("<p>a\u2028b</p><p>c\u2029d</p>", "<p>a<br>b</p><p>c<br>d</p>", "a\nb\nc\nd"),
    ('<p title="x\u2028y">a</p>', '<p title="x y">a</p>', "a"),
    ("<pre>a\u2028b\nc</pre>", "<pre>a<br>b\nc</pre>", "a\nb\nc"),
    # R4 mixed with a known element: HTML, but an address in angle brackets is text there too
    ("<p>Liên hệ <banbientap@baohp.vn> ngay.</p><p>Đoạn hai.</p>",
     "<p>Liên hệ &lt;banbientap@baohp.vn&gt; ngay.</p><p>Đoạn hai.</p>",
     "Liên hệ <banbientap@baohp.vn> ngay.\nĐoạn hai."),
    ("Liên hệ <banbientap@baohp.vn> <b>ngay</b>.\n\nĐoạn hai.",
     "Liên hệ &lt;banbientap@baohp.vn&gt; <b>ngay</b>.\n\nĐoạn hai.",
     "Liên hệ <banbientap@baohp.vn> ngay. Đoạn hai."),
    ("<b>Xem</b> <https://x.vn/a>", "<b>Xem</b> &lt;https://x.vn/a&gt;", "Xem <https://x.vn/a>"),
    ("<!-- x --><mailto:a@b.vn>", "&lt;mailto:a@b.vn&gt;", "<mailto:a@b.vn>"),
    # an unknown tag is still markup in HTML (hidden as a browser hides it); Word's too
    ("<p>a <banbientap> b</p>", "<p>a  b</p>", "a b"),
    ("<p>Hà <st1:place>Nội</st1:place></p>", "<p>Hà Nội</p>", "Hà Nội"),
    # an end tag of any element is markup: a CMS's or Word's own elements
    ("Hà <st1:place>Nội</st1:place>\n\nx", "Hà Nội\n\nx", "Hà Nội x"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "html", "lines"), HTML)
def test_html_keeps_its_rules_and_shows_separators_as_line_breaks(
    raw: str, html: str, lines: str
) -> None:
    assert has_markup(raw)
    assert sanitize_html(raw, BASE) == html
    assert plain_lines(raw) == lines


def test_a_reference_to_a_line_break_reads_as_the_feed_shows_it() -> None:
    """``&#10;`` decodes to whitespace in the feed's HTML text; ``&#x2028;`` to a line break."""
    assert sanitize_html("a &#10; b\n\nc", BASE) == "<p>a \n b</p><p>c</p>"
    assert plain_lines("a &#10; b\n\nc") == "a b\nc"
    assert sanitize_html("a&#x2028;b", BASE) == "a<br>b"
    assert plain_lines("a&#x2028;b") == "a\nb"


# -- the matcher reads the same lines ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Giá rau < 10.000 Kiến\n\nThụy vui mừng",
        "Giá rau <10.000 Kiến\nThụy",
        "AT&T Kiến\r\nThụy",
        "a <3 Kiến\u2028Thụy",
        "x &amp; y Kiến\x85Thụy",
    ],
)
def test_a_phrase_never_spans_a_plain_texts_line_break(raw: str) -> None:
    """README, Topics: "in an article a line break still ends a sentence" — with a ``<`` or
    ``&`` in the text too; its ``>`` twin never matched."""
    doc = document_from_text("Tin", summary=raw)
    assert not match_document(parse_query('"Kiến Thụy"'), doc)
    assert match_document(parse_query("Kiến AND Thụy"), doc)
    assert "\n" in visible_text(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "Liên hệ <banbientap@baohp.vn> ngay.\n\nĐoạn hai.",
        "<p>Liên hệ <banbientap@baohp.vn> ngay.</p><p>Đoạn hai.</p>",
        "Liên hệ <mailto:banbientap@baohp.vn>\nĐoạn hai.",
        "Liên hệ <https://banbientap.baohp.vn/lien-he>\n\nĐoạn hai.",
    ],
)
def test_the_matcher_reads_the_address_the_feeds_show(raw: str) -> None:
    """R4: the matcher reads an address in angle brackets as the feeds and alerts show it, and
    a phrase does not run over the plain text's paragraph break."""
    doc = document_from_text("Tin", summary=raw)
    assert match_document(parse_query("banbientap"), doc)
    assert match_document(parse_query("baohp"), doc)
    assert not match_document(parse_query('"ngay Đoạn"'), doc)
    assert "banbientap" in plain_lines(raw) and "banbientap" in sanitize_html(raw, BASE)


def test_html_to_text_reads_a_plain_text_by_its_lines() -> None:
    assert html_to_text("a < b\n\nc") == "a < b\n\nc"
    assert html_to_text("a &amp; b\r\nc\u2029d") == "a & b\nc\nd"
    assert html_to_text("<b>a</b>\nc") == "a c"  # HTML: a newline is whitespace


def test_has_markup_is_the_scanners_reading() -> None:
    for text in ("", "a < b", "<3", "a<b thì c", "<Số đỏ>", "<<", "x <= 1", "Lỗi <script> x",
                 "<a@b.vn>", "<https://x.vn/a>", "<tôi>", "<Tên sách>", "<tin>x",
                 "<o:p>", "<x-embed id=1>"):  # fmt: skip
        assert not has_markup(text), text
    for text in ("<b>a</b>", "a<br>b", "<!-- c -->", "Giá <b rau > y", "<p>", "<a@b.vn><br>",
                 "<tin><!DOCTYPE html>", "<TD>", "<script>x</script>", "<tin>x</tin>",
                 "</o:p>"):  # fmt: skip
        assert has_markup(text), text


def test_line_breaks_are_what_splitlines_breaks_at() -> None:
    breaks = {chr(c) for c in range(0x110000) if len(f"a{chr(c)}b".splitlines()) == 2}
    assert breaks == set(LINE_BREAKS)
    assert as_newlines("a\r\nb\rc\u2028d\x85e") == "a\nb\nc\nd\ne"
    text = "không đổi\n"
    assert as_newlines(text) is text
