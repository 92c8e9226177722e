"""The admin JSON API in-process: auth, every endpoint, error statuses, no secret ever echoed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import VN, article
from migrated import premigrated
from sqlalchemy import select, update

from feedsvc import metrics
from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.db.schema import chats, deliveries
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.web.api import INDEX_PATH, OPENAPI_PATH, endpoints

ADMIN_TOKEN = "adm-7f3c9e1d2b4a6058-secret"
BOT_TOKEN = "123456:AAbotTokenThatMustNeverLeak0000"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHAT, GROUP = 4242, -1001009876543  # a supergroup id: -100 + its own id


def make_service(tmp_path: Path) -> Service:
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(f"sqlite:///{tmp_path / 'state.db'}")},
            "topics": {"import_on_start": False},
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    return service


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", BOT_TOKEN)
    service = make_service(tmp_path)
    yield service
    service.close()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """Every response body and header seen in a test is checked for both tokens afterwards."""
    seen: list[str] = []

    async def record(response: httpx.Response) -> None:
        await response.aread()
        seen.append(response.text)
        seen.append(str(response.headers))

    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", event_hooks={"response": [record]}
    ) as c:
        yield c
    assert seen
    for text in seen:
        assert ADMIN_TOKEN not in text
        assert BOT_TOKEN not in text
        assert "AAbotToken" not in text


def seed_articles(service: Service, n: int = 25) -> None:
    """Fresh articles in the source, ingested (so the outbox fills for subscribed chats)."""
    now = datetime.now(VN)
    weather: dict[str, Any] = {"body": "<p>Nắng.</p>", "summary": "Trời đẹp.", "tags": ()}
    items = [
        article(i, published_at=now, title=f"Công an Kiến Thụy bắt đối tượng số {i}")
        if i % 2
        else article(i, published_at=now, title=f"Thời tiết Hải Phòng ngày {i}", **weather)
        for i in range(1, n + 1)
    ]
    with service.db.write() as conn:
        upsert_source_articles(conn, items, datetime.now(UTC))
    with service.db.read() as conn:
        service.index.refresh(conn)
    assert service.ingest_tick().error is None


async def post(client: httpx.AsyncClient, url: str, body: Any = None) -> httpx.Response:
    return await client.post(url, json=body, headers=AUTH)


TOPIC = {"slug": "kien-thuy", "title": "Kiến Thụy", "query": '"Kiến Thụy"'}
SUB_TOPIC = {"chat_id": CHAT, "chat_type": "private", "topic": "kien-thuy"}


# -- auth -------------------------------------------------------------------------------------


async def test_every_route_needs_the_token(client: httpx.AsyncClient, service: Service) -> None:
    for e in endpoints():
        url = re.sub(r"{\w+}", "1", e.path)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN_TOKEN}):
            r = await client.request(e.method, url, headers=headers, json={})
            assert r.status_code == 401, (e.method, url, headers)
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["error"]
            service.token_failures.succeeded(CLIENT)  # one wrong try each, below the limit


#: The in-process client's address (httpx's ASGI transport), as the limits count it.
CLIENT = "127.0.0.1"


async def wrong_tries(client: httpx.AsyncClient, n: int, url: str = "/api/topics") -> list[int]:
    return [
        (await client.get(url, headers={"Authorization": f"Bearer wrong{i}"})).status_code
        for i in range(n)
    ]


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_wrong_bearer_tokens_are_limited_as_the_login_form_is(
    client: httpx.AsyncClient, language: str
) -> None:
    """Tester F8: 30 wrong Bearer tokens were 30 401s, while the login form locks an address
    out after 5 failures a minute. Now the 6th is 429 in the API's JSON error shape with
    Retry-After; the right token is refused too until it passes (the login form's rule: a
    right guess during the lockout is not told apart); a request without a token is no try."""
    assert await wrong_tries(client, 5) == [401] * 5
    for headers in ({"Authorization": "Bearer wrong"}, AUTH, {"Authorization": "Basic eDp5"}):
        r = await client.get("/api/topics", headers={**headers, "Accept-Language": language})
        assert r.status_code == 429, headers
        wait = int(r.headers["retry-after"])
        assert 1 <= wait <= 60
        body = r.json()
        assert set(body) == {"error", "code", "message"} and body["code"] == "token_limited"
        assert body["error"] == (
            f"too many failed admin token attempts from this address; try again in {wait} s"
        )
        assert (
            body["message"]
            == {
                "vi": f"Sai mã quá nhiều lần từ địa chỉ này; thử lại sau {wait} giây.",
                "en": f"Too many wrong admin tokens from this address; try again in {wait} s.",
            }[language]
        )
    assert (await client.get("/api/topics")).status_code == 401  # no header: not a try
    r = await client.post("/api/topics", json=TOPIC, headers=AUTH)
    assert r.status_code == 429  # any route, any method


async def test_the_right_token_clears_the_failures(client: httpx.AsyncClient) -> None:
    """As at the login form: a success forgets the address's failures."""
    assert await wrong_tries(client, 4) == [401] * 4
    assert (await client.get("/api/topics", headers=AUTH)).status_code == 200
    assert await wrong_tries(client, 5) == [401] * 5
    assert (await client.get("/api/topics", headers=AUTH)).status_code == 429


