"""The admin's chat page saved over changes made since it was opened (tester): with
``/admin/chats/N`` open (digest off, no quiet hours), the chat's owner set ``/quiet
22:00-06:00`` and ``/digest 07:00`` in Telegram (or a script ``PATCH``ed them); the admin
ticked "Tin không chuông" and pressed Lưu: 200, and the chat was back to digest off, no quiet
hours — the owner's settings silently gone. The page sent all three boxes and nothing said
what it had been opened with.

Now the form carries the version of the options it shows (``feedsvc.digest.versions``):
Save writes only what the admin changed; an option changed both there and elsewhere since
is a 409 naming it, with its stored value, what was typed kept and the stored version taken
(Save again overwrites, deliberately). ``PATCH /api/chats/N`` takes the same version as
``If-Match`` (412 ``chat_changed_meanwhile``). The check and the write are one transaction
on the chat's locked row: ``test_a_change_waiting_on_the_row_sees_the_change_it_waited_for``
holds a change uncommitted on PostgreSQL and SQLite and shows the stale one judged after it.

Through the whole app over HTTP (``TestClient``, real SQLite; the race on both backends).
"""

from __future__ import annotations

import html
import re
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from backend_cases import on_sqlite
from sqlalchemy import text, update
from test_admin import TOKEN, login
from test_admin_hostile import make_service
from test_admin_refused_boxes import form_on

from feedsvc.app import Service, create_app
from feedsvc.bot.actions import Target
from feedsvc.bot.options import set_option
from feedsvc.db.schema import chats
from feedsvc.digest import ChatSettings, parse_digest
from feedsvc.digest import options as chat_options
from feedsvc.store import digests as digest_store
from feedsvc.store.subscriptions import ensure_chat

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

CHAT = 4711
PATH = f"/admin/chats/{CHAT}"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def admin(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url)
    with service.db.write() as conn:
        ensure_chat(conn, CHAT, "private", "Lan", service.db.now())
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        yield client, service
    service.close()


def open_page(client: TestClient) -> dict[str, str]:
    """The chat page's form as a browser would post it unchanged (silent only when ticked)."""
    page = client.get(PATH)
    assert page.status_code == 200, page.text
    return form_on(page.text, PATH)


def save(client: TestClient, form: dict[str, str], **typed: str | None) -> Any:
    """Save pressed on ``form`` after typing ``typed`` (``silent=None``: unticked)."""
    data = {**form, **{k: v for k, v in typed.items() if v is not None}}
    for name in (k for k, v in typed.items() if v is None):
        data.pop(name, None)
    return client.post(PATH, data=data, follow_redirects=False)


def api_get(client: TestClient) -> dict[str, Any]:
    got = client.get(f"/api/chats/{CHAT}", headers=AUTH)
    assert got.status_code == 200, got.text
    return dict(got.json())


def api_patch(client: TestClient, body: dict[str, Any], **headers: str) -> Any:
    return client.patch(f"/api/chats/{CHAT}", headers=AUTH | headers, json=body)


def options(client: TestClient) -> tuple[str, str | None, bool]:
    got = api_get(client)
    return got["digest"], got["quiet"], got["silent"]


def in_telegram(service: Service, command: str, arg: str) -> None:
    """The chat's owner typing ``/<command> <arg>`` (the bot's own use case)."""
    set_option(service.db, Target(CHAT, "private", "Lan"), command, arg, TZ)


def refused(response: Any, *labels: str) -> str:
    """The 409 page naming ``labels`` (the boxes' labels), nothing saved."""
    assert response.status_code == 409, response.text
    said = html.unescape(response.text)
    assert "đã được đổi kể từ khi bạn mở trang này" in said, said
    assert f"đã đổi: {', '.join(labels)}; chưa lưu gì." in said, said
    return said


def stored_now(page: str) -> dict[str, str]:
    """The "Giá trị đang lưu" list of a refused page: label → value."""
    section = re.search(r'<section class="card" id="stored-now".*?</section>', page, re.S)
    assert section, page
    return {
        html.unescape(k): html.unescape(v)
        for k, v in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section.group(0))
    }


# -- the tester's case and its variants: nothing changed here is written -------------------


@on_sqlite
@pytest.mark.parametrize("by", ["api", "telegram"])
def test_ticking_silent_keeps_what_the_owner_set_meanwhile(
    admin: tuple[TestClient, Service], by: str
) -> None:
    client, service = admin
    form = open_page(client)
    assert (form["digest"], form["quiet"], "silent" in form) == ("off", "off", False)
    if by == "api":
        r = api_patch(client, {"quiet": "22:00-06:00", "digest": "07:00"})
        assert r.status_code == 200, r.text
    else:
        in_telegram(service, "quiet", "22:00-06:00")
        in_telegram(service, "digest", "07:00")
    saved = save(client, form, silent="on")
    assert saved.status_code == 303, saved.text
    assert options(client) == ("07:00", "22:00-06:00", True)


