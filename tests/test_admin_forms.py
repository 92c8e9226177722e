"""The admin's checkboxes as browsers and scripts post them (:mod:`feedsvc.web.admin_forms`): a
tester's ``enabled=true`` (and ``1``, ``yes``) saved a topic switched off without a word, since
only the browser's ``on`` read as ticked; a value that says neither is refused, naming the box,
and saves nothing. The topic editor (``enabled``, ``backfill``) and a chat's page (``silent``).

The pages run on SQLite only (``sqlite_url``): a box is read by the form's reader before any
SQL, and what is saved is a topic's ``enabled`` and a chat's ``silent``, booleans the store's
statements write on PostgreSQL in ``test_topic_races.py`` and ``test_digest_admin_api.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_admin import csrf_of, hidden_of
from test_admin_inputs import admin_world

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.store import digests as digest_store
from feedsvc.store import subscriptions as sub_store
from feedsvc.web.admin_forms import CheckboxError, checkbox

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

TICKED = ["on", "true", "1", "yes", "TRUE", "On", " yes "]
UNTICKED = ["", "off", "false", "0", "no", "False", "OFF"]
NEITHER = ["maybe", "2", "y", "bật", "on,off", "tru"]


@pytest.mark.parametrize("value", TICKED)
def test_a_ticked_box(value: str) -> None:
    assert checkbox({"enabled": value}, "enabled") is True


@pytest.mark.parametrize("value", UNTICKED)
def test_an_unticked_box(value: str) -> None:
    assert checkbox({"enabled": value}, "enabled") is False


def test_a_box_left_out_is_unticked() -> None:
    assert checkbox({"other": "on"}, "enabled") is False


@pytest.mark.parametrize("value", NEITHER)
def test_a_value_that_says_neither_is_refused_naming_the_box(value: str) -> None:
    with pytest.raises(CheckboxError) as caught:
        checkbox({"backfill": value}, "backfill")
    assert caught.value.field == "backfill"


@pytest.fixture
def admin(sqlite_url: str) -> Iterator[tuple[object, Service]]:
    with admin_world(sqlite_url) as world:
        yield world


def _new_topic(client: object, slug: str, **boxes: str) -> object:
    data = {"csrf": csrf_of(client), "slug": slug, "title": "Mới", "query": '"mới"', **boxes}
    return client.post("/admin/topics/new", data=data, follow_redirects=False)  # type: ignore[attr-defined]


def test_the_topic_editor_reads_every_spelling_of_a_tick(admin: tuple[object, Service]) -> None:
    client, service = admin
    for n, value in enumerate(TICKED + UNTICKED):
        answer = _new_topic(client, f"moi-{n}", enabled=value)
        assert answer.status_code == 303, (value, answer.text[:300])  # type: ignore[attr-defined]
        assert ops.get_topic(service.db, f"moi-{n}").enabled is (value in TICKED), value
    assert _new_topic(client, "moi-tat").status_code == 303  # type: ignore[attr-defined]
    assert ops.get_topic(service.db, "moi-tat").enabled is False  # a browser's unticked box


@pytest.mark.parametrize("box", ["enabled", "backfill"])
def test_the_topic_editor_refuses_a_box_that_says_neither(
    admin: tuple[object, Service], box: str
) -> None:
    client, service = admin
    answer = _new_topic(client, "moi-x", **{box: "maybe"})
    assert answer.status_code == 422  # type: ignore[attr-defined]
    said = f"Ô {box} chỉ nhận on hoặc off"
    assert said in answer.text  # type: ignore[attr-defined]
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, "moi-x")  # nothing saved


def test_a_chats_page_reads_silent_as_the_editor_reads_its_boxes(
    admin: tuple[object, Service],
) -> None:
    client, service = admin
    sub, _ = ops.add_subscription(service.db, 4242, "private", topic="kien-thuy", query=None)
    path = f"/admin/chats/{sub.chat_id}"

    def post(silent: str) -> object:
        data = {**hidden_of(client, path), "digest": "off", "quiet": "off", "silent": silent}
        return client.post(path, data=data, follow_redirects=False)  # type: ignore[attr-defined]

    def silent() -> bool:
        with service.db.read() as conn:
            found = digest_store.get_settings(conn, sub.chat_id)
            assert sub_store.get_chat(conn, sub.chat_id) is not None and found is not None
            return found.silent

    assert post("true").status_code == 303 and silent()  # type: ignore[attr-defined]
    assert post("0").status_code == 303 and not silent()  # type: ignore[attr-defined]
    refused = post("maybe")
    assert refused.status_code == 422 and "Ô silent chỉ nhận" in refused.text  # type: ignore[attr-defined]
    assert not silent()
