"""One address per article on every surface (``feedsvc.feeds.links``): the feeds' URI, in the
reader pages, Telegram's title link and "Đọc bài" button, the Zalo and Apprise texts and the
digests; written out in plain text so that a linkifier takes all of it.

A chat tester's report: an article URL ``https://example.vn/a?x=1&y=<2>"'`` (import takes it)
ended the Zalo text and the Apprise message raw, and a linkifier stops at ``<``/``"``, so a tap
opened ``…y=``; ``https://example.vn/[e]\\f`` went raw into Telegram's ``href``, its button and
the Zalo text, and a browser reads ``\\`` as ``/`` — another page; ``feedsvc render <slug>
--format json`` said ``…y=%3C2%3E%22'`` and ``…%5Cf``. The channels are real: the fake Bot API,
the fake Zalo Bot API and a local JSON receiver for Apprise, over HTTP; each test asserts what
the recipient got, against the address the feed renders (``render_feed``).
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from backend_cases import on_sqlite_only
from factories import VN, article
from fakebot import Fault
from test_alert_labels import CHANNELS, World, kind, world  # noqa: F401  (fixtures)
from test_digest_dispatch import CHAT

from feedsvc.articles import Article
from feedsvc.channels.plain import format_plain_alert
from feedsvc.digest.edge import DigestEdge
from feedsvc.digest.message import DigestEntry, DigestGroup, DigestWords, format_digest
from feedsvc.feeds import FeedMeta, render_feed
from feedsvc.feeds.links import article_link, spelled_link
from feedsvc.notify.message import format_alert
from feedsvc.pages.render import page_article

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SITE = "https://feeds.example.vn/"
WORDS = DigestWords("Tin tổng hợp · {count} tin", "Đọc tất cả", "(tiếp)")

TESTER = ["https://example.vn/a?x=1&y=<2>\"'", "https://example.vn/[e]\\f"]
#: what import takes (no whitespace, no control character), one shape a case
URLS = [
    *TESTER,
    "https://example.vn/tin-tức/kiến-thụy-1.html",  # Vietnamese letters in the path
    "https://ví-dụ.vn/tin/1",  # an IDN host
    "https://example.vn/wiki/Foo_(bar)",  # a balanced ")" at the end
    "https://example.vn/a)",  # one that closes nothing
    "https://example.vn/a)b/c",  # inside the path
    "https://example.vn/tin/1.",  # a full stop at the end
    "https://example.vn/a?q=x,y!",  # punctuation ending a query
    "https://example.vn/a#mục-2",  # a fragment
    "https://example.vn/a#top",
    "https://example.vn/a?b=`c`|{d}^",  # what a URI may not hold
    "https://user:pw@example.vn/a",  # a user name and password: never shown
]


def feed_link(url: str) -> str:
    """The address the JSON feed gives an article stored with ``url``."""
    meta = FeedMeta(title="K", description="T", site_url=SITE,
                    self_url="https://feeds.example.vn/k.{fmt}", feed_id="urn:k")  # fmt: skip
    return str(json.loads(render_feed(meta, [article(1, url=url)], "json"))["items"][0]["url"])


def linkified(text: str) -> str:
    """The link a chat app finds in plain ``text`` (its last ``http``), as tdlib's
    ``match_urls``/``fix_url`` and GitHub's autolinks find it: up to whitespace, ``<``, ``>``,
    ``"``, ``«``, ``»``; cut before a ``)``, ``]`` or ``}`` that closes nothing after the host;
    then its last characters ``.:;,('?!`*_~`` dropped."""
    start = text.rindex("http")
    link = re.match(r"[^\s<>\"«»]+", text[start:])
    assert link is not None
    found = link.group()
    host_end = found.find("/", found.index("//") + 2)
    depth = {"(": 0, "[": 0, "{": 0}
    closers = {")": "(", "]": "[", "}": "{"}
    end = len(found)
    for at in range(max(host_end, 0), len(found)):
        c = found[at]
        if c in depth:
            depth[c] += 1
        elif c in closers:
            depth[closers[c]] -= 1
            if depth[closers[c]] < 0:
                end = at
                break
    return found[:end].rstrip(".:;,('?!`*_~")


def opens_the_feeds_page(tapped: str, url: str) -> None:
    """What a tap opens is the page the feed links to: the same URI but for percent-encoding
    (RFC 3986 §6.2.2.2; a sub-delimiter's escape is read alike by browsers and servers)."""
    assert unquote(tapped) == unquote(feed_link(url)), (tapped, feed_link(url))


# -- the one address ------------------------------------------------------------------------------
@pytest.mark.parametrize("url", URLS)
def test_every_surface_links_the_feeds_address(url: str) -> None:
    link = feed_link(url)
    a = article(1, url=url, image_url="https://img.example.vn/1.jpg")
    assert article_link(a.url) == link and page_article(a, SITE).url == link
    alert = format_alert(a, ["Kiến Thụy"], TZ)
    assert f'<a href="{html.escape(link)}">' in alert.text
    part = format_digest([DigestEntry(1, a, DigestGroup("Kiến Thụy"))], TZ, WORDS)[0]
    assert f'<a href="{html.escape(link)}">' in part.message.text
    [[button]] = DigestEdge(TZ).buttons_for(article_link(a.url), [])
    assert button.url == link
    assert "\\" not in link and '"' not in link and "<" not in link and "pw@" not in link
    assert link.isascii()  # a letter of a path or host as the feeds write it


@pytest.mark.parametrize("url", URLS)
def test_written_out_a_linkifier_takes_all_of_it(url: str) -> None:
    """Telegram's plain alert, Zalo's and Apprise's text, a digest's plain form: the link a
    chat app finds in it opens the feed's page — never ``…y=`` or ``…/a`` for ``…/a)``."""
    a = article(1, url=url)
    texts = [
        format_alert(a, ["Kiến Thụy"], TZ).plain_text,
        format_plain_alert(a, ["Kiến Thụy"], TZ),
        format_digest([DigestEntry(1, a, DigestGroup("Kiến Thụy"))], TZ, WORDS)[
            0
        ].message.plain_text,
    ]
    for text in texts:
        tapped = linkified(text)
        assert tapped == spelled_link(feed_link(url))  # all of it
        opens_the_feeds_page(tapped, url)


@pytest.mark.parametrize(
    ("link", "spelled"),
    [
        ("https://example.vn/a?x=1&y=%3C2%3E%22'", "https://example.vn/a?x=1&y=%3C2%3E%22%27"),
        ("https://example.vn/a)", "https://example.vn/a%29"),
        ("https://example.vn/a)b", "https://example.vn/a%29b"),
        ("https://example.vn/w/Foo_(bar)", "https://example.vn/w/Foo_(bar%29"),
        ("https://example.vn/a.", "https://example.vn/a%2E"),
        ("https://example.vn/a?", "https://example.vn/a?"),  # an empty query: not the path's
        ("https://example.vn/a?q=b?", "https://example.vn/a?q=b%3F"),
        ("https://[::1]:8080/a", "https://[::1]:8080/a"),  # a host's brackets are the host's
        ("https://example.vn/[e]%5Cf", "https://example.vn/[e]%5Cf"),
        ("https://example.vn/a#top", "https://example.vn/a#top"),
    ],
)  # fmt: skip
def test_spelled_link(link: str, spelled: str) -> None:
    assert spelled_link(link) == spelled


def test_the_shown_input() -> None:
    assert feed_link(TESTER[0]) == "https://example.vn/a?x=1&y=%3C2%3E%22'"
    assert feed_link(TESTER[1]) == "https://example.vn/[e]%5Cf"
    a = article(1, url=TESTER[0])
    assert format_plain_alert(a, [], TZ).endswith("\nhttps://example.vn/a?x=1&y=%3C2%3E%22%27")


# -- what each channel's recipient gets ---------------------------------------------------------
def published(w: World, url: str) -> Article:
    n = len(w.published) + 1
    item = article(n, url=url, title=f"Công an Kiến Thụy tin {n}", summary=None, body=None,
                   tags=(), section=None,
                   published_at=datetime.now(VN) - timedelta(minutes=10 - n))  # fmt: skip
    w.published[n] = item
    w._ingest(item)
    return item


E2E = [TESTER[0], TESTER[1], URLS[2], URLS[5]]


@pytest.mark.parametrize(("db_url", "kind"), on_sqlite_only(CHANNELS), indirect=True)
async def test_each_channel_links_the_feeds_address(
    world: World,  # noqa: F811  (the imported fixture)
) -> None:
    world.follow(topic="an-ninh")
    for url in E2E:
        published(world, url)
        await world.settle()
    received = world.received()
    assert len(received) == len(E2E)
    if world.bot is None:  # Zalo, Apprise: plain text, the link written out last
        for text, url in zip(received, E2E, strict=True):
            assert text.endswith("\n" + spelled_link(feed_link(url)))
            opens_the_feeds_page(linkified(text), url)
        return
    for sent, url in zip(world.bot.messages(CHAT), E2E, strict=True):
        link = feed_link(url)
        assert f'<a href="{html.escape(link)}">' in sent.body  # the title's link
        assert sent.keyboard[0] == [{"text": "Đọc bài", "url": link}]  # the button


@pytest.mark.parametrize(("db_url", "kind"), on_sqlite_only(["telegram"]), indirect=True)
async def test_telegrams_plain_alert_and_a_digest(
    world: World,  # noqa: F811  (the imported fixture)
) -> None:
    """The plain text Telegram gets after "can't parse entities", and a digest's links."""
    assert world.bot is not None
    world.follow(topic="an-ninh")
    world.bot.script(CHAT, Fault.parse_error())
    published(world, TESTER[0])
    await world.settle()
    [plain] = world.bot.messages(CHAT)
    assert plain.parse_mode is None
    assert plain.body.endswith("\n" + spelled_link(feed_link(TESTER[0])))
    opens_the_feeds_page(linkified(plain.body), TESTER[0])
    world.digest()
    published(world, TESTER[1])
    published(world, URLS[2])
    await world.settle(1)
    assert len(world.bot.messages(CHAT)) == 1  # held for the hourly digest
    world.clock.at += timedelta(hours=1, minutes=1)
    await world.settle()
    digest = world.bot.messages(CHAT)[-1]
    assert digest.body.startswith("<b>Tin tổng hợp")
    for url in (TESTER[1], URLS[2]):
        assert f'<a href="{html.escape(feed_link(url))}">' in digest.body
