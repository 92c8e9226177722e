"""The web admin in headless Chromium (Debian's ``chromium`` + ``chromium-driver``, Selenium).

The real app is served by uvicorn in a thread on a free port: log in, create a topic while the
live preview highlights matches and shows the parser's error inline, save, and find the new
feed on the public index. Screenshots of the editor and the status page are taken too; with
``FEEDSVC_SCREENSHOTS=docs/screenshots`` they refresh the README's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from factories import article
from processes import free_port, uvicorn_thread

from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import CATALOGUE
from feedsvc.config import load_config
from feedsvc.db.schema import articles
from feedsvc.operations.backfill import backfill_topic
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.store.deliveries import enqueue
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.web import admin_auth as auth
from feedsvc.web.body_limit import MAX_FORM_BYTES
from feedsvc.web.wire import wire_protocol

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Screenshots for the README are refreshed only on request (FEEDSVC_SCREENSHOTS=docs/screenshots),
# so a test run never dirties the working tree; otherwise they go to a temporary directory.
SHOTS_ENV = os.environ.get("FEEDSVC_SCREENSHOTS")
TOKEN = "browser-test-token-0123456789"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
#: every browser module's marks (``pytestmark = BROWSER_MARKS``): slow, and skipped without
#: Chromium; such a module imports ``By``, ``ec`` and the fixtures from here too
BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
        "/usr/bin/chromedriver); .ci/run installs them",
    ),
]
pytestmark = BROWSER_MARKS

import chromium  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SAMPLES = [
    ("Kiến Thụy khánh thành cầu Đa Độ mới", "Người dân xã Tú Sơn, huyện Kiến Thụy vui mừng."),
    ("Núi Đối đón mùa lễ hội", "Lễ hội truyền thống ở thị trấn Núi Đối, Kiến Thụy."),
    ("Đồ Sơn đón khách du lịch", "Bãi biển Đồ Sơn đông khách dịp cuối tuần."),
    ("Cát Bà bảo tồn voọc", "Vườn quốc gia Cát Bà tăng cường bảo vệ loài voọc."),
]


def seed(service: Service) -> None:
    """Articles for the preview, plus a paused chat and a dead letter for the status page."""
    db = service.db
    with db.write() as conn:
        upsert_source_articles(
            conn,
            [
                article(i + 1, title=title, summary=summary, body=f"<p>{summary}</p>")
                for i, (title, summary) in enumerate(SAMPLES)
            ],
            db.now(),
        )
    service.ingest_tick()
    with db.write() as conn:
        now = db.now()
        sub_store.ensure_chat(conn, -1001234, "supergroup", "Tin Kiến Thụy", now)
        sub_store.subscribe(conn, -1001234, topic_id=None, query='"Kiến Thụy"', now=now)
        sub_store.set_paused(conn, -1001234, True)
        first = conn.execute(articles.select().order_by(articles.c.id)).first()
        assert first is not None
        enqueue(
            conn,
            [
                {
                    "chat_id": -1001234,
                    "article_id": first.id,
                    "topics": ["Kiến Thụy"],
                    "state": "blocked",
                    "due_at": now - timedelta(minutes=5),
                    "created_at": now,
                    "attempts": 1,
                    "error": "Forbidden: bot was kicked from the supergroup chat",
                    "finished_at": now,
                }
            ],
        )


#: The service behind each running ``server`` (by its base URL), for tests that set up data.
SERVICES: dict[str, Service] = {}


@pytest.fixture
def server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The whole app on a real socket, feed polls through ``feedsvc.web.wire`` as in
    production; the admin's language is the test's parameter (default Vietnamese)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(
        None,
        {
            "database": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            "topics": {"import_on_start": False},
            "http": {"public_url": base, "host": "127.0.0.1", "port": port},
            "admin": {"language": getattr(request, "param", "vi")},
            "telegram": {"username": "TinHaiPhongBot"},
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    app = create_app(service)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on",
        http=wire_protocol(app),
    )  # fmt: skip
    with uvicorn_thread(config):
        seed(service)
        SERVICES[base] = service
        yield base
        del SERVICES[base]


@pytest.fixture
def driver(shared_browser: dict[str, Any]) -> Any:
    """The worker's headless Chromium, as a new one is (``chromium.shared``: one start per
    worker, not per test)."""
    return chromium.shared(CHROMIUM, CHROMEDRIVER, shared_browser)


def wait(browser: Any, seconds: float = 10) -> WebDriverWait[Any]:
    return WebDriverWait(browser, seconds, poll_frequency=0.05)


def set_query(browser: Any, text: str) -> None:
    box = browser.find_element(By.ID, "query")
    box.clear()
    box.send_keys(text)


def type_in(browser: Any, text: str) -> None:
    """``text`` into the query box as if typed: chromedriver's keys reach only the BMP (an
    emoji is refused), so the value is set and the input event the page listens to sent."""
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        browser.find_element(By.ID, "query"),
        text,
    )


def caret_of(browser: Any, query: str) -> str | None:
    """The character the preview's caret is under once it shows ``query`` (the box is redrawn
    with each answer: read in one script, never through a stale element), else None."""
    return browser.execute_script(  # type: ignore[no-any-return]
        "var pre = document.querySelector('#preview-error pre.caret');"
        "if (!pre || pre.textContent !== arguments[0]) return null;"
        "return pre.querySelector('span.at').textContent;",
        query,
    )


def test_create_topic_with_live_preview(server: str, driver: Any, tmp_path: Path) -> None:
    shots = Path(SHOTS_ENV) if SHOTS_ENV else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    b = driver
    b.get(f"{server}/admin/topics")
    wait(b).until(ec.url_contains("/admin/login"))
    b.find_element(By.ID, "token").send_keys(TOKEN)
    b.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # the login URL may carry ?next=/admin/topics: wait for the topics page itself
    new_topic = (By.CSS_SELECTOR, 'a[href="/admin/topics/new"]')
    wait(b).until(ec.element_to_be_clickable(new_topic)).click()
    wait(b).until(ec.presence_of_element_located((By.ID, "query")))
    b.find_element(By.ID, "slug").send_keys("kien-thuy-moi")
    b.find_element(By.ID, "title").send_keys("Kiến Thụy (mới)")
    b.find_element(By.ID, "description").send_keys("Tin về Kiến Thụy và Núi Đối")

    # a good query: the preview fills with samples whose matched terms are <mark>ed
    set_query(b, '"Kiến Thụy" OR "Núi Đối"')
    marks = wait(b).until(
        ec.presence_of_all_elements_located((By.CSS_SELECTOR, "#preview-samples mark"))
    )
    assert {m.text for m in marks} & {"Kiến Thụy", "Núi Đối"}
    summary = b.find_element(By.ID, "preview-summary").text
    assert summary.startswith("2 ") and "4" in summary
    b.save_screenshot(str(shots / "admin-editor.png"))

    # a bad query: the parser's error appears inline, with the samples cleared
    set_query(b, '"Kiến Thụy" AND (')
    error = wait(b).until(ec.visibility_of_element_located((By.ID, "preview-error")))
    assert error.text and b.find_elements(By.CSS_SELECTOR, "#preview-error .at")
    assert not b.find_elements(By.CSS_SELECTOR, "#preview-samples mark")

    # fixed again, then saved
    set_query(b, '"Kiến Thụy" OR "Núi Đối"')
    wait(b).until(ec.invisibility_of_element_located((By.ID, "preview-error")))
    wait(b).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "#preview-samples mark")))
    b.find_element(By.ID, "save").click()
    wait(b, 20).until(ec.url_matches(r"/admin/topics$"))
    flash = b.find_element(By.CSS_SELECTOR, ".flash.ok").text
    assert "kien-thuy-moi" in flash

    # the public index lists the new topic with its feed address
    b.get(f"{server}/")
    try:
        box = wait(b).until(ec.presence_of_element_located((By.ID, "url-kien-thuy-moi-rss")))
    except TimeoutException:  # pragma: no cover - shows the page on failure
        raise AssertionError(b.page_source[:2000]) from None
    assert box.get_attribute("value") == f"{server}/feeds/kien-thuy-moi.rss"

    b.get(f"{server}/admin/status")
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "dl.facts")))
    assert "-1001234" in b.page_source and "bot was kicked" in b.page_source
    b.set_window_size(1280, 1100)
    b.save_screenshot(str(shots / "admin-status.png"))

    # usable on a phone: the topic list and the editor fit a 390 px wide screen
    b.set_window_size(390, 844)
    for path in ("/admin/topics", "/admin/topics/kien-thuy-moi/edit", "/admin/deliveries"):
        b.get(f"{server}{path}")
        wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "main")))
        overflow = b.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px on a phone"
        assert b.execute_script("return window.innerWidth") < 500


# --- reader pages, feed URLs in a browser, the admin in both languages ---------------------


def shots_dir(tmp_path: Path) -> Path:
    shots = Path(SHOTS_ENV) if SHOTS_ENV else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def login_as_admin(b: Any, server: str) -> None:
    b.get(f"{server}/admin/login")
    b.find_element(By.ID, "token").send_keys(TOKEN)
    b.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(b).until(ec.url_contains("/admin/topics"))


def create_kien_thuy(b: Any, server: str) -> None:
    """A topic made (and backfilled) through the admin, so the reader pages have content."""
    b.get(f"{server}/admin/topics/new")
    b.find_element(By.ID, "slug").send_keys("kien-thuy")
    b.find_element(By.ID, "title").send_keys("Kiến Thụy")
    b.find_element(By.ID, "description").send_keys("Tin về Kiến Thụy và Núi Đối")
    set_query(b, '"Kiến Thụy" OR "Núi Đối"')
    b.find_element(By.ID, "save").click()
    wait(b, 20).until(ec.url_matches(r"/admin/topics$"))


def no_sideways_scroll(b: Any) -> None:
    overflow = b.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{b.current_url} scrolls sideways by {overflow} px"


@pytest.fixture
def zalo_bot(monkeypatch: pytest.MonkeyPatch) -> str:
    """The Zalo channel on with its public link (the pages show its button, QR code and
    command); requested before ``server``, which reads the config. No Zalo call leaves the
    machine: the server runs no bot and no dispatcher."""
    link = "https://zalo.me/2468013579135792468"
    monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", "1234567890:zalo-browser-token-abcdefgh")
    monkeypatch.setenv("FEEDSVC_ZALO__LINK", link)
    monkeypatch.setenv("FEEDSVC_ZALO__BASE_URL", "http://127.0.0.1:9")
    return link


def test_reader_index_topic_page_and_a_feed_opened_in_the_browser(
    zalo_bot: str, server: str, driver: Any, tmp_path: Path
) -> None:
    shots = shots_dir(tmp_path)
    b = driver
    login_as_admin(b, server)
    create_kien_thuy(b, server)

    b.get(f"{server}/")
    section = wait(b).until(ec.presence_of_element_located((By.ID, "kien-thuy")))
    assert "Kiến Thụy khánh thành cầu Đa Độ mới" in section.text  # a newest headline
    assert "2 bài" in section.text and "Tin về Kiến Thụy và Núi Đối" in section.text
    section.find_element(By.TAG_NAME, "summary").click()  # unfold "Theo dõi"
    telegram = section.find_element(By.CSS_SELECTOR, "a.telegram")
    assert telegram.get_attribute("href") == "https://t.me/TinHaiPhongBot?start=kien-thuy"
    qr = section.find_element(By.CSS_SELECTOR, "img.qr")
    assert qr.get_attribute("src") == f"{server}/topics/kien-thuy/telegram.svg"
    assert qr.size["width"] >= 100 and qr.size["height"] >= 100  # big enough to scan
    # fetched and drawn by the browser (a broken image has no natural width)
    wait(b).until(lambda _: b.execute_script("return arguments[0].naturalWidth", qr) > 0)
    assert section.find_element(By.CSS_SELECTOR, "a.zalo").get_attribute("href") == zalo_bot
    zalo_qr = section.find_element(By.CSS_SELECTOR, ".zl img.qr")
    wait(b).until(lambda _: b.execute_script("return arguments[0].naturalWidth", zalo_qr) > 0)
    command = section.find_element(By.ID, "zalo-kien-thuy").get_attribute("value")
    assert command == "/sub kien-thuy"
    b.set_window_size(1100, 1250)  # the topic, its Telegram and Zalo ways and its feeds
    b.save_screenshot(str(shots / "reader-subscribe.png"))

    # a person clicking the RSS address: the topic page, the RSS box highlighted
    b.get(f"{server}/feeds/kien-thuy.rss")
    wait(b).until(ec.url_contains("/topics/kien-thuy#rss"))
    opened = b.find_element(By.CSS_SELECTOR, "#rss .opened")
    assert opened.is_displayed() and "RSS" in opened.text
    box = b.find_element(By.ID, "url-kien-thuy-rss")
    assert box.get_attribute("value") == f"{server}/feeds/kien-thuy.rss"
    articles_shown = b.find_elements(By.CSS_SELECTOR, "article.article")
    assert len(articles_shown) == 2 and "+07:00" in articles_shown[0].text
    b.find_element(By.CSS_SELECTOR, 'button[data-copy="url-kien-thuy-rss"]').click()
    b.save_screenshot(str(shots / "reader-topic.png"))

    # on a phone: no sideways scrolling, QR code shown
    b.set_window_size(390, 844)
    for path in ("/", "/topics/kien-thuy"):
        b.get(f"{server}{path}")
        wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "main")))
        no_sideways_scroll(b)
    b.save_screenshot(str(shots / "reader-topic-phone.png"))


def test_the_reader_finds_a_topic_among_many_with_the_search_box(
    server: str, driver: Any, tmp_path: Path
) -> None:
    """61 topics: two pages of the index, a search box; typing the name in capitals with its
    marks finds the one topic, and the next-page link leads to page 2. Screenshots of page 1
    and of the search's answer (``reader-index.png``, ``reader-index-search.png``)."""
    shots = shots_dir(tmp_path)
    service = SERVICES[server]
    now = service.db.now()
    places = [("Đồ Sơn", "Biển và lễ hội"), ("Cát Bà", "Đảo và vườn quốc gia"), ("Núi Đối", "")]
    with service.db.write() as conn:  # the seeded articles name these places: headlines
        for i in range(60):
            place, about = places[i % 3]
            spec = TopicSpec(f"a-{i:03d}", f"{place} {i // 3 + 1}", f'"{place}"', about)
            save_topic(conn, spec, "test", now)
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test", now)
    for i in range(60):
        backfill_topic(service.db, f"a-{i:03d}")
    backfill_topic(service.db, "kien-thuy")
    service.publisher.refresh()
    b = driver
    b.get(f"{server}/")
    box = wait(b).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "form[role=search] input[name=q]"))
    )
    assert len(b.find_elements(By.CSS_SELECTOR, "section.topic")) == 50
    b.set_window_size(1100, 1000)
    b.save_screenshot(str(shots / "reader-index.png"))
    box.send_keys("KIẾN THỤY\n")
    wait(b).until(ec.url_contains("?q="))
    shown = wait(b).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "section.topic")))
    assert [s.get_attribute("id") for s in shown] == ["kien-thuy"]
    assert "Kiến Thụy" in shown[0].text
    assert b.find_element(By.NAME, "q").get_attribute("value") == "KIẾN THỤY"
    b.save_screenshot(str(shots / "reader-index-search.png"))
    b.get(f"{server}/")
    b.find_element(By.CSS_SELECTOR, "nav.pages a[rel=next]").click()
    wait(b).until(ec.url_contains("page=2"))
    assert len(b.find_elements(By.CSS_SELECTOR, "section.topic")) == 11
    assert "Chủ đề 51–61 trên 61" in b.find_element(By.ID, "range").text
    no_sideways_scroll(b)


