"""The topic editor saved over changes made since it was opened (tester): admin B opened d6's
editor, admin A switched d6 off, B saved a title fix from the open form: d6 was on again, its
feed served; and a query A changed was reverted by B's older form, without a word. The form
now carries the topic's version (:mod:`feedsvc.topic_versions`), and a save from a stale one
is refused (409) naming the fields changed meanwhile, what was typed kept, the stored version
taken so that saving again overwrites deliberately.

SQLite only (``backend_cases.on_sqlite`` and ``on_sqlite_only``) but for
``test_versions_read_back_the_same_on_each_backend``, on SQLite and PostgreSQL: the version is
a digest of the stored fields (``feedsvc.topic_versions``), compared in Python, so what a
backend can change is how the fields read back, which that test checks on both (NFC text,
line breaks, a long query); the saves, disables and deletes are the store's statements, run on
PostgreSQL by ``test_topic_races.py``."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from backend_cases import on_sqlite, on_sqlite_only
from click.testing import CliRunner
from factories import article
from test_admin import CSRF_FIELD, TOKEN, button_fields, login
from test_admin_hostile import make_service

from feedsvc import operations as ops
from feedsvc.app import Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.cli import cli
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec
from feedsvc.topic_versions import absent_since

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

VERSION_FIELD = re.compile(r'name="version" value="([^"]*)"')
VI = Translator("vi")


@pytest.fixture
def admin(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url)
    now = service.db.now()
    with service.db.write() as conn:
        upsert_source_articles(
            conn, [article(1, title="Đồ Sơn đón khách", published_at=now - timedelta(hours=1))], now
        )
    assert service.ingest_tick().error is None
    for slug in ("d5", "d6"):
        ops.save_topic(service.db, TopicSpec(slug, f"Chủ để {slug}", '"Đồ Sơn"', "Mô tả"), "cli")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        yield client, service
    service.close()


def open_form(client: TestClient, slug: str) -> dict[str, str]:
    """The editor's form as a browser would post it unchanged."""
    page = client.get(f"/admin/topics/{slug}/edit")
    assert page.status_code == 200, page.text
    return form_of(page.text)


def form_of(text: str) -> dict[str, str]:
    csrf, version = CSRF_FIELD.search(text), VERSION_FIELD.search(text)
    assert csrf, text
    value = {
        name: html.unescape(found.group(1))
        for name in ("slug", "title")
        if (found := re.search(rf'id="{name}" name="{name}" value="([^"]*)"', text))
    }
    areas = {
        name: html.unescape(found.group(1)).removeprefix("\n")
        for name in ("description", "query")
        if (found := re.search(rf'<textarea id="{name}"[^>]*>(.*?)</textarea>', text, re.S))
    }
    form = {"csrf": csrf.group(1), **value, **areas}
    if version:  # (a page from before versions had none)
        form["version"] = html.unescape(version.group(1))
    if re.search(r'name="enabled" checked', text):
        form["enabled"] = "on"
    return form


def save(client: TestClient, slug: str, form: dict[str, str], **changes: str) -> Any:
    return client.post(
        f"/admin/topics/{slug}/edit", data={**form, **changes}, follow_redirects=False
    )


def stored(service: Service, slug: str) -> TopicSpec:
    return ops.get_topic(service.db, slug).spec


def api(client: TestClient, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}", **kw.pop("headers", {})}
    return client.request(method, path, headers=headers, **kw)


def cli_run(service: Service, *args: str) -> None:
    url = service.db.engine.url.render_as_string(hide_password=False)
    done = CliRunner().invoke(cli, list(args), env={"FEEDSVC_DATABASE__URL": url})
    assert done.exit_code == 0, done.output


def refused(response: Any, service: Service, slug: str, *fields: str) -> str:
    """The 409 editor: the catalogue's words naming ``fields``, the stored version in the form."""
    assert response.status_code == 409, response.text
    said = html.unescape(response.text)
    assert f"Chủ đề {slug} đã được người khác sửa kể từ khi bạn đọc nó" in said, said
    assert f"đã đổi: {', '.join(VI(f) for f in fields)}; chưa lưu gì. Nội dung bạn gõ" in said
    assert form_of(response.text)["version"] == ops.get_topic(service.db, slug).version
    return said


