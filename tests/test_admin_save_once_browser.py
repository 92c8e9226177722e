"""In Chromium: Save double-clicked on a new topic (a tester's: two POSTs ~30 ms apart, the
page shown was the second's "already exists"). The server answers the same create sent again
as the first (``test_admin_topic_save_twice``, over HTTP); the page's script also sends the
form once (``data-once`` in ``admin.js``, under the admin's CSP: no inline script), so a second
click sends nothing while the first answer is awaited.
"""

from __future__ import annotations

from typing import Any

from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SERVICES,
    By,
    driver,
    ec,
    login_as_admin,
    server,
    set_query,
    wait,
)

from feedsvc.store import topics as topic_store

pytestmark = BROWSER_MARKS

#: records whether each submit event of the editor's form was let through by the page's own
#: handlers (admin.js's, registered first), then keeps the page here: the form is not sent
RECORD = """
window.submits = [];
document.addEventListener("submit", function (event) {
  window.submits.push(!event.defaultPrevented);
  event.preventDefault();
});
"""


def fill(b: Any, base: str, slug: str) -> None:
    b.get(f"{base}/admin/topics/new")
    wait(b).until(ec.presence_of_element_located((By.ID, "query")))
    b.find_element(By.ID, "slug").send_keys(slug)
    b.find_element(By.ID, "title").send_keys("Kiến Thụy")
    set_query(b, '"Kiến Thụy"')


def test_a_second_click_on_save_sends_nothing_and_a_double_click_shows_the_success(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
) -> None:
    b = driver
    login_as_admin(b, server)
    fill(b, server, "kt-mot-lan")
    b.execute_script(RECORD)
    save = b.find_element(By.ID, "save")
    save.click()
    wait(b).until(lambda _: b.execute_script("return document.getElementById('save').disabled"))
    b.execute_script("document.getElementById('topic-form').requestSubmit()")  # a 2nd click
    assert b.execute_script("return window.submits") == [True, False]

    # the tester's double-click, on a fresh form: the page after it says the topic was made
    from selenium.webdriver.common.action_chains import ActionChains

    fill(b, server, "kt-hai-lan")
    ActionChains(b).double_click(b.find_element(By.ID, "save")).perform()
    wait(b, 20).until(ec.url_matches(r"/admin/topics$"))
    flash = b.find_element(By.CSS_SELECTOR, ".flash.ok").text
    assert "Đã tạo chủ đề kt-hai-lan" in flash, b.page_source[:3000]
    with SERVICES[server].db.read() as conn:
        slugs = [t.slug for t in topic_store.list_topics(conn)]
    assert "kt-hai-lan" in slugs and "kt-mot-lan" not in slugs
