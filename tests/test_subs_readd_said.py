"""Adding a subscription says what it changed for its recipient (tester's T3). An Apprise
destination switched off after three 404s was switched back on by ``feedsvc subs add`` of the
same URL (README: "adding the same URL again — `subs add`, the API, the admin — switches it back
on"), but the answer was "already subscribed" alone, nothing on stderr: the admin could not tell
that alerts go to it again. The API answered its 200 as for any existing subscription and the
admin flashed "Added destination" either way.

Now ``subs add`` keeps its line (six columns, "added"/"already subscribed") and says on stderr,
as ``subs list``'s notes, that the recipient is switched back on and why it was off; a recipient
the add does not switch on — a Zalo or Telegram chat switched off (only writing to the bot
brings it back), a paused one, one in a 429 pause (its end to the second) — is said to receive
no alerts now, and why. The API adds ``switched_on``, ``not_receiving`` (``/api/status``'
``chat_pauses`` shape) and ``message`` to its answer (SPEC §9's fields kept); the admin's flash
says it in the admin's language. SQLite: the subject is the answer, not the SQL."""

from __future__ import annotations

import html
import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_admin import TOKEN, csrf_of
from test_admin_apprise_form import served  # noqa: F401  (the fixture)
from test_cli_subs import Run, with_topic

from feedsvc import operations as ops
from feedsvc.catalogue.reasons import stored_reason
from feedsvc.cli.service import local_time  # also feedsvc.local_times (the one format)
from feedsvc.db import Database
from feedsvc.recipient_names import mask
from feedsvc.store import subscriptions as subs
from feedsvc.store.claims import block_chat_until

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

GONE = "json://127.0.0.1:33333/gone"  # the tester's
NOT_FOUND = stored_reason("chat_not_found", "HTTP 404: the destination no longer exists")
WORDS_404 = "the destination was not found several times in a row (HTTP 404)"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")  # site.timezone's default
API = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "en"}


def _db(directory: Path) -> Database:
    return Database(f"sqlite:///{directory / 'state.db'}")


def _chat_of(run: Run, *args: str) -> int:
    """``subs add ARGS``' recipient (the line's second column), added now."""
    added = run("subs", "add", *args)
    assert added.exit_code == 0 and added.stderr == "", added.output
    return int(added.stdout.split("\t")[1])


def _change(directory: Path, chat_id: int, **what: Any) -> None:
    """``chat_id`` switched off (``off``: the stored reason), paused, or 429-paused until."""
    db = _db(directory)
    with db.write() as conn:
        if "off" in what:
            subs.disable_chat(conn, chat_id, what["off"])
        if what.get("paused"):
            subs.set_paused(conn, chat_id, True)
        if "until" in what:
            block_chat_until(conn, chat_id, what["until"])
    db.dispose()


def _off(directory: Path, chat_id: int) -> str | None:
    db = _db(directory)
    with db.read() as conn:
        chat = subs.get_chat(conn, chat_id)
    db.dispose()
    assert chat is not None
    return chat.disabled_reason


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``test_cli_subs``' state DB with ``kien-thuy``, Zalo configured (else every Zalo add
    warns that the channel is off)."""
    monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", "zalo-test-token-0123456789")
    return with_topic(tmp_path)


APPRISE = ("--channel", "apprise", "--to", GONE)


def test_an_apprise_url_added_again_is_said_switched_back_on(run: Run, tmp_path: Path) -> None:
    """The tester's: 404 three times, then ``subs add`` of the same URL and topic."""
    chat = _chat_of(run, *APPRISE, "--topic", "kien-thuy")
    _change(tmp_path, chat, off=NOT_FOUND)
    again = run("subs", "add", *APPRISE, "--topic", "kien-thuy")
    assert again.exit_code == 0, again.output
    # the line as before: scripts read its columns
    line = f"1\t{chat}\tapprise\t{mask(GONE)}\ttopic kien-thuy\talready subscribed\n"
    assert again.stdout == line, again.stdout
    assert again.stderr == (
        f"feedsvc: apprise chat {mask(GONE)} is switched back on (it was switched off: "
        f"{WORDS_404}).\n"
    ), again.stderr
    assert _off(tmp_path, chat) is None
    assert GONE not in again.output  # the URL a secret: masked
    # said once: a second add finds it on, and says nothing more
    third = run("subs", "add", *APPRISE, "--topic", "kien-thuy")
    assert third.exit_code == 0 and third.stderr == "", third.output


def test_a_new_subscription_of_a_switched_off_url_says_both(run: Run, tmp_path: Path) -> None:
    """The same URL with another query: "added", and switched back on."""
    chat = _chat_of(run, *APPRISE, "--topic", "kien-thuy")
    _change(tmp_path, chat, off=stored_reason("blocked", "HTTP 403: Forbidden"))
    added = run("subs", "add", *APPRISE, "--query", "bão")
    assert added.exit_code == 0, added.output
    assert added.stdout.endswith("\tquery bão\tadded\n"), added.stdout
    assert added.stderr.startswith(
        f"feedsvc: apprise chat {mask(GONE)} is switched back on (it was switched off: the "
        "destination refused notifications several times in a row (HTTP 403"
    ), added.stderr
    assert _off(tmp_path, chat) is None


