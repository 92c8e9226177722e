"""Re-sending a dead letter to a channel that is not configured is refused, saying why.

With no ``zalo.token`` the Zalo channel is off: its queued alerts end as ``failed`` with the
reason (``feedsvc.channels.off``). Re-sending such a dead letter (API ``POST
/api/deliveries/{id}/resend``, the admin's Re-send button) was accepted — 200 ``pending`` /
"queued again" — and the service ended it as failed again moments later: nothing sent, nothing
said. It is now a 409 ``channel_off`` naming the channel and the setting that switches it on,
the delivery left as it was; once ``zalo.token`` is set it is re-sent as any other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from test_admin import TestClient, csrf_of, login
from test_channel_off import AUTH, TOKEN, make_service, queue_zalo

from feedsvc.app import Service, create_app
from feedsvc.db.schema import deliveries

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def delivery_of(service: Service, chat: int, state: str) -> tuple[int, str]:
    with service.db.read() as conn:
        stmt = select(deliveries.c.id, deliveries.c.state).where(deliveries.c.chat_id == chat)
        rows = conn.execute(stmt.order_by(deliveries.c.id)).tuples().all()
    return next((i, s) for i, s in rows if s == state)


def state_of(service: Service, delivery_id: int) -> str:
    with service.db.read() as conn:
        stmt = select(deliveries.c.state).where(deliveries.c.id == delivery_id)
        return str(conn.execute(stmt).scalar_one())


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)
    service = make_service(tmp_path)
    yield service
    service.close()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_api_refuses_a_resend_to_an_off_channel(
    service: Service, client: httpx.AsyncClient
) -> None:
    chat = queue_zalo(service, ("failed", "pending"))
    dead, _ = delivery_of(service, chat, "failed")
    queued, _ = delivery_of(service, chat, "pending")
    r = await client.post(
        f"/api/deliveries/{dead}/resend", headers=AUTH | {"Accept-Language": "en"}
    )
    assert r.status_code == 409, r.text
    out = r.json()
    assert out["code"] == "channel_off"
    assert "channel zalo is not configured (zalo.token is not set)" in out["error"]
    assert out["message"] == (
        f"Delivery #{dead} was not re-sent: the Zalo channel is not configured (zalo.token is not"
        " set), so it would only end failed again. Set zalo.token and restart feedsvc, then"
        " re-send it."
    )
    vi = await client.post(f"/api/deliveries/{dead}/resend", headers=AUTH)  # admin.language
    assert vi.status_code == 409 and "kênh Zalo chưa được cấu hình" in vi.json()["message"]
    assert state_of(service, dead) == "failed"  # left as it was, not queued to fail again
    # what is not a dead letter, or not there, is said as before
    still = await client.post(f"/api/deliveries/{queued}/resend", headers=AUTH)
    assert still.status_code == 409 and still.json()["code"] == "delivery_not_dead"
    missing = await client.post("/api/deliveries/999999/resend", headers=AUTH)
    assert missing.status_code == 404


async def test_a_dead_letter_of_a_configured_channel_is_re_sent(
    service: Service, client: httpx.AsyncClient
) -> None:
    """Telegram (console mode without a token: it sends to the log) is not off."""
    from sqlalchemy import insert

    from feedsvc.store.subscriptions import ensure_chat

    zalo_chat = queue_zalo(service, ("failed",))
    article_id = delivery_article(service, zalo_chat)
    with service.db.write() as conn:
        now = datetime.now(UTC)
        chat = ensure_chat(conn, 4242, "private", None, now).chat_id
        conn.execute(insert(deliveries).values(
            chat_id=chat, article_id=article_id, topics=["Tin"], state="blocked", digest=False,
            attempts=1, ambiguous=0, plain_text=False, due_at=now, created_at=now,
        ))  # fmt: skip
    dead, _ = delivery_of(service, chat, "blocked")
    r = await client.post(f"/api/deliveries/{dead}/resend", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"id": dead, "state": "pending"}
    assert state_of(service, dead) == "pending"


def delivery_article(service: Service, chat: int) -> int:
    with service.db.read() as conn:
        stmt = select(deliveries.c.article_id).where(deliveries.c.chat_id == chat)
        return int(conn.execute(stmt).scalars().first() or 0)


def test_with_the_token_set_the_same_dead_letter_is_re_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(tmp_path, token="123:zalo-token-for-tests")
    try:
        chat = queue_zalo(service, ("failed",))
        dead, _ = delivery_of(service, chat, "failed")
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            r = client.post(f"/api/deliveries/{dead}/resend", headers=AUTH)
        assert r.status_code == 200 and state_of(service, dead) == "pending"
    finally:
        service.close()


def test_the_admins_re_send_button_says_why(service: Service) -> None:
    chat = queue_zalo(service, ("failed",))
    dead, _ = delivery_of(service, chat, "failed")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        login(client)
        page = client.post(f"/admin/deliveries/{dead}/resend", data={"csrf": csrf_of(client)})
    assert 'class="flash bad"' in page.text
    assert (
        f"Không gửi lại tin gửi #{dead}: kênh Zalo chưa được cấu hình (zalo.token chưa đặt)"
        in page.text
    ), page.text
    assert state_of(service, dead) == "failed"
