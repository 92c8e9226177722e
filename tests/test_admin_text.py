"""``web.admin_text``: the admin shows outside text's control and bidi characters as visible
escapes, on every page (a tester's: an article title's U+202E reversed its cell on the articles
page, and BEL and ESC were written into the HTML), and a form still sends a stored key back
exactly."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from factories import article
from migrated import premigrated
from sqlalchemy import update

from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.db.schema import articles
from feedsvc.store.lifecycle import editor_state
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic
from feedsvc.web.admin_text import form_value, shown

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

TOKEN = "admin-text-test-token-0123456789"
CSRF = re.compile(r'name="csrf" value="([^"]*)"')
#: Characters no admin page may carry as they are: C0 but tab and line breaks, DEL, C1,
#: U+2028/9, the bidi embedding/override/isolate controls.
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
HOSTILE = "Kiến Thụy \u202etxet desrever\u202c \x07bell \x1b[31mred \x85nel \u2028ls \u2067iso"


@pytest.mark.parametrize(
    ("given", "want"),
    [
        ("a\u202eb", "a\\u202eb"),
        ("\x07\x1b\x7f\x85", "\\u0007\\u001b\\u007f\\u0085"),
        ("\u2028\u2029\u2066\u2069", "\\u2028\\u2029\\u2066\\u2069"),
        ("dòng 1\ndòng 2\tcột\r\n", "dòng 1\ndòng 2\tcột\r\n"),  # a description's breaks stay
        ("\u200e\u200f\u200d👨\u200d👩", "\u200e\u200f\u200d👨\u200d👩"),  # marks, joiners stay
        ("Kiến Thụy", "Kiến Thụy"),
    ],
)
def test_shown_escapes_what_would_act_on_the_page(given: str, want: str) -> None:
    assert shown(given) == want


def test_values_that_are_not_outside_text_are_left_alone() -> None:
    from markupsafe import Markup

    assert shown(form_value("K\u202e1")) == "K\u202e1"
    assert shown(Markup("<b>\u202e</b>")) == Markup("<b>\u202e</b>")
    assert shown(42) == 42 and shown(None) is None


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """An article, a chat and a delivery, all named with hostile characters."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(
        None, {"database": {"url": premigrated(db_url)}, "topics": {"import_on_start": False}}
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    db = service.db
    now = db.now()
    with db.write() as conn:
        save_topic(conn, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "test", now)
        topic = get_topic(conn, "kt")
        assert topic is not None
        ensure_chat(conn, 777, "group", f"Nhóm {HOSTILE}", now)
        subscribe(conn, 777, topic_id=topic.id, query=None, now=now)
        service.index.refresh(conn)
        upsert_source_articles(conn, [article(1, title=HOSTILE, published_at=now)], now)
    assert service.ingest_tick().error is None
    yield service
    db.dispose()


def logged_in(client: TestClient) -> str:
    found = CSRF.search(client.get("/admin/login").text)
    assert found
    client.post("/admin/login", data={"token": TOKEN, "csrf": found.group(1)})
    page = CSRF.search(client.get("/admin/articles").text)
    assert page
    return page.group(1)


def test_no_admin_page_writes_outside_controls_as_they_are(service: Service) -> None:
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        logged_in(client)
        answers = {
            path: client.get(path)
            for path in (
                "/admin/articles?q=Ki%E1%BA%BFn",
                "/admin/deliveries",
                "/admin/subscriptions",
                "/admin/chats/777",
                "/admin/topics",
                "/admin/status",
            )
        }
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(answers, 200)
    pages = {path: r.text for path, r in answers.items()}
    for path, page in pages.items():
        assert not RAW.search(page), (path, RAW.search(page))
    assert (
        "Kiến Thụy \\u202etxet desrever\\u202c \\u0007bell"
        in pages["/admin/articles?q=Ki%E1%BA%BFn"]
    )
    assert "\\u2067iso" in html.unescape(pages["/admin/deliveries"])
    assert "Nhóm Kiến Thụy \\u202e" in pages["/admin/subscriptions"]


def test_a_stored_key_holding_a_bidi_control_is_sent_back_exactly(service: Service) -> None:
    """The articles page's hide button posts the key in a hidden field, in the spelling feedsvc
    prints (``keys.spelled``), which the route reads back (``logs.unescape_controls``) as the
    stored key: never the raw control (keys stored before keys refused bidi controls,
    ``lifecycle.editors``)."""
    key = "K\u202e1gnp.exe"
    with service.db.write() as conn:
        conn.execute(
            update(articles).where(articles.c.source_key == "TEST-00001").values(source_key=key)
        )
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        csrf = logged_in(client)
        page = client.get("/admin/articles", params={"q": "Kiến Thụy"}).text
        field = re.search(r'<input type="hidden" name="key" value="([^"]*)">', page)
        assert field and html.unescape(field.group(1)) == "K\\u202e1gnp.exe"
        assert "K\\u202e1gnp.exe</code>" in page  # shown escaped
        client.post("/admin/articles/hide", data={"key": field.group(1), "csrf": csrf})
    with service.db.read() as conn:
        state: Any = editor_state(conn, key)
    assert state is not None and state.hidden_by == "admin"
