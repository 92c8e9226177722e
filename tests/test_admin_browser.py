"""The web admin in headless Chromium (Debian's ``chromium`` + ``chromium-driver``, Selenium).

The real app is served by uvicorn in a thread on a free port: log in, create a topic while the
live preview highlights matches and shows the parser's error inline, save, and find the new
feed on the public index. Screenshots of the editor and the status page are taken too; with
``FEEDSVC_SCREENSHOTS=docs/screenshots`` they refresh the README's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from factories import article
from processes import free_port, uvicorn_thread

from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.db.schema import articles
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.deliveries import enqueue
from feedsvc.store.source_articles import upsert_source_articles

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Screenshots for the README are refreshed only on request (FEEDSVC_SCREENSHOTS=docs/screenshots),
# so a test run never dirties the working tree; otherwise they go to a temporary directory.
SHOTS_ENV = os.environ.get("FEEDSVC_SCREENSHOTS")
TOKEN = "browser-test-token-0123456789"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
        "/usr/bin/chromedriver); .ci/run installs them",
    ),
]

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
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


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(
        None,
        {
            "database": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            "topics": {"import_on_start": False},
            "http": {"public_url": base, "host": "127.0.0.1", "port": port},
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    config = uvicorn.Config(
        create_app(service), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    with uvicorn_thread(config):
        seed(service)
        yield base


@pytest.fixture
def driver() -> Iterator[Any]:
    profile = tempfile.mkdtemp(prefix="feedsvc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "--lang=vi",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=DriverService(str(CHROMEDRIVER)))
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(browser: Any, seconds: float = 10) -> WebDriverWait[Any]:
    return WebDriverWait(browser, seconds, poll_frequency=0.05)


def set_query(browser: Any, text: str) -> None:
    box = browser.find_element(By.ID, "query")
    box.clear()
    box.send_keys(text)


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

    # the public index lists the new topic's feed
    b.get(f"{server}/")
    try:
        link = wait(b).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, 'a[href$="/feeds/kien-thuy-moi.rss"]'))
        )
    except TimeoutException:  # pragma: no cover - shows the page on failure
        raise AssertionError(b.page_source[:2000]) from None
    assert link.get_attribute("href").startswith(server)

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
