"""HTML sanitising and XML character cleaning for feed content."""

from __future__ import annotations

import re
import sys

import pytest
from factories import EMPTIED_SUMMARIES, article

from feedsvc.feeds.model import prepare_item
from feedsvc.feeds.sanitize import (
    absolute_url,
    plain_lines,
    plain_text,
    sanitize_html,
    shown_summary,
    xml_clean,
)
from feedsvc.feeds.words import feed_words

BASE = "https://baohaiphong.example/thoi-su/bai-viet.html"


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("Hải\x00 Phòng\x0b", "Hải Phòng "),  # a separator control reads as a space
        ("Giá vàng\x0btăng\x0cmạnh\x1f", "Giá vàng tăng mạnh "),
        ("lone \ud800 surrogate \udfff", "lone  surrogate "),
        ("not \ufffe chars \uffff", "not  chars "),
        ("C1 \x85 and DEL \x7f", "C1   and DEL "),
        ("noncharacters \ufdd0\U0001fffe\U0010ffff gone", "noncharacters  gone"),
        ("tab\tnew\nline\r", "tab\tnew\nline\r"),
        ("emoji 🚓 stays", "emoji 🚓 stays"),
        ("Kiến Thụy", "Kiến Thụy"),
    ],
)
def test_xml_clean(dirty: str, clean: str) -> None:
    assert xml_clean(dirty) == clean


def test_scripts_styles_and_events_removed() -> None:
    html = (
        "<p onclick='steal()' onmouseover=\"x\">Tin <b>nóng</b></p>"
        "<script>document.cookie</script><style>body{display:none}</style>"
        "<iframe src='https://evil.example/'></iframe><img src=x onerror=alert(1)>"
    )
    out = sanitize_html(html, BASE)
    for bad in ("onclick", "onmouseover", "onerror", "script", "cookie", "style", "iframe"):
        assert bad not in out
    assert "<b>nóng</b>" in out


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
    ],
)
def test_dangerous_urls_removed(url: str) -> None:
    out = sanitize_html(f'<a href="{url}">bấm</a><img src="{url}">', BASE)
    assert "script:" not in out.lower() and "data:" not in out
    assert "bấm" in out


def test_relative_urls_made_absolute() -> None:
    out = sanitize_html(
        '<a href="/ho-so/1">a</a><a href="../anh.html">b</a><img src="anh/1.jpg">'
        '<a href="//cdn.example/x">c</a><a href="#muc-2">d</a><blockquote cite="/nguon">q'
        "</blockquote>",
        BASE,
    )
    assert 'href="https://baohaiphong.example/ho-so/1"' in out
    assert 'href="https://baohaiphong.example/anh.html"' in out
    assert 'src="https://baohaiphong.example/thoi-su/anh/1.jpg"' in out
    assert 'href="https://cdn.example/x"' in out
    assert f'href="{BASE}#muc-2"' in out
    assert 'cite="https://baohaiphong.example/nguon"' in out


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("tel:0225123456", "tel:0225123456"),  # the tester's: a hotline link lost its href
        ("TEL:+84-225-123-456", "TEL:+84-225-123-456"),
        ("tel:02251%2023", "tel:02251%2023"),
        ("mailto:toasoan@baohaiphong.example", "mailto:toasoan@baohaiphong.example"),
    ],
)
def test_phone_and_mail_links_keep_their_address(href: str, kept: str) -> None:
    out = sanitize_html(f'<p>Đường dây nóng: <a href="{href}">gọi</a></p>', BASE)
    assert f'href="{kept}"' in out


def test_absolute_urls_and_mailto_kept() -> None:
    out = sanitize_html(
        '<a href="https://x.example/a?b=1&amp;c=2">x</a><a href="mailto:a@b.vn">m</a>', BASE
    )
    assert 'href="https://x.example/a?b=1&amp;c=2"' in out and 'href="mailto:a@b.vn"' in out


def test_broken_markup_is_balanced() -> None:
    out = sanitize_html("<p>Mở <b>đậm <i>nghiêng</p> <div>", BASE)
    assert out.count("<b>") == out.count("</b>") and out.count("<i>") == out.count("</i>")