# The visible text of a page outside data (elements marked translate="no": titles, queries,
# chat names, Telegram's own error texts), with the labels shown on phones and in dialogs.
VISIBLE_UI_TEXT = """
const out = [];
function walk(node) {
  if (node.nodeType === 3) { out.push(node.textContent); return; }
  if (node.nodeType !== 1) return;
  if (node.getAttribute("translate") === "no") return;
  if (["SCRIPT", "STYLE", "svg"].includes(node.tagName)) return;
  for (const a of ["data-label", "data-confirm", "title", "placeholder", "aria-label"]) {
    if (node.hasAttribute(a)) out.push(node.getAttribute(a));
  }
  for (const child of node.childNodes) walk(child);
}
walk(document.body);
return out.join("\\n");
"""
WORD = re.compile(r"[^\W\d_]+")


def english_only_words() -> set[str]:
    """Words that appear in the English catalogue and nowhere in the Vietnamese one."""
    vi = {w.lower() for vi_text, _ in CATALOGUE.values() for w in WORD.findall(vi_text)}
    en = {w.lower() for _, en_text in CATALOGUE.values() for w in WORD.findall(en_text)}
    return en - vi - {"telegram", "rss", "atom", "json", "feed", "opml", "feedsvc", "id"}


def untranslated(text: str, language: str) -> set[str]:
    words = {w.lower() for w in WORD.findall(text)}
    if language == "vi":
        found = words & english_only_words()
    else:  # any Vietnamese word in an English page: letters outside ASCII
        found = {w for w in words if not w.isascii()}
    if "⟦" in text:
        found.add("⟦missing catalogue key⟧")
    return found


