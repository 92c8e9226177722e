"""Save double-clicked on a NEW topic (a tester's, the admin's topic editor, SPEC §7): two POSTs
~30 ms apart; the first created the topic, the second was refused "Chủ đề <slug> đã có." and
that was the page the browser showed — "Chủ đề mới" with the slug box's error, no success
message (4 times in 5). The admin, told the save failed, changes the slug and creates a
duplicate topic.

The new-topic form now carries a version as the edit form does (``topic_versions.absent_version``:
"no topic yet, as of its opening"); a topic created since under its slug holding exactly what
it sends is the same create sent again, answered as the first was (the edit form's rule: a
field changed meanwhile to what the save sends is no conflict). Any other form for an existing
slug is still "already exists": one field other, a topic that was there before the form was
opened, a form without such a version (a page from before it, the API's ``POST``).

The API keeps HTTP's semantics (README): ``POST`` of an existing slug is 409 ``topic_exists``
and ``PUT`` with ``If-None-Match: *`` 412 (RFC 9110 §13.1.2: the method MUST NOT be performed
when the condition is false, whatever the body), while a plain ``PUT`` — the idempotent way to
create — answers 201, then 200 for the same body.

Through the whole app over HTTP (Starlette's client; the double-click itself with two real
connections to uvicorn), spread over SQLite and PostgreSQL: the decision reads the stored
topic and its ``created_at`` (``store.topics.identity``) under the topics' lock."""

from __future__ import annotations

import html
import re
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_cases import on_backends, on_sqlite
from factories import article
from fakeserver import PATIENCE
from processes import free_port, uvicorn_thread
from test_admin import CSRF_FIELD, TOKEN, login
from test_admin_hostile import make_service

from feedsvc import operations as ops
from feedsvc.app import Service, create_app, uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.store import topics as topic_store
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

VI = Translator("vi")
VERSION_FIELD = re.compile(r'name="version" value="([^"]*)"')
FLASH = re.compile(r'<p class="flash (ok|bad)"[^>]*>(.*?)</p>', re.S)
#: the tester's form: "backfill on save" ticked, as a new topic's form opens
FORM = {
    "slug": "kien-thuy",
    "title": "Kiến Thụy",
    "query": '"Kiến Thụy"',
    "description": "Tin về huyện Kiến Thụy",
    "enabled": "on",
    "backfill": "on",
}


def seed(service: Service) -> None:
    now = service.db.now()
    rows = [
        article(1, title="Kiến Thụy khánh thành cầu mới", published_at=now - timedelta(hours=1)),
        article(2, title="Đồ Sơn đón khách", published_at=now - timedelta(hours=2)),
    ]
    with service.db.write() as conn:
        upsert_source_articles(conn, rows, now)
    assert service.ingest_tick().error is None


@pytest.fixture
def admin(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url)
    seed(service)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        yield client, service
    service.close()


def new_form(client: TestClient) -> dict[str, str]:
    """The new-topic form's hidden fields, as the browser sends them back."""
    page = client.get("/admin/topics/new")
    assert page.status_code == 200, page.text
    csrf, version = CSRF_FIELD.search(page.text), VERSION_FIELD.search(page.text)
    assert csrf, page.text
    form = {"csrf": csrf.group(1)}
    if version:  # (a page from before it had none)
        form["version"] = html.unescape(version.group(1))
    return form


def post(client: TestClient, form: dict[str, str]) -> Any:
    return client.post("/admin/topics/new", data=form, follow_redirects=False)


def shown_after(client: TestClient, response: Any) -> tuple[str, str]:
    """What the browser ends up showing: the flash ("ok"/"bad", its words) of the page the
    redirect leads to."""
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = FLASH.search(page.text)
    assert found, page.text
    return found.group(1), html.unescape(found.group(2))


def topics(service: Service) -> list[TopicSpec]:
    with service.db.read() as conn:
        return [t.spec for t in topic_store.list_topics(conn)]


def refused_as_existing(response: Any, slug: str = "kien-thuy") -> None:
    assert response.status_code == 422, response.text
    said = html.unescape(response.text)
    assert VI("op.topic_exists", slug=slug) in said and VI("new_topic") in said, said


#: the same form sent again, as browsers send it: the shown one, then invented variants whose
#: fields are stored otherwise than typed (line breaks, composition, spaces), switched off,
#: no backfill, an empty description
SAME_FORMS = [
    {},
    {"description": "Tin về huyện\r\nKiến Thụy", "title": "Kie\u0302\u0301n Thụy"},
    {"title": "  Kiến Thụy  ", "query": ' "Kiến Thụy" OR "Núi Đối" '},
    {"enabled": "", "backfill": ""},
    {"description": "", "backfill": ""},
]