def test_a_zalo_chat_switched_off_stays_off_and_is_said(run: Run, tmp_path: Path) -> None:
    """A Zalo recipient added again is not switched on (writing to the OA is its way back):
    "already subscribed" alone read as if it would get the next alert."""
    zalo = ("--channel", "zalo", "--to", "z-blocked")
    chat = _chat_of(run, *zalo, "--topic", "kien-thuy")
    _change(tmp_path, chat, off=stored_reason("blocked", "User has blocked the OA"))
    again = run("subs", "add", *zalo, "--topic", "kien-thuy")
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith("\talready subscribed\n"), again.stdout
    assert again.stderr.startswith(
        "feedsvc: zalo chat z-blocked receives no alerts now: the channel refused messages"
    ), again.stderr
    assert again.stderr.endswith("; it is switched back on when it writes to the bot again.\n"), (
        again.stderr
    )
    assert "switched back on (" not in again.stderr  # nothing was switched on
    assert _off(tmp_path, chat) is not None


def test_a_telegram_chat_switched_off_is_said(run: Run, tmp_path: Path) -> None:
    chat = _chat_of(run, "42", "--type", "private", "--topic", "kien-thuy")
    _change(tmp_path, chat, off=stored_reason("user_blocked"))
    again = run("subs", "add", "42", "--type", "private", "--query", "mưa")
    assert again.exit_code == 0 and again.stdout.endswith("\tadded\n"), again.output
    assert again.stderr == (
        "feedsvc: telegram chat 42 receives no alerts now: the user blocked the bot; it is "
        "switched back on when it writes to the bot again.\n"
    ), again.stderr


@pytest.mark.parametrize("channel", ["apprise", "zalo", "telegram"])
def test_a_429_pause_is_said_with_its_end_to_the_second(
    run: Run, tmp_path: Path, channel: str
) -> None:
    """A recipient waiting out a 429 is subscribed but gets nothing until its end: said, to the
    second (``Retry-After: 90`` at 10:45:52 ends 10:47:22, not "17:47")."""
    args = {"apprise": APPRISE, "zalo": ("--channel", "zalo", "--to", "z-lan"),
            "telegram": ("44", "--type", "private")}[channel]  # fmt: skip
    chat = _chat_of(run, *args, "--topic", "kien-thuy")
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=90, microseconds=7)
    _change(tmp_path, chat, until=until)
    again = run("subs", "add", *args, "--topic", "kien-thuy")
    assert again.exit_code == 0 and again.stdout.endswith("\talready subscribed\n"), again.output
    name = {"apprise": f"apprise chat {mask(GONE)}", "zalo": "zalo chat z-lan",
            "telegram": "telegram chat 44"}[channel]  # fmt: skip
    assert again.stderr == (
        f"feedsvc: {name} receives no alerts now: the channel asked to wait (HTTP 429) until "
        f"{local_time(until, HANOI)}.\n"
    ), again.stderr
    assert re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+07:00\.$", again.stderr.strip())


def test_a_paused_recipient_is_said_paused(run: Run, tmp_path: Path) -> None:
    """Paused (an admin's Pause, a chat's /pause): adding does not resume it; said."""
    chat = _chat_of(run, *APPRISE, "--topic", "kien-thuy")
    _change(tmp_path, chat, paused=True, off=NOT_FOUND)
    again = run("subs", "add", *APPRISE, "--topic", "kien-thuy")
    assert again.exit_code == 0, again.output
    assert again.stderr.splitlines() == [
        f"feedsvc: apprise chat {mask(GONE)} is switched back on (it was switched off: "
        f"{WORDS_404}).",
        f"feedsvc: apprise chat {mask(GONE)} receives no alerts now: paused.",
    ], again.stderr


def test_a_reason_stored_empty_is_still_said(run: Run, tmp_path: Path) -> None:
    """An empty ``disabled_reason`` is off too (delivery asks IS NULL): switched back on, said
    without empty brackets; a Zalo chat's, still off, "switched off"."""
    chat = _chat_of(run, *APPRISE, "--topic", "kien-thuy")
    _change(tmp_path, chat, off="")
    again = run("subs", "add", *APPRISE, "--topic", "kien-thuy")
    assert again.stderr == f"feedsvc: apprise chat {mask(GONE)} is switched back on.\n"
    zalo = ("--channel", "zalo", "--to", "z-off")
    _change(tmp_path, _chat_of(run, *zalo, "--topic", "kien-thuy"), off="")
    again = run("subs", "add", *zalo, "--topic", "kien-thuy")
    assert again.stderr == (
        "feedsvc: zalo chat z-off receives no alerts now: switched off; it is switched back on "
        "when it writes to the bot again.\n"
    ), again.stderr