@on_sqlite
def test_a_topic_switched_off_meanwhile_stays_off(admin: tuple[TestClient, Service]) -> None:
    """The tester's first case, then B's deliberate second save."""
    client, service = admin
    form_b = open_form(client, "d6")
    assert form_b["enabled"] == "on"
    off = client.post("/admin/topics/d6/disable", data=button_fields(client, "d6", "disable"))
    assert "Đã tắt chủ đề d6." in html.unescape(off.text)
    typo = save(client, "d6", form_b, title="Chủ đề d6")
    said = refused(typo, service, "d6", "enabled")
    assert 'value="Chủ đề d6"' in typo.text and "Đã lưu" not in said  # typed, kept
    assert re.search(r"<dt>Đang bật</dt>\s*<dd>tắt</dd>", said), said  # what is stored now
    assert stored(service, "d6") == TopicSpec("d6", "Chủ để d6", '"Đồ Sơn"', "Mô tả", False)
    assert api(client, "GET", "/api/topics/d6").json()["enabled"] is False
    assert client.get("/feeds/d6.xml").status_code == 404
    again = save(client, "d6", form_of(typo.text))  # B saw it, and saves: deliberate
    assert again.status_code == 303
    assert stored(service, "d6") == TopicSpec("d6", "Chủ đề d6", '"Đồ Sơn"', "Mô tả", True)


@on_sqlite
def test_a_query_changed_meanwhile_is_not_reverted(admin: tuple[TestClient, Service]) -> None:
    """The tester's second case: A changes d5's query in another editor, B saves a title."""
    client, service = admin
    form_b = open_form(client, "d5")
    form_a = open_form(client, "d5")
    assert save(client, "d5", form_a, query='"Đồ Sơn" OR "Cát Bà"').status_code == 303
    late = save(client, "d5", form_b, title="Tiêu đề mới")
    refused(late, service, "d5", "query")
    assert stored(service, "d5").query == '"Đồ Sơn" OR "Cát Bà"'
    assert stored(service, "d5").title == "Chủ để d5"


@pytest.mark.parametrize(
    ("db_url", "way"),
    on_sqlite_only(["cli", "api", "api_disable", "cli_disable"]),
    indirect=["db_url"],
)
def test_a_change_by_the_cli_or_the_api_is_seen_too(
    admin: tuple[TestClient, Service], way: str
) -> None:
    client, service = admin
    form = open_form(client, "d5")
    if way == "cli":
        cli_run(service, "topics", "add", "d5", "--title", "Chủ để d5", "--query", '"Đồ Sơn"',
                "--description", "Mô tả khác")  # fmt: skip
        fields: tuple[str, ...] = ("description",)
    elif way == "api":
        body = {"title": "Chủ để d5", "query": '"Cát Bà"', "description": "Mô tả"}
        assert api(client, "PUT", "/api/topics/d5", json=body).status_code == 200
        fields = ("query",)
    elif way == "api_disable":
        assert api(client, "POST", "/api/topics/d5/disable").status_code == 200
        fields = ("enabled",)
    else:
        cli_run(service, "topics", "disable", "d5")
        fields = ("enabled",)
    before = stored(service, "d5")
    refused(save(client, "d5", form, title="Sửa lỗi chính tả"), service, "d5", *fields)
    assert stored(service, "d5") == before


@on_sqlite
def test_two_editors_the_second_is_told_then_wins_deliberately(
    admin: tuple[TestClient, Service],
) -> None:
    client, service = admin
    first, second = open_form(client, "d5"), open_form(client, "d5")
    assert (
        save(client, "d5", first, title="Một", description="Của người thứ nhất").status_code == 303
    )
    told = save(client, "d5", second, title="Hai")
    said = refused(told, service, "d5", "title", "description")
    assert "Của người thứ nhất" in said  # the stored values shown under the message
    assert stored(service, "d5").title == "Một"
    kept = form_of(told.text)
    assert kept["title"] == "Hai" and kept["description"] == "Mô tả"  # what was typed
    assert save(client, "d5", kept).status_code == 303
    assert stored(service, "d5") == TopicSpec("d5", "Hai", '"Đồ Sơn"', "Mô tả", True)