@on_sqlite
def test_two_admin_tabs_each_keep_the_others_change(admin: tuple[TestClient, Service]) -> None:
    client, _ = admin
    tab_a, tab_b = open_page(client), open_page(client)
    assert save(client, tab_a, digest="hourly").status_code == 303
    assert save(client, tab_b, silent="on").status_code == 303
    assert options(client) == ("hourly", None, True)
    # and back: a tab opened on silent, another unticking it, the first changing quiet only
    tab_c, tab_d = open_page(client), open_page(client)
    assert "silent" in tab_c
    assert save(client, tab_d, silent=None).status_code == 303
    assert save(client, tab_c, quiet="23:00-05:00").status_code == 303
    assert options(client) == ("hourly", "23:00-05:00", False)


@on_sqlite
def test_silent_switched_off_in_telegram_is_not_switched_on_again(
    admin: tuple[TestClient, Service],
) -> None:
    client, service = admin
    in_telegram(service, "silent", "on")
    form = open_page(client)
    assert form.get("silent") == "on"
    in_telegram(service, "silent", "off")
    assert save(client, form, digest="18:00").status_code == 303
    assert options(client) == ("18:00", None, False)


@on_sqlite
@pytest.mark.parametrize(
    ("typed", "meanwhile", "now"),
    [({"digest": "7h sáng"}, {"digest": "07:00"}, ("07:00", None, False)),  # spelt otherwise
     ({"quiet": "10h tối - 6h sáng"}, {"quiet": "22:00-06:00", "silent": True},
      ("off", "22:00-06:00", True)),
     ({"digest": "07:00", "silent": "on"}, {"digest": "07:00", "silent": True},
      ("07:00", None, True))],
)  # fmt: skip
def test_the_same_change_made_meanwhile_is_no_conflict(
    admin: tuple[TestClient, Service], typed: dict[str, str], meanwhile: dict[str, Any],
    now: tuple[str, str | None, bool],
) -> None:  # fmt: skip
    """Save pressed twice, or the owner and the admin agreeing: nothing is lost, no 409."""
    client, _ = admin
    form = open_page(client)
    assert api_patch(client, meanwhile).status_code == 200
    saved = save(client, form, **typed)
    assert saved.status_code == 303, saved.text
    assert options(client) == now


# -- a change made both here and elsewhere: 409, named, what was typed kept -------------------


@on_sqlite
def test_a_digest_changed_both_here_and_meanwhile_is_refused_naming_it(
    admin: tuple[TestClient, Service],
) -> None:
    client, _ = admin
    form = open_page(client)
    assert api_patch(client, {"quiet": "22:00-06:00", "digest": "07:00"}).status_code == 200
    conflict = save(client, form, digest="18:00", silent="on")
    said = refused(conflict, "Bản tin tổng hợp")
    assert stored_now(conflict.text) == {"Bản tin tổng hợp": "bản tổng hợp lúc 07:00"}
    assert "Đã lưu" not in said
    assert options(client) == ("07:00", "22:00-06:00", False)  # nothing saved
    again = form_on(conflict.text, PATH)
    # typed where typed; the quiet box the stored window (the admin never touched it: Save
    # again must not switch it off); the stored version, so Save again overwrites
    assert (again["digest"], again["quiet"], again.get("silent")) == ("18:00", "22:00-06:00", "on")
    assert again["version"] == api_get(client)["version"]
    assert save(client, again).status_code == 303
    assert options(client) == ("18:00", "22:00-06:00", True)


@on_sqlite
@pytest.mark.parametrize("by", ["api", "telegram", "tab"])
def test_quiet_hours_changed_both_here_and_meanwhile_are_refused(
    admin: tuple[TestClient, Service], by: str
) -> None:
    client, service = admin
    assert api_patch(client, {"quiet": "21:00-05:00"}).status_code == 200
    form = open_page(client)
    if by == "api":
        assert api_patch(client, {"quiet": "off", "silent": True}).status_code == 200
    elif by == "telegram":
        in_telegram(service, "quiet", "off")
        in_telegram(service, "silent", "on")
    else:
        assert save(client, open_page(client), quiet="", silent="on").status_code == 303
    # both changed here: quiet (refused: changed to another value meanwhile) and digest
    conflict = save(client, form, quiet="10h tối - 6h sáng", digest="hourly")
    refused(conflict, "Giờ yên lặng")
    assert stored_now(conflict.text) == {"Giờ yên lặng": "không có giờ yên lặng"}
    assert options(client) == ("off", None, True)
    again = form_on(conflict.text, PATH)
    assert (again["digest"], again["quiet"], again.get("silent")) == (
        "hourly", "10h tối - 6h sáng", "on",  # silent: stored (on), the admin left it
    )  # fmt: skip