async def test_the_lockout_ends_after_the_window(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from feedsvc import ratelimit

    start = time.monotonic()
    clock = [start]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    assert await wrong_tries(client, 6) == [401] * 5 + [429]
    clock[0] = start + ratelimit.TOKEN_WINDOW + 0.1
    assert (await client.get("/api/topics", headers=AUTH)).status_code == 200


async def test_api_and_readyz_failures_count_toward_one_budget(
    client: httpx.AsyncClient,
) -> None:
    """/readyz with a wrong Bearer token counts like the API's; while locked out /readyz
    answers as without a token (its status kept for load balancers: never a 429), the right
    token's details withheld."""
    assert (await client.get("/readyz", headers={"Authorization": "Bearer x"})).status_code in (
        200,
        503,
    )
    assert await wrong_tries(client, 3) == [401] * 3
    r = await client.get("/readyz", headers={"Authorization": "Bearer y"})
    assert r.status_code in (200, 503) and "failures_in_a_row" not in r.json()
    assert (await client.get("/api/topics", headers=AUTH)).status_code == 429  # 5 failures
    r = await client.get("/readyz", headers=AUTH)
    assert r.status_code in (200, 503) and "retry-after" not in r.headers
    assert set(r.json()) == {"ready", "message"}  # no details during the lockout


@pytest.mark.parametrize("trusted", [False, True], ids=["no proxy", "trusted proxy"])
async def test_the_api_limit_counts_per_address_as_web_clients_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: bool
) -> None:
    """``X-Forwarded-For`` is believed only from ``http.trusted_proxies``: rotating it dodges
    nothing without one; behind one, each forwarded address has its own budget."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", ADMIN_TOKEN)
    if trusted:
        monkeypatch.setenv("FEEDSVC_HTTP__TRUSTED_PROXIES", '["127.0.0.1"]')
    service = make_service(tmp_path)
    transport = httpx.ASGITransport(app=create_app(service))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            rotated = [
                (
                    await c.get(
                        "/api/topics",
                        headers={
                            "Authorization": "Bearer wrong",
                            "X-Forwarded-For": f"203.0.113.{i}",
                        },
                    )
                ).status_code
                for i in range(7)
            ]
            assert rotated == ([401] * 7 if trusted else [401] * 5 + [429] * 2)
    finally:
        service.close()


async def test_lowercase_scheme_and_non_ascii_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/topics", headers={"Authorization": f"bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200
    r = await client.get("/api/topics", headers={"Authorization": "Bearer tôi".encode()})
    assert r.status_code == 401


async def test_no_configured_token_disables_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEEDSVC_ADMIN__TOKEN", raising=False)
    service = make_service(tmp_path)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/api/topics", headers=AUTH)
        assert r.status_code == 503
        assert "admin.token not configured" in r.json()["error"]
        assert (await c.get(OPENAPI_PATH)).status_code == 200
    service.close()


# -- OpenAPI ----------------------------------------------------------------------------------


async def test_openapi_describes_every_api_route(client: httpx.AsyncClient) -> None:
    doc = (await client.get(OPENAPI_PATH)).json()
    assert doc["openapi"].startswith("3.1")
    app = client._transport.app  # type: ignore[attr-defined]
    while not hasattr(app, "routes"):  # Starlette, inside the fast path and web.mount
        app = app.app
    served = {  # "{source_key:path}" (a key may hold "/") is documented as "{source_key}"
        (method.lower(), re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for route in app.routes
        if route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    }
    described = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served == described
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["summary"]
            assert {"200", "201"} & set(op["responses"]), (method, path)
            if path not in (OPENAPI_PATH, INDEX_PATH):
                assert {"401", "503"} <= set(op["responses"]), (method, path)
    assert "TopicIn" in doc["components"]["schemas"]


@pytest.mark.parametrize("path", ["/api/", "/api"])
@pytest.mark.parametrize("headers", [{}, AUTH, {"Authorization": "Bearer wrong"}])
async def test_the_api_root_points_to_its_description(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    """The address the README gives ("a JSON API under /api/") answers, token or not (was 404)."""
    r = await client.get(path, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["openapi"] == OPENAPI_PATH
    assert "Bearer" in body["auth"]
    assert (await client.get(body["openapi"])).status_code == 200
    assert (await client.head(path)).status_code == 200


# -- topics -----------------------------------------------------------------------------------


async def test_topic_crud(client: httpx.AsyncClient) -> None:
    r = await post(client, "/api/topics", TOPIC)
    assert r.status_code == 201
    assert r.json()["feeds"]["rss"].endswith("/feeds/kien-thuy.rss")
    assert (await post(client, "/api/topics", TOPIC)).status_code == 409
    listed = (await client.get("/api/topics", headers=AUTH)).json()["topics"]
    assert [t["slug"] for t in listed] == ["kien-thuy"]
    got = (await client.get("/api/topics/kien-thuy", headers=AUTH)).json()
    assert got["title"] == "Kiến Thụy" and got["origin"] == "api" and got["enabled"]

    body = {"title": "Kiến Thụy mới", "query": '"Kiến Thụy" OR "Núi Đối"'}
    r = await client.put("/api/topics/kien-thuy", json=body, headers=AUTH)
    assert r.status_code == 200 and r.json()["title"] == "Kiến Thụy mới"
    r = await client.put("/api/topics/an-ninh", json=body | {"title": "An ninh"}, headers=AUTH)
    assert r.status_code == 201

    r = await post(client, "/api/topics/kien-thuy/disable")
    assert r.status_code == 200 and r.json()["enabled"] is False
    r = await post(client, "/api/topics/kien-thuy/enable")
    assert r.json()["enabled"] is True

    r = await client.delete("/api/topics/an-ninh", headers=AUTH)
    assert r.status_code == 200
    assert (await client.get("/api/topics/an-ninh", headers=AUTH)).status_code == 404
    assert (await client.delete("/api/topics/an-ninh", headers=AUTH)).status_code == 404
    assert (await post(client, "/api/topics/nope/enable")).status_code == 404
    assert (await post(client, "/api/topics/nope/disable")).status_code == 404


async def test_bad_query_is_422_with_position(client: httpx.AsyncClient) -> None:
    r = await post(client, "/api/topics", TOPIC | {"query": 'công AND "an'})
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "query" and body["position"] == 9 and body["error"]
    r = await client.put("/api/topics/x", json={"title": "X", "query": "(a"}, headers=AUTH)
    assert r.status_code == 422 and r.json()["field"] == "query"
    r = await post(client, "/api/topics", TOPIC | {"slug": "Bad Slug!"})
    assert r.status_code == 422 and r.json()["field"] == "slug"
    # a line break anywhere in a slug is refused
    for slug in ("a\nb", "a-\n-b"):
        r = await post(client, "/api/topics", TOPIC | {"slug": slug})
        assert r.status_code == 422 and r.json()["field"] == "slug", slug
    # a line break at the end too (slugs.slug_forms: a slug with one names no topic)
    r = await post(client, "/api/topics", TOPIC | {"slug": "ends-in-newline\n"})
    assert r.status_code == 422 and r.json()["field"] == "slug"


async def test_topic_referenced_elsewhere_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    await post(client, "/api/topics", TOPIC)
    await post(client, "/api/topics", {"slug": "b", "title": "B", "query": "@kien-thuy OR x"})
    r = await client.delete("/api/topics/kien-thuy", headers=AUTH)
    assert r.status_code == 409 and "b" in r.json()["error"]


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_a_topic_a_chat_query_uses_cannot_be_deleted(
    client: httpx.AsyncClient, language: str
) -> None:
    """409 naming the chat and its subscription, as for a topic's @reference (tester F3: the
    chat's query stopped parsing, silently); a phrase or a longer slug is no reference."""
    await post(client, "/api/topics", TOPIC | {"slug": "rt"})
    await post(client, "/api/topics", TOPIC | {"slug": "rt-1"})
    await post(client, "/api/topics", TOPIC | {"slug": "phr", "query": '"email @rt là"'})
    r = await post(client, "/api/subscriptions", {"chat_id": CHAT, "chat_type": "private",
                                                  "query": "@rt-1 c"})  # fmt: skip
    assert r.status_code in (200, 201), r.text
    sub = r.json()["id"]
    r = await client.delete("/api/topics/rt-1", headers=AUTH | {"Accept-Language": language})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "topic_in_chat_queries"
    assert f"the own queries of telegram chat {CHAT} (subscription {sub})" in body["error"]
    # the message in the request's language names the chat in it; `error` keeps the operators'
    said = f"chat Telegram {CHAT} (đăng ký {sub})" if language == "vi" else (
        f"Telegram chat {CHAT} (subscription {sub})"
    )  # fmt: skip
    assert said in body["message"]
    assert (await client.get("/api/topics/rt-1", headers=AUTH)).status_code == 200
    r = await client.delete("/api/topics/rt", headers=AUTH)  # @rt-1 and "@rt" are no use of rt
    assert r.status_code == 200, r.text


