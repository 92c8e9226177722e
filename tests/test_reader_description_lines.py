"""A topic's description keeps its lines on the reader pages, as the editor typed them.

Found by looking (the ``looks`` pass): the admin edits a description in a multi-line box and
keeps its line breaks (README), but ``/`` and ``/topics/{slug}`` wrote it into one ``<p>``, so
"Tin an ninh ở Kiến Thụy.⏎Gồm các xã: …⏎⏎Gửi tin cho toà soạn…" showed as one run of text.
Measured in headless Chromium: the rendered text (``innerText``) of the description.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_admin_browser import BROWSER_MARKS, SERVICES, By, driver, ec, server, wait  # noqa: F401  (driver, server: fixtures)

from feedsvc.operations.backfill import backfill_topic
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = BROWSER_MARKS

DESCRIPTIONS = [
    "Tin an ninh, trật tự ở Kiến Thụy.\n"
    "Gồm các xã: Kiến Thụy, Kiến Hải, Kiến Hưng.\n"
    "\n"
    "Gửi tin cho toà soạn qua đường dây nóng.",
    "Tin an ninh ở các xã:\n- Kiến Thụy\n- Kiến Hải\n- Kiến Hưng",
    "Tin an ninh ở Kiến Thụy, một dòng, như trước.",
]


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_a_descriptions_lines_are_shown(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    description: str,
) -> None:
    service = SERVICES[server]
    with service.db.write() as conn:
        spec = TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', description)
        save_topic(conn, spec, "test", service.db.now())
    backfill_topic(service.db, "kien-thuy")
    service.publisher.refresh()
    b = driver
    b.set_window_size(1100, 900)  # wide enough that no line wraps
    first = "//p[starts-with(normalize-space(.), 'Tin an ninh')]"
    for path, where in (("/", "//section[@id='kien-thuy']"), ("/topics/kien-thuy", "//header")):
        b.get(f"{server}{path}")
        shown = wait(b).until(ec.presence_of_element_located((By.XPATH, where + first)))
        assert b.execute_script("return arguments[0].innerText", shown) == description, path
