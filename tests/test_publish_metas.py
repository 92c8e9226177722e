"""What a feed says about itself (``feedsvc.publish.metas``): a search feed's title shows the
query once quoted (a phrase query was quoted twice, ``“"công an"”``), and the OPML list gives
each topic's own page as ``htmlUrl`` (OPML 2.0: the page the feed is about; it was the site's
home for every topic)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from feedsvc.config import load_config
from feedsvc.fieldtext import quoted_query
from feedsvc.publish.metas import opml_body, search_metas, topic_metas
from feedsvc.store.records import Topic
from feedsvc.store.subscriptions import Subscription

SETTINGS = load_config(
    None,
    {
        "site": {"title": "Tin tức Hải Phòng", "url": "https://example.vn/"},
        "http": {"public_url": "https://tin.example.vn/"},
    },
)
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("công an", "“công an”"),
        ('"công an"', '"công an"'),
        ("“an ninh”", "“an ninh”"),
        ('"công an" OR "cảnh sát"', '"công an" OR "cảnh sát"'),
        ('kien thuy -"quảng cáo"', 'kien thuy -"quảng cáo"'),
        ("title:bão", "“title:bão”"),
    ],
)
def test_a_search_feed_title_quotes_the_query_once(query: str, title: str) -> None:
    metas = search_metas(SETTINGS, query)
    assert {meta.title for meta in metas.values()} == {f"{title} — Tin tức Hải Phòng"}
    for meta in metas.values():
        assert '“"' not in meta.title and '"”' not in meta.title and "““" not in meta.title


def test_a_subscription_to_a_query_is_labelled_like_a_search_feed() -> None:
    sub = Subscription(1, 5, None, None, '"công an"')
    assert sub.label == '"công an"' == quoted_query('"công an"')
    assert Subscription(2, 5, None, None, "bão lũ").label == "“bão lũ”"


def test_opml_html_url_is_each_topics_page() -> None:
    topics = [
        Topic(1, "kien-thuy", "Kiến Thụy", "", '"kiến thụy"', True, "api", WHEN),
        Topic(2, "an-ninh", "An ninh", "", "an ninh", True, "api", WHEN),
        Topic(3, "tat", "Tắt", "", "tắt", False, "api", WHEN),
    ]
    root = ET.fromstring(opml_body(SETTINGS, topics))
    outlines = [(o.get("xmlUrl"), o.get("htmlUrl")) for o in root.iter("outline")]
    assert outlines == [
        ("https://tin.example.vn/feeds/kien-thuy.rss", "https://tin.example.vn/topics/kien-thuy"),
        ("https://tin.example.vn/feeds/an-ninh.rss", "https://tin.example.vn/topics/an-ninh"),
    ]


def test_a_limit_variant_names_its_own_address_and_no_hub() -> None:
    """``/feeds/an-ninh.rss?limit=70`` named ``/feeds/an-ninh.rss`` as self (the validator's
    ``SelfDoesntMatchLocation``); it names itself now, and no WebSub hub, which is pinged for the
    plain addresses only."""
    settings = SETTINGS.model_copy(
        update={"http": SETTINGS.http.model_copy(update={"websub_hub": "https://hub.example/"})}
    )
    topic = Topic(2, "an-ninh", "An ninh", "", "an ninh", True, "api", WHEN)
    plain = topic_metas(settings, topic)
    for limit in (1, 7, 70, 200):
        limited = topic_metas(settings, topic, limit)
        for fmt, meta in limited.items():
            assert meta.self_url == f"https://tin.example.vn/feeds/an-ninh.{fmt}?limit={limit}"
            assert meta.hub_url is None
            assert meta.feed_id == plain[fmt].feed_id  # the same feed, fewer or more items
    assert {m.self_url for m in plain.values()} == {
        f"https://tin.example.vn/feeds/an-ninh.{fmt}" for fmt in ("rss", "atom", "json")
    }
    assert {m.hub_url for m in plain.values()} == {"https://hub.example/"}
