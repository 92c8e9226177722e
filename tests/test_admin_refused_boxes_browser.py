"""In Chromium: Save pressed again after a refusal stores what the boxes show, never the
page's display escapes (``test_admin_refused_boxes`` over HTTP; here the browser's own reading
of the refused page and its own submission of the form).

Found by a tester: a title refused for its BEL came back holding the six letters ``\\u0007``,
and the second Save stored them as the title.
"""

from __future__ import annotations

from typing import Any

import pytest
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

FILL = "document.getElementById(arguments[0]).value = arguments[1];"
VALUE = "return document.getElementById(arguments[0]).value;"


@pytest.mark.parametrize(
    ("title", "query", "refused", "held"),
    [
        # refused for the title's BEL: the box comes back without it, said under it
        ("Kiến\x07 Thụy", '"Kiến Thụy"', "title", "Kiến Thụy"),
        # refused for the query: the title's U+2028 (a space once saved) comes back as sent
        ("Kiến\u2028Thụy", '"Kiến Thụy" AND (', "query", "Kiến\u2028Thụy"),
    ],
)
def test_save_after_a_refusal_stores_what_the_box_holds(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    title: str,
    query: str,
    refused: str,
    held: str,
) -> None:
    b = driver
    login_as_admin(b, server)
    b.get(f"{server}/admin/topics/new")
    wait(b).until(ec.presence_of_element_located((By.ID, "query")))
    b.find_element(By.ID, "slug").send_keys("kt-lai")
    b.execute_script(FILL, "title", title)  # chromedriver types no control character
    b.execute_script(FILL, "query", query)
    b.find_element(By.ID, "save").click()
    note = wait(b, 20).until(ec.visibility_of_element_located((By.ID, f"{refused}-error")))
    assert b.execute_script(VALUE, "title") == held
    if refused == "title":
        assert "U+0007 (BEL)" in note.text and "\\u" not in b.execute_script(VALUE, "title")
    else:  # the query typed again, fixed
        set_query(b, '"Kiến Thụy"')
    b.find_element(By.ID, "save").click()
    wait(b, 20).until(ec.url_matches(r"/admin/topics$"))
    with SERVICES[server].db.read() as conn:
        saved = topic_store.get_topic(conn, "kt-lai")
    assert saved is not None and saved.title == "Kiến Thụy"