def test_huge_body_is_capped_with_read_more_link() -> None:
    body = "<p>" + "Tin tức Hải Phòng. " * 20_000 + "</p>"
    out = sanitize_html(body, BASE, max_chars=10_000)
    assert len(out) < 11_000
    assert feed_words("vi").read_more in out and f'href="{BASE}"' in out
    assert sanitize_html("<p>ngắn</p>", BASE, max_chars=10_000) == "<p>ngắn</p>"


@pytest.mark.parametrize(
    ("plain", "html"),
    [
        # a CMS export in plain text: blank lines part paragraphs, a newline breaks a line
        (
            "Chiều 14-12, Huyện ủy họp.\n\nQuang cảnh Hội nghị\nẢnh: T.H\n\n\nNăm 2021...",
            "<p>Chiều 14-12, Huyện ủy họp.</p><p>Quang cảnh Hội nghị<br>Ảnh: T.H</p>"
            "<p>Năm 2021...</p>",
        ),
        ("dòng 1\r\n  \r\ndòng 2\rdòng 3", "<p>dòng 1</p><p>dòng 2<br>dòng 3</p>"),
        ("AT&T và &amp; 1 > 0\n\nhết", "<p>AT&amp;T và &amp; 1 &gt; 0</p><p>hết</p>"),
        ("một dòng, không đoạn", "một dòng, không đoạn"),
        ("  \n\n  ", ""),
    ],
)
def test_plain_text_keeps_its_paragraphs(plain: str, html: str) -> None:
    assert sanitize_html(plain, BASE) == html


def test_long_plain_text_is_capped_with_read_more_link() -> None:
    out = sanitize_html("Đoạn văn dài.\n\n" * 2_000, BASE, max_chars=1_000)
    assert (
        out.startswith("<p>Đoạn văn dài.</p>")
        and feed_words("vi").read_more in out
        and len(out) < 2_000
    )


def test_control_characters_removed_from_html() -> None:
    out = sanitize_html("<p>a\x0bb\ud83dc\x00</p>", BASE)
    assert out == "<p>a bc</p>"


@pytest.mark.parametrize(
    ("html", "clean"),
    [
        ("<p>Giá vàng&#11;tăng mạnh</p>", "<p>Giá vàng tăng mạnh</p>"),  # issue #12 §5
        ("<p>a&#xFFFE;b&#0;c&#xD800;d&#1;e&#x1FFFF;f</p>", "<p>ab\ufffdc\ufffdde" + "f</p>"),
        ('<a href="/x" title="t&#11;u&#x1b;">x</a>', "t u"),
        ("Giá vàng&#11;tăng", "Giá vàng tăng"),  # plain text with a reference
    ],
)
def test_character_references_decoded_by_the_sanitiser_are_cleaned_too(
    html: str, clean: str
) -> None:
    out = sanitize_html(html, BASE)
    assert clean in out
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\U0001ffff]", out)


def test_plain_text() -> None:
    assert plain_text("<p>Một</p><p>Hai&nbsp;&amp; ba</p><br>bốn") == "Một Hai & ba bốn"
    assert plain_text("<script>x()</script>Chỉ chữ") == "Chỉ chữ"
    assert plain_text("a < b và c > d") == "a < b và c > d"
    text = plain_text("Công an " * 100, max_chars=30)
    assert len(text) <= 31 and text.endswith("…") and not text.startswith(" ")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/anh.jpg", "https://baohaiphong.example/anh.jpg"),
        ("https://cdn.example/a.png", "https://cdn.example/a.png"),
        ("javascript:alert(1)", None),
        ("http://[::1", None),
        ("data:image/png;base64,AAAA", None),
    ],
)
def test_absolute_url(url: str, expected: str | None) -> None:
    assert absolute_url(url, BASE) == expected


GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
HOST = "https://baohaiphong.example"


