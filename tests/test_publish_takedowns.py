"""Stored renders that show an article not public now, read from the bytes
(``feedsvc.publish.takedowns``): the JSON feed's item ids, the index page's links."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from feedsvc.feeds.model import article_guid
from feedsvc.publish.takedowns import Sought, showing, showing_each
from feedsvc.store.snapshots import StoredSnapshot

SITE = "https://baohaiphong.vn/"
AT = datetime(2026, 11, 30, tzinfo=UTC)


def json_feed(slug: str, *keys: str) -> StoredSnapshot:
    items = [{"id": article_guid(SITE, k), "url": f"{SITE}tin/{k}", "title": k} for k in keys]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()
    return StoredSnapshot(slug, "json", body, '"e"', AT)


def snap(slug: str, fmt: str, body: bytes) -> StoredSnapshot:
    return StoredSnapshot(slug, fmt, body, '"e"', AT)


def test_topics_whose_json_feed_lists_an_unpublic_article() -> None:
    gone = Sought.of([("K-2", "/tin/K-2?a=1&b=2")], SITE)
    stored = [
        json_feed("a", "K-1"),
        json_feed("b", "K-1", "K-2"),
        snap("c", "rss", b"<rss>K-2</rss>"),  # only the JSON feed is read: same items
        json_feed("d"),
    ]
    assert showing(stored, gone, "_index") == ({"b"}, False)


def test_an_unreadable_json_feed_is_rendered_again() -> None:
    gone = Sought.of([("K-9", "/x")], SITE)
    for body in (b"{not json", b'{"items": 5}', b'{"items": [{"no": "id"}]}', b"[]"):
        assert showing([snap("a", "json", body)], gone, "_index") == ({"a"}, False), body


def test_the_index_page_links_to_an_unpublic_article() -> None:
    gone = Sought.of([("K-2", "/tin/K-2?a=1&b=2")], SITE)
    linked = b'<li><a href="https://baohaiphong.vn/tin/K-2?a=1&amp;b=2">x</a></li>'
    assert showing([snap("_index", "html", linked)], gone, "_index") == (set(), True)
    other = b'<li><a href="https://baohaiphong.vn/tin/K-3">x</a></li>'
    assert showing([snap("_index", "html", other)], gone, "_index") == (set(), False)


def test_nothing_unpublic_reads_nothing() -> None:
    assert showing([snap("a", "json", b"{not json")], Sought.of([], SITE), "_index") == (
        set(),
        False,
    )


def test_unpublic_articles_are_named_as_the_renders_name_them() -> None:
    gone = Sought.of([("K 1", "tin/1.html"), ("K-2", "javascript:alert(1)")], SITE)
    assert gone.guids == {article_guid(SITE, "K 1"), article_guid(SITE, "K-2")}
    assert gone.urls == {"https://baohaiphong.vn/tin/1.html"}  # no link for a non-http URL


def test_several_sets_are_found_in_one_reading_each_on_its_own() -> None:
    """A restart looks for the articles not public now and those written since the watermark
    in the same bytes; an empty set finds nothing, even in an unreadable feed."""
    gone, edited = Sought.of([("K-2", "/tin/K-2")], SITE), Sought.of([("K-1", "/tin/K-1")], SITE)
    page = b'<li><a data-guid="' + article_guid(SITE, "K-1").encode() + b'" href="/x">x</a></li>'
    stored = [
        json_feed("a", "K-1"),
        json_feed("b", "K-2"),
        json_feed("c", "K-3"),
        snap("d", "json", b"{not json"),
        snap("_index", "html", page),
    ]
    found = showing_each(stored, [gone, edited, Sought.of([], SITE)], "_index")
    assert found == [({"b", "d"}, False), ({"a", "d"}, True), (set(), False)]
    assert showing_each(stored, [], "_index") == []


def test_every_stored_page_of_the_index_is_read() -> None:
    """``/`` is stored a page at a time (``_index``, ``_index/2``, …): an unpublic article on
    page 2 is found whatever the pages stored after it show (one page does not undo
    another's finding), and a topic's slug that merely starts alike is not a page."""
    gone = Sought.of([("K-2", "/tin/K-2")], SITE)
    on_it = b'<li data-guid="' + article_guid(SITE, "K-2").encode() + b'">x</li>'
    other = b'<li data-guid="' + article_guid(SITE, "K-3").encode() + b'">x</li>'
    pages = [snap("_index", "html", other), snap("_index/2", "html", on_it)]
    assert showing([*pages, snap("_index/3", "html", other)], gone, "_index") == (set(), True)
    assert showing([pages[0], snap("_index/3", "html", other)], gone, "_index") == (set(), False)
    assert showing([snap("_indexer", "html", on_it)], gone, "_index") == (set(), False)
