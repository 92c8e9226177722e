"""The reader pages from a real service: ``/`` and ``/topics/{slug}`` rendered from the state DB,
served from snapshots (same bytes and ETag while nothing changes), re-rendered when ingest adds
an article, valid HTML5, and linking to the bot (learnt with getMe from the fake Bot API).

SQLite only: this module is about the pages; the SQL behind them (topics, articles, snapshots)
is the storage layer's, run on PostgreSQL by ``test_index_page.py``, ``test_store_snapshots.py``,
``test_publish.py`` and ``test_warm_start.py``."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import html5lib
import pytest
from factories import EMPTIED_SUMMARIES, article
from fakebot import FakeBotAPI
from migrated import premigrated

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app, learn_bot_username
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.pages import page_article, qr_svg
from feedsvc.publish.warm_start import VERIFY_BATCH
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)

VI = Translator("vi")
NO_TOPIC = "Không có chủ đề {}.\n"


def add(service: Service, first: int, count: int, **fields: object) -> None:
    with service.db.write() as conn:
        rows = [
            article(
                n,
                title=f"Kiến Thụy: tin số {n}",
                published_at=START + timedelta(hours=n),
                section="Thời sự",
                summary=f"<p>Tóm tắt <b>tin {n}</b> ở Kiến Thụy.</p>",
                **fields,
            )
            for n in range(first, first + count)
        ]
        upsert_source_articles(conn, rows, service.db.now())
    service.ingest_tick()


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[TestClient, Service]]:
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(sqlite_url)},
            "topics": {"import_on_start": False},
            "http": {"public_url": "https://tin.example.vn"},
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        spec = TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "Tin về Kiến Thụy & <Núi Đối>")
        ops.save_topic(service.db, spec, "test")
        ops.save_topic(service.db, TopicSpec("trong", "Trống", '"không có đâu"'), "test")
        service.publisher.sync()
        add(service, 1, 35)
        yield client, service


def valid(body: bytes) -> None:
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)


def test_index_lists_topics_with_counts_headlines_and_buttons(
    served: tuple[TestClient, Service],
) -> None:
    client, _ = served
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    valid(page.content)
    text = page.text
    assert "Tin về Kiến Thụy &amp; &lt;Núi Đối&gt;" in text and "35 bài" in text
    newest = [f"Kiến Thụy: tin số {n}<" for n in (35, 34, 33)]
    assert all(h in text for h in newest) and "Kiến Thụy: tin số 32<" not in text
    assert 'value="https://tin.example.vn/feeds/kien-thuy.atom"' in text
    assert "Trống" in text and "Chưa có bài nào" in text
    assert "t.me/" not in text  # no bot configured


def test_topic_page_shows_the_newest_30_in_local_time(served: tuple[TestClient, Service]) -> None:
    client, _ = served
    page = client.get("/topics/kien-thuy")
    valid(page.content)
    text = page.text
    assert "Kiến Thụy: tin số 35<" in text and "Kiến Thụy: tin số 6<" in text
    assert "Kiến Thụy: tin số 5<" not in text  # 30 newest
    assert "02/03/2026 19:00 +07:00" in text  # article 35: 01:00 UTC + 35 h = 12:00 UTC
    assert "Chuyên mục: Thời sự" in text and "Tóm tắt tin 35 ở Kiến Thụy." in text
    assert client.get("/topics/khong-co").status_code == 404
    ops.set_topic_enabled(served[1].db, "kien-thuy", False)
    served[1].publisher.refresh(["kien-thuy"])
    assert client.get("/topics/kien-thuy").status_code == 404


def test_pages_come_from_snapshots_and_follow_ingest(served: tuple[TestClient, Service]) -> None:
    client, service = served
    first = client.get("/topics/kien-thuy")
    index = client.get("/")
    service.publisher.refresh(["kien-thuy"])  # nothing changed: same bytes, same ETag
    assert client.get("/topics/kien-thuy").headers["etag"] == first.headers["etag"]
    again = client.get("/topics/kien-thuy", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    add(service, 36, 1)  # ingest re-renders the topic's page and the index
    assert "Kiến Thụy: tin số 36<" in client.get("/topics/kien-thuy").text
    fresh = client.get("/")
    assert fresh.headers["etag"] != index.headers["etag"] and "36 bài" in fresh.text


def test_pages_link_to_the_bot_learnt_with_getme(
    served: tuple[TestClient, Service], tmp_path: Path
) -> None:
    client, service = served
    with FakeBotAPI() as fake:
        service.settings.telegram.base_url = fake.base_url

        asyncio.run(learn_bot_username(service, fake.token, attempts=1))
    link = "https://t.me/feedsvc_test_bot?start=kien-thuy"
    for path in ("/", "/topics/kien-thuy"):
        page = client.get(path)
        valid(page.content)
        assert link in page.text, path
        qr = '<img class="qr" src="https://tin.example.vn/topics/kien-thuy/telegram.svg"'
        assert qr in page.text, path
    drawn = client.get("/topics/kien-thuy/telegram.svg")
    assert drawn.status_code == 200 and drawn.headers["content-type"].startswith("image/svg+xml")
    assert drawn.content == qr_svg(link)


def test_the_qr_code_is_served_for_enabled_topics_with_a_bot_only(
    served: tuple[TestClient, Service],
) -> None:
    """``/topics/{slug}/telegram.svg``: an enabled topic's link drawn (and kept: the same
    bytes and ETag again, 304 on revalidation); 404 without a bot, for an unknown or disabled
    topic, and for a slug too long for a ``/start`` payload (the pages offer no link then)."""
    client, service = served
    no_bot = client.get("/topics/kien-thuy/telegram.svg")  # the topic is served, no bot yet
    assert no_bot.status_code == 404
    assert no_bot.text == VI("http.no_telegram_bot", slug="kien-thuy") + "\n"
    assert "Không có chủ đề" not in no_bot.text  # it said the topic did not exist (F2)
    assert client.get("/topics/khong-co/telegram.svg").text == NO_TOPIC.format("khong-co")
    service.publisher.set_bot_username("TinBot")
    first = client.get("/topics/kien-thuy/telegram.svg")
    assert first.status_code == 200 and first.content.startswith(b"<svg")
    assert b'xmlns="http://www.w3.org/2000/svg"' in first.content
    assert first.content == qr_svg("https://t.me/TinBot?start=kien-thuy")
    again = client.get(
        "/topics/kien-thuy/telegram.svg", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    for slug in ("khong-co", "kien-thuy%2F..", "a" * 101):
        unknown = client.get(f"/topics/{slug}/telegram.svg")
        assert unknown.status_code == 404, slug
        assert "Telegram" not in unknown.text, slug  # no such topic (or no such route)
    long_slug = "x" * 65  # a valid slug, longer than a /start payload may be
    ops.save_topic(service.db, TopicSpec(long_slug, "Dài", '"xã"'), "test")
    service.publisher.refresh()
    assert client.get(f"/topics/{long_slug}").status_code == 200
    assert "telegram.svg" not in client.get(f"/topics/{long_slug}").text
    too_long = client.get(f"/topics/{long_slug}/telegram.svg")
    assert too_long.status_code == 404
    assert too_long.text == VI("http.telegram_slug_too_long", slug=long_slug, most=64) + "\n"
    ops.set_topic_enabled(service.db, "kien-thuy", False)
    service.publisher.refresh(["kien-thuy"])
    switched_off = client.get("/topics/kien-thuy/telegram.svg")  # not public: as unknown
    assert switched_off.status_code == 404
    assert switched_off.text == NO_TOPIC.format("kien-thuy")


def test_learning_the_bot_renders_a_batch_per_lock_hold(
    served: tuple[TestClient, Service],
) -> None:
    """Without ``telegram.username`` every start learns it; re-rendering every topic in one
    hold of the render lock kept ingest's renders waiting ~8 s at 5,000 topics."""
    client, service = served
    publisher = service.publisher
    for n in range(2 * VERIFY_BATCH + 7):  # three batches with the two topics already there
        ops.save_topic(service.db, TopicSpec(f"xa-{n}", f"Xã {n}", f'"xã {n}"'), "test")
    publisher.refresh()
    batches: list[list[str]] = []
    real_refresh = publisher.refresh

    caller = threading.get_ident()

    def recording(slugs: list[str] | None = None, *, index: bool = True) -> int:
        if threading.get_ident() == caller:  # not the feeds-sync job's thread
            assert slugs is not None and not publisher._lock._is_owned()  # type: ignore[attr-defined]
            batches.append(list(slugs))
        return real_refresh(slugs, index=index)

    publisher.refresh = recording  # type: ignore[method-assign]
    publisher.set_bot_username("feedsvc_test_bot")
    publisher.refresh = real_refresh  # type: ignore[method-assign]
    assert [len(b) for b in batches] == [VERIFY_BATCH, VERIFY_BATCH, 9]
    assert sorted(s for b in batches for s in b) == sorted(publisher._topics)
    for slug in ("kien-thuy", "xa-0", f"xa-{2 * VERIFY_BATCH + 6}"):
        assert f"https://t.me/feedsvc_test_bot?start={slug}" in client.get(f"/topics/{slug}").text
    assert "https://t.me/feedsvc_test_bot?start=kien-thuy" in client.get("/").text
    batches.clear()
    publisher.refresh = recording  # type: ignore[method-assign]
    publisher.set_bot_username("feedsvc_test_bot")  # the same name: nothing to render
    assert batches == []


