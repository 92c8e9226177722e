"""What a delivery's error and a recipient's switch-off reason say, wherever they show: in the
admin's language by outcome kind, in each channel's words, the channel's own text kept (real
dispatches against the fake Bot API and the local Apprise receiver; SQLite and PostgreSQL).

Before: an Apprise recipient disabled after three 403s or 404s was shown with Telegram's words
("the bot is blocked, was removed or has no rights") on the admin's subscriptions and status
pages (a chat's own page did not say it was off), by ``feedsvc status`` and in the API's
``disabled_reason_message``; and the Vietnamese admin showed each delivery error only as the
channel's English ("Forbidden: bot was blocked by the user") on the deliveries and status
pages, a switch-off's detail appended to its words.

SQLite only (``db_url`` below): this module is about the words; what the dispatcher stores
(the statuses, the switch-off, its reason) is run on PostgreSQL by ``test_apprise_refusals.py``
and the Telegram dispatch tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from factories import VN
from fakebot import FakeBotAPI
from receiver import Receiver
from sqlalchemy import select
from test_admin_text import TOKEN, logged_in
from test_apprise import dispatch, done, publish
from test_apprise import receiver as receiver  # the fixture
from test_apprise_refusals import RECIPIENT_GONE, disabled_reason, subscribe
from test_apprise_refusals import unthrottled as unthrottled  # the autouse fixture
from test_dispatch import PRIVATE, make_env, subscribe_chat

from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import MISSING, Translator
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import chats, deliveries
from feedsvc.delivery_states import TERMINAL
from feedsvc.store.topics import TopicSpec, save_topic

#: Telegram's words of a switch-off (the common ``reason.*``), never an Apprise recipient's.
BOT_WORDS = re.compile(
    r"bot bị chặn|bị mời ra|cuộc trò chuyện này|chat từ chối bot|the bot is blocked|"
    r"was removed|this chat does not exist|chat refuses the bot",
    re.IGNORECASE,
)
APPRISE_REASON = {
    "blocked": ("điểm nhận từ chối thông báo nhiều lần liên tiếp",
                "the destination refused notifications several times in a row"),
    "chat_not_found": ("không tìm thấy điểm nhận nhiều lần liên tiếp",
                       "the destination was not found several times in a row"),
}  # fmt: skip
LANGUAGES = ("vi", "en")
#: A blocked chat's delivery, a delivery ended by its switch-off, and the switch-off, explained.
EXPLAINED = {
    "vi": ("Kênh từ chối gửi vào cuộc trò chuyện này: bot bị chặn, bị mời ra hoặc không có quyền.",
           "Không gửi: người nhận đã bị tắt sau nhiều lần bị từ chối liên tiếp.",
           "kênh từ chối nhận tin nhiều lần liên tiếp: bot bị chặn, bị mời ra hoặc không có "
           "quyền"),
    "en": ("The chat refuses the bot: it was blocked or removed, or has no right to post there.",
           "Not sent: the recipient was switched off after repeated refusals.",
           "the channel refused messages several times in a row: the bot is blocked, was removed "
           "or has no rights"),
}  # fmt: skip


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only (the module's docstring says why): ``db`` and the fixtures on it read this."""
    return sqlite_url


@pytest.fixture
def kien_thuy(db: Database) -> None:
    """The topic the Apprise recipient follows (``test_apprise``'s, autouse there)."""
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip


@contextmanager
def admin_service(db: Database, language: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An in-process admin on ``db``, in ``language``, logged in: yields a test client."""
    from starlette.testclient import TestClient

    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {
        "database": {"url": db.url}, "topics": {"import_on_start": False},
        "site": {"language": language}, "admin": {"language": language},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            logged_in(client)
            yield client
    finally:
        service.close()


def _page(client: Any, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return str(answer.text)


def _apprise_chat(db: Database) -> int:
    with db.read() as conn:
        found = conn.execute(select(chats.c.chat_id).where(chats.c.channel == "apprise"))
        return int(found.scalar_one())


def _muted_raw(page: str, raw: str) -> bool:
    """Whether ``raw`` (the channel's own text) is on the page as the muted second line."""
    return f'class="muted small raw"><span class="data" translate="no">{raw}' in page


@pytest.mark.parametrize(("status", "kind"), RECIPIENT_GONE)
@pytest.mark.usefixtures("kien_thuy")
async def test_a_disabled_apprise_recipient_is_worded_as_a_destination(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, status: int, kind: str
) -> None:
    """Three refusals disable the recipient; every place that says why says "the destination
    refused / was not found" with the HTTP status, never the bot's words."""
    subscribe(db, receiver.url("hook"))
    receiver.statuses.extend([status] * 10)
    publish(db, 1, 2, 3, 4)  # three refusals switch it off, the fourth alert ends with it
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5, timeout=30)
    stored = disabled_reason(db)
    assert stored is not None and stored.startswith(f"{kind}|HTTP {status}:"), stored  # as before
    detail = stored.split("|", 1)[1]
    with db.read() as conn:  # the ended alerts keep the destination's words, none of a chat's
        ended = conn.execute(select(deliveries.c.error).where(deliveries.c.state == "disabled"))
        assert set(ended.scalars()) == {detail}
    chat = _apprise_chat(db)
    for index, language in enumerate(LANGUAGES):
        words = f"{APPRISE_REASON[kind][index]} (HTTP {status})"
        with admin_service(db, language, monkeypatch) as client:
            for path in ("/admin/subscriptions", "/admin/status", f"/admin/chats/{chat}"):
                page = _page(client, path)
                assert words in page, (language, path)
                assert _muted_raw(page, detail), (language, path)
                assert not BOT_WORDS.search(page), (language, path, BOT_WORDS.search(page))
            api = client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}",
                                                     "Accept-Language": language})  # fmt: skip
            [pause] = api.json()["chat_pauses"]
            assert (pause["disabled_reason"], pause["disabled_reason_message"]) == (stored, words)
    env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
    shown = CliRunner().invoke(cli, ["status"], env=env)
    assert shown.exit_code == 0, shown.output
    assert f"({APPRISE_REASON[kind][1]} (HTTP {status}))" in shown.output, shown.output
    assert not BOT_WORDS.search(shown.output), shown.output


