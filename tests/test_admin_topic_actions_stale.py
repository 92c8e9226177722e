"""The topics list's delete, enable and disable buttons made against what the list showed
(``web.admin_topic_actions``). A tester's: ``/admin/topics`` opened while ``del-race2`` had no
subscribers ("Xoá chủ đề del-race2? Không thể hoàn tác."); three subscriptions added through
the API; the delete form sent from that page deleted the topic and the three subscriptions,
which nobody can restore. The forms now carry the topic's version and the subscription count
the question named; a delete whose topic changed or gained subscriptions since is a 409 page
saying what changed, with the delete button again; a stale enable or disable goes back to the
list with the refusal. On SQLite through the whole app (``test_admin``'s client); the checks
are ``operations.topics``' under the write's lock, the same on PostgreSQL
(``test_api_topic_conditional_writes`` covers the API's)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from test_admin import button_fields, create_topic, fields_in, login, make_client

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.topics import TopicSpec

VI = Translator("vi")


def _subscribe(service: Service, slug: str, chats: range) -> None:
    for chat in chats:
        ops.add_subscription(service.db, chat, "private", topic=slug, query=None)


def _count(service: Service, slug: str) -> int:
    return sum(ops.subscription_counts(service.db).get(slug, {}).values())


def _exists(service: Service, slug: str) -> bool:
    try:
        ops.get_topic(service.db, slug)
    except ops.OperationError:
        return False
    return True


@pytest.fixture
def admin(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        assert login(client).status_code == 303
        assert create_topic(client, "del-race2", "Đồ Sơn", '"Đồ Sơn"').status_code == 303
        yield client, service


@pytest.mark.parametrize(("before", "added"), [(0, 3), (0, 1), (2, 1)])
def test_a_delete_from_a_page_that_showed_fewer_subscriptions_asks_again(
    admin: Any, before: int, added: int
) -> None:
    client, service = admin
    _subscribe(service, "del-race2", range(8000, 8000 + before))
    sent = button_fields(client, "del-race2", "delete")  # the list as the admin opened it
    assert sent["subscriptions"] == str(before)
    _subscribe(service, "del-race2", range(8100, 8100 + added))  # through the API meanwhile
    r = client.post("/admin/topics/del-race2/delete", data=sent, follow_redirects=False)
    assert r.status_code == 409, r.text
    now = before + added
    assert _exists(service, "del-race2") and _count(service, "del-race2") == now
    said = html.unescape(r.text)
    subs = VI.subscriptions({"telegram": now})
    assert VI("delete_again_subs", shown=before, now=subs) in said, said
    assert VI("delete_again_intro") in said
    # the page's own button carries what it shows: confirmed, the delete goes through
    again = fields_in(r.text, "del-race2", "delete")
    assert again["subscriptions"] == str(now)
    done = client.post("/admin/topics/del-race2/delete", data=again)
    assert done.status_code == 200 and not _exists(service, "del-race2")
    assert VI("deleted_with_subs", slug="del-race2", subs=subs) in html.unescape(done.text)


def test_a_delete_from_a_page_that_showed_more_goes_through(admin: Any) -> None:
    """Fewer subscriptions than the question named: less goes than it said."""
    client, service = admin
    _subscribe(service, "del-race2", range(8000, 8002))
    sent = button_fields(client, "del-race2", "delete")
    with service.db.read() as conn:
        first = sub_store.list_subscriptions(conn)[0]
    ops.remove_subscription(service.db, first.id)
    r = client.post("/admin/topics/del-race2/delete", data=sent, follow_redirects=False)
    assert r.status_code == 303 and not _exists(service, "del-race2")


@pytest.mark.parametrize(
    ("edit", "fields"),
    [
        (TopicSpec("del-race2", "Đồ Sơn mới", '"Đồ Sơn"'), "Tiêu đề"),
        (TopicSpec("del-race2", "Đồ Sơn", '"Đồ Sơn" OR "Cát Bà"', "Mô tả"), "Mô tả, Truy vấn"),
        (TopicSpec("del-race2", "Đồ Sơn", '"Đồ Sơn"', enabled=False), "Đang bật"),
    ],
)
def test_a_delete_of_a_topic_edited_since_asks_again(
    admin: Any, edit: TopicSpec, fields: str
) -> None:
    client, service = admin
    sent = button_fields(client, "del-race2", "delete")
    ops.save_topic(service.db, edit, "api")  # a colleague's edit, the subscriptions unchanged
    r = client.post("/admin/topics/del-race2/delete", data=sent, follow_redirects=False)
    assert r.status_code == 409, r.text
    assert _exists(service, "del-race2")
    said = html.unescape(r.text)
    assert VI("delete_again_fields", fields=fields) in said, said
    assert edit.title in said and edit.query in said  # what is stored now


@pytest.mark.parametrize("missing", ["version", "subscriptions", "both"])
def test_a_delete_form_without_what_it_showed_asks_again(admin: Any, missing: str) -> None:
    """A page from before its forms carried them: never taken as "nothing to check"."""
    client, service = admin
    _subscribe(service, "del-race2", range(8000, 8002))
    sent = button_fields(client, "del-race2", "delete")
    for name in ("version", "subscriptions"):
        if missing in (name, "both"):
            del sent[name]
    r = client.post("/admin/topics/del-race2/delete", data=sent, follow_redirects=False)
    assert r.status_code == 409, r.text
    assert _exists(service, "del-race2") and _count(service, "del-race2") == 2


@pytest.mark.parametrize("action", ["enable", "disable"])
def test_a_switch_from_a_stale_list_changes_nothing(admin: Any, action: str) -> None:
    client, service = admin
    if action == "enable":
        ops.set_topic_enabled(service.db, "del-race2", False)
    sent = button_fields(client, "del-race2", action)
    ops.save_topic(
        service.db, TopicSpec("del-race2", "Đồ Sơn (sửa)", '"Đồ Sơn"', enabled=action != "enable"),
        "api",
    )  # fmt: skip
    r = client.post(f"/admin/topics/del-race2/{action}", data=sent)
    assert ops.get_topic(service.db, "del-race2").enabled is (action != "enable")
    said = html.unescape(r.text)
    assert VI("op.topic_changed_meanwhile", slug="del-race2", fields="Tiêu đề") in said, said
    stale = {k: v for k, v in sent.items() if k != "version"}  # a list from before the change
    r = client.post(f"/admin/topics/del-race2/{action}", data=stale)
    assert VI("stale_list_reload", slug="del-race2") in html.unescape(r.text)
    assert ops.get_topic(service.db, "del-race2").enabled is (action != "enable")


def test_a_switch_already_made_meanwhile_is_no_conflict(admin: Any) -> None:
    client, service = admin
    sent = button_fields(client, "del-race2", "disable")
    ops.set_topic_enabled(service.db, "del-race2", False)  # a colleague was first
    r = client.post("/admin/topics/del-race2/disable", data=sent)
    assert VI("disabled_msg", slug="del-race2") in html.unescape(r.text)
    fresh = button_fields(client, "del-race2", "enable")
    r = client.post("/admin/topics/del-race2/enable", data=fresh)
    assert ops.get_topic(service.db, "del-race2").enabled is True
    assert re.search(r'/topics/del-race2/disable"', r.text)


def test_the_page_asking_again_offers_to_disable_instead(admin: Any) -> None:
    """Its question says "to keep them, Disable": the button is there, made against what the
    page shows."""
    client, service = admin
    sent = button_fields(client, "del-race2", "delete")
    _subscribe(service, "del-race2", range(8000, 8003))
    asked = client.post("/admin/topics/del-race2/delete", data=sent, follow_redirects=False)
    assert asked.status_code == 409
    off = client.post("/admin/topics/del-race2/disable", data=fields_in(asked.text, "del-race2",
                                                                          "disable"))  # fmt: skip
    assert VI("disabled_msg", slug="del-race2") in html.unescape(off.text)
    assert ops.get_topic(service.db, "del-race2").enabled is False
    assert _count(service, "del-race2") == 3