@pytest.mark.parametrize(
    ("body", "src"),
    [
        # the shape of #13 §4: a placeholder data: URI and the real address in data-src
        (f'<img src="{GIF}" data-src="/uploads/2026/11/hien-truong.jpg" alt="Hiện trường">',
         f"{HOST}/uploads/2026/11/hien-truong.jpg"),
        (f'<img src="{GIF}" data-original="anh/1.jpg" alt="Hiện trường">',
         f"{HOST}/thoi-su/anh/1.jpg"),
        ('<img data-lazy-src="//cdn.example/a.jpg" alt="Hiện trường">', "https://cdn.example/a.jpg"),
        ('<img data-srcset="/a-480.jpg 480w, /a-800.jpg 800w" alt="Hiện trường">',
         f"{HOST}/a-480.jpg"),
        ('<img srcset="/a.jpg?w=480,h=320 1x, /b.jpg 2x" alt="Hiện trường">',
         f"{HOST}/a.jpg?w=480,h=320"),
        ('<img data-lazy-srcset="/c.jpg" alt="Hiện trường">', f"{HOST}/c.jpg"),
        # a real-looking placeholder in src loses to the lazy attribute
        ('<img src="/images/blank.gif" data-src="/that.jpg" alt="Hiện trường">',
         f"{HOST}/that.jpg"),
        # no lazy attribute: src as before; an unusable lazy value falls back to src
        ('<img src="/anh.jpg" alt="Hiện trường">', f"{HOST}/anh.jpg"),
        ('<img src="/anh.jpg" data-src="javascript:alert(1)" alt="Hiện trường">',
         f"{HOST}/anh.jpg"),
        # odd spelling and quoting is the parser's business, not ours
        (f"<IMG SRC='{GIF}' DATA-SRC='/Ảnh hiện trường.jpg' ALT='Hiện trường' width=600>",
         f"{HOST}/%E1%BA%A2nh%20hi%E1%BB%87n%20tr%C6%B0%E1%BB%9Dng.jpg"),
        ('<img data-src="  https://cdn.example/x.jpg  " alt="Hiện trường"/>',
         "https://cdn.example/x.jpg"),
    ],
)  # fmt: skip
def test_lazy_images_get_their_real_source(body: str, src: str) -> None:
    out = sanitize_html(f"<p>Trước {body} sau</p>", BASE)
    [img] = re.findall(r"<img[^>]*>", out)
    assert re.findall(r'src="([^"]*)"', img) == [src.replace("&", "&amp;")]
    assert 'alt="Hiện trường"' in img
    assert "data-" not in img and "srcset" not in img and "data:" not in out
    assert out.startswith("<p>Trước ") and out.endswith(" sau</p>")


@pytest.mark.parametrize(
    "body",
    [
        f'<img src="{GIF}" alt="Hiện trường">',
        f'<img src="{GIF}" data-src="{GIF}" alt="Hiện trường">',
        '<img data-src="javascript:alert(1)" alt="Hiện trường">',
        '<img data-srcset="" src="" alt="Hiện trường">',
        '<img alt="Hiện trường">',
        '<img data-original="data:image/png;base64,AAAA" alt="Hiện trường">',
        '<img src="vbscript:x" data-lazy-src="mailto:a@b.vn" alt="Hiện trường">',
    ],
)
def test_an_image_without_a_usable_source_is_dropped(body: str) -> None:
    out = sanitize_html(f"<p>Trước {body} sau</p>", BASE)
    assert out == "<p>Trước  sau</p>"


def test_several_images_settle_independently_and_other_markup_is_untouched() -> None:
    out = sanitize_html(
        f'<figure><img src="{GIF}" data-src="/1.jpg" alt="một"><figcaption>A &amp; B'
        f'</figcaption></figure><img src="{GIF}" alt="hai"><a href="/x">'
        '<img data-srcset="/3.jpg 2x" alt="ba" title="a &quot;b&quot; &gt; c"></a>',
        BASE,
    )
    assert re.findall(r"<img[^>]*>", out) == [
        f'<img src="{HOST}/1.jpg" alt="một">',
        f'<img src="{HOST}/3.jpg" alt="ba" title="a &quot;b&quot; &gt; c">',
    ]
    assert "<figcaption>A &amp; B</figcaption>" in out
    assert f'<a href="{HOST}/x" rel="noopener noreferrer"><img' in out