ADMIN_PAGES = (
    "/admin/topics",
    "/admin/topics/new",
    "/admin/topics/kien-thuy/edit",
    "/admin/subscriptions",
    "/admin/chats/-1001234",  # the seeded chat, paused: its state and the resume button
    "/admin/deliveries",
    "/admin/deliveries?state=dead",
    "/admin/status",
)


@pytest.mark.parametrize("server", ["vi", "en"], indirect=True)
def test_the_admin_speaks_one_language_on_every_page(
    server: str, driver: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    language = request.node.callspec.params["server"]
    shots = shots_dir(tmp_path)
    b = driver
    b.get(f"{server}/admin/login")
    assert not untranslated(b.execute_script(VISIBLE_UI_TEXT), language), "login"
    login_as_admin(b, server)
    create_kien_thuy(b, server)  # leaves a flash message on the topics page
    assert not untranslated(b.execute_script(VISIBLE_UI_TEXT), language), "flash"
    b.set_window_size(1280, 1000)
    for path in ADMIN_PAGES:
        for width in (1280, 390):  # phones show the column names as labels
            b.set_window_size(width, 1000)
            b.get(f"{server}{path}")
            wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "main")))
            found = untranslated(b.execute_script(VISIBLE_UI_TEXT), language)
            assert not found, f"{path} ({language}, {width} px): {sorted(found)}"
    # the live preview's messages come from the server: a query error with its position
    b.set_window_size(1280, 1000)
    b.get(f"{server}/admin/topics/kien-thuy/edit")
    set_query(b, '"Kiến Thụy" AND (')
    error = wait(b).until(ec.visibility_of_element_located((By.ID, "preview-error")))
    words = error.text.replace(error.find_element(By.CSS_SELECTOR, "pre.caret").text, "")
    assert not untranslated(words, language), words  # the query itself is data
    assert ("ký tự 18" if language == "vi" else "character 18") in words
    # the caret under the offending character after characters beyond the BMP (an emoji is two
    # UTF-16 units in the script, one character in the server's position: a tester's caret sat
    # one to the left per emoji), and after decomposed (NFD) letters
    for typed in ('"cháy 🔥 nổ" OR b c', '"🚒🔥 cháy" OR b c', '"Kie\u0302\u0301n 🔥" OR b c'):
        type_in(b, typed)
        under = wait(b).until(lambda _, q=typed: caret_of(b, q))
        assert under == "c", typed
    # times: local, with the offset; the charts drawn (SVG images that loaded)
    for path in ("/admin/topics", "/admin/status"):
        b.get(f"{server}{path}")
        chart = wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "img.chart")))
        wait(b).until(lambda _, img=chart: b.execute_script("return arguments[0].complete", img))
        assert b.execute_script("return arguments[0].naturalWidth", chart) > 0, path
    assert "+07:00" in b.find_element(By.CSS_SELECTOR, "dl.facts").text
    b.set_window_size(1280, 1500)
    b.save_screenshot(str(shots / f"admin-status-{language}.png"))
    b.get(f"{server}/admin/topics")
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "img.chart")))
    b.save_screenshot(str(shots / f"admin-topics-{language}.png"))
    # a query pasted past the admin's body cap: the cap's plain-text 413 in the admin's words
    # (the script read every answer as JSON and showed the parser's SyntaxError)
    b.get(f"{server}/admin/topics/kien-thuy/edit")
    box = wait(b).until(ec.presence_of_element_located((By.ID, "query")))
    b.execute_script(
        "arguments[0].value = arguments[1].repeat(arguments[2]);"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        box,
        "Sơn\n",  # 5 bytes in UTF-8; short lines: one 256 KB line took chromium 3.4 s to lay out
        MAX_FORM_BYTES // 4,
    )
    too_large = CATALOGUE["http.body_too_large"][0 if language == "vi" else 1]
    wait(b).until(lambda _: b.find_element(By.ID, "preview-summary").text == too_large)
    # the session ends with the editor open (logged out in another tab): the preview says so
    # in the admin's words (it showed the 401's English "login required")
    b.get(f"{server}/admin/topics/kien-thuy/edit")
    wait(b).until(ec.presence_of_element_located((By.ID, "query")))
    b.delete_cookie(auth.SESSION_COOKIE)
    set_query(b, "Đồ Sơn")
    expected = CATALOGUE["login_required"][0 if language == "vi" else 1]
    wait(b).until(lambda _: b.find_element(By.ID, "preview-summary").text == expected)