async def test_delete_counts_the_subscriptions_it_removed(client: httpx.AsyncClient) -> None:
    """DELETE keeps deleting a topic with subscriptions (an API client is deliberate, SPEC §9)
    and says how many went with it (tester F2: the answer was the topic alone)."""
    await post(client, "/api/topics", TOPIC)
    await post(client, "/api/topics", TOPIC | {"slug": "other"})
    for body in (
        SUB_TOPIC,
        SUB_TOPIC | {"chat_id": GROUP, "chat_type": "supergroup"},
        {"channel": "apprise", "address": "json://127.0.0.1:18099/x", "topic": "kien-thuy"},
        SUB_TOPIC | {"topic": "other"},
    ):
        assert (await post(client, "/api/subscriptions", body)).status_code in (200, 201), body
    r = await client.delete("/api/topics/kien-thuy", headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["subscriptions_removed"] == 3
    assert body["subscriptions_removed_by_channel"] == {"apprise": 1, "telegram": 2}
    left = (await client.get("/api/subscriptions", headers=AUTH)).json()["subscriptions"]
    assert [s["topic"] for s in left] == ["other"]
    r = await client.delete("/api/topics/other", headers=AUTH)
    assert (r.json()["subscriptions_removed"], r.json()["subscriptions_removed_by_channel"]) == (
        1,
        {"telegram": 1},
    )
    await post(client, "/api/topics", TOPIC | {"slug": "bare"})
    r = await client.delete("/api/topics/bare", headers=AUTH)
    assert (r.json()["subscriptions_removed"], r.json()["subscriptions_removed_by_channel"]) == (
        0,
        {},
    )


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'"x"', b'{"slug": 1, "title": "t", "query": "q"}',
     b'{"slug": "a", "title": "t", "query": "q", "extra": 1}', b'{"slug": "a"}',
     b'{"slug": "a", "title": "t", "query": "q", "enabled": "yes"}'],
)  # fmt: skip
async def test_malformed_bodies_are_400(client: httpx.AsyncClient, raw: bytes) -> None:
    r = await client.post(
        "/api/topics", content=raw, headers=AUTH | {"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert isinstance(r.json()["error"], str)


async def test_nul_characters_and_huge_bodies_are_refused(client: httpx.AsyncClient) -> None:
    r = await post(client, "/api/topics", TOPIC | {"title": "a\x00b"})
    assert r.status_code == 422 and r.json()["code"] == "control_character"
    r = await client.get("/api/deliveries", params={"topic": "a\x00"}, headers=AUTH)
    assert r.status_code == 422 and r.json()["field"] == "topic"
    r = await client.get("/api/topics/a%00b", headers=AUTH)
    assert r.status_code == 422 and r.json()["field"] == "slug"
    r = await post(client, "/api/topics/preview", {"query": "x" * 300_000})
    assert r.status_code == 413


async def test_preview(client: httpx.AsyncClient, service: Service) -> None:
    seed_articles(service)
    r = await post(client, "/api/topics/preview", {"query": '"Kiến Thụy"', "samples": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["scanned"] == 25 and body["count"] == 13 and len(body["samples"]) == 3
    sample = body["samples"][0]
    assert sample["terms"] == ["kiến thụy"] or sample["terms"]
    assert "<mark>" in sample["hits"][0]["snippet_html"]
    broad = (await post(client, "/api/topics/preview", {"query": "công OR nắng"})).json()
    assert broad["warnings"]
    r = await post(client, "/api/topics/preview", {"query": "(công", "scan": 10})
    assert r.status_code == 422 and r.json()["position"] is not None
    assert (await post(client, "/api/topics/preview", {"query": "x", "scan": 0})).status_code == 400


async def test_backfill(client: httpx.AsyncClient, service: Service) -> None:
    seed_articles(service)
    await post(client, "/api/topics", TOPIC)
    r = await post(client, "/api/topics/kien-thuy/backfill", {"days": 30})
    assert r.status_code == 200
    assert r.json() == {
        "scanned": 25, "matched": 13, "added": 13, "removed": 0,
        "in_feed": 13, "added_to_feed": 13, "not_in_feed": 0,
    }  # fmt: skip
    r = await post(client, "/api/topics/kien-thuy/backfill")  # empty body: defaults
    assert r.json()["added"] == 0
    assert (await post(client, "/api/topics/nope/backfill", {"days": 0})).status_code == 404
    assert (await post(client, "/api/topics/kien-thuy/backfill", {"days": -1})).status_code == 400


# -- subscriptions, deliveries, status --------------------------------------------------------


async def test_subscriptions(client: httpx.AsyncClient) -> None:
    await post(client, "/api/topics", TOPIC)
    r = await post(client, "/api/subscriptions", SUB_TOPIC)
    assert r.status_code == 201
    sub = r.json()
    assert sub["topic"] == "kien-thuy" and sub["topic_title"] == "Kiến Thụy"
    again = await post(client, "/api/subscriptions", SUB_TOPIC)
    assert again.status_code == 200 and again.json()["id"] == sub["id"]
    group = {"chat_id": GROUP, "chat_type": "supergroup", "query": "  công   an "}
    r = await post(client, "/api/subscriptions", group)
    assert r.status_code == 201 and r.json()["query"] == "công an"

    bad = [
        {"chat_id": CHAT, "chat_type": "private", "query": '"công'},
        {"chat_id": CHAT, "chat_type": "private", "topic": "nope"},
        {"chat_id": CHAT, "chat_type": "private"},
        {"chat_id": CHAT, "chat_type": "private", "topic": "kien-thuy", "query": "x"},
    ]
    for body in bad:
        assert (await post(client, "/api/subscriptions", body)).status_code == 422, body
    r = await post(
        client, "/api/subscriptions", {"chat_id": CHAT, "chat_type": "bot", "query": "x"}
    )
    assert r.status_code == 400

    listed = (await client.get("/api/subscriptions", headers=AUTH)).json()["subscriptions"]
    assert len(listed) == 2
    only = await client.get(f"/api/subscriptions?chat_id={GROUP}", headers=AUTH)
    assert [s["chat_id"] for s in only.json()["subscriptions"]] == [GROUP]
    assert (await client.get("/api/subscriptions?chat_id=x", headers=AUTH)).status_code == 400

    r = await post(client, f"/api/chats/{GROUP}/pause")
    assert r.status_code == 200 and r.json()["paused"] is True
    r = await post(client, f"/api/chats/{GROUP}/resume")
    assert r.json()["paused"] is False
    assert (await post(client, "/api/chats/777/pause")).status_code == 404
    assert (await post(client, "/api/chats/abc/pause")).status_code == 400

    r = await client.delete(f"/api/subscriptions/{sub['id']}", headers=AUTH)
    assert r.status_code == 200
    r = await client.delete(f"/api/subscriptions/{sub['id']}", headers=AUTH)
    assert r.status_code == 404


async def test_deliveries_show_retraction_and_correction(
    client: httpx.AsyncClient, service: Service
) -> None:
    from feedsvc.store import followup_queue

    await post(client, "/api/topics", TOPIC)
    await post(client, "/api/subscriptions", SUB_TOPIC)
    seed_articles(service, 3)  # two match the topic
    now = datetime.now(UTC)
    with service.db.write() as conn:
        conn.execute(update(deliveries).values(state="sent", message_id=9, finished_at=now))
        ids = list(conn.execute(select(deliveries.c.article_id)).scalars())
        followup_queue.queue_corrections(conn, ids[:1], now, timedelta(hours=48))
        followup_queue.queue_retractions(conn, ids[1:], now)
    items = (await client.get("/api/deliveries", headers=AUTH)).json()["items"]
    got = {(i["retraction"], i["correction"]) for i in items}
    assert got == {(None, "pending"), ("pending", None)}
    assert all(i["retracted_at"] is None and i["corrected_at"] is None for i in items)


HOOK = "json://hook-user:s3cret-Pa55word@127.0.0.1:9/deliver/TOKEN-abcdef123456"


async def test_subscriptions_of_every_channel(client: httpx.AsyncClient) -> None:
    """Apprise and Zalo recipients (issue 14 §3): the URL is stored, never shown."""
    await post(client, "/api/topics", TOPIC)
    body = {"channel": "apprise", "address": HOOK, "topic": "kien-thuy"}
    r = await post(client, "/api/subscriptions", body)
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["channel"] == "apprise" and hook["address"].startswith("json://***#")
    assert hook["chat_id"] == 2**52  # the first id of other channels: exact as a double
    again = await post(client, "/api/subscriptions", body)
    assert again.status_code == 200 and again.json()["id"] == hook["id"]
    zalo = {"channel": "zalo", "address": "a1b2c3d4", "query": "công an"}
    r = await post(client, "/api/subscriptions", zalo)
    assert r.status_code == 201 and r.json()["address"] == "a1b2c3d4"
    r = await post(
        client,
        "/api/subscriptions",
        {"channel": "telegram", "address": "42", "chat_type": "private", "topic": "kien-thuy"},
    )
    assert r.status_code == 201 and r.json()["chat_id"] == 42  # fmt: skip
    for bad in (
        {"channel": "apprise", "address": "nope://secret-thing", "topic": "kien-thuy"},
        {"channel": "apprise", "topic": "kien-thuy"},
        {"channel": "zalo", "address": "a b", "topic": "kien-thuy"},
        {"channel": "telegram", "chat_id": 2**53, "chat_type": "private", "topic": "kien-thuy"},
        {"channel": "telegram", "chat_id": 2**52, "chat_type": "private", "topic": "kien-thuy"},
        {"channel": "telegram", "topic": "kien-thuy", "chat_type": "private"},
    ):
        r = await post(client, "/api/subscriptions", bad)
        assert r.status_code == 422, (bad, r.text)
        assert "secret-thing" not in r.text
    r = await post(client, "/api/subscriptions", {"channel": "sms", "address": "x", "query": "y"})
    assert r.status_code == 400
    listed = await client.get("/api/subscriptions", headers=AUTH)
    assert all(secret not in listed.text for secret in (HOOK, "s3cret", "TOKEN-abc"))
    assert [s["channel"] for s in listed.json()["subscriptions"]] == ["telegram", "apprise", "zalo"]
    only = await client.get("/api/subscriptions?channel=apprise", headers=AUTH)
    assert [s["id"] for s in only.json()["subscriptions"]] == [hook["id"]]
    r = await post(client, f"/api/chats/{hook['chat_id']}/pause")
    assert r.status_code == 200 and r.json()["paused"] is True and HOOK not in r.text
    r = await client.get(f"/api/deliveries?chat_id={hook['chat_id']}", headers=AUTH)
    assert r.status_code == 200


@pytest.mark.parametrize(
    "address", ["json://[::1", "json://user:s3cret-Pw@[::1/x", "json://a]b/x", "json://[nope]/x"]
)
async def test_an_apprise_url_with_a_broken_ipv6_bracket_is_a_422(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, address: str
) -> None:
    """``json://[::1`` (a bracket left open) was a 500 and a traceback in the log: urlsplit's
    ValueError escaped the address check. It is the 422 of any address Apprise cannot take,
    naming the field, and nothing is stored."""
    await post(client, "/api/topics", TOPIC)
    body = {"channel": "apprise", "address": address, "topic": "kien-thuy"}
    r = await post(client, "/api/subscriptions", body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "address_invalid" and r.json()["field"] == "address"
    assert "s3cret" not in r.text
    assert not [rec for rec in caplog.records if rec.levelno >= 40], caplog.text
    listed = await client.get("/api/subscriptions", headers=AUTH)
    assert listed.json()["subscriptions"] == []


async def test_a_path_parameters_documented_length_is_the_one_applied(
    client: httpx.AsyncClient,
) -> None:
    """Every string path parameter was documented ``maxLength: 100`` (a slug's), while an
    article's key takes 255 characters: a client built from the document could not hide an
    article whose key is 101–255 characters long. Each now says its own figure."""
    spec = (await client.get(OPENAPI_PATH)).json()
    lengths = {
        (path, p["name"]): p["schema"]["maxLength"]
        for path, item in spec["paths"].items()
        for op in item.values()
        for p in op.get("parameters", [])
        if p["in"] == "path" and p["schema"]["type"] == "string"
    }
    # a key as typed: a stored key's NFC, up to 3 × 255 (U+0958 is two code points in NFC)
    assert lengths[("/api/articles/{source_key}/hide", "source_key")] == 765
    assert lengths[("/api/articles/{source_key}/unhide", "source_key")] == 765
    assert {n for (_, n), v in lengths.items() if v == 100} == {"slug"}
    for action in ("hide", "unhide"):
        limit = lengths[(f"/api/articles/{{source_key}}/{action}", "source_key")]
        at = await post(client, f"/api/articles/{'k' * (limit - 1)}é/{action}")
        assert at.status_code == 404 and "source_key_invalid" not in at.text, at.text
        over = await post(client, f"/api/articles/{'k' * limit}é/{action}")
        assert over.status_code == 422 and over.json()["code"] == "source_key_invalid"
    # a hide recorded ahead stores a new key: at most 255, as every stored key
    ahead = await post(client, f"/api/articles/{'k' * 254}é/hide", {"pending": True})
    assert ahead.status_code == 200, ahead.text
    longer = await post(client, f"/api/articles/{'k' * 255}é/hide", {"pending": True})
    assert longer.status_code == 422 and longer.json()["code"] == "source_key_invalid"


async def test_deliveries_resend_and_status(client: httpx.AsyncClient, service: Service) -> None:
    await post(client, "/api/topics", TOPIC)
    await post(client, "/api/subscriptions", SUB_TOPIC)
    seed_articles(service)
    r = await client.get("/api/deliveries", headers=AUTH)
    body = r.json()
    assert r.status_code == 200 and body["total"] == 13 and len(body["items"]) == 13
    item = body["items"][0]
    assert item["article_title"].startswith("Công an") and item["state"] == "pending"
    assert item["article_url"].startswith("https://") and item["chat_id"] == CHAT

    dead_id, sent_id = body["items"][0]["id"], body["items"][1]["id"]
    now = datetime.now(UTC)
    with service.db.write() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == dead_id)
            .values(state="blocked", error="Forbidden: bot was blocked", finished_at=now)
        )
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == sent_id)
            .values(state="sent", finished_at=now)
        )
        far = datetime(2099, 1, 1, tzinfo=UTC)
        conn.execute(update(chats).where(chats.c.chat_id == CHAT).values(blocked_until=far))

    dead = (await client.get("/api/deliveries?state=dead", headers=AUTH)).json()
    assert [d["id"] for d in dead["items"]] == [dead_id]
    assert dead["items"][0]["error"] == "Forbidden: bot was blocked"
    page = (await client.get("/api/deliveries?limit=5&offset=10", headers=AUTH)).json()
    assert len(page["items"]) == 3 and page["total"] == 13
    by_topic = await client.get("/api/deliveries?topic=kien-thuy&state=pending", headers=AUTH)
    assert by_topic.json()["total"] == 11
    by_chat = await client.get(f"/api/deliveries?chat_id={GROUP}", headers=AUTH)
    assert by_chat.json()["total"] == 0
    for query in ("state=nope", "limit=0", "limit=x", "offset=-1", "bogus=1"):
        assert (await client.get(f"/api/deliveries?{query}", headers=AUTH)).status_code == 400

    status = (await client.get("/api/status", headers=AUTH)).json()
    assert status["queue_depth"] == 11 and status["articles_stored"] == 25
    assert status["chat_pauses"][0]["chat_id"] == CHAT
    assert status["chat_pauses"][0]["blocked_until"].startswith("2099")
    assert status["recent_errors"][0]["id"] == dead_id
    assert "last_ingest_tick" in status and "deliveries_pending" in status

    assert (await post(client, f"/api/deliveries/{dead_id}/resend")).status_code == 200
    with service.db.read() as conn:
        state = conn.execute(select(deliveries.c.state).where(deliveries.c.id == dead_id)).scalar()
    assert state == "pending"
    assert (await post(client, f"/api/deliveries/{dead_id}/resend")).status_code == 409
    assert (await post(client, f"/api/deliveries/{sent_id}/resend")).status_code == 409
    assert (await post(client, "/api/deliveries/999999/resend")).status_code == 404
    assert (await post(client, f"/api/deliveries/{2**60}/resend")).status_code == 404


async def test_http_requests_are_counted(client: httpx.AsyncClient) -> None:
    def count() -> float:
        value = metrics.REGISTRY.get_sample_value(
            "feedsvc_http_requests_total", {"route": "GET /api/topics", "status": "200"}
        )
        return value or 0.0

    before = count()
    await client.get("/api/topics", headers=AUTH)
    assert count() == before + 1
    text = (await client.get("/metrics")).text
    names = "ingest_lag_seconds articles_ingested topic_matches deliveries delivery_queue_depth"
    for name in [*names.split(), "feed_render_seconds", "http_requests"]:
        assert f"feedsvc_{name}" in text


@pytest.mark.parametrize("zalo", [False, True])
async def test_channel_modes_are_a_metric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zalo: bool
) -> None:
    """One sample per channel and mode, 1 for the current one: an alert rule on
    ``feedsvc_channel_mode{mode="off"} == 1`` sees Zalo off without a token, on with one."""
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", BOT_TOKEN)
    if zalo:
        monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", "1234567890:zalo-token-not-shown")
    service = make_service(tmp_path)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        text = (await client.get("/metrics")).text
    service.close()
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("feedsvc_channel_mode{")
    }
    expected = {
        ("telegram", "on"): 1, ("telegram", "console"): 0, ("telegram", "off"): 0,
        ("zalo", "on"): int(zalo), ("zalo", "console"): 0, ("zalo", "off"): int(not zalo),
        ("apprise", "on"): 1, ("apprise", "console"): 0, ("apprise", "off"): 0,
        ("telegram", "waiting"): 0, ("zalo", "waiting"): 0, ("apprise", "waiting"): 0,
        **{(c, m): 0 for c in ("telegram", "zalo", "apprise")
           for m in ("refused", "sent_elsewhere")},
    }  # fmt: skip
    assert samples == {
        f'feedsvc_channel_mode{{channel="{c}",mode="{m}"}}': float(v)
        for (c, m), v in expected.items()
    }
    assert "zalo-token" not in text and BOT_TOKEN not in text
