"""Every admin input that reaches SQL, with characters no state DB takes (NUL on PostgreSQL, a
lone surrogate anywhere), other control characters and over-long values: refused by the shared
use cases (:func:`feedsvc.operations.refuse_control`) with the catalogue's words, never a 500
(newcomer C1/C2: ``/admin/articles?q=%00`` and a hide of ``NC-2\\x00`` were 500 + traceback on
PostgreSQL). The walk covers every admin route: a new route fails the coverage check until its
inputs are listed here. SQLite and PostgreSQL.

A query string or form field that is not UTF-8 is refused (or ignored) before any SQL, and the
bytes a server reads of it (U+FFFD) are text either backend stores: those cases run on SQLite
only (``backend_cases.on_sqlite_only``), as do the route walk (the app's routes against this
module's list: no SQL is its point) and the topic editor's textarea (the description is saved
by the store's ``save_topic``, run on PostgreSQL by ``test_topic_races.py`` and
``test_topics_sync.py``). The hostile values that do reach the use cases or the CLI (NUL,
surrogates: the PostgreSQL-only 500s) keep both backends."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from backend_cases import on_sqlite, on_sqlite_only
from click.testing import CliRunner
from factories import article
from starlette.routing import Route
from test_admin import CSRF_FIELD, TOKEN, login
from test_admin_hostile import make_service

from feedsvc import operations as ops
from feedsvc.app import Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.lifecycle import editors
from feedsvc.store import topics as topic_store
from feedsvc.store.lifecycle import editor_state
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec
from feedsvc.web.admin import admin_routes

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

#: What each admin route reads from the query string (GET) or form (POST) and passes on; a
#: path parameter is probed in the path. Sane values the probes replace one at a time.
INPUTS: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/admin"): {},
    ("GET", "/admin/"): {},
    ("GET", "/admin/login"): {"next": "/admin/topics"},
    ("POST", "/admin/login"): {"token": "wrong", "next": "/admin/topics"},
    ("POST", "/admin/logout"): {},
    ("GET", "/admin/static/{name}"): {},
    ("GET", "/admin/topics"): {},
    ("GET", "/admin/topics/new"): {},
    ("POST", "/admin/topics/new"): {
        "slug": "moi", "title": "Mới", "description": "D", "query": '"mới"', "enabled": "on",
        "backfill": "on",
    },
    ("GET", "/admin/topics/{slug}/edit"): {},
    ("POST", "/admin/topics/{slug}/edit"): {
        "title": "Kiến Thụy", "description": "D", "query": '"Kiến Thụy"', "enabled": "on",
    },
    ("POST", "/admin/topics/{slug}/enable"): {},
    ("POST", "/admin/topics/{slug}/disable"): {},
    ("POST", "/admin/topics/{slug}/delete"): {},
    ("POST", "/admin/topics/{slug}/backfill"): {},
    ("POST", "/admin/preview"): {"query": '"Kiến Thụy"'},  # JSON
    ("GET", "/admin/subscriptions"): {"channel": "apprise"},
    ("POST", "/admin/chats/{chat_id}/pause"): {},
    ("POST", "/admin/chats/{chat_id}/resume"): {},
    ("POST", "/admin/subscriptions/{sub_id}/delete"): {},
    ("POST", "/admin/subscriptions/apprise"): {"url": "json://localhost:1/", "topic": "kien-thuy"},
    ("POST", "/admin/subscriptions/apprise#query"): {"url": "json://localhost:1/", "query": "a"},
    ("GET", "/admin/deliveries"): {"state": "dead", "channel": "telegram", "page": "1"},
    ("POST", "/admin/deliveries/{delivery_id}/resend"): {},
    ("GET", "/admin/status"): {},
    ("GET", "/admin/chats/{chat_id}"): {},
    ("POST", "/admin/chats/{chat_id}"): {"digest": "off", "quiet": "off", "silent": "on"},
    ("GET", "/admin/articles"): {"q": "Kiến Thụy"},
    ("POST", "/admin/articles/hide"): {"key": "TEST-00001", "reason": "r", "q": "k"},
    ("POST", "/admin/articles/unhide"): {"key": "TEST-00001", "q": "k"},
    ("GET", "/admin/charts/activity.svg"): {},
    ("GET", "/admin/charts/subscribers.svg"): {},
}  # fmt: skip
PATH_VALUES = {"slug": "kien-thuy", "chat_id": "12345", "sub_id": "1", "delivery_id": "1",
               "name": "admin.css"}  # fmt: skip
#: Each probe as the browser sends it: the raw UTF-8 bytes, percent-encoded. ``\xed\xa0\x80``
#: is a lone surrogate's UTF-8-like form (the server reads it as U+FFFD); JSON carries a real
#: one (``"\ud800"``).
HOSTILE: list[bytes] = [
    b"\x00", b"NC-2\x00", b"a\x00b", b"\x01", b"\x1b[31m", b"\x7f", "\x85".encode(),
    "\u202e".encode(), b"\xed\xa0\x80", b"x" * 3000,
]  # fmt: skip
JSON_HOSTILE = ["\x00", "a\x00b", "\ud800", "a\udcffb", "\x1b", "x" * 5000]


@contextmanager
def admin_world(db_url: str) -> Iterator[tuple[TestClient, Service]]:
    """A logged-in admin client over a service holding one ingested article (``TEST-00001``)
    and topic ``kien-thuy``: what every admin input test starts from."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
        service = make_service(db_url)
    now = service.db.now()
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(1, published_at=now - timedelta(hours=1))], now)
    assert service.ingest_tick().error is None
    ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli")
    app = create_app(service)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        assert login(client).status_code == 303
        yield client, service
    service.close()