def test_a_recipient_that_receives_is_told_nothing_more(run: Run) -> None:
    for args in (APPRISE, ("--channel", "zalo", "--to", "z-ok"), ("7", "--type", "private")):
        for said in ("added", "already subscribed"):
            done = run("subs", "add", *args, "--topic", "kien-thuy")
            assert done.exit_code == 0 and done.stdout.endswith(f"\t{said}\n"), done.output
            assert done.stderr == "", done.stderr


# -- the use case, the API, the admin ------------------------------------------------------


def _api_add(client: TestClient, headers: dict[str, str] = API, **body: Any) -> Any:
    sent = {"channel": "apprise", "address": GONE, "topic": "kien-thuy"} | body
    return client.post("/api/subscriptions", json=sent, headers=headers)


def test_the_use_case_returns_what_changed(served: Any) -> None:  # noqa: F811  (the fixture)
    _, service = served
    first = ops.subscribe_recipient(service.db, None, None, topic="kien-thuy", query=None,
                                    channel="apprise", address=GONE)  # fmt: skip
    assert first.created and not first.switched_on and first.still_off is None
    with service.db.write() as conn:
        subs.disable_chat(conn, first.subscription.chat_id, NOT_FOUND)
    again = ops.subscribe_recipient(service.db, None, None, topic="kien-thuy", query=None,
                                    channel="apprise", address=GONE)  # fmt: skip
    assert not again.created and again.switched_on and again.switched_on_from == NOT_FOUND
    assert again.still_off is None
    # the pair the other callers read, unchanged
    pair = ops.add_subscription(service.db, None, None, topic="kien-thuy", query=None,
                                channel="apprise", address=GONE)  # fmt: skip
    assert pair == (again.subscription, False)


def test_the_api_says_switched_back_on(served: Any) -> None:  # noqa: F811  (the fixture)
    client, service = served
    first = _api_add(client)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["switched_on"] is False and created["not_receiving"] is None
    assert created["message"] is None
    with service.db.write() as conn:
        subs.disable_chat(conn, created["chat_id"], NOT_FOUND)
    again = _api_add(client)
    assert again.status_code == 200, again.text
    body = again.json()
    # SPEC §9's fields as before, the new ones beside them
    new = ("switched_on", "not_receiving", "message")
    assert {k: v for k, v in body.items() if k not in new} == {
        k: v for k, v in created.items() if k not in new
    }
    assert list(body)[: len(created) - len(new)] == [k for k in created if k not in new]
    assert body["switched_on"] is True and body["not_receiving"] is None
    assert body["message"] == (
        f"Apprise {mask(GONE)} is switched back on (it was switched off: {WORDS_404})."
    ), body["message"]
    vi = _api_add(client, {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "vi"})
    assert vi.json()["switched_on"] is False  # on already: nothing more to say
    assert vi.json()["message"] is None


def test_the_api_says_what_still_stops_alerts(served: Any) -> None:  # noqa: F811  (the fixture)
    client, service = served
    created = _api_add(client, channel="zalo", address="z-lan").json()
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=90)
    with service.db.write() as conn:
        block_chat_until(conn, created["chat_id"], until)
    again = _api_add(client, {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "vi"},
                     channel="zalo", address="z-lan")  # fmt: skip
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["switched_on"] is False
    pause = body["not_receiving"]
    assert pause["recipient"] == "zalo chat z-lan" and pause["channel"] == "zalo"
    assert datetime.fromisoformat(pause["blocked_until"].replace("Z", "+00:00")) == until
    assert body["message"].startswith("chat Zalo z-lan hiện không nhận thông báo: kênh yêu cầu chờ")
    # the OpenAPI document declares them
    schema = client.get("/api/openapi.json", headers=API).json()
    fields = schema["components"]["schemas"]["SubscriptionAddedOut"]["properties"]
    assert {"switched_on", "not_receiving", "message", "id", "address"} <= set(fields)


def test_the_admin_says_switched_back_on(served: Any) -> None:  # noqa: F811  (the fixture)
    client, service = served
    form = {"url": GONE, "topic": "kien-thuy", "query": ""}

    def add() -> str:
        data = form | {"csrf": csrf_of(client, "/admin/subscriptions")}
        sent = client.post("/admin/subscriptions/apprise", data=data, follow_redirects=True)
        assert sent.status_code == 200, sent.text
        return html.unescape(sent.text)

    assert f"Đã thêm đích {mask(GONE)}." in add()
    [sub] = [s for s in ops_subs(service) if s.channel == "apprise"]
    with service.db.write() as conn:
        subs.disable_chat(conn, sub.chat_id, NOT_FOUND)
    page = add()
    assert f"Đích {mask(GONE)} đã đăng ký mục này từ trước." in page, page
    assert f"Apprise {mask(GONE)} đã được bật lại (trước đó bị tắt: " in page
    assert f"Đã thêm đích {mask(GONE)}." not in page  # it was not added
    assert GONE not in page


def ops_subs(service: Any) -> list[subs.Subscription]:
    with service.db.read() as conn:
        return subs.list_subscriptions(conn)