@pytest.mark.parametrize(
    "fallback",
    [
        '<noscript><img src="/1.jpg" alt="một"></noscript>',
        '<NOSCRIPT><img src="/1.jpg"></NOSCRIPT>',
        "<noscript>Bật JavaScript để xem ảnh</noscript>",
        '<template><img src="/1.jpg"></template>',
    ],
)
def test_a_noscript_fallback_is_dropped_not_shown_as_markup(fallback: str) -> None:
    """Lazy-loading pages pair the lazy ``<img>`` with a ``<noscript>`` copy, which the HTML
    parser reads as raw text: it showed as literal ``<img src=…>`` text in feeds."""
    body = f'<p>Trước <img src="{GIF}" data-src="/1.jpg" alt="một">{fallback} sau</p>'
    out = sanitize_html(body, BASE)
    assert out == f'<p>Trước <img src="{HOST}/1.jpg" alt="một"> sau</p>'
    assert plain_text(body) == "Trước sau"


def test_plain_text_collapses_exactly_what_regex_whitespace_is() -> None:
    """``plain_text`` collapses whitespace with ``str.split()``: the same characters as re's
    ``\\s`` for every code point, so the result is what ``re.sub(r"\\s+", " ", t).strip()``
    gave (the form it replaced)."""
    whitespace = re.compile(r"\s")
    differ = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if not 0xD800 <= c <= 0xDFFF and bool(whitespace.match(chr(c))) != chr(c).isspace()
    ]
    assert differ == []
    spaces = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    text = f"{spaces}a{spaces}b c\u00a0\u2028d{spaces}"
    assert plain_text(text) == re.sub(r"\s+", " ", xml_clean(text)).strip() == "a b c d"


#: The bidirectional embedding, override and isolate controls (feedsvc.bidi), each one.
BIDI = [
    chr(c) for first, last in ((0x202A, 0x202E), (0x2066, 0x2069)) for c in range(first, last + 1)
]


@pytest.mark.parametrize("bidi", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_controls_are_cleaned_like_other_controls(bidi: str) -> None:
    """Tester F14: U+202E in an article's title reached every feed and alert, reversing the
    rest of the line in readers' apps, while the admin refuses it in typed text. Removed by the
    one cleaner, as plain text, in HTML, as a character reference, in plain_text's excerpt."""
    assert xml_clean(f"Kiến Thụy {bidi} điều khiển \x07 chuông") == "Kiến Thụy  điều khiển  chuông"
    assert xml_clean(f"{bidi}{bidi}abc{bidi}") == "abc"
    html = sanitize_html(f"<p>Công an {bidi}xã</p><p>&#x{ord(bidi):X};Đại Đồng</p>", BASE)
    assert html == "<p>Công an xã</p><p>Đại Đồng</p>"
    assert sanitize_html(f"trộm {bidi}cắp", BASE) == "trộm cắp"  # plain-text body
    assert plain_text(f"<b>Nóng{bidi}</b> &#{ord(bidi)}; tin") == "Nóng tin"


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u061c", "\u200c", "\u200d"])
def test_direction_marks_and_joiners_stay(mark: str) -> None:
    """LRM, RLM, ALM set no direction beyond themselves (mixed-direction text needs them) and
    the joiners are part of some scripts and emoji: kept, as the admin keeps them."""
    assert xml_clean(f"số 10{mark} người") == f"số 10{mark} người"


def test_the_cleaner_and_the_admins_refusal_name_the_same_characters() -> None:
    """One definition (feedsvc.bidi): what the admin refuses in typed text is what feeds and
    alerts clean out of article text, among the format characters (Cf)."""
    import unicodedata

    from feedsvc.fieldtext import control_char

    format_chars = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    cleaned = [c for c in format_chars if xml_clean(c) == ""]
    refused = [c for c in format_chars if control_char(c) is not None]
    assert cleaned == refused == BIDI


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ví-dụ.vn/tin/một", "https://xn--v-d-rma6749a.vn/tin/m%E1%BB%99t"),
        ("https://Ví-Dụ.VN:8443/x?q=đ#a", "https://xn--v-d-rma6749a.vn:8443/x?q=%C4%91#a"),
        ("https://user@báo.vn/", "https://xn--bo-mia.vn/"),  # no user name published
        ("https://báo.vn", "https://xn--bo-mia.vn"),
        ("/tin/số-1", "https://xn--bo-mia.vn/tin/s%E1%BB%91-1"),
        ("https://xn--bo-mia.vn/a", "https://xn--bo-mia.vn/a"),
        ("https://ví dụ.vn/", "https://v%C3%AD%20d%E1%BB%A5.vn/"),  # no host name: as before
    ],
)
def test_a_non_ascii_host_is_written_in_idna(url: str, expected: str) -> None:
    """Percent-encoded like the path (``https://v%C3%AD-d%E1%BB%A5.vn/``), the host was one no
    resolver finds; feed readers that are not browsers failed on it (RFC 3987 §3.1)."""
    assert absolute_url(url, "https://báo.vn/a/") == expected