def test_fonts_render_vietnamese_and_never_split_a_slug(
    server: str, driver: Any, tmp_path: Path
) -> None:
    b = driver
    login_as_admin(b, server)
    create_kien_thuy(b, server)
    monospace = """
    const bad = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!/[\\u00C0-\\u1EF9]/.test(node.textContent)) continue;  // only Vietnamese text
      const family = getComputedStyle(node.parentElement).fontFamily.toLowerCase();
      if (/mono|courier|consol|menlo/.test(family)) bad.push(node.textContent.trim());
    }
    return bad;
    """
    for path in ("/admin/topics", "/admin/topics/kien-thuy/edit", "/admin/status", "/"):
        b.get(f"{server}{path}")
        wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "body")))
        assert b.execute_script(monospace) == [], path
    b.get(f"{server}/admin/topics/kien-thuy/edit")
    query, body = (
        b.execute_script(f"return getComputedStyle({el}).fontFamily")
        for el in ("document.getElementById('query')", "document.body")
    )
    assert query == body
    b.set_window_size(390, 844)
    b.get(f"{server}/admin/topics")
    slugs = b.find_elements(By.CSS_SELECTOR, "code.slug")
    assert slugs
    for slug in slugs:  # a slug may wrap at its hyphens, never inside a word
        style = b.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.wordBreak, s.overflowWrap]", slug
        )
        assert style[0] != "break-all" and style[1] != "anywhere", style