@on_sqlite
def test_one_editor_saving_twice_never_conflicts_with_itself(
    admin: tuple[TestClient, Service],
) -> None:
    client, service = admin
    for n in range(3):
        form = open_form(client, "d5")
        assert form["version"] == ops.get_topic(service.db, "d5").version
        done = save(client, "d5", form, title=f"Lần {n}")
        assert done.status_code == 303, done.text
    assert stored(service, "d5").title == "Lần 2"
    unchanged = save(client, "d5", open_form(client, "d5"))  # nothing typed: no conflict
    assert unchanged.status_code == 303


@on_sqlite
def test_a_refused_save_keeps_the_version_it_was_opened_at(
    admin: tuple[TestClient, Service],
) -> None:
    """A 422 (an invalid query) shows the form again with the version it was opened at, not
    the stored one: a change meanwhile is still found when the query is fixed and saved."""
    client, service = admin
    form = open_form(client, "d6")
    bad = save(client, "d6", form, query='"Đồ Sơn')
    assert bad.status_code == 422 and form_of(bad.text)["version"] == form["version"]
    assert api(client, "POST", "/api/topics/d6/disable").status_code == 200
    refused(save(client, "d6", form_of(bad.text), query='"Đồ Sơn"'), service, "d6", "enabled")
    assert stored(service, "d6").enabled is False


@on_sqlite
def test_a_backfill_meanwhile_is_no_change_of_the_topic(admin: tuple[TestClient, Service]) -> None:
    """A backfill changes the topic's matches and its ``updated_at`` (the feeds render again),
    not a field an editor sees: the form opened before it saves."""
    client, service = admin
    form = open_form(client, "d5")
    was = ops.get_topic(service.db, "d5").updated_at
    result = ops.backfill_topic(service.db, "d5")
    assert result.added == 1 and ops.get_topic(service.db, "d5").updated_at != was
    assert save(client, "d5", form, title="Sau khi nạp lại").status_code == 303
    assert stored(service, "d5").title == "Sau khi nạp lại"


@on_sqlite
def test_a_topic_deleted_meanwhile_is_still_409(admin: tuple[TestClient, Service]) -> None:
    client, service = admin
    form = open_form(client, "d5")
    ops.delete_topic(service.db, "d5")
    gone = save(client, "d5", form, title="Ma")
    assert gone.status_code == 409
    said = html.unescape(gone.text)
    assert "Chủ đề d5 đã bị xoá trong lúc bạn sửa" in said
    # the form's words are the editor's own, after the message the API shares
    assert VI("op.topic_deleted_meanwhile", slug="d5") + " " + VI("deleted_meanwhile_hint") in said
    assert 'action="/admin/topics/new"' in gone.text
    # a new topic's version ("none yet, as of now": its Save sent twice is one create), never
    # the deleted topic's, which the edit URL would check
    version = VERSION_FIELD.search(gone.text)
    assert version and absent_since(version.group(1)) is not None, gone.text
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, "d5")


@on_sqlite
@pytest.mark.parametrize("slug", ["chua-tung-co", "a" * 3000, "Việt Nam " * 300])
def test_an_edit_of_a_topic_that_never_was_is_404_as_its_page(
    admin: tuple[TestClient, Service], slug: str
) -> None:
    """No topic ever had the slug (no deletion recorded): not "deleted while you were editing
    it" with a new-topic form, nor, for a slug no topic can have, the editor naming the path
    three times (h1, action, box: 9 KB for 3,000 characters): the 404 its GET answers."""
    client, service = admin
    form = open_form(client, "d5")
    page = save(client, slug, form, title="Ma")
    assert page.status_code == 404, page.text[:300]
    assert len(page.content) < 2_000 and slug[:12] not in page.text
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, slug)