@pytest.fixture
def admin(db_url: str) -> Iterator[tuple[TestClient, Service]]:
    with admin_world(db_url) as world:
        yield world


def _csrf(client: TestClient) -> str:
    found = CSRF_FIELD.search(client.get("/admin/topics").text)
    assert found
    return found.group(1)


def _encoded(values: dict[str, bytes]) -> str:
    return "&".join(f"{k}={quote_from_bytes(v, safe='')}" for k, v in values.items())


@on_sqlite
def test_every_admin_route_is_walked(admin: tuple[TestClient, Service]) -> None:
    _, service = admin
    routes = {
        (m, r.path)
        for r in admin_routes(service)
        if isinstance(r, Route)
        for m in (r.methods or ())
        if m != "HEAD"
    }
    assert routes == {(m, p.split("#")[0]) for m, p in INPUTS}


def test_hostile_values_in_every_admin_input_are_refused_below_500(
    admin: tuple[TestClient, Service],
) -> None:
    client, service = admin
    failures = []
    csrf = _csrf(client)  # one per session
    for (method, route), base in INPUTS.items():
        path = route.split("#")[0]
        slots = [*(f"{{{p}}}" for p in PATH_VALUES if f"{{{p}}}" in path), *base]
        for slot in slots:
            for value in HOSTILE:
                target = path
                for name, sane in PATH_VALUES.items():
                    given = value if slot == f"{{{name}}}" else sane.encode()
                    target = target.replace(f"{{{name}}}", quote_from_bytes(given, safe=""))
                fields = {k: value if k == slot else v.encode() for k, v in base.items()}
                if path == "/admin/preview":
                    response = client.post(
                        path, json={"query": value.decode("utf-8", "replace")},
                        headers={"x-csrf-token": csrf},
                    )  # fmt: skip
                elif method == "GET":
                    query = _encoded(fields)
                    response = client.get(target + ("?" + query if query else ""))
                else:
                    body = _encoded({**fields, "csrf": csrf.encode()})
                    response = client.post(
                        target, content=body, follow_redirects=True,
                        headers={"content-type": "application/x-www-form-urlencoded"},
                    )  # fmt: skip
                if response.status_code >= 500 or "Traceback" in response.text:
                    failures.append((method, route, slot, value[:12], response.status_code))
                if path == "/admin/logout":
                    assert login(client).status_code == 303
                    csrf = _csrf(client)
    assert failures == []
    with service.db.read() as conn:  # nothing was hidden by a refused key
        assert editor_state(conn, "TEST-00001").hidden_at is None  # type: ignore[union-attr]


def test_the_preview_refuses_json_text_no_database_takes(
    admin: tuple[TestClient, Service],
) -> None:
    client, _ = admin
    headers = {"x-csrf-token": _csrf(client), "content-type": "application/json"}
    for value in JSON_HOSTILE:
        body = json.dumps({"query": value})  # ensure_ascii: "\ud800" reaches the server as is
        response = client.post("/admin/preview", content=body, headers=headers)
        assert response.status_code < 500 and "Traceback" not in response.text, value


def test_the_articles_search_refuses_control_characters_with_words(
    admin: tuple[TestClient, Service],
) -> None:
    client, _ = admin
    # not U+202E: a key stored with it before keys refused it is found by its text
    for q in ["%00", "a%00b", "%01", "%1b%5b31m", "%E2%80%AE%1b"]:
        response = client.get(f"/admin/articles?q={q}")
        assert response.status_code == 422, q
        # taken out of the search box, said so (vi, one language: test_admin_refused_boxes)
        assert "Đã bỏ khỏi ô “Tìm theo tiêu đề hoặc mã bài”" in response.text
    # a byte that is not UTF-8 beside it: the query string is not text (web.queries), said so
    response = client.get("/admin/articles?q=%00%ff")
    assert response.status_code == 400
    assert response.text == Translator("vi")("http.query_not_text", bytes="%FF") + "\n"


