"""An embed a sloppy CMS left open (``<iframe src=x>``, ``<video controls>``… with no end tag)
reads as a browser reads it, in feeds, pages, alerts and matching alike.

Before, such a start tag was "a journalist's text" like a bare ``<script>``: feeds and alerts
printed ``<iframe src=x>`` and the matcher read the fallback (``Trình duyệt không hỗ trợ
video``) that the closed form hides. Now an embed's start tag with attributes is markup and its
content ends where the HTML Living Standard ends it (:mod:`feedsvc.markup_fallback`): html5lib,
an HTML5 tree builder, is the reference here. A bare ``<iframe>`` in a title or summary stays
text (``tests/test_unclosed_hidden.py``), and in a text field (a title) every unclosed embed
does: a headline keeps its words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import html5lib
import pytest
from lxml import html as lxml_html

from feedsvc.articles import Article
from feedsvc.channels.plain import format_plain_alert
from feedsvc.feeds.sanitize import field_text, plain_lines, plain_text, sanitize_html
from feedsvc.markup import HIDDEN_CONTENT, html_as_read
from feedsvc.matching import document_from_text, match_document, parse_query
from feedsvc.matching.normalize import visible_field_text, visible_text
from feedsvc.notify.message import format_alert
from feedsvc.pages.render import page_article

SITE = "https://baohaiphong.example"
URL = f"{SITE}/tin/1.html"

#: (summary or body as the CMS holds it, the text a browser shows)
OPEN_EMBEDS = [
    # raw text (iframe, noembed, noframes) and template: the rest of the field is theirs
    ("Hà Nội <iframe src=x> Kiến Thụy", "Hà Nội"),
    ("Hà Nội <IFRAME title='a>b' src=x> Kiến Thụy", "Hà Nội"),
    ('Hà Nội <iframe src="https://v.example/e" width=560 allowfullscreen> Kiến Thụy', "Hà Nội"),
    ("<p>Hà Nội <iframe src=x></p><p>Kiến Thụy</p>", "Hà Nội"),
    ("Hà Nội <noembed lang=vi>Không nhúng được <p>Kiến Thụy</p>", "Hà Nội"),
    ("Hà Nội <noframes class=x>Khung <b>Kiến Thụy</b>", "Hà Nội"),
    ("Hà Nội <template id=t><p>ẩn</p> Kiến Thụy", "Hà Nội"),
    ('Hà Nội <noscript class="lazy"><img src=a.jpg alt="ảnh"> Kiến Thụy', "Hà Nội"),
    # video, audio, canvas: up to the end tag of an element open before them
    ("Hà Nội <video src=x.mp4>Trình duyệt không hỗ trợ video<p>Kiến Thụy</p>", "Hà Nội"),
    ("<p>Hà Nội <video src=x.mp4>Trình duyệt không hỗ trợ</p><p>Kiến Thụy</p>", "Hà Nội Kiến Thụy"),
    ("<div><p>Hà Nội <VIDEO controls><b>Trình <i>duyệt</p> Kiến Thụy</div> tin", None),
    ("<p>Hà Nội <audio controls><source src=a.mp3>Không hỗ trợ<br>âm thanh</p>Kiến Thụy", None),
    ("<p>Hà Nội <canvas id=c>Trình duyệt <span>cũ</span> quá</p> Kiến Thụy", "Hà Nội Kiến Thụy"),
    ("<p>Hà Nội <video controls><iframe src=y></iframe>Trình duyệt</p> Kiến Thụy", None),
    ("<p>Hà Nội <video controls><script>x</script>Trình duyệt</p> Kiến Thụy", None),
    ("<ul><li>Hà Nội <video controls>Trình duyệt</li><li>Kiến Thụy</li></ul>", None),
    # nested, neither closed: the inner one's rules hold inside the outer's fallback
    ("<p>Hà Nội <video controls><iframe src=y>Trình duyệt</p> Kiến Thụy", "Hà Nội"),
    ("<p>Hà Nội <video controls><AUDIO src=a>Trình duyệt</p> Kiến Thụy", "Hà Nội Kiến Thụy"),
    ("<div>Hà Nội <canvas id=c><p><video controls>Trình duyệt</p>cũ</div> Kiến Thụy", None),
    ("Hà Nội <video controls><video controls>Trình duyệt", "Hà Nội"),
]
WORDS_HIDDEN = ("trình duyệt", "không hỗ trợ", "khung", "ẩn", "âm thanh", "nhúng")


def _browser_text(fragment: str) -> str:
    """What an HTML5 tree builder (html5lib) shows: every text node outside a hidden element."""
    root = html5lib.parseFragment(fragment, treebuilder="etree", namespaceHTMLElements=False)
    words: list[str] = [root.text or ""]

    def walk(node: ElementTree.Element) -> None:
        if isinstance(node.tag, str) and node.tag.lower() not in HIDDEN_CONTENT:
            words.append(node.text or "")
            for child in node:
                walk(child)
        words.append(node.tail or "")

    for child in root:
        walk(child)
    return " ".join(" ".join(words).split())


def _feed_html_text(fragment: str) -> str:
    cleaned = sanitize_html(fragment, URL)
    root = lxml_html.fragment_fromstring(cleaned or "<i></i>", create_parent="div")
    return " ".join(root.text_content().split())


def _body_of(alert: str) -> str:
    """An alert's summary: the paragraph after the title and time, whitespace collapsed."""
    return " ".join(alert.split("\n\n")[1].split())


