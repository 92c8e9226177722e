"""``PATCH /api/chats/{id}`` with a field sent as null switches it off: ``GET`` shows quiet hours
off as ``"quiet": null``, so a client writing back what it read (or following JSON merge-patch,
where null removes a value) sent ``{"quiet": null}`` and was answered 200 with the old window
kept. Now null is ``off`` for ``quiet`` and ``digest`` and false for ``silent`` (each setting's
default); a field left out is unchanged as before."""

from __future__ import annotations

import httpx
import pytest
from backend_cases import module_on_sqlite
from test_digest_admin_api import AUTH, CHAT, client, service

from feedsvc.app import Service
from feedsvc.digest import ChatSettings
from feedsvc.store import digests as held

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["client", "service"]  # the fixtures, shared with test_digest_admin_api

URL = f"/api/chats/{CHAT}"


async def test_null_quiet_switches_quiet_hours_off(client: httpx.AsyncClient) -> None:
    await client.patch(URL, headers=AUTH, json={"quiet": "22:00-06:00", "digest": "hourly"})
    answer = await client.patch(URL, headers=AUTH, json={"quiet": None})
    assert answer.status_code == 200
    assert (answer.json()["quiet"], answer.json()["digest"]) == (None, "hourly")  # digest kept
    assert (await client.get(URL, headers=AUTH)).json()["quiet"] is None


async def test_what_get_read_written_back_is_what_get_shows(
    client: httpx.AsyncClient, service: Service
) -> None:
    read = (await client.get(URL, headers=AUTH)).json()  # quiet hours off: "quiet": null
    await client.patch(URL, headers=AUTH, json={"quiet": "22:00-06:00", "silent": True})
    back = {name: read[name] for name in ("digest", "quiet", "silent")}
    answer = await client.patch(URL, headers=AUTH, json=back)
    assert answer.status_code == 200
    assert {name: answer.json()[name] for name in back} == back
    with service.db.read() as conn:
        assert held.get_settings(conn, CHAT) == ChatSettings()


@pytest.mark.parametrize(("field", "on", "off"), [("digest", "07:30", "off"),
                                                  ("silent", True, False)])  # fmt: skip
async def test_null_digest_and_silent_are_off_too(
    client: httpx.AsyncClient, field: str, on: object, off: object
) -> None:
    assert (await client.patch(URL, headers=AUTH, json={field: on})).json()[field] == on
    answer = await client.patch(URL, headers=AUTH, json={field: None})
    assert answer.status_code == 200 and answer.json()[field] == off


async def test_a_field_left_out_is_unchanged(client: httpx.AsyncClient) -> None:
    await client.patch(URL, headers=AUTH, json={"quiet": "22:00-06:00"})
    answer = await client.patch(URL, headers=AUTH, json={"silent": True})
    assert answer.json()["quiet"] == "22:00-06:00"
    assert (await client.patch(URL, headers=AUTH, json={})).json()["quiet"] == "22:00-06:00"