@pytest.mark.parametrize("summary", EMPTIED_SUMMARIES)
def test_a_summary_that_shows_nothing_is_no_summary(summary: str) -> None:
    assert shown_summary(summary) is None


@pytest.mark.parametrize("summary", ["<p>Tóm tắt</p>", "\u200bBão", "<b>0</b>", "a&nbsp;"])
def test_a_summary_that_shows_something_is_kept_as_written(summary: str) -> None:
    assert shown_summary(summary) == summary


@pytest.mark.parametrize("summary", EMPTIED_SUMMARIES)
def test_a_feed_item_of_an_emptied_summary_shows_the_body(summary: str) -> None:
    """The item's text summary is the body's start, and no empty HTML summary is sent (feed
    readers showed an empty summary above the content)."""
    body = "<p>Sáng nay, người dân xã Đoàn Xá phát hiện sự việc.</p>"
    item = prepare_item("https://example.vn/", article(1, summary=summary, body=body), "vi")
    assert item.summary_text == "Sáng nay, người dân xã Đoàn Xá phát hiện sự việc."
    assert item.summary_html is None
    assert item.content_html is not None and "Đoàn Xá" in item.content_html


@pytest.mark.parametrize("body", ["\u200b", "<p>&nbsp;</p>", ""])
def test_a_feed_item_showing_no_text_at_all_falls_back_to_its_title(body: str) -> None:
    item = prepare_item("https://example.vn/", article(1, summary="\u200b", body=body), "vi")
    assert item.summary_text == item.title


@pytest.mark.parametrize(
    ("fragment", "lines"),
    [
        ("<p>Đoạn 1 &amp; 2</p><p>Đoạn 2…</p>", "Đoạn 1 & 2\nĐoạn 2…"),
        ("a<br>b<br/><br>c", "a\nb\nc"),  # one line break per boundary, however many
        ("<ul><li>một</li><li>hai</li></ul><h2>Tiêu đề</h2>", "một\nhai\nTiêu đề"),
        ("<p>&nbsp;</p><div>x\n   y</div>", "x y"),  # HTML's newline is whitespace
        ("<b>a &#10; b</b>", "a b"),  # a decoded one too
        ("dòng một\n\n  dòng  hai\r\nba", "dòng một\ndòng hai\nba"),  # plain text: its own
        ("AT&T\nx &amp; y", "AT&T\nx & y"),
        ("Sách <Số đỏ> tái bản<br>mới", "Sách <Số đỏ> tái bản\nmới"),
        ("<script>x()</script>ok\u202e", "ok"),
        ("", ""),
    ],
)
def test_plain_lines_keeps_paragraphs_and_line_breaks(fragment: str, lines: str) -> None:
    assert plain_lines(fragment) == lines
