"""A stale new-topic form sent again after its topic was deleted (the lead's, last session): the
admin created a topic, someone deleted it, and the browser's Back then Save sent the old
"new topic" form again: the topic was silently created again — its feeds back, no word of the
deletion. The form's version says when it was opened (``topic_versions.absent_version``), the
store when the slug's topic was last deleted (``deleted_topics.deleted_at``, the same clock):
a deletion after the form was opened is 409 ``topic_deleted_since_opened``, what was typed kept
in a fresh new-topic form whose Save creates the topic deliberately. A form opened after the
deletion, and the API's creates (no form version), create as before.

Through the whole app (Starlette's client), spread over SQLite and PostgreSQL, and the rule on
both backends (``deleted_at`` read back against the form's microseconds)."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from backend_cases import on_backends, on_sqlite
from test_admin import TOKEN, button_fields, login
from test_admin_hostile import make_service
from test_admin_topic_save_twice import FORM, VERSION_FIELD, new_form, post, seed, topics

from feedsvc import operations as ops
from feedsvc.app import Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.store.topics import TopicSpec
from feedsvc.topic_versions import absent_since, absent_version

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

VI = Translator("vi")
EN = Translator("en")


@pytest.fixture
def admin(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url)
    seed(service)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        yield client, service
    service.close()


def api(client: TestClient, method: str, path: str, **kw: Any) -> Any:
    return client.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"}, **kw)


def delete_by(how: str, client: TestClient, service: Service, slug: str) -> None:
    """Delete ``slug``'s topic the way a colleague would: the admin's button, the API, ops."""
    if how == "admin":
        fields = button_fields(client, slug, "delete")
        done = client.post(f"/admin/topics/{slug}/delete", data=fields, follow_redirects=False)
        assert done.status_code == 303, done.text
    elif how == "api":
        assert api(client, "DELETE", f"/api/topics/{slug}").status_code == 200
    else:  # another process (the CLI): this one learns it as its feeds sync would
        ops.delete_topic(service.db, slug)
        service.topic_changed(slug)
    assert slug not in [t.slug for t in topics(service)]


def refused_since_opened(response: Any, slug: str, form: dict[str, str]) -> dict[str, str]:
    """The 409 editor: the words, the typed values kept, a new-topic form with a version opened
    now (not the stale one); returns that form as the browser would send it back."""
    assert response.status_code == 409, response.text
    said = html.unescape(response.text)
    words = VI("op.topic_deleted_since_opened", slug=slug) + " " + VI("deleted_meanwhile_hint")
    assert words in said, said
    assert 'action="/admin/topics/new"' in response.text
    for name in ("title", "slug"):
        assert re.search(rf'id="{name}" name="{name}" value="{re.escape(html.escape(form[name]))}"',
                         response.text), name  # fmt: skip
    query = re.search(r'<textarea id="query"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert query and html.unescape(query.group(1)).removeprefix("\n") == form["query"]
    version = VERSION_FIELD.search(response.text)
    assert version is not None, response.text
    fresh = html.unescape(version.group(1))
    was, now = absent_since(form["version"]), absent_since(fresh)
    assert was is not None and now is not None and now > was
    return {**form, "version": fresh}


#: the stale form as it was sent first (the shown case), then invented variants: typed again
#: otherwise before the second Save, switched off, no backfill, another slug's own history
STALE = [
    ("admin", {}),
    ("api", {"title": "Kiến Thụy (sửa)"}),
    ("ops", {"query": '"Kiến Thụy" OR "Núi Đối"', "enabled": ""}),
    ("admin", {"description": "", "backfill": ""}),
]


@pytest.mark.parametrize(("db_url", "how", "changes"), on_backends(STALE), indirect=["db_url"])
def test_back_then_save_after_a_delete_is_409_and_creates_nothing(
    admin: tuple[TestClient, Service], how: str, changes: dict[str, str]
) -> None:
    client, service = admin
    form = {**new_form(client), **FORM}
    assert post(client, form).status_code == 303
    delete_by(how, client, service, "kien-thuy")
    again = {k: v for k, v in {**form, **changes}.items() if v != "" or k == "description"}
    response = post(client, again)  # Back, then Save
    fresh = refused_since_opened(response, "kien-thuy", again)
    assert topics(service) == []  # not created again
    assert client.get("/feeds/kien-thuy.json").status_code == 410  # still gone to readers
    # the way to create it anyway: Save on the page shown
    assert post(client, fresh).status_code == 303
    assert [t.slug for t in topics(service)] == ["kien-thuy"]


@on_sqlite
def test_a_topic_created_by_another_path_and_deleted_since_is_refused_too(
    admin: tuple[TestClient, Service],
) -> None:
    """The form never saved: a colleague created the slug (API) and deleted it (CLI's path)
    while this form stood open — its Save would bring back a topic deleted on purpose."""
    client, service = admin
    form = {**new_form(client), **FORM, "title": "Của tôi"}
    made = api(client, "POST", "/api/topics", json={"slug": "kien-thuy", "title": "Khác",
                                                    "query": '"Kiến Thụy"'})  # fmt: skip
    assert made.status_code == 201, made.text
    ops.delete_topic(service.db, "kien-thuy")
    refused_since_opened(post(client, form), "kien-thuy", form)
    assert topics(service) == []


@on_sqlite
def test_a_form_opened_after_the_delete_creates_it(admin: tuple[TestClient, Service]) -> None:
    """The deliberate ways stay: a form opened after the deletion, one for a slug deleted
    before it was opened, a slug never deleted, the API's ``POST`` and plain ``PUT``."""
    client, service = admin
    stale = {**new_form(client), **FORM}
    assert post(client, stale).status_code == 303
    ops.delete_topic(service.db, "kien-thuy")
    opened_after = {**new_form(client), **FORM}
    assert post(client, opened_after).status_code == 303
    assert [t.slug for t in topics(service)] == ["kien-thuy"]
    ops.delete_topic(service.db, "kien-thuy")
    body = {"slug": "kien-thuy", "title": "API", "query": '"Kiến Thụy"'}
    assert api(client, "POST", "/api/topics", json=body).status_code == 201
    ops.delete_topic(service.db, "kien-thuy")
    put = api(client, "PUT", "/api/topics/kien-thuy", json={**body, "slug": None})
    assert put.status_code == 201, put.text
    assert post(client, {**new_form(client), **FORM, "slug": "moi"}).status_code == 303


@on_sqlite
def test_the_english_words(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url, admin={"language": "en"})
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            assert login(client).status_code == 303
            form = {**new_form(client), **FORM}
            assert post(client, form).status_code == 303
            ops.delete_topic(service.db, "kien-thuy")
            late = post(client, form)
            assert late.status_code == 409, late.text
            said = html.unescape(late.text)
            assert (
                "Topic kien-thuy was deleted after this form was opened (in another admin page, "
                "through the API or the command line): this form may be the one that created it, "
                "sent again from the browser's history; nothing was saved. What you typed is "
                "below: Save creates the topic again, or Cancel." in said
            ), said
    finally:
        service.close()


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_the_operation_refuses_only_a_form_older_than_the_deletion(db: Any) -> None:
    spec = TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"', "Mô tả", True)
    before = absent_version(db.now())
    assert ops.save_topic(db, spec, "admin", create_only=True, expected_version=before) == (
        "created"
    )
    ops.delete_topic(db, "kt")
    for saving in (spec, TopicSpec("kt", "Khác", '"Đồ Sơn"')):
        with pytest.raises(ops.OperationError) as refused:
            ops.save_topic(db, saving, "admin", create_only=True, expected_version=before)
        assert refused.value.code == "topic_deleted_since_opened"
        assert refused.value.kind == "conflict"
    # no form version (CLI, API): a deliberate create; a version opened after the deletion too
    for given in (None, "", "0-", "opened after"):
        version = absent_version(db.now()) if given == "opened after" else given
        assert ops.save_topic(db, spec, "admin", create_only=True, expected_version=version) == (
            "created"
        )
        ops.delete_topic(db, "kt")