@pytest.mark.parametrize(("db_url", "changes"), on_backends(SAME_FORMS), indirect=["db_url"])
def test_the_same_new_form_sent_twice_is_one_create_answered_as_such(
    admin: tuple[TestClient, Service], changes: dict[str, str]
) -> None:
    client, service = admin
    form = {**new_form(client), **FORM, **changes}
    form = {k: v for k, v in form.items() if v != "" or k in ("description",)}
    first = post(client, form)
    assert first.status_code == 303, first.text
    created = topics(service)
    assert [t.slug for t in created] == ["kien-thuy"]
    again = post(client, form)  # the second click: the page the browser shows
    assert shown_after(client, again) == ("ok", shown_words(form, service)), again.text
    assert topics(service) == created  # nothing written again
    if form.get("backfill"):
        feed = client.get("/feeds/kien-thuy.json").text
        assert "Kiến Thụy khánh thành cầu mới" in feed


def shown_words(form: dict[str, str], service: Service) -> str:
    """The success the first save said: created, and its backfill's counts when ticked."""
    said = VI("saved_created", slug="kien-thuy")
    if not form.get("backfill"):
        return said
    matched = 1  # "Kiến Thụy khánh thành cầu mới"; "Núi Đối" matches nothing stored
    counts = VI(
        "backfilled", slug="kien-thuy", scanned=2, matched=matched, shown=matched, added=0,
        removed=0,
    )  # fmt: skip
    return f"{said} {counts}"


#: a form for the same slug with something else in it: "already exists" as before
OTHER_FORMS = [
    {"title": "Kiến Thụy mới"},
    {"query": '"Kiến Thụy" OR "Núi Đối"'},
    {"description": "Khác"},
    {"enabled": ""},
]


@pytest.mark.parametrize(("db_url", "changes"), on_backends(OTHER_FORMS), indirect=["db_url"])
def test_another_form_for_the_slug_is_still_already_exists(
    admin: tuple[TestClient, Service], changes: dict[str, str]
) -> None:
    client, service = admin
    opened = {**new_form(client), **FORM}
    assert post(client, opened).status_code == 303
    created = topics(service)
    other = {k: v for k, v in {**opened, **changes}.items() if v != "" or k == "description"}
    refused_as_existing(post(client, other))
    assert topics(service) == created  # nothing saved over it


@pytest.mark.parametrize(
    ("db_url", "version"),
    on_backends(["opened-after", "", "0-", "0-99999999999999999999", "1-x", "0-0 0"]),
    indirect=["db_url"],
)
def test_an_identical_topic_older_than_the_form_is_still_already_exists(
    admin: tuple[TestClient, Service], version: str
) -> None:
    """A topic there when the form was opened is not this form's: the admin could have seen
    it (its slug taken) and is told so; nor is a form without a new topic's version (a page
    from before it) or with one typed by hand (``0-0 0``: a space inside)."""
    client, service = admin
    spec = TopicSpec("kien-thuy", FORM["title"], FORM["query"], FORM["description"])
    ops.save_topic(service.db, spec, "cli")
    form = {**new_form(client), **FORM}
    if version != "opened-after":
        form["version"] = version
    refused_as_existing(post(client, form))


@on_sqlite
def test_a_form_opened_before_an_identical_create_by_another_path_is_answered_created(
    admin: tuple[TestClient, Service],
) -> None:
    """The topic the form would create was created meanwhile, with exactly its fields (another
    admin's page, the CLI): nothing of it differs, as an edit whose fields were changed
    meanwhile to what it sends saves — answered as a create."""
    client, service = admin
    form = {**new_form(client), **FORM}
    spec = TopicSpec("kien-thuy", FORM["title"], FORM["query"], FORM["description"])
    assert ops.save_topic(service.db, spec, "cli") == "created"
    kind, said = shown_after(client, post(client, form))
    assert kind == "ok" and said.startswith(VI("saved_created", slug="kien-thuy")), said


@on_sqlite
def test_a_refused_new_form_keeps_its_version_and_its_repeat_is_one_create(
    admin: tuple[TestClient, Service],
) -> None:
    client, service = admin
    form = {**new_form(client), **FORM, "query": '"Kiến Thụy" AND ('}
    refused = post(client, form)
    assert refused.status_code == 422
    kept = VERSION_FIELD.search(refused.text)
    assert kept and kept.group(1) == form.get("version"), refused.text
    fixed = {**form, "query": FORM["query"]}
    assert post(client, fixed).status_code == 303
    assert shown_after(client, post(client, fixed))[0] == "ok"
    assert len(topics(service)) == 1


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_a_double_click_over_two_connections_shows_the_success(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tester's steps on a real server: two POSTs of one form ~30 ms apart on two
    connections, the second's answer followed as the browser does."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    port = free_port()
    service = make_service(db_url, http={"port": port})
    seed(service)
    try:
        with uvicorn_thread(uvicorn_config(service.settings, create_app(service))):
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=PATIENCE) as browser:
                page = browser.get("/admin/login")
                csrf = CSRF_FIELD.search(page.text)
                assert csrf
                browser.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
                opened = browser.get("/admin/topics/new").text
                csrf, version = CSRF_FIELD.search(opened), VERSION_FIELD.search(opened)
                assert csrf, opened
                form = {**FORM, "csrf": csrf.group(1)}
                if version:  # (a page from before it had none)
                    form["version"] = html.unescape(version.group(1))
                answers = clicks(base, dict(browser.cookies), form, gap=0.03)
                assert [a.status_code for a in answers] == [303, 303], [a.text for a in answers]
                browser.cookies.update(answers[1].cookies)  # the page the browser shows
                shown = browser.get(answers[1].headers["location"]).text
        found = FLASH.search(shown)
        assert found and found.group(1) == "ok", shown
        assert html.unescape(found.group(2)).startswith(VI("saved_created", slug="kien-thuy"))
        assert [t.slug for t in topics(service)] == ["kien-thuy"]
    finally:
        service.close()