def test_the_topic_editor_keeps_a_descriptions_line_breaks(server: str, driver: Any) -> None:
    """Newcomer D2: the description was an ``<input>``, which drops line breaks from its value,
    so every save through the admin joined its lines ("Dòng 1Dòng 2Đoạn 2")."""
    service = SERVICES[server]
    text = "Dòng 1\nDòng 2\n\nĐoạn 2"
    save_topic_in(service, TopicSpec("nhieu-dong", "Nhiều dòng", '"Kiến Thụy"', text))
    b = driver
    login_as_admin(b, server)
    b.get(f"{server}/admin/topics/nhieu-dong/edit")
    box = b.find_element(By.ID, "description")
    assert box.tag_name == "textarea"
    assert b.execute_script("return arguments[0].value", box) == text
    b.find_element(By.ID, "title").send_keys(" mới")  # an edit of another field only
    b.find_element(By.ID, "save").click()
    wait(b, 20).until(ec.url_matches(r"/admin/topics$"))
    with service.db.read() as conn:
        saved = topic_store.get_topic(conn, "nhieu-dong")
    assert saved is not None and (saved.title, saved.description) == ("Nhiều dòng mới", text)


def save_topic_in(service: Service, spec: TopicSpec) -> None:
    with service.db.write() as conn:
        save_topic(conn, spec, "cli", service.db.now())


