"""How a chat gets its alerts, through ``GET``/``PATCH /api/chats/{chat_id}`` (SQLite and
PostgreSQL) and the admin's chat page: the same validation as the bot, errors naming the field.

Values refused before any SQL run on SQLite only (``backend_cases.on_sqlite`` and
``on_sqlite_only``): contradicting spoken times (refused by the time parser), values a setting
refuses, separators only and another chat's read-only fields (each reads back that nothing
was stored). What is stored (the options and their
canonical times, the held alerts' due time, a chat title with control characters) and a NUL
keep both backends."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from apiworld import asgi_client
from backend_cases import on_sqlite, on_sqlite_only
from migrated import premigrated
from sqlalchemy import insert, select
from starlette.testclient import TestClient
from test_admin import CSRF_FIELD, login, make_client

from feedsvc.app import Roles, Service
from feedsvc.config import load_config
from feedsvc.db.schema import articles, deliveries
from feedsvc.digest import ChatSettings
from feedsvc.digest.versions import version_of
from feedsvc.store import digests as held
from feedsvc.store.subscriptions import ensure_chat

ADMIN_TOKEN = "adm-digest-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHAT = 777
VERSION_FIELD = re.compile(r'name="version" value="([^"]*)"')


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", ADMIN_TOKEN)
    settings = load_config(None, {"database": {"url": premigrated(db_url)},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    now = datetime.now(UTC)
    with service.db.write() as conn:
        ensure_chat(conn, CHAT, "private", "Lan", now)
        article_id = conn.execute(insert(articles).values(
            source_key="K1", version=now, url="https://example.vn/1.html", title="Tin 1",
            tags=[], published_at=now, search_text="", source_cursor=now, first_seen_at=now,
            last_changed_at=now,
        ).returning(articles.c.id)).scalar_one()  # fmt: skip
        conn.execute(insert(deliveries).values(
            chat_id=CHAT, article_id=article_id, topics=["Kiến Thụy"], state="held",
            digest=True, attempts=0, ambiguous=0, plain_text=False,
            due_at=now + timedelta(hours=20), created_at=now,
        ))  # fmt: skip
    yield service
    service.close()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        yield c


async def test_get_and_patch_chat_options(client: httpx.AsyncClient, service: Service) -> None:
    got = await client.get(f"/api/chats/{CHAT}", headers=AUTH)
    assert got.status_code == 200
    assert got.json() == {"chat_id": CHAT, "type": "private", "title": "Lan", "digest": "off",
                          "quiet": None, "silent": False, "held": 1,
                          "version": version_of(ChatSettings())}  # fmt: skip
    change = {"digest": "18:00, 7h30", "quiet": "22:00-06:00"}
    patched = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=change)
    assert patched.status_code == 200
    body = patched.json()
    assert (body["digest"], body["quiet"], body["silent"]) == ("07:30,18:00", "22:00-06:00", False)
    silent = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"silent": True})
    assert silent.json()["digest"] == "07:30,18:00" and silent.json()["silent"] is True
    # instant again: what the chat held goes out now, as one digest
    await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"digest": "off", "quiet": "off"})
    with service.db.read() as conn:
        due = conn.execute(select(deliveries.c.due_at)).scalar_one()
    assert due <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"digest": "25:00"}, "digest", "bad_time"),
        ({"digest": "1:00,2:00,3:00,4:00,5:00"}, "digest", "digest_too_many"),
        ({"digest": ""}, "digest", "digest_empty"),
        ({"quiet": "22:00"}, "quiet", "quiet_format"),
        ({"quiet": "6:00-6:00"}, "quiet", "quiet_empty"),
        ({"quiet": "6:00-99:00"}, "quiet", "bad_time"),
    ],
)
@on_sqlite
async def test_refused_values_name_their_field(
    client: httpx.AsyncClient, service: Service, body: dict[str, str], field: str, code: str
) -> None:
    answer = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == field and answer.json()["code"] == f"setting_{code}"
    assert answer.json()["error"].startswith(f"{field}: ")
    assert "⟦" not in answer.json()["message"]  # worded by the catalogue, in Vietnamese
    worded = await client.patch(f"/api/chats/{CHAT}", headers=AUTH | {"Accept-Language": "en"},
                                json=body)  # fmt: skip
    assert worded.json()["message"] != answer.json()["message"]
    with service.db.read() as conn:
        assert held.get_settings(conn, CHAT) == ChatSettings()  # nothing half-applied


@pytest.mark.parametrize(
    ("body", "digest", "quiet"),
    [
        ({"digest": "7h tối, 6h sáng", "quiet": "10h tối - 6h sáng"}, "06:00,19:00",
         "22:00-06:00"),
        ({"digest": "7:30 PM 12 noon", "quiet": "11 p.m. to 12 A.M."}, "12:00,19:30",
         "23:00-00:00"),
        ({"digest": "6 gio chieu", "quiet": "12h đêm-5h sáng"}, "18:00", "00:00-05:00"),
        # the word first, "kém", "từ … đến …" (all three were 400 "not a time of day")
        ({"digest": "sáng 7h, tối 7h", "quiet": "từ 22h đến 6h"}, "07:00,19:00", "22:00-06:00"),
        ({"digest": "7 giờ kém 15", "quiet": "tối 10h tới sáng 6h"}, "06:45", "22:00-06:00"),
    ],
)  # fmt: skip
async def test_spoken_times_are_stored_canonical(
    client: httpx.AsyncClient, body: dict[str, str], digest: str, quiet: str
) -> None:
    """The API reads "7h tối" as the bot does (was 400 "“tối” is not a time") and answers, as
    ever, with the stored ``HH:MM`` forms."""
    answer = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=body)
    assert answer.status_code == 200
    assert (answer.json()["digest"], answer.json()["quiet"]) == (digest, quiet)
    got = await client.get(f"/api/chats/{CHAT}", headers=AUTH)
    assert (got.json()["digest"], got.json()["quiet"]) == (digest, quiet)


def _spoken_label(value: object) -> str:
    if isinstance(value, dict):
        return "=".join(*value.items())
    return str(value)[:16]


@pytest.mark.parametrize(
    ("db_url", "body", "field", "code", "words"),
    on_sqlite_only([
        ({"digest": "15pm"}, "digest", "time_contradicts", "“15pm” contradicts itself"),
        ({"quiet": "3h tối-6h sáng"}, "quiet", "time_contradicts", "“3h tối” contradicts"),
        ({"quiet": "22:00-12h sáng"}, "quiet", "time_ambiguous", "“12h sáng” mean noon or"),
        ({"digest": "tối 3h"}, "digest", "time_contradicts", "“tối 3h” contradicts"),
        ({"digest": "0h kém 15"}, "digest", "minus_midnight", "of the day before: give 23:45"),
        ({"quiet": "22h-7h kém 0"}, "quiet", "minus_range", "takes 1 to 59 minutes"),
    ], label=_spoken_label),
    indirect=["db_url"],
)  # fmt: skip
async def test_contradicting_spoken_times_are_refused(
    client: httpx.AsyncClient, service: Service, body: dict[str, str], field: str, code: str,
    words: str,
) -> None:  # fmt: skip
    answer = await client.patch(f"/api/chats/{CHAT}", headers=AUTH | {"Accept-Language": "en"},
                                json=body)  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["field"] == field and answer.json()["code"] == f"setting_{code}"
    assert words in answer.json()["message"], answer.json()
    with service.db.read() as conn:
        assert held.get_settings(conn, CHAT) == ChatSettings()


async def test_wrong_types_unknown_fields_chats_and_auth(client: httpx.AsyncClient) -> None:
    wrong = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"silent": "yes"})
    assert wrong.status_code == 400 and "silent" in wrong.json()["error"]
    unknown = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"sound": False})
    assert unknown.status_code == 400 and "sound" in unknown.json()["error"]
    missing = await client.patch("/api/chats/12345", headers=AUTH, json={"silent": True})
    assert missing.status_code == 404
    assert (await client.get("/api/chats/12345", headers=AUTH)).status_code == 404
    assert (await client.patch(f"/api/chats/{CHAT}", json={"silent": True})).status_code == 401
    nul = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"digest": "8:00\x00"})
    assert nul.status_code == 422 and nul.json()["field"] == "digest"
    spec = (await client.get("/api/openapi.json", headers=AUTH)).json()
    assert "patch" in spec["paths"]["/api/chats/{chat_id}"]


@pytest.mark.parametrize("digest", [",", ",,", ";", " , ; "])
@on_sqlite
async def test_a_digest_of_separators_only_changes_nothing(
    client: httpx.AsyncClient, service: Service, digest: str
) -> None:
    """``{"digest": ",,"}`` was a 200 that switched the chat's digests off (no time parsed:
    instant), where ``""`` is refused; it is the same 400 ``setting_digest_empty``."""
    before = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"digest": "hourly"})
    assert before.json()["digest"] == "hourly"
    answer = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"digest": digest})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "setting_digest_empty" and answer.json()["field"] == "digest"
    assert (await client.get(f"/api/chats/{CHAT}", headers=AUTH)).json()["digest"] == "hourly"


@pytest.mark.parametrize("title", ["Lan", "\u202eLan", "Nhóm\x07 chuông", None])
async def test_what_get_read_is_sent_back_with_a_change(
    client: httpx.AsyncClient, service: Service, title: str | None
) -> None:
    """A client that reads a chat, changes a field and sends the body back (the read-only
    ``chat_id``, ``type``, ``title``, ``held`` with it) was a 400 "extra inputs"; the title is
    the chat's own (a Telegram title may hold a bidi control) and is not judged as text."""
    with service.db.write() as conn:
        ensure_chat(conn, CHAT, "private", title, datetime.now(UTC))
    got = (await client.get(f"/api/chats/{CHAT}", headers=AUTH)).json()
    assert got["title"] == title
    for change in ({"digest": "07:30"}, {"quiet": "22:00-06:00"}, {"silent": True}, {}):
        sent = got | change
        patched = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=sent)
        assert patched.status_code == 200, patched.text
        assert patched.json() == sent | {"held": 1, "version": patched.json()["version"]}
        got = patched.json()
    with service.db.read() as conn:
        settings = held.get_settings(conn, CHAT)
    assert settings is not None and settings.silent and settings.quiet is not None


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"chat_id": CHAT + 1, "silent": True}, 422, "chat_id"),  # another chat's body
        ({"chat_id": -CHAT, "digest": "08:00"}, 422, "chat_id"),
        ({"chat_id": str(CHAT), "silent": True}, 400, "chat_id"),  # not the type GET gives
        ({"held": "1", "silent": True}, 400, "held"),
        ({"title": 5, "silent": True}, 400, "title"),
        ({"type": ["private"], "silent": True}, 400, "type"),
    ],
)
@on_sqlite
async def test_read_only_fields_of_another_chat_or_type_are_refused(
    client: httpx.AsyncClient, service: Service, body: dict[str, object], status: int, field: str
) -> None:
    answer = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["field"] == field
    with service.db.read() as conn:
        assert held.get_settings(conn, CHAT) == ChatSettings()  # nothing changed


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        with service.db.write() as conn:
            ensure_chat(conn, CHAT, "private", "<b>Lan</b>", datetime.now(UTC))
        login(client)
        yield client