def _expected(fragment: str, shown: str | None) -> str:
    browser = _browser_text(fragment)
    if shown is not None:
        assert browser == shown  # the table says what the reference says
    return browser


@pytest.mark.parametrize(("fragment", "shown"), OPEN_EMBEDS)
def test_an_open_embed_shows_what_a_browser_shows(fragment: str, shown: str | None) -> None:
    text = _expected(fragment, shown)
    assert plain_text(fragment) == text
    assert " ".join(plain_lines(fragment).split()) == text
    assert _feed_html_text(fragment) == text
    assert " ".join(visible_text(fragment).split()) == text
    assert "iframe" not in html_as_read(fragment).lower().replace("</iframe>", "")


@pytest.mark.parametrize(("fragment", "shown"), OPEN_EMBEDS)
def test_a_topic_matches_what_is_shown_and_never_the_fallback(
    fragment: str, shown: str | None
) -> None:
    text = _expected(fragment, shown)
    doc = document_from_text("Tin", fragment, summary=fragment)
    assert match_document(parse_query('"Kiến Thụy"'), doc) == ("Kiến Thụy" in text)
    for words in WORDS_HIDDEN:
        if words in fragment.lower():
            assert not match_document(parse_query(f'"{words}"'), doc), words


@pytest.mark.parametrize(("fragment", "shown"), OPEN_EMBEDS)
def test_pages_and_alerts_show_what_a_browser_shows(fragment: str, shown: str | None) -> None:
    text = _expected(fragment, shown)
    article = Article(
        source_key="UE-1",
        url=URL,
        title="Tin",
        summary=fragment,
        body=fragment,
        published_at=datetime(2024, 5, 1, 3, 0, tzinfo=UTC),
    )
    assert page_article(article, SITE).summary == text
    alert = format_alert(article, ["Thời sự"], UTC)
    assert _body_of(alert.plain_text) == text
    assert "<iframe" not in alert.text.lower() and "&lt;iframe" not in alert.text.lower()
    plain = format_plain_alert(article, ["Thời sự"], UTC)
    assert _body_of(plain) == text


@pytest.mark.parametrize(
    "fragment",
    [
        "Hà Nội <iframe src=x></iframe> Kiến Thụy",
        "Hà Nội <video src=x.mp4>Trình duyệt không hỗ trợ video</video> Kiến Thụy",
        "Hà Nội <CANVAS id='a>b'>Trình duyệt cũ</canvas> Kiến Thụy",
        "Hà Nội <audio controls><source src=a.mp3>Không hỗ trợ</AUDIO > Kiến Thụy",
    ],
)
def test_the_closed_forms_read_as_before(fragment: str) -> None:
    assert plain_text(fragment) == _feed_html_text(fragment) == "Hà Nội Kiến Thụy"
    assert _browser_text(fragment) == "Hà Nội Kiến Thụy"


@pytest.mark.parametrize(
    "title",
    [
        "Thuộc tính <video controls> bị lỗi trên Safari",
        "Nhúng <iframe src=x> vào bài Kiến Thụy",
        "Lỗi <CANVAS width=1> trắng Kiến Thụy",
        "<b>Lỗi</b> <template id=t> trắng",
    ],
)
def test_an_open_embed_in_a_title_is_text(title: str) -> None:
    shown = title.replace("<b>", "").replace("</b>", "")
    assert field_text(title) == shown
    assert " ".join(visible_field_text(title).split()) == shown


def test_a_closed_embed_in_a_title_is_still_hidden() -> None:
    assert field_text("Tin <video src=x>Trình duyệt</video> Kiến Thụy") == "Tin Kiến Thụy"