@on_sqlite
def test_both_boxes_changed_both_ways_are_both_named(admin: tuple[TestClient, Service]) -> None:
    client, _ = admin
    form = open_page(client)
    assert api_patch(client, {"quiet": "22:00-06:00", "digest": "07:00"}).status_code == 200
    conflict = save(client, form, digest="hourly", quiet="23:00-05:00")
    refused(conflict, "Bản tin tổng hợp", "Giờ yên lặng")
    assert stored_now(conflict.text) == {
        "Bản tin tổng hợp": "bản tổng hợp lúc 07:00",
        "Giờ yên lặng": "yên lặng 22:00-06:00",
    }
    assert options(client) == ("07:00", "22:00-06:00", False)


@on_sqlite
def test_a_value_refused_first_still_saves_against_the_page_it_came_from(
    admin: tuple[TestClient, Service],
) -> None:
    """A 422 keeps the version the page was opened with, not the stored one: the owner's
    change made before the refusal is still protected when the corrected form is saved."""
    client, _ = admin
    form = open_page(client)
    assert api_patch(client, {"digest": "07:00"}).status_code == 200
    bad = save(client, form, quiet="22:00")
    assert bad.status_code == 422, bad.text
    corrected = form_on(bad.text, PATH)
    assert corrected["version"] == form["version"] and corrected["digest"] == "off"
    assert save(client, corrected, quiet="22:00-06:00").status_code == 303
    assert options(client) == ("07:00", "22:00-06:00", False)


@on_sqlite
@pytest.mark.parametrize("version", [None, "", "garbage", "1-" + "0" * 16])
def test_a_form_without_a_version_saves_nothing_and_keeps_what_was_typed(
    admin: tuple[TestClient, Service], version: str | None
) -> None:
    """A page from before versions (or a script's form): refused, as a topic's is, rather
    than written unchecked; Save again from the page shown then saves."""
    client, _ = admin
    assert api_patch(client, {"quiet": "22:00-06:00"}).status_code == 200
    form = open_page(client)
    form.pop("version")
    if version is not None:
        form["version"] = version
    r = save(client, form, digest="hourly")
    assert r.status_code == 400, r.text
    said = html.unescape(r.text)
    assert "Biểu mẫu không có trường version" in said and "Chưa lưu gì" in said
    assert options(client) == ("off", "22:00-06:00", False)
    again = form_on(r.text, PATH)
    assert (again["digest"], again["quiet"]) == ("hourly", "22:00-06:00")
    assert again["version"] == api_get(client)["version"]
    assert save(client, again).status_code == 303
    assert options(client) == ("hourly", "22:00-06:00", False)


@on_sqlite
def test_the_page_says_an_empty_box_is_off(admin: tuple[TestClient, Service]) -> None:
    """An empty box saves as off (a form has no null); the help under both boxes says so, and
    the API, which refuses ``""``, documents null as off."""
    client, _ = admin
    page = html.unescape(client.get(PATH).text)
    assert page.count("Để trống là off.") == 2
    assert api_patch(client, {"digest": "hourly", "quiet": "22:00-06:00"}).status_code == 200
    assert save(client, open_page(client), digest="", quiet="").status_code == 303
    assert options(client) == ("off", None, False)
    assert api_patch(client, {"digest": ""}).json()["code"] == "setting_digest_empty"
    doc = client.get("/api/openapi.json").json()
    described = doc["paths"]["/api/chats/{chat_id}"]["patch"]["description"]
    assert "null is `off`" in described and "empty text is refused" in described


# -- the API: If-Match ------------------------------------------------------------------------


@on_sqlite
def test_a_patch_with_the_version_it_read_changes_only_what_it_changed(
    admin: tuple[TestClient, Service],
) -> None:
    from feedsvc.digest.versions import version_of

    client, service = admin
    read = api_get(client)
    assert read["version"] == version_of(ChatSettings())
    in_telegram(service, "quiet", "22:00-06:00")
    in_telegram(service, "digest", "07:00")
    # what GET read, sent back with one change: only that is written
    r = api_patch(client, read | {"silent": True}, **{"If-Match": f'"{read["version"]}"'})
    assert r.status_code == 200, r.text
    assert (r.json()["digest"], r.json()["quiet"], r.json()["silent"]) == (
        "07:00", "22:00-06:00", True,
    )  # fmt: skip
    assert r.json()["version"] != read["version"]
    # without If-Match nor the body's version: every field sent is written
    r = api_patch(client, {k: v for k, v in read.items() if k != "version"})
    assert r.status_code == 200 and options(client) == ("off", None, False)