def test_admin_chat_page_shows_and_changes_options(admin: TestClient) -> None:
    page = admin.get(f"/admin/chats/{CHAT}")
    assert page.status_code == 200 and "gửi ngay từng tin" in page.text
    assert "&lt;b&gt;Lan&lt;/b&gt;" in page.text  # the chat's title is text
    csrf, version = CSRF_FIELD.search(page.text), VERSION_FIELD.search(page.text)
    assert csrf and version
    form = {"csrf": csrf.group(1), "version": version.group(1), "digest": "hourly",
            "quiet": "22:00-06:00", "silent": "on"}  # fmt: skip
    saved = admin.post(f"/admin/chats/{CHAT}", data=form, follow_redirects=True)
    assert saved.status_code == 200 and "mỗi giờ một bản tổng hợp" in saved.text
    assert "yên lặng 22:00-06:00" in saved.text and "không chuông" in saved.text
    bad = admin.post(f"/admin/chats/{CHAT}", data=form | {"digest": "7:00,25:00"})
    assert bad.status_code == 422
    assert "“25:00” không phải giờ hợp lệ" in bad.text and 'id="digest-error"' in bad.text
    assert 'value="7:00,25:00"' in bad.text  # what was typed is kept for correcting
    assert "mỗi giờ một bản tổng hợp" in admin.get(f"/admin/chats/{CHAT}").text  # unchanged
    assert admin.post(f"/admin/chats/{CHAT}", data=form | {"csrf": "0" * 64}).status_code == 403
    assert admin.get("/admin/chats/999").status_code == 404
    assert admin.get("/admin/chats/abc").status_code == 404