def test_article_links_are_http_only() -> None:
    """Ingest validates URLs; the pages do not rely on it: a link is http(s) or the site."""
    site = "https://example.vn/"
    cases = {
        "javascript:alert(1)": site,
        "data:text/html,x": site,
        "/tin/91.html": "https://example.vn/tin/91.html",
        "https://example.vn/a b": "https://example.vn/a%20b",
    }
    for url, expected in cases.items():
        assert page_article(article(1, url=url), site).url == expected, url


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/topics/a%1b%5d0%3bPWNED%07b", "a\\x1b]0;PWNED\\x07b"),  # a terminal's title set
        ("/topics/x%e2%80%aey", "x\\u202ey"),  # the rest of the line reversed
        ("/topics/x%c2%85y%e2%80%a8z", "x\\x85y\\u2028z"),  # line breaks of other kinds
        ("/feeds/kien%00thuy.rss", "kien\\x00thuy"),
        ("/feeds/a%1b%5b2J.atom", "a\\x1b[2J"),  # clears the screen
        ("/topics/a%1b%5b2J/telegram.svg", "a\\x1b[2J"),
    ],
)
def test_a_404_names_the_slug_with_its_controls_escaped(
    served: tuple[TestClient, Service], path: str, shown: str
) -> None:
    """A tester's: the 404's text echoed the URL's slug as it was, and curl wrote its escape
    sequences to the terminal of whoever fetched a crafted link."""
    client, _service = served
    answer = client.get(path)
    assert answer.status_code == 404 and answer.text == NO_TOPIC.format(shown), answer.text


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/topics/khong-co", "khong-co"),  # an old link: a topic removed or renamed
        ("/topics/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "&lt;img src=x onerror=alert(1)&gt;"),
        ("/topics/x%e2%80%aey", "x\\u202ey"),  # a bidi override shown, never applied
        ("/topics/a%1b%5b2J", "a\\x1b[2J"),
    ],
)
def test_a_browser_gets_a_page_for_a_topic_that_is_not_there(
    served: tuple[TestClient, Service], path: str, shown: str
) -> None:
    """A reader opening a topic page that is not there (an old link, a topic switched off)
    got one plain-text line and no way on; a browser now gets the site's page saying so,
    with the way to every topic, valid HTML, not indexed. curl keeps the line."""
    client, service = served
    ops.set_topic_enabled(service.db, "trong", False)
    service.publisher.refresh(["trong"])
    for at, name in ((path, shown), ("/topics/trong", "trong")):  # unknown, switched off
        page = client.get(at, headers=BROWSER)
        assert page.status_code == 404, at
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["vary"] == "Accept" and "max-age=10" in page.headers["cache-control"]
        valid(page.content)
        assert f"<h1>{VI('http.no_topic', slug=name)}</h1>" in page.text, page.text
        assert 'href="https://tin.example.vn/"' in page.text and 'content="noindex"' in page.text
        assert "<img" not in page.text and "\u202e" not in page.text
        head = client.head(at, headers=BROWSER)
        assert head.status_code == 404 and head.content == b""
    plain = client.get("/topics/khong-co", headers={"Accept": "*/*"})
    assert plain.text == NO_TOPIC.format("khong-co") and plain.headers["vary"] == "Accept"


@pytest.mark.parametrize("summary", EMPTIED_SUMMARIES)
def test_a_page_article_of_an_emptied_summary_shows_no_summary_line(summary: str) -> None:
    """An emptied CMS summary is no summary: no line of invisible text under the headline."""
    assert page_article(article(1, summary=summary), "https://example.vn/").summary == ""
