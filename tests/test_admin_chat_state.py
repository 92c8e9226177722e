"""The admin's chat page says whether the chat is paused and pauses or resumes it.

Found by a tester: the subscriptions page said "Tạm dừng" / "Paused" for a paused chat and had
the button to resume it; the chat's own page (``/admin/chats/{id}``, where its digest, quiet
hours and silence are set) said nothing of it, so an admin looking there for why a chat got no
alerts saw none. Now the chat page shows the state in the catalogue's words (one macro with the
subscriptions page: paused, disabled by its channel, else active) and the same button, posting
to the one existing route (``/admin/chats/{id}/pause`` | ``resume``), which returns to the chat
page when the button was there (``back=chat``) and to the subscriptions page otherwise.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_admin import csrf_of, login, make_client

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.store import subscriptions as sub_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

CHAT = -1001234
STATE = re.compile(r'<span id="chat-state">([^<]*)</span>')
BUTTON = re.compile(
    r'action="(/admin/chats/-?\d+/(?:pause|resume))"[^>]*>\s*<input[^>]*>\s*'
    r'<input type="hidden" name="back" value="chat">\s*<button[^>]*>([^<]*)<'
)


@pytest.fixture(params=["vi", "en"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Service, Translator]]:
    client, service = make_client(tmp_path, monkeypatch, language=request.param)
    with client:
        with service.db.write() as conn:
            now = service.db.now()
            sub_store.ensure_chat(conn, CHAT, "supergroup", "Tin Kiến Thụy", now)
            sub_store.subscribe(conn, CHAT, topic_id=None, query='"Kiến Thụy"', now=now)
        login(client)
        yield client, service, Translator(request.param)


def paused(service: Service) -> bool:
    with service.db.read() as conn:
        chat = sub_store.get_chat(conn, CHAT)
    assert chat is not None
    return chat.paused


def test_the_chat_page_shows_the_state_and_pauses_and_resumes_there(
    served: tuple[TestClient, Service, Translator],
) -> None:
    client, service, t = served
    page = client.get(f"/admin/chats/{CHAT}").text
    state = STATE.search(page)
    assert state and state.group(1) == t("active")
    button = BUTTON.search(page)
    assert button and button.groups() == (f"/admin/chats/{CHAT}/pause", t("pause"))
    csrf = csrf_of(client, f"/admin/chats/{CHAT}")
    r = client.post(button.group(1), data={"csrf": csrf, "back": "chat"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/chats/{CHAT}"
    assert paused(service)
    page = client.get(f"/admin/chats/{CHAT}").text
    state = STATE.search(page)
    assert state and state.group(1) == t("paused")
    # the flash, on the chat's page, naming the chat in the admin's language
    name = f"chat Telegram {CHAT}" if t.language == "vi" else f"Telegram chat {CHAT}"
    assert t("paused_msg", chat=name) in page
    button = BUTTON.search(page)
    assert button and button.groups() == (f"/admin/chats/{CHAT}/resume", t("resume"))
    r = client.post(button.group(1), data={"csrf": csrf, "back": "chat"}, follow_redirects=False)
    assert r.headers["location"] == f"/admin/chats/{CHAT}" and not paused(service)


@pytest.mark.parametrize("back", [None, "", "subscriptions", "/admin/status", "//evil.example"])
def test_from_elsewhere_the_route_returns_to_the_subscriptions_page(
    served: tuple[TestClient, Service, Translator], back: str | None
) -> None:
    """The subscriptions page's button sends no ``back``; nothing a form names is a target."""
    client, service, t = served
    csrf = csrf_of(client)
    data = {"csrf": csrf} | ({} if back is None else {"back": back})
    r = client.post(f"/admin/chats/{CHAT}/pause", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/subscriptions"
    assert paused(service)
    page = client.get("/admin/subscriptions").text
    assert t("paused") in page and f"/admin/chats/{CHAT}/resume" in page
    assert 'name="back"' not in page


def test_a_disabled_chat_says_so_on_its_page(
    served: tuple[TestClient, Service, Translator],
) -> None:
    client, service, t = served
    with service.db.write() as conn:
        sub_store.disable_chat(conn, CHAT, "blocked")
    page = client.get(f"/admin/chats/{CHAT}").text
    state = STATE.search(page)
    assert state and state.group(1) == t("disabled")