def clicks(base: str, cookies: dict[str, str], form: dict[str, str], gap: float) -> list[Any]:
    """The form posted twice, the second ``gap`` s after the first started, each on its own
    connection (a browser's second navigation); both answers, in order."""
    answers: list[Any] = [None, None]

    def send(i: int) -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as c:
            answers[i] = c.post("/admin/topics/new", data=form)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    threads[0].start()
    time.sleep(gap)  # the spacing between the clicks themselves, not a wait for a result
    threads[1].start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return answers


# -- the API: HTTP's semantics kept -------------------------------------------------------------


def api(client: TestClient, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}", **kw.pop("headers", {})}
    return client.request(method, path, headers=headers, **kw)


BODY = {"title": "Kiến Thụy", "query": '"Kiến Thụy"', "description": "Tin", "enabled": True}


@on_sqlite
def test_the_api_keeps_its_answers_to_a_create_sent_again(
    admin: tuple[TestClient, Service],
) -> None:
    """A plain ``PUT`` is the idempotent create (201, then 200 for the same body); ``PUT`` with
    ``If-None-Match: *`` is 412 ``topic_exists`` for the same body as for another (RFC 9110
    §13.1.2); ``POST`` 409 ``topic_exists``, as documented: an API client learns the topic is
    there and reads it; the form's version rule is the admin's alone."""
    client, service = admin
    put = [api(client, "PUT", "/api/topics/a", json=BODY) for _ in range(2)]
    assert [r.status_code for r in put] == [201, 200], [r.text for r in put]
    star = {"If-None-Match": "*"}
    made = api(client, "PUT", "/api/topics/b", json=BODY, headers=star)
    assert made.status_code == 201, made.text
    for body in (BODY, {**BODY, "title": "Khác"}):
        again = api(client, "PUT", "/api/topics/b", json=body, headers=star)
        assert again.status_code == 412 and again.json()["code"] == "topic_exists", again.text
    assert ops.get_topic(service.db, "b").title == "Kiến Thụy"
    first = api(client, "POST", "/api/topics", json={**BODY, "slug": "c"})
    assert first.status_code == 201, first.text
    for body in (BODY, {**BODY, "title": "Khác"}):
        again = api(client, "POST", "/api/topics", json={**body, "slug": "c"})
        assert again.status_code == 409 and again.json()["code"] == "topic_exists", again.text
    assert ops.get_topic(service.db, "c").title == "Kiến Thụy"


# -- the rule itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_the_operation_answers_created_only_for_a_topic_made_since(db: Any) -> None:
    from feedsvc.topic_versions import absent_version

    spec = TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"', "Mô tả", True)
    before = absent_version(db.now())
    assert ops.save_topic(db, spec, "admin", create_only=True, expected_version=before) == (
        "created"
    )
    with db.read() as conn:
        stamped = topic_store.get_topic(conn, "kt")
    assert ops.save_topic(db, spec, "admin", create_only=True, expected_version=before) == (
        "created"
    )
    with db.read() as conn:
        assert topic_store.get_topic(conn, "kt") == stamped  # nothing written: updated_at too
    after = absent_version(db.now())
    for version in (after, "", "0-", stamped.version if stamped else ""):
        with pytest.raises(ops.OperationError) as refused:
            ops.save_topic(db, spec, "admin", create_only=True, expected_version=version)
        assert refused.value.code == "topic_exists", version
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, TopicSpec("kt", "Khác", '"Kiến Thụy"', "Mô tả"), "admin",
                       create_only=True, expected_version=before)  # fmt: skip
    assert refused.value.code == "topic_exists"


def test_a_new_forms_version_reads_back_to_the_microsecond() -> None:
    from datetime import UTC, datetime

    from feedsvc.topic_versions import absent_since, absent_version

    now = datetime(2026, 12, 6, 3, 4, 5, 678901, tzinfo=UTC)
    assert absent_since(absent_version(now)) == now
    assert absent_since(f" {absent_version(now)} ") == now
    for text in ("", "0-", "0-x", "1-0", "0--5", "0-" + "9" * 19, absent_version(now) + "0" * 8):
        assert absent_since(text) is None, text
