"""A topic page that shows fewer articles than the topic holds says so under its list.

Found by looking (the ``looks`` pass): the page's head said "72 bài", the list below held the
newest 30 (:data:`feedsvc.pages.render.TOPIC_ARTICLES`) and simply ended: a reader scrolling
to the bottom was left wondering where the other 42 were. Now the list ends with "Đây là 30
bài mới nhất trong 72 bài của chủ đề." (English too); a topic the page shows whole says nothing.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_reader_pages import served  # noqa: F401  (the fixture)

from feedsvc.catalogue import Translator
from feedsvc.pages import PageArticle, PageTopic, Site, Subscribe
from feedsvc.pages.render import TOPIC_ARTICLES, render_topic

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

SITE = Site("Tin tức Hải Phòng", "https://example.vn/", "https://tin.example.vn")
T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def topic(count: int, listed: int) -> PageTopic:
    articles = [
        PageArticle(f"Kiến Thụy: tin số {n}", f"https://example.vn/{n}", T0 - timedelta(hours=n))
        for n in range(listed)
    ]
    feeds = {"rss": "https://tin.example.vn/feeds/kien-thuy.rss"}
    return PageTopic("kien-thuy", "Kiến Thụy", "", count, articles, Subscribe(feeds))


@pytest.mark.parametrize(
    ("count", "listed", "vi", "en"),
    [
        (72, 40, "Đây là 30 bài mới nhất trong 72 bài", "newest 30 of 72 articles in this topic"),
        (31, 31, "Đây là 30 bài mới nhất trong 31 bài", "newest 30 of 31 articles"),
        (1234, 30, "trong 1.234 bài", "of 1,234 articles"),
        # fewer read than the count (taken down since the count): what is shown is said
        (12, 10, "Đây là 10 bài mới nhất trong 12 bài", "newest 10 of 12 articles"),
    ],
)
def test_a_page_showing_part_of_a_topic_says_so(count: int, listed: int, vi: str, en: str) -> None:
    for language, words in (("vi", vi), ("en", en)):
        html = render_topic(Translator(language), SITE, topic(count, listed)).decode()
        assert html.count("<article") == min(listed, TOPIC_ARTICLES)
        note = html.split('<p class="muted small" id="shown">', 1)[1].split("</p>", 1)[0]
        assert words in note, (language, note)
        assert html.index('id="shown"') > html.rindex("</article>")  # where the list ends


@pytest.mark.parametrize(("count", "listed"), [(30, 30), (5, 5), (0, 0), (1, 1)])
def test_a_page_showing_the_whole_topic_says_nothing_more(count: int, listed: int) -> None:
    for language in ("vi", "en"):
        html = render_topic(Translator(language), SITE, topic(count, listed)).decode()
        assert 'id="shown"' not in html


def test_the_served_topic_page_says_it_shows_the_newest_30_of_35(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, _ = served
    page = client.get("/topics/kien-thuy").text
    assert "35 bài" in page
    assert "Đây là 30 bài mới nhất trong 35 bài của chủ đề." in page
