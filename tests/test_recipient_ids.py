"""Recipient ids of other channels are in [2**52, 2**53) (tester F9): never a Telegram id (Bot
API ``Chat.id``: at most 52 significant bits) and exact as IEEE doubles, so a JSON client that
reads numbers as doubles (jq 1.6, JavaScript) tells every recipient apart: 2**53 and 2**53 + 1,
the ids two Zalo recipients had, are one double.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from test_api import ADMIN_TOKEN, make_service

from feedsvc.app import Service, create_app
from feedsvc.channels.recipients import RecipientError, recipient_spec
from feedsvc.db import Database
from feedsvc.db.schema import chats
from feedsvc.store.subscriptions import ensure_recipient, get_chat

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def as_doubles(values: list[int]) -> list[float]:
    """``values`` as a client parsing JSON numbers as doubles reads them."""
    read: list[float] = json.loads(json.dumps(values), parse_int=float)
    return read


def exact(values: list[int]) -> bool:
    """Every value survives a double, and no two become one."""
    doubles = as_doubles(values)
    return all(float(v) == v for v in values) and len(set(doubles)) == len(set(values))


def test_the_old_ids_were_one_double_and_the_new_ones_are_not() -> None:
    assert not exact([2**53, 2**53 + 1])  # the tester's pair: one number to jq and JavaScript
    assert exact([2**52, 2**52 + 1, 2**53 - 2, 2**53 - 1])


def test_new_recipients_get_exact_ids_from_2_52(db: Database) -> None:
    with db.write() as conn:
        got = [
            ensure_recipient(conn, channel, address, kind, None, NOW).chat_id
            for channel, address, kind in (
                ("zalo", "z-lan", "private"), ("zalo", "z-nhom", "group"),
                ("apprise", "json://127.0.0.1:9/a", "destination"),
            )
        ]  # fmt: skip
    assert got == [2**52, 2**52 + 1, 2**52 + 2]
    assert exact(got)


def _zalo_at(db: Database, chat_id: int, address: str) -> None:
    with db.write() as conn:
        conn.execute(insert(chats).values(
            chat_id=chat_id, channel="zalo", address=address, type="private", paused=False,
            failures=0, link_preview=False, created_at=NOW,
        ))  # fmt: skip


def test_the_last_id_is_exact_and_none_is_given_past_it(db: Database) -> None:
    _zalo_at(db, 2**53 - 2, "z-truoc")  # as if 2**52 - 2 recipients had come before
    with db.write() as conn:
        last = ensure_recipient(conn, "zalo", "z-cuoi", "private", None, NOW)
    assert last.chat_id == 2**53 - 1
    assert exact([2**53 - 2, last.chat_id])
    past = pytest.raises(RuntimeError, match="no recipient id left for a new apprise recipient")
    with past, db.write() as conn:
        ensure_recipient(conn, "apprise", "json://127.0.0.1:9/x", "destination", None, NOW)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(chats)).scalar_one() == 2
        assert conn.execute(select(func.max(chats.c.chat_id))).scalar_one() == 2**53 - 1


@pytest.mark.parametrize(
    ("chat_id", "kind"),
    [
        (2**52, "private"), (2**52 + 1, "private"), (-(2**52), "supergroup"),
        (-(2**52) - 1, "channel"), (2**53, "private"), (2**53 + 1, "private"),
        (-(2**53), "supergroup"), (2**53 - 1, "private"),
    ],
)  # fmt: skip
def test_telegram_ids_from_2_52_up_are_refused(chat_id: int, kind: str) -> None:
    with pytest.raises(RecipientError, match="not a Telegram chat id") as refused:
        recipient_spec("telegram", chat_id, kind, None)
    assert (refused.value.code, refused.value.field) == ("address_invalid", "chat_id")
    with pytest.raises(RecipientError, match="not a Telegram chat id"):  # given as its address
        recipient_spec("telegram", None, kind, str(chat_id))


@pytest.mark.parametrize(
    ("chat_id", "kind"), [(2**52 - 1, "private"), (-(2**52 - 1), "supergroup"), (1, "private")]
)
def test_telegram_ids_below_2_52_are_taken(chat_id: int, kind: str) -> None:
    assert recipient_spec("telegram", chat_id, kind, None).chat_id == chat_id


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", ADMIN_TOKEN)
    service = make_service(tmp_path)
    yield service
    service.close()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _api(client: httpx.AsyncClient, method: str, url: str, body: Any = None) -> Any:
    r = await client.request(method, url, json=body, headers=AUTH)
    assert r.status_code in (200, 201), r.text
    # the client of the report: every JSON number read as a double
    return json.loads(r.text, parse_int=float)


async def test_a_script_reading_doubles_pauses_the_recipient_it_listed(
    client: httpx.AsyncClient, service: Service
) -> None:
    """List two Zalo recipients, pause and patch the second by the id it read (a double): the
    second is paused and silent, the first untouched."""
    await _api(client, "POST", "/api/topics",
               {"slug": "kien-thuy", "title": "Kiến Thụy", "query": '"Kiến Thụy"'})  # fmt: skip
    for address in ("z-lan", "z-nhom"):
        await _api(client, "POST", "/api/subscriptions",
                   {"channel": "zalo", "address": address, "topic": "kien-thuy"})  # fmt: skip
    listed = (await _api(client, "GET", "/api/subscriptions?channel=zalo"))["subscriptions"]
    read = {s["address"]: s["chat_id"] for s in listed}
    assert read == {"z-lan": 2.0**52, "z-nhom": 2.0**52 + 1}  # two numbers, each exact
    second = int(read["z-nhom"])
    paused = await _api(client, "POST", f"/api/chats/{second}/pause")
    assert paused["chat_id"] == read["z-nhom"] and paused["paused"] is True
    patched = await _api(client, "PATCH", f"/api/chats/{second}", {"silent": True})
    assert patched["chat_id"] == read["z-nhom"] and patched["silent"] is True
    with service.db.read() as conn:
        first, other = get_chat(conn, 2**52), get_chat(conn, 2**52 + 1)
    assert first is not None and other is not None
    assert (first.address, first.paused) == ("z-lan", False)
    assert (other.address, other.paused) == ("z-nhom", True)
    shown = await _api(client, "GET", f"/api/chats/{int(read['z-lan'])}")
    assert shown["chat_id"] == read["z-lan"] and shown["silent"] is False