@pytest.mark.parametrize(
    ("db_url", "path", "shown"),
    on_sqlite_only([
        ("/admin/deliveries?state=%FF", "%FF"),
        ("/admin/deliveries?channel=%C3&page=1", "%C3"),
        ("/admin/deliveries?state=dead&page=%ED%A0%80", "%ED%A0%80"),
        ("/admin/deliveries?utm=%FE&state=%FF", "%FF"),  # the one read is named
        ("/admin/subscriptions?channel=%E1%BA", "%E1%BA"),
        ("/admin/articles?q=%C0%AF", "%C0%AF"),
        ("/admin/articles?q=kien&q=%FF", "%FF"),  # given twice: never read as "kien"
    ]),
    indirect=["db_url"],
)  # fmt: skip
def test_a_filter_that_is_not_text_is_a_worded_400(
    admin: tuple[TestClient, Service], path: str, shown: str
) -> None:
    """Read after the session check, in the admin's language (vi here; en:
    ``tests/test_web_queries.py``'s login)."""
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 400
    assert response.text == Translator("vi")("http.query_not_text", bytes=shown) + "\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("db_url", "path", "same_as"),
    on_sqlite_only([
        ("/admin/deliveries?utm_source=caf%E9", "/admin/deliveries"),
        ("/admin/deliveries?state=dead&%FF=1&page=1", "/admin/deliveries?state=dead&page=1"),
        ("/admin/subscriptions?channel=apprise&ref=%FF", "/admin/subscriptions?channel=apprise"),
        ("/admin/articles?x=%C3&q=Ki%E1%BA%BFn", "/admin/articles?q=Ki%E1%BA%BFn"),
        ("/admin/topics?ref=%ED%A0%80", "/admin/topics"),
        ("/admin/status?ref=%FF", "/admin/status"),
    ]),
    indirect=["db_url"],
)  # fmt: skip
def test_an_admin_page_ignores_what_it_does_not_read(
    admin: tuple[TestClient, Service], path: str, same_as: str
) -> None:
    """4ec5ea1 refused these with the 400 too: the page is the one without the parameter (the
    status page's free space and inodes, read at each request, moved by other tests between
    the two reads: figures compared apart)."""
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 200, response.text
    expected = client.get(same_as)
    assert _no_figures(response.text) == _no_figures(expected.text)


def _no_figures(page: str) -> str:
    """``page`` with every run of digits and their group separators as ``N``."""
    return re.sub(r"\d[\d.,]*", "N", page)


def test_the_hide_form_refuses_a_key_with_control_characters_with_words(
    admin: tuple[TestClient, Service],
) -> None:
    client, service = admin
    headers = {"content-type": "application/x-www-form-urlencoded"}
    for key in ["NC-2%00", "%00", "TEST-00001%00", "TEST-00001%01", "a%7fb"]:
        for action in ["hide", "unhide"]:
            body = f"csrf={_csrf(client)}&key={key}&reason=x"
            response = client.post(f"/admin/articles/{action}", content=body, headers=headers)
            assert response.status_code == 200, key  # the articles page after the 303
            assert "Trường mã bài có ký tự điều khiển" in response.text  # the flash
    with service.db.read() as conn:
        assert editor_state(conn, "TEST-00001").hidden_at is None  # type: ignore[union-attr]


# --- the shared use cases: the CLI and the API get the same refusals ----------------------

SURROGATES = ["\udcff", "a\ud800b", "NC-2\udced\udca0\udc80"]  # the CLI's surrogateescape