@on_sqlite
@pytest.mark.parametrize(
    ("change", "fields"),
    [({"digest": "hourly"}, "digest"), ({"quiet": "23:00-05:00"}, "quiet"),
     ({"digest": "18:00", "quiet": "21:00-05:00"}, "digest, quiet")],
)  # fmt: skip
def test_a_patch_over_a_stale_version_is_412_and_saves_nothing(
    admin: tuple[TestClient, Service], change: dict[str, Any], fields: str
) -> None:
    client, _ = admin
    read = api_get(client)
    assert api_patch(client, {"quiet": "22:00-06:00", "digest": "07:00"}).status_code == 200
    r = api_patch(client, change | {"silent": True}, **{"If-Match": f'"{read["version"]}"'})
    assert r.status_code == 412, r.text
    assert r.json()["code"] == "chat_changed_meanwhile"
    assert f"({fields})" in r.json()["error"] and "nothing was saved" in r.json()["error"]
    assert "Hãy GET lại" in r.json()["message"]
    assert options(client) == ("07:00", "22:00-06:00", False)
    assert api_patch(client, change, **{"If-Match": "*"}).status_code == 200  # no check


@on_sqlite
@pytest.mark.parametrize(
    ("header", "status", "code"),
    [("", 400, "if_match_invalid"), ("a, b", 400, "if_match_invalid"),  # no entity tags
     # a weak tag: 412 (tests/test_api_if_match_weak.py); a well-formed strong tag that is no
     # chat version matches nothing, 412 (tests/test_api_entity_tags.py)
     ('"c1-00"', 412, "if_match_unknown"),
     ('"1-0000000000000000-0000000000000000-0000000000000000-1"', 412, "if_match_unknown"),
     # a topic's version, unquoted, is no entity tag
     ("1-0000000000000000-0000000000000000-0000000000000000-1", 400, "if_match_invalid")],
)  # fmt: skip
def test_an_unreadable_if_match_is_refused_never_ignored(
    admin: tuple[TestClient, Service], header: str, status: int, code: str
) -> None:
    client, _ = admin
    r = api_patch(client, {"silent": True}, **{"If-Match": header})
    assert r.status_code == status, r.text
    assert (r.json()["code"], r.json()["field"]) == (code, "If-Match")
    assert "chat version" in r.json()["error"]
    assert options(client) == ("off", None, False)


# -- the check and the write: one transaction on the locked row ------------------------------


def _waiting_on_a_lock(service: Service) -> bool:
    """Whether another PostgreSQL session of this database waits for a lock."""
    with service.db.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return bool(found)


def test_a_change_waiting_on_the_row_sees_the_change_it_waited_for(db_url: str) -> None:
    """A stale change that starts while another change holds the chat's row uncommitted is
    judged on the committed result, never on what it read before: refused. (Read before the
    lock, on PostgreSQL's READ COMMITTED, it saw the old options, passed, then waited for the
    row and wrote over the change — the lost update, across two transactions.)"""
    from feedsvc.digest.versions import version_of

    service = make_service(db_url)
    try:
        with service.db.write() as conn:
            ensure_chat(conn, CHAT, "private", "Lan", service.db.now())
        seen = version_of(ChatSettings())
        outcome: list[object] = []
        started = threading.Event()

        def stale_save() -> None:
            started.set()
            try:
                changes = {"digest": parse_digest("hourly")}
                outcome.append(chat_options.apply(service.db, CHAT, changes, TZ, seen=seen))
            except Exception as exc:  # the refusal, read below
                outcome.append(exc)

        worker = threading.Thread(target=stale_save)
        with service.db.write() as conn:  # the owner's /digest 07:00, not yet committed
            conn.execute(update(chats).where(chats.c.chat_id == CHAT).values(digest="07:00"))
            worker.start()
            assert started.wait(10)
            if service.db.engine.dialect.name == "postgresql":
                deadline = time.monotonic() + 10
                while not _waiting_on_a_lock(service):
                    assert time.monotonic() < deadline, "the stale save never waited"
                    time.sleep(0.02)
            assert not outcome  # it waits for this transaction (SQLite: BEGIN IMMEDIATE)
        worker.join(20)
        assert len(outcome) == 1
        assert isinstance(outcome[0], chat_options.ChatChangedMeanwhile), outcome
        assert outcome[0].fields == ("digest",)
        with service.db.read() as conn:
            settings = digest_store.get_settings(conn, CHAT)
        assert settings is not None and settings.digest.text() == "07:00"
    finally:
        service.close()
