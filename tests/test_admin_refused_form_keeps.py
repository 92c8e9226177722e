"""A refused admin form comes back as it was sent: its checkboxes too, not only its texts.

Found by a tester (the admin, as a newsroom admin): the topic editor showed "backfill on save"
ticked again after a refused save of a new topic where it had been unticked (fixing the query
and saving then ran the backfill nobody wanted), and unticked after a refused edit where it had
been ticked (the backfill asked for never ran); the chat page showed "silent" as stored after a
refused digest, so a box ticked with a mistyped time came back unticked.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
from test_admin import csrf_of, hidden_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc.store import subscriptions as sub_store
from feedsvc.store.topics import TopicSpec, save_topic

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

CHAT = -1004343


def ticked(html: str, name: str) -> bool:
    """Whether the page's checkbox ``name`` is ticked."""
    found = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    assert found, name
    return " checked" in found.group(0)


#: the boxes as sent: every combination, ticked or not (a browser leaves an unticked one out)
BOXES = [(e, b) for e in (True, False) for b in (True, False)]


def boxes(enabled: bool, backfill: bool) -> dict[str, str]:
    return {**({"enabled": "on"} if enabled else {}), **({"backfill": "on"} if backfill else {})}


#: refusals of different kinds: the query, the title, the slug, a checkbox's unreadable value
REFUSALS = [
    {"query": '"an ninh" OR'},
    {"title": "  "},
    {"slug": "Kiến-Thụy"},
    {"description": "x" * 5001},
]


@pytest.mark.parametrize(("enabled", "backfill"), BOXES)
@pytest.mark.parametrize("refused", REFUSALS)
def test_a_refused_new_topic_keeps_its_boxes(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    enabled: bool,
    backfill: bool,
    refused: dict[str, str],
) -> None:
    client, _ = served
    login(client)
    data = {"slug": "kt-moi", "title": "Kiến Thụy", "query": '"Kiến Thụy"', **refused}
    sent = {"csrf": csrf_of(client), **data, **boxes(enabled, backfill)}
    r = client.post("/admin/topics/new", data=sent, follow_redirects=False)
    assert r.status_code == 422, r.text
    assert (ticked(r.text, "enabled"), ticked(r.text, "backfill")) == (enabled, backfill)


@pytest.mark.parametrize(("enabled", "backfill"), BOXES)
@pytest.mark.parametrize("refused", [{"query": "a AND b OR c"}, {"title": ""}])
def test_a_refused_edit_keeps_its_boxes(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    enabled: bool,
    backfill: bool,
    refused: dict[str, str],
) -> None:
    client, service = served
    with service.db.write() as conn:
        save_topic(conn, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "cli", service.db.now())
    login(client)
    page = client.get("/admin/topics/kt/edit").text
    version = re.search(r'name="version" value="([^"]*)"', page)
    assert version
    data = {"title": "Kiến Thụy", "query": '"Kiến Thụy"', "version": version.group(1), **refused}
    sent = {"csrf": csrf_of(client), **data, **boxes(enabled, backfill)}
    r = client.post("/admin/topics/kt/edit", data=sent, follow_redirects=False)
    assert r.status_code == 422, r.text
    assert (ticked(r.text, "enabled"), ticked(r.text, "backfill")) == (enabled, backfill)


def test_a_box_with_an_unreadable_value_is_named_and_the_other_kept(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, _ = served
    login(client)
    sent = {"csrf": csrf_of(client), "slug": "kt-moi", "title": "K", "query": "k",
            "enabled": "maybe"}  # fmt: skip
    r = client.post("/admin/topics/new", data=sent, follow_redirects=False)
    assert r.status_code == 422 and 'id="enabled-error"' in r.text, r.text
    assert not ticked(r.text, "backfill")  # unticked as sent, not the new form's default


@pytest.mark.parametrize("silent", [True, False])
@pytest.mark.parametrize(
    "form", [{"digest": "25:99", "quiet": "off"}, {"digest": "off", "quiet": "22:00"}]
)
def test_the_chat_page_keeps_silent_as_sent(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    silent: bool,
    form: dict[str, str],
) -> None:
    client, service = served
    with service.db.write() as conn:
        sub_store.ensure_chat(conn, CHAT, "supergroup", "Nhóm Kiến Thụy", service.db.now())
    login(client)
    path = f"/admin/chats/{CHAT}"
    if not silent:  # stored silent, unticked in the refused form
        sent = {**hidden_of(client, path), "digest": "off", "quiet": "off", "silent": "on"}
        assert client.post(path, data=sent, follow_redirects=False).status_code == 303
    data = {"csrf": csrf_of(client, path), **form, **({"silent": "on"} if silent else {})}
    r = client.post(path, data=data, follow_redirects=False)
    assert r.status_code == 422, r.text
    assert ticked(r.text, "silent") == silent