@pytest.mark.parametrize("text", ["\x00", "a\x00b", "\x1b", *SURROGATES])
def test_use_cases_refuse_before_any_sql(db: Database, text: str) -> None:
    code = "not_text" if any("\ud800" <= c <= "\udfff" for c in text) else "control_character"
    calls: list[Any] = [
        lambda: editors.find_articles(db, text),
        lambda: editors.hide_article(db, text, None, "cli"),
        lambda: editors.hide_article(db, "TEST-00001", text, "cli"),
        lambda: editors.unhide_article(db, text, ()),
        lambda: ops.get_topic(db, text),
        lambda: ops.delete_topic(db, text),
        lambda: ops.set_topic_enabled(db, text, False),
        lambda: ops.backfill_topic(db, text),
        lambda: ops.save_topic(db, TopicSpec(text, "T", "a"), "cli"),
        lambda: ops.save_topic(db, TopicSpec("kien-thuy", text, "a"), "cli"),
        lambda: ops.save_topic(db, TopicSpec("kien-thuy", "T", "a", description=text), "cli"),
        lambda: ops.add_subscription(db, 5, "private", topic=text, query=None),
        lambda: ops.add_subscription(db, 5, "private", topic=None, query=text),
        lambda: ops.add_subscription(db, None, None, topic="kien-thuy", query=None,
                                     channel="zalo", address=text),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(ops.OperationError) as caught:
            call()
        assert (caught.value.kind, caught.value.code) == ("invalid", code)


def test_the_cli_refuses_arguments_that_are_not_utf8(db: Database) -> None:
    env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
    for args in [
        ["articles", "find", "a\udcffb"],
        ["articles", "hide", "NC-2\udced\udca0\udc80"],
        ["articles", "unhide", "\udcff"],
        ["topics", "enable", "\udcff"],
        ["topics", "disable", "kien\udcff"],
    ]:
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert "lone surrogate" in result.output
        assert isinstance(result.exception, SystemExit)  # a worded exit, not a traceback


@pytest.mark.parametrize("text", ["a\x1bb", "\x00", "Kiến\x07Thụy", "\x9b", "a\udcffb"])
def test_the_cli_search_names_its_argument_not_the_web_forms_field(db: Database, text: str) -> None:
    """`articles find $'\\x1b'` said "q contains a control character": ``q`` is the web
    form's field; on the command line the search is the TEXT argument."""
    env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
    result = CliRunner().invoke(cli, ["articles", "find", text], env=env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("feedsvc: The TEXT contains "), result.output
    assert "q contains" not in result.output


def test_the_api_search_refuses_what_the_admin_refuses(admin: tuple[TestClient, Service]) -> None:
    client, _ = admin
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for q in ["%01", "%1b", "%E2%80%AE%01"]:  # U+202E alone finds a legacy key
        response = client.get(f"/api/articles?q={q}", headers=auth)
        assert response.status_code == 422 and response.json()["code"] == "control_character"


@on_sqlite
def test_the_topic_editor_shows_the_description_in_a_textarea(
    admin: tuple[TestClient, Service],
) -> None:
    """Newcomer D2: an ``<input>`` value cannot hold a line break (browsers strip them), so the
    description is a ``<textarea>``; what a browser sends back (CRLF) is saved as it was."""
    client, service = admin
    text = "Dòng 1\nDòng 2\n\nĐoạn 2"
    ops.save_topic(service.db, TopicSpec("nhieu-dong", "Nhiều dòng", "a", text), "cli")
    page = client.get("/admin/topics/nhieu-dong/edit").text
    assert '<input id="description"' not in page
    assert (
        f'<textarea id="description" name="description" rows="4" translate="no">\n{text}</textarea>'
        in page
    )
    form = {"title": "Nhiều dòng", "query": "a", "description": text.replace("\n", "\r\n")}
    form["version"] = ops.get_topic(service.db, "nhieu-dong").version  # the form's hidden field
    assert f'name="version" value="{form["version"]}"' in page
    saved = client.post(
        "/admin/topics/nhieu-dong/edit", data={**form, "csrf": _csrf(client)},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    assert ops.get_topic(service.db, "nhieu-dong").spec.description == text


@pytest.mark.parametrize(
    ("db_url", "field", "raw"),
    on_sqlite_only([("title", b"Kh\xe1nh H\xf2a"), ("query", b"\xff"),
                 ("description", b"\xed\xa0\x80"), ("title", b"Ki\xe1\xba"), ("slug", b"kh\xc3")]),
    indirect=["db_url"],
)  # fmt: skip
def test_a_form_field_that_is_not_text_is_refused_whole(
    admin: tuple[TestClient, Service], field: str, raw: bytes
) -> None:
    """Starlette reads such bytes as U+FFFD: a topic was saved titled "Kh\ufffdnh H\ufffda" (303,
    success), while the API refuses the same bytes."""
    client, service = admin
    values = {"slug": b"khanh-hoa", "title": b"Kh\xc3\xa1nh H\xc3\xb2a", "query": b"x",
              "description": b"", "csrf": _csrf(client).encode()} | {field: raw}  # fmt: skip
    response = client.post(
        "/admin/topics/new",
        content=_encoded(values),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 400, response.text
    assert "không phải văn bản UTF-8; không có gì được lưu" in response.text
    with service.db.read() as conn:
        assert [t.slug for t in topic_store.list_topics(conn)] == ["kien-thuy"]
