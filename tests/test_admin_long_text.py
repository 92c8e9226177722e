"""The admin with outside text no line can hold, in headless Chromium (laptop and phone).

Found by looking (the ``looks`` pass): one topic whose slug is as long as slugs may be
(``feedsvc.limits.SLUG``) made the topics and subscriptions tables ~2,100 px wide on a 1,280 px
laptop, the Edit/Delete buttons off the window (a slug never breaks, and 100% of a table cell
bounds nothing: the column grows to the slug); an article whose title holds a pasted URL did
the same to the deliveries table, and pushed the topic editor's preview (and on a phone the
whole editor, form included) past the window. And the preview showed an article title's
U+202E as it is: the rest of the title reversed, where every admin page shows ``\\u202e``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from factories import article
from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SERVICES,
    By,
    driver,
    ec,
    login_as_admin,
    save_topic_in,
    server,
    wait,
)

from feedsvc.db.schema import articles, topics
from feedsvc.limits import SLUG
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.deliveries import enqueue
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec

pytestmark = BROWSER_MARKS

LONG_SLUG = ("kien-thuy-an-ninh-trat-tu-cac-xa-ven-bien-" * 3)[: SLUG - 1] + "x"
RUN = "abcdefghij" * 12  # no break opportunity in 120 characters
TITLES = {
    "url": f"Kiến Thụy https://example.vn/duong-dan-{RUN}",
    "word": f"Kiến Thụy {'Nghiêng' * 30}",
    "digits": f"Kiến Thụy {'0123456789' * 12}",
    "rlo": "Kiến Thụy \u202egnảt gnod\u202c RLO trong tiêu đề",
}
CHAT = -1009876
#: a word of its own in a column of outside text: never split, whatever the next column holds
SHORT_ERROR = "not sent (ConnectionError)"


def seed_long_text(service: Any) -> None:
    """Articles with the titles above (matched by ``"Kiến Thụy"``), a topic under the longest
    slug with a subscription, and a delivery of each article (the deliveries page)."""
    db = service.db
    with db.write() as conn:
        upsert_source_articles(
            conn,
            [
                article(100 + i, title=title, source_key=f"LONG-{name}")
                for i, (name, title) in enumerate(TITLES.items())
            ],
            db.now(),
        )
    service.ingest_tick()
    save_topic_in(service, TopicSpec(LONG_SLUG, "Slug dài nhất", '"Kiến Thụy"'))
    save_topic_in(service, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'))
    with db.write() as conn:
        now = db.now()
        sub_store.ensure_chat(conn, CHAT, "supergroup", "Nhóm tin " + RUN, now)
        topic = conn.execute(topics.select().where(topics.c.slug == LONG_SLUG)).one()
        sub_store.subscribe(conn, CHAT, topic_id=topic.id, query=None, now=now)
        keys = [f"LONG-{name}" for name in TITLES]
        ids = conn.execute(articles.select().where(articles.c.source_key.in_(keys))).all()
        enqueue(
            conn,
            [
                {
                    "chat_id": CHAT,
                    "article_id": row.id,
                    "topics": ["Slug dài nhất"],
                    "state": "blocked",
                    "due_at": now - timedelta(minutes=5),
                    "created_at": now,
                    "attempts": 1,
                    "error": SHORT_ERROR,
                    "finished_at": now,
                }
                for row in ids
            ],
        )


def lines_of_word(b: Any, element: Any, word: str) -> int:
    """How many lines ``word`` (inside ``element``'s first text node) is drawn on."""
    return int(
        b.execute_script(
            """const node = arguments[0].firstChild, at = node.data.indexOf(arguments[1]);
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + arguments[1].length);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;""",
            element,
            word,
        )
    )


def misfits(b: Any, selector: str) -> list[str]:
    """What does not fit the window on this page: its sideways scroll, and each ``selector``
    element (a row's buttons) not whole inside the window."""
    found = b.find_elements(By.CSS_SELECTOR, selector)
    assert found, (b.current_url, selector)
    right = b.execute_script("return document.documentElement.clientWidth")
    wide = b.execute_script("return document.documentElement.scrollWidth")
    out = [f"scrolls sideways by {wide - right} px"] if wide > right else []
    for element in found:
        box = b.execute_script("return arguments[0].getBoundingClientRect().toJSON()", element)
        if box["left"] < 0 or box["right"] > right + 0.5:
            out.append(f"{element.text!r} at {box['left']:.0f}-{box['right']:.0f} px")
    return out


def admin_at_width(base: str, b: Any, width: int) -> Any:
    """Browser ``b`` logged in to the admin at ``base``, seeded with the long texts
    (``seed_long_text``), its window ``width`` px wide and 900 px high."""
    seed_long_text(SERVICES[base])
    login_as_admin(b, base)
    b.set_window_size(width, 900)
    return b


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_admin_tables_fit_the_window_whatever_the_text(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    width: int,
) -> None:
    b = admin_at_width(server, driver, width)
    problems = {}
    for path, actions in (
        ("/admin/topics", "td.actions .button, td.actions button"),
        ("/admin/subscriptions", "td.actions button"),
        ("/admin/deliveries", "td button"),
        ("/admin/articles?q=kien", "td.actions button"),
    ):
        b.get(f"{server}{path}")
        wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.list")))
        if found := misfits(b, actions):
            problems[path] = found
    assert problems == {}
    b.get(f"{server}/admin/deliveries")
    error = b.find_element(By.XPATH, f"//td//span[text()='{SHORT_ERROR}']")
    assert lines_of_word(b, error, "(ConnectionError)") == 1
    b.get(f"{server}/admin/topics")
    slug = b.find_element(By.XPATH, f"//td/code[@class='slug'][text()='{LONG_SLUG}']")
    # still one line, never split (at its hyphens either): it scrolls in place
    assert b.execute_script("return arguments[0].getClientRects().length", slug) == 1


@pytest.mark.parametrize("width", [1280, 390])
def test_the_topic_editor_and_its_preview_fit_the_window(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    width: int,
) -> None:
    b = admin_at_width(server, driver, width)
    b.get(f"{server}/admin/topics/kt/edit")
    titles = wait(b).until(
        lambda _: (
            len(found := b.find_elements(By.CSS_SELECTOR, "#preview-samples .title")) >= 4 and found
        )
    )
    assert misfits(b, "#topic-form button, #topic-form .button") == []
    shown = {t.text for t in titles}
    assert TITLES["url"] in shown  # split where it must, every character there
    # the title's bidi override written as the admin pages write it, the title not reversed
    assert "Kiến Thụy \\u202egnảt gnod\\u202c RLO trong tiêu đề" in shown
    assert not any("\u202e" in t for t in shown)