def test_admin_tables_fit_at_desktop_and_phone_widths(
    server: str, driver: Any, tmp_path: Path
) -> None:
    """Newcomer's cosmetic findings: at 1200 px the articles table ran past the window (the hide
    button cut off, a sideways scroll), and the topics list wrapped slugs at their hyphens."""
    service = SERVICES[server]
    long_title = "Kiến Thụy " + "khánh thành cầu Đa Độ mới và đường ven biển " * 6
    with service.db.write() as conn:
        upsert_source_articles(
            conn, [article(40, title=long_title, source_key="CMS/2026/11/" + "0" * 40)],
            service.db.now(),
        )  # fmt: skip
    service.ingest_tick()
    for slug in ("an-ninh", "kien-thuy-an-ninh-trat-tu", "hai-phong-do-son-cat-ba-bach-long-vi"):
        save_topic_in(service, TopicSpec(slug, slug.replace("-", " ").title(), '"an ninh"'))
    shots = shots_dir(tmp_path)
    b = driver
    login_as_admin(b, server)
    for width in (1200, 390):
        b.set_window_size(width, 900)
        b.get(f"{server}/admin/articles?q=kien")
        buttons = b.find_elements(By.CSS_SELECTOR, "td.actions button")
        assert len(buttons) >= 2
        b.save_screenshot(str(shots / f"admin-articles-{width}.png"))
        no_sideways_scroll(b)
        right = b.execute_script("return document.documentElement.clientWidth")
        for button in buttons:  # every hide button whole inside the window
            box = b.execute_script("return arguments[0].getBoundingClientRect().toJSON()", button)
            assert box["left"] >= 0 and box["right"] <= right, (width, box, right)
        b.get(f"{server}/admin/topics")
        b.save_screenshot(str(shots / f"admin-topics-{width}.png"))
        no_sideways_scroll(b)
        for slug in b.find_elements(By.CSS_SELECTOR, "td code.slug"):
            lines = b.execute_script("return arguments[0].getClientRects().length", slug)
            assert lines == 1, (width, slug.text)  # one line: not split, not even at "-"