async def test_a_delivery_error_is_explained_in_the_admins_language(
    db: Database, fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocked chat's alerts (Telegram's English stored as it came): the deliveries and status
    pages explain each error by its kind in the admin's language, the channel's text under it;
    the subscriptions and status pages word the switch-off and keep its detail likewise."""
    async with make_env(db, fake, 10.0) as env:
        subscribe_chat(db, PRIVATE, "private", "an-ninh")
        fake.block(PRIVATE)
        env.publish(*(env.fresh() for _ in range(4)))
        await env.dispatch_until_done(disable_after=3)
    assert [s for _, s, _ in env.states()] == ["blocked"] * 3 + ["disabled"]
    raw = "Forbidden: bot was blocked by the user"
    # the switch-off's delivery keeps the channel's words, never the stored ``code|`` form
    with db.read() as conn:
        ended = conn.execute(select(deliveries.c.error).where(deliveries.c.state == "disabled"))
        assert list(ended.scalars()) == [raw]
    for language in LANGUAGES:
        blocked, disabled, reason = EXPLAINED[language]
        with admin_service(db, language, monkeypatch) as client:
            for path in ("/admin/deliveries", "/admin/status"):
                page = _page(client, path)
                assert blocked in page and disabled in page, (language, path)
                assert _muted_raw(page, raw), (language, path)
            for path in ("/admin/subscriptions", "/admin/status", f"/admin/chats/{PRIVATE}"):
                page = _page(client, path)
                assert reason in page and _muted_raw(page, raw), (language, path)
                assert f"{reason} ({raw})" not in page, (language, path)  # apart, not appended


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_every_delivery_state_is_explained(language: str, channel: str) -> None:
    t = Translator(language)
    shown = {s: t.delivery_error(s, channel) for s in (*TERMINAL, "pending", "held", "sending")}
    assert all(words and MISSING[:1] not in words for words in shown.values()), shown
    if channel == "apprise":
        assert not BOT_WORDS.search(shown["blocked"] + shown["chat_not_found"]), shown


@pytest.mark.parametrize(
    ("stored", "words"),
    [("blocked|HTTP 401, 403: the destination refused the credentials",
      "the destination refused notifications several times in a row (HTTP 401, 403)"),
     ("chat_not_found|HTTP 410: the destination no longer exists",
      "the destination was not found several times in a row (HTTP 410)"),
     ("blocked", "the destination refused notifications several times in a row"),
     ("blocked|a detail without a status",
      "the destination refused notifications several times in a row (a detail without a "
      "status)"),
     ("words stored before codes", "words stored before codes")],
)  # fmt: skip
def test_apprise_reasons_read_their_status(stored: str, words: str) -> None:
    """The HTTP status a detail begins with is the words'; a detail without one follows them."""
    assert Translator("en").reason(stored, "apprise") == words
    assert Translator("en").reason(stored, "telegram") != words or "codes" in stored


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_destinations_states_are_worded_as_a_destination(language: str) -> None:
    """An Apprise recipient's deliveries ended by its switch-off were labelled "Chat đã tắt" /
    "Chat disabled": a webhook or a mailbox is no chat. Every state naming the recipient is a
    destination's; the others, and every Telegram and Zalo label, are the chats' as before."""
    words = Translator(language)
    destination = {"vi": "điểm nhận", "en": "destination"}[language]
    for state in ("blocked", "chat_not_found", "disabled"):
        assert destination in words.state(state, "apprise").lower(), state
        for chat_channel in ("telegram", "zalo"):
            assert words.state(state, chat_channel) == words(f"state.{state}")
    assert words.state("sent", "apprise") == words("state.sent")