@pytest.mark.parametrize(
    ("db_url", "version"),
    on_sqlite_only([None, "", "garbage", "1-00-00-00-1"]),
    indirect=["db_url"],
)
def test_a_form_without_a_version_is_refused_and_shown_again(
    admin: tuple[TestClient, Service], version: str | None
) -> None:
    """A page opened before this release (no field), or a script: 400 naming the field,
    nothing saved, what was typed kept with the stored version (saving again is deliberate)."""
    from feedsvc.topic_versions import version_of

    client, service = admin
    form = open_form(client, "d6")
    if version is None:
        form.pop("version", None)
    else:
        form["version"] = version
    old = save(client, "d6", form, title="Từ trang cũ")
    assert old.status_code == 400, old.text
    said = html.unescape(old.text)
    assert "Biểu mẫu không có trường version (phiên bản của chủ đề d6)" in said
    assert stored(service, "d6").title == "Chủ để d6"
    again = form_of(old.text)
    assert again["title"] == "Từ trang cũ" and again["version"] == version_of(stored(service, "d6"))
    assert save(client, "d6", again).status_code == 303
    assert stored(service, "d6").title == "Từ trang cũ"


def test_versions_read_back_the_same_on_each_backend(admin: tuple[TestClient, Service]) -> None:
    """The version is the stored fields' (NFC text, line breaks, a long query), read the same
    by every reader: the editor's page, the API, the store."""
    from feedsvc.topic_versions import changed_since

    client, service = admin
    spec = TopicSpec("d7", "Hà Nội\u0301", '"Hải Phòng" OR "Đồ Sơn"', "hai\r\ndòng\n", False)
    ops.save_topic(service.db, spec, "cli")
    topic = ops.get_topic(service.db, "d7")
    assert open_form(client, "d7")["version"] == topic.version
    assert changed_since(topic.version, topic.spec) == ()
    assert changed_since(topic.version, TopicSpec("d7", topic.title, topic.query)) == (
        "description",
        "enabled",
    )
    assert changed_since("", topic.spec) is None


@on_sqlite
def test_the_english_words(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url, admin={"language": "en"})
    ops.save_topic(service.db, TopicSpec("d6", "D6", '"Đồ Sơn"'), "cli")
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            assert login(client).status_code == 303
            form = open_form(client, "d6")
            ops.set_topic_enabled(service.db, "d6", False)
            late = save(client, "d6", form, title="D6 fixed", query='"Cát Bà"')
            assert late.status_code == 409
            said = html.unescape(late.text)
            assert (
                "Topic d6 was changed by someone else since you read it (in another admin "
                "page, through the API or the command line), changed: Enabled; nothing was "
                "saved. What you typed is below" in said
            ), said
            assert re.search(r"<dt>Enabled</dt>\s*<dd>off</dd>", said), said
    finally:
        service.close()


