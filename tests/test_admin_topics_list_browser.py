"""The topics list and its subscribers chart as Chromium draws them at a phone's 375 px and at
a desktop's width (``test_admin_topics_list`` asserts on the HTML and the SVG): the chart keeps
its natural size in a box that scrolls sideways — shrunk to the phone's width its 12 px labels
were 3–4 px high — while the page itself never scrolls sideways; the site's icon loads (it was
a 404 and a console error on every page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SERVICES,
    By,
    driver,
    ec,
    login_as_admin,
    no_sideways_scroll,
    server,
    shots_dir,
    wait,
)

from feedsvc import operations as ops
from feedsvc.stats.charts import TOP_TOPICS, chart_height
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = BROWSER_MARKS

#: what the page says of its chart once it has loaded: drawn sizes, px
CHART = """
const img = document.querySelector('img.chart');
const box = img.closest('.chart-scroll');
return {complete: img.complete, natural: img.naturalWidth, drawn: img.getBoundingClientRect().width,
        height: img.getBoundingClientRect().height,
        scrolls: box ? box.scrollWidth > box.clientWidth : false,
        viewport: document.documentElement.clientWidth};
"""
ICON = """
const done = arguments[arguments.length - 1];
const link = document.querySelector('link[rel=icon]');
Promise.all([link ? link.href : '', '/favicon.ico'].map(
  (u) => u ? fetch(u).then((r) => r.status + ' ' + r.headers.get('content-type')) : 'none'))
  .then(done, (e) => done(String(e)));
"""


def test_the_chart_is_readable_on_a_phone_and_the_page_fits(
    server: str,  # noqa: F811
    driver: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    service = SERVICES[server]
    with service.db.write() as conn:
        now = service.db.now()
        for i in range(45):
            title = "Kiến Thụy" if i < 3 else ("t" if i < 8 else f"Chủ đề {i}")
            save_topic(conn, TopicSpec(f"topic-{i:02d}", title, f'"từ {i}"'), "test", now)
    for chat in range(12):
        ops.add_subscription(service.db, 5000 + chat, "private", topic="topic-01", query=None)
    shots = shots_dir(tmp_path)
    b = driver
    login_as_admin(b, server)
    for width in (375, 1280):
        b.set_window_size(width, 800)
        b.get(f"{server}/admin/topics")
        wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "img.chart")))
        wait(b, 20).until(lambda _: b.execute_script(CHART)["complete"])
        seen = b.execute_script(CHART)
        assert seen["natural"] > 0, seen  # drawn, not a broken image
        # drawn at its natural width: a 12 px label stays 12 px, at any screen width
        assert abs(seen["drawn"] - 960) < 1, seen
        assert seen["height"] <= chart_height(TOP_TOPICS), seen
        assert seen["scrolls"] == (width < 960 + 100), seen
        no_sideways_scroll(b)
        b.find_element(By.CSS_SELECTOR, ".chart-scroll").location_once_scrolled_into_view  # noqa: B018
        b.save_screenshot(str(shots / f"admin-topics-chart-{width}.png"))
        statuses = b.execute_async_script(ICON)
        assert statuses == ["200 image/svg+xml"] * 2, statuses
    # the search box on the phone: finds the three "Kiến Thụy" topics
    b.set_window_size(375, 800)
    b.get(f"{server}/admin/topics")
    box = b.find_element(By.ID, "q")
    box.send_keys("kien thuy\n")
    wait(b).until(ec.url_contains("q="))
    shown = [c.text for c in b.find_elements(By.CSS_SELECTOR, "td code.slug")]
    assert shown == ["topic-00", "topic-01", "topic-02"]
    no_sideways_scroll(b)
    b.save_screenshot(str(shots / "admin-topics-search-375.png"))
