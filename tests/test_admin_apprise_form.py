"""The Apprise form on ``/admin/subscriptions`` lost what was typed and said no position
(tester): adding a destination with the query ``"Kiến Thụy" AND (`` redirected with the flash
"kết thúc khi còn thiếu một từ" alone — where the API (``position`` 17, ``column`` 18), the
CLI's caret and the topic editor ("tại ký tự 18") all name character 18 — and the URL and query
boxes came back empty. Its ``.strip()`` of the query moved every position after leading
spaces, and its ``.strip()`` of both boxes took NEL and U+001C–U+001F for spaces: a URL or a
query ending in one was saved where the API and the CLI refuse it.

Now a refused add is the page again (422, or 409 for a conflict), the topic and query as sent
— the URL box empty, asking for it again: it holds a secret (:mod:`test_admin_apprise_secret`)
— the error under its box,
a query error "at character N" of the query as typed; a character no save takes is named
under its box by the box's note, as on every other admin form. Through the whole app over
HTTP (``TestClient``, SQLite), against the JSON API's answer for the same query.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from typing import Any

import pytest
from test_admin import TOKEN, csrf_of, login, make_client
from test_admin_refused_boxes import form_on, note_under

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

API = {"Authorization": f"Bearer {TOKEN}"}
HOOK = "json://hook-user:S3cret-Pa55@127.0.0.1:9/deliver/TOKEN-abcdef123456"
FORM = "apprise-form"


@pytest.fixture
def served(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli")
        login(client)
        yield client, service
    service.close()


def add(client: TestClient, **typed: str) -> Any:
    form = {"csrf": csrf_of(client, "/admin/subscriptions"), "url": HOOK, "topic": "", "query": ""}
    return client.post("/admin/subscriptions/apprise", data=form | typed, follow_redirects=False)


def apprise_subs(service: Service) -> list[sub_store.Subscription]:
    with service.db.read() as conn:
        return sub_store.list_subscriptions(conn, channel="apprise")


def api_column(client: TestClient, query: str) -> int:
    """Where the API places the same query's error (``column``, counted from 1)."""
    body = {"channel": "apprise", "address": HOOK, "query": query}
    answer = client.post("/api/subscriptions", json=body, headers=API)
    assert answer.status_code == 422, answer.text
    return int(answer.json()["column"])


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ('"Kiến Thụy" AND (', 18),  # the tester's
        ('   "Kiến Thụy" AND (', 21),  # leading spaces: the strip made it 18
        ('\t"Kiến Thụy" OR OR', 14),
        ("«an ninh", 1),  # a quote never closed
        ("  «an ninh» OR „công an", 16),
        ("Kiến Thụy AND", 11),
    ],
)
def test_a_query_error_keeps_the_form_and_names_the_character(
    served: tuple[TestClient, Service], query: str, column: int
) -> None:
    client, service = served
    refused = add(client, query=query)
    assert refused.status_code == 422, refused.text
    assert "location" not in refused.headers  # the page itself, not a redirect
    under = html.unescape(note_under(refused.text, "query"))
    assert f"(tại ký tự {column})" in under, under
    assert api_column(client, query) == column  # the API places it alike
    kept = form_on(refused.text, FORM) | {"url": HOOK}  # typed again, as the page asks
    assert kept["query"] == query
    assert " selected>" not in refused.text.split('id="apprise-topic"')[1].split("</select>")[0]
    assert 'aria-describedby="query-error" autofocus' in refused.text
    assert apprise_subs(service) == []
    # corrected from the page as it came back: added
    again = client.post("/admin/subscriptions/apprise", data=kept | {"query": "Kiến Thụy"})
    assert again.status_code == 200 and 'class="flash bad"' not in again.text
    assert [s.query for s in apprise_subs(service)] == ["Kiến Thụy"]


def test_a_refused_url_keeps_the_topic_chosen_and_never_logs_the_url(
    served: tuple[TestClient, Service], service_logging: io.StringIO
) -> None:
    client, service = served
    typed = "nope://user:Another-S3cret@example.vn/TOKEN-zyxw9876"
    refused = add(client, url=typed, topic="kien-thuy")
    assert refused.status_code == 422, refused.text
    under = html.unescape(note_under(refused.text, "url"))
    assert "Địa chỉ người nhận không hợp lệ" in under
    assert "Another-S3cret" not in under and "TOKEN-zyxw9876" not in under
    assert typed not in refused.text and 'id="apprise-url-again"' in refused.text
    assert re.search(r'<option value="kien-thuy"[^>]* selected>', refused.text)
    log = service_logging.getvalue()
    assert all(s not in log for s in ("Another-S3cret", "TOKEN-zyxw9876", "user:")), log
    assert apprise_subs(service) == []


def test_an_error_of_no_box_is_said_above_the_form(
    served: tuple[TestClient, Service],
) -> None:
    """Neither a topic nor a query: the form's words, above its boxes, the URL kept."""
    client, _ = served
    refused = add(client, topic="", query="   ")
    assert refused.status_code == 422, refused.text
    found = re.search(r'id="apprise-form".*?<p class="flash bad" role="alert">(.*?)</p>',
                      refused.text, re.S)  # fmt: skip
    assert found or 'id="topic-error"' in refused.text, refused.text
    assert HOOK not in refused.text and 'id="apprise-url-again"' in refused.text


@pytest.mark.parametrize(
    ("box", "typed", "char", "at"),
    [
        ("url", HOOK + "\u0085", "U+0085 (NEL)", len(HOOK) + 1),  # saved before: strip took it
        ("url", "\u001c" + HOOK, "U+001C", 1),
        ("url", HOOK.replace("/deliver", "/\u202edeliver"), "U+202E", HOOK.index("/deliver") + 2),
        ("query", "Kiến Thụy\u001f", "U+001F", 10),  # saved before, as "Kiến Thụy"
        ("query", "Kiến\u202eThụy", "U+202E (RIGHT-TO-LEFT OVERRIDE)", 5),
        ("query", "  Kiến Thụy\u0007", "U+0007 (BEL)", 12),
    ],
)
def test_a_character_no_save_takes_is_named_under_its_box(
    served: tuple[TestClient, Service], box: str, typed: str, char: str, at: int
) -> None:
    """Judged as sent, as the API and the CLI judge it: refused, named with its position in
    the text as sent, the box holding the rest (``admin_text.box``), nothing saved."""
    client, service = served
    refused = add(client, **{box: typed, **({} if box == "query" else {"query": "Kiến Thụy"})})
    assert refused.status_code == 422, refused.text
    under = html.unescape(note_under(refused.text, box))
    assert char in under and f"tại ký tự {at}" in under, under
    assert "hãy xoá nó" not in under  # the box left it out already
    kept = form_on(refused.text, FORM)
    if box == "query":
        assert kept[box] == "".join(c for c in typed if c not in "\u001f\u202e\u0007")
        kept["url"] = HOOK  # typed again, as the page asks
    else:  # the URL box comes back empty (a secret)
        assert HOOK.split("@")[0] not in refused.text
    assert apprise_subs(service) == []
    answer = client.post(
        "/api/subscriptions", headers=API,
        json={"channel": "apprise", "address": kept["url"] if box == "query" else typed,
              "query": typed if box == "query" else "Kiến Thụy"},
    )  # fmt: skip
    assert answer.status_code == 422 and answer.json()["code"] == "control_character"