@on_sqlite
def test_the_api_put_takes_the_same_precondition(admin: tuple[TestClient, Service]) -> None:
    """``If-Match`` with the ``version`` GET gave: the same one decision as the editor's."""
    client, service = admin
    version = api(client, "GET", "/api/topics/d6").json()["version"]
    assert version == ops.get_topic(service.db, "d6").version
    body = {"title": "Sửa", "query": '"Đồ Sơn"', "description": "Mô tả", "enabled": True}
    assert api(client, "POST", "/api/topics/d6/disable").status_code == 200
    late = api(client, "PUT", "/api/topics/d6", json=body, headers={"If-Match": f'"{version}"'})
    assert late.status_code == 412, late.text
    assert late.json()["code"] == "topic_changed_meanwhile"
    # no form on the API's side: the verifier's "What you typed is below … Save" is the editor's
    assert late.json()["message"].endswith("; chưa lưu gì."), late.json()
    assert "Save" not in late.json()["message"] and "Lưu" not in late.json()["message"]
    assert stored(service, "d6").enabled is False and stored(service, "d6").title == "Chủ để d6"
    now = api(client, "GET", "/api/topics/d6").json()["version"]
    done = api(client, "PUT", "/api/topics/d6", json=body, headers={"If-Match": f'"{now}"'})
    assert done.status_code == 200 and done.json()["version"] != now
    assert stored(service, "d6").enabled is True
    refused = api(client, "PUT", "/api/topics/d6", json=body, headers={"If-Match": '"x"'})
    # a well-formed tag that is no version matches nothing (tests/test_api_entity_tags.py)
    assert refused.status_code == 412 and refused.json()["code"] == "if_match_unknown"
    # a list is "any of them"; the same save again over the version it was made from: no
    # conflict (tests/test_api_entity_tags.py); "x1" is no version, a member that cannot match
    again = api(client, "PUT", "/api/topics/d6", json=body, headers={"If-Match": f'"{now}", "x1"'})
    assert again.status_code == 200, again.text
    again = api(
        client, "PUT", "/api/topics/d6", json=body, headers={"If-Match": f'"{now}", "{now}"'}
    )
    assert again.status_code == 200, again.text
    # a weak tag never matches (RFC 9110 §13.1.1): not met (tests/test_api_if_match_weak.py)
    weak = api(client, "PUT", "/api/topics/d6", json=body, headers={"If-Match": f'W/"{now}"'})
    assert weak.status_code == 412 and weak.json()["code"] == "if_match_weak"
    gone = api(client, "PUT", "/api/topics/nope", json=body, headers={"If-Match": "*"})
    # never a topic: no current one to match (tests/test_api_preconditions.py)
    assert gone.status_code == 412 and gone.json()["code"] == "topic_not_found"
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, "nope")
    plain = api(client, "PUT", "/api/topics/d6", json={**body, "title": "Không điều kiện"})
    assert plain.status_code == 200  # no If-Match: no precondition, as before


@on_sqlite
@pytest.mark.parametrize(
    "changes",
    [{"title": "Sửa một lần"}, {"query": '"Đồ Sơn" OR "Cát Bà"', "description": "Khác"}, {}],
)
def test_the_same_form_sent_twice_is_saved_not_refused(
    admin: tuple[TestClient, Service], changes: dict[str, str]
) -> None:
    """A tester's (the admin): the form sent again as it was (Save pressed again while the
    first save's backfill ran, a reload that resends it) was refused as "changed by someone
    else", naming fields that held exactly what it sent."""
    client, service = admin
    form = open_form(client, "d5")
    assert save(client, "d5", form, **changes).status_code == 303
    again = save(client, "d5", form, **changes)
    assert again.status_code == 303, again.text
    assert stored(service, "d5") == TopicSpec(
        "d5", changes.get("title", "Chủ để d5"), changes.get("query", '"Đồ Sơn"'),
        changes.get("description", "Mô tả"), True,
    )  # fmt: skip


@on_sqlite
def test_only_a_field_stored_otherwise_than_sent_is_a_conflict(
    admin: tuple[TestClient, Service],
) -> None:
    """Two editors: the one who changed the title as the other did is not told about it; the
    description the first changed, which the second's form still holds as it was, is."""
    client, service = admin
    first, second = open_form(client, "d5"), open_form(client, "d5")
    assert save(client, "d5", first, title="Một", description="Mới").status_code == 303
    told = save(client, "d5", second, title="Một")
    refused(told, service, "d5", "description")  # not "title": it holds what was sent
    assert stored(service, "d5").description == "Mới"


@on_sqlite
def test_the_api_put_sent_again_with_its_if_match_is_saved(
    admin: tuple[TestClient, Service],
) -> None:
    client, service = admin
    version = api(client, "GET", "/api/topics/d6").json()["version"]
    body = {"title": "Sửa", "query": '"Đồ Sơn"', "description": "Mô tả", "enabled": False}
    for _ in range(2):  # a client's retry after its first answer was lost
        put = api(client, "PUT", "/api/topics/d6", json=body, headers={"If-Match": f'"{version}"'})
        assert put.status_code == 200, put.text
    assert stored(service, "d6") == TopicSpec("d6", "Sửa", '"Đồ Sơn"', "Mô tả", False)
