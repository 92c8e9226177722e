"""``feedsvc.feeds.words``: the words a feed itself holds follow ``site.language``.

A verifier's: an English site's feeds declared ``<language>vi</language>``, titled an item
with no visible title "(Không có tiêu đề)", ended a cut body with "Đọc tiếp …" and described
a search feed as "Tìm kiếm: …"; its reader pages showed the same Vietnamese title.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from factories import article

from feedsvc.config import load_config
from feedsvc.feeds.model import clear_item_cache
from feedsvc.feeds.render import render_formats
from feedsvc.feeds.sanitize import MAX_HTML_CHARS
from feedsvc.feeds.words import feed_words
from feedsvc.pages import page_article
from feedsvc.publish.metas import search_metas, topic_metas
from feedsvc.store.records import Topic

ATOM = "{http://www.w3.org/2005/Atom}"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
TOPIC = Topic(1, "kt", "Kiến Thụy", "", "Kiến Thụy", True, "cli", WHEN)
#: What each language says, and what the other one would have said.
WORDS = {
    "vi": ("vi", "(Không có tiêu đề)", "Đọc tiếp", "Tìm kiếm: “bão”"),  # quoted as the title
    "en": ("en", "(Untitled)", "Read more", "Search: “bão”"),
}
#: Titles with no visible text: markup only, a control character's reference, an image.
BLANK_TITLES = ["<br>", "<b></b>", "&#11;", "<img src=x>"]


def settings(language: str):  # type: ignore[no-untyped-def]
    return load_config(
        None,
        {
            "site": {"title": "Tin tức", "url": "https://example.vn/", "language": language},
            "http": {"public_url": "https://tin.example.vn/"},
        },
    )


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_item_cache()  # an item prepared in the other language must not be the one served


@pytest.mark.parametrize("blank", BLANK_TITLES)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_topic_feeds_own_words_are_in_the_sites_language(language: str, blank: str) -> None:
    code, untitled, read_more, _ = WORDS[language]
    other = WORDS["en" if language == "vi" else "vi"]
    items = [
        article(1, title=blank),
        article(2, body="<p>" + "Bão số 3. " * (MAX_HTML_CHARS // 10 + 10) + "</p>"),
    ]
    bodies = render_formats(topic_metas(settings(language), TOPIC), items)

    rss = ET.fromstring(bodies["rss"]).find("channel")
    assert rss is not None and rss.findtext("language") == code
    rss_items = rss.findall("item")
    assert untitled in [i.findtext("title") for i in rss_items]
    assert f"{read_more} …" in "".join("".join(i.itertext()) for i in rss_items)

    atom = ET.fromstring(bodies["atom"])
    assert untitled in [e.findtext(f"{ATOM}title") for e in atom.iter(f"{ATOM}entry")]
    assert f"{read_more} …" in "".join(c.text or "" for c in atom.iter(f"{ATOM}content"))

    doc = json.loads(bodies["json"])
    assert doc["language"] == code
    assert untitled in [i.get("title") for i in doc["items"]]
    assert any(f"{read_more} …" in i.get("content_html", "") for i in doc["items"])

    every = b"".join(bodies.values()).decode()
    assert other[1] not in every and f"{other[2]} …" not in every


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_search_feed_is_described_in_the_sites_language(language: str) -> None:
    code, _, _, description = WORDS[language]
    metas = search_metas(settings(language), "bão")
    assert {(m.language, m.description) for m in metas.values()} == {(code, description)}


@pytest.mark.parametrize("blank", BLANK_TITLES)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_reader_pages_untitled_article_is_in_the_sites_language(
    language: str, blank: str
) -> None:
    shown = page_article(article(1, title=blank), "https://example.vn/", language)
    assert shown.title == WORDS[language][1]


def test_formats_of_one_feed_in_two_languages_are_refused() -> None:
    """Items are prepared once per render: the formats must agree on the words."""
    metas = topic_metas(settings("vi"), TOPIC) | {
        "json": topic_metas(settings("en"), TOPIC)["json"]
    }
    with pytest.raises(ValueError, match="language"):
        render_formats(metas, [article(1)])


def test_an_unknown_language_reads_as_vietnamese() -> None:
    assert feed_words("fr") == feed_words("vi")
