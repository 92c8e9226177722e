"""A chat is named in the language of the sentence that names it (a report, low-medium): the
admin in Vietnamese said "Đã tạm dừng telegram chat 1001", "telegram chat 1001" in headings,
"apprise chat json://***#1edd70" — the operators' English inside Vietnamese sentences —, and so
did the JSON API's ``message`` answered in the request's ``Accept-Language``. Now a page's words
name it from the catalogue (``recipient.<channel>``: ``chat Telegram -1001…`` / ``Telegram
chat -1001…``, ``chat Zalo zb`` / ``Zalo chat zb``, ``Apprise json://***#…``), the address
still decided once by :mod:`feedsvc.recipient_names` (an Apprise URL masked); the log lines,
the CLI and the API's English ``error`` keep ``telegram chat -1001…``.

The admin's pages, flashes and refusals are in ``tests/test_admin_recipient_names.py``; here
the API's worded refusals on the same real app and SQLite state DB, a refusal of the admin's
Apprise form, and the naming itself.
"""

from __future__ import annotations

import copy
import html
import logging
import pickle

import pytest
from test_admin import TOKEN
from test_admin_recipient_names import (
    GROUP,
    HOOK,
    NAMES,
    NOW,
    OPERATORS,
    SECRETS,
    ZALO,
    Chats,
    chats,
    subscribe,
)

from feedsvc import operations as ops
from feedsvc.bot.actions import MAX_SUBSCRIPTIONS
from feedsvc.catalogue import CATALOGUE, ENGLISH, Translator
from feedsvc.channels.apprise_urls import mask
from feedsvc.channels.base import CHANNELS
from feedsvc.digest import options as chat_options
from feedsvc.recipient_names import chat_name, recipient_name, telegram_chat
from feedsvc.store import subscriptions as sub_store

__all__ = ["chats"]  # the fixture, by import

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADDRESSES = {"telegram": None, "zalo": ZALO, "apprise": HOOK}


def api(language: str) -> dict[str, str]:
    return AUTH | {"Accept-Language": language}


def clean(text: str) -> None:
    """No secret of the Apprise URL, no chat in the log's words."""
    for secret in SECRETS:
        assert secret not in text, secret
    assert not any(name in text for name in OPERATORS.values()), text


def other(language: str) -> str:
    return "en" if language == "vi" else "vi"


# -- the API's message, in the request's language ----------------------------------------------


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_a_412_over_a_chats_changed_options_names_the_chat(chats: Chats, channel: str) -> None:
    """``PATCH /api/chats/{id}`` with an ``If-Match`` a change meanwhile no longer meets, asked
    in either language whatever ``admin.language`` is."""
    chat = chats.ids[channel]
    read = chats.client.get(f"/api/chats/{chat}", headers=AUTH).json()
    changes = chat_options.parse_changes("hourly", "off", False)
    chat_options.apply(chats.service.db, chat, changes, chats.service.settings.tz)
    for language in ("vi", "en"):
        answer = chats.client.patch(
            f"/api/chats/{chat}", json={"digest": "08:00"},
            headers=api(language) | {"If-Match": f'"{read["version"]}"'},
        )  # fmt: skip
        assert answer.status_code == 412, answer.text
        name = NAMES[language][channel]
        said = Translator(language)("api.chat_changed_meanwhile", chat=name, fields="digest")
        assert answer.json()["message"] == said, answer.json()
        clean(answer.json()["message"])
        if NAMES[other(language)][channel] != name:  # Apprise's are alike
            assert NAMES[other(language)][channel] not in answer.text
        assert not any(secret in answer.text for secret in SECRETS)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_a_409_of_too_many_subscriptions_names_the_chat(chats: Chats, channel: str) -> None:
    """``POST /api/subscriptions`` for a chat at its limit: ``message`` in the request's words,
    ``error`` in the operators' (what ``subs add`` prints)."""
    chat = chats.ids[channel]
    with chats.service.db.write() as conn:
        have = sub_store.count_subscriptions(conn, chat)
        for n in range(MAX_SUBSCRIPTIONS - have):
            sub_store.subscribe(conn, chat, topic_id=None, query=f"từ{n}", now=NOW)
    body: dict[str, object] = {"channel": channel, "query": "mưa lớn"}
    if channel == "telegram":
        body |= {"chat_id": GROUP, "chat_type": "supergroup"}
    else:
        body["address"] = ADDRESSES[channel]
    for language in ("vi", "en"):
        answer = chats.client.post("/api/subscriptions", json=body, headers=api(language))
        assert answer.status_code == 409, answer.text
        got = answer.json()
        assert got["code"] == "too_many_subscriptions"
        name = NAMES[language][channel]
        said = {
            "vi": f"Đã có {MAX_SUBSCRIPTIONS} đăng ký cho {name}.",
            "en": f"{name} already has {MAX_SUBSCRIPTIONS} subscriptions.",
        }[language]
        assert got["message"] == said, got
        assert got["error"] == f"{OPERATORS[channel]} already has {MAX_SUBSCRIPTIONS} subscriptions"
        assert not any(secret in answer.text for secret in SECRETS)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_a_topic_deletes_409_names_the_chat_whose_query_uses_it(chats: Chats, channel: str) -> None:
    sub, _ = subscribe(chats.service.db, channel, ADDRESSES[channel], None, "@t00 OR gió")
    for language in ("vi", "en"):
        answer = chats.client.delete("/api/topics/t00", headers=api(language))
        assert answer.status_code == 409, answer.text
        ref = Translator(language)("chat_query_ref", chat=NAMES[language][channel], id=sub.id)
        assert ref in answer.json()["message"], answer.json()
        clean(answer.json()["message"])
        assert (
            f"own queries of {OPERATORS[channel]} (subscription {sub.id})"
            in (answer.json()["error"])
        )
        assert not any(secret in answer.text for secret in SECRETS)


# -- the admin's Apprise form: its refusal above the form --------------------------------------


def test_the_apprise_forms_refusal_names_the_destination(chats: Chats) -> None:
    chat = chats.ids["apprise"]
    with chats.service.db.write() as conn:
        have = sub_store.count_subscriptions(conn, chat)
        for n in range(MAX_SUBSCRIPTIONS - have):
            sub_store.subscribe(conn, chat, topic_id=None, query=f"từ{n}", now=NOW)
    page = chats.client.get("/admin/subscriptions").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = chats.client.post(
        "/admin/subscriptions/apprise", data={"csrf": csrf, "url": HOOK, "query": "mưa lớn"}
    )
    assert answer.status_code == 409, answer.text
    name = NAMES[chats.t.language]["apprise"]
    said = chats.t("op.too_many_subscriptions", chat=name, limit=MAX_SUBSCRIPTIONS)
    assert said in html.unescape(answer.text), answer.text
    # the URL box holds what was typed (only this admin's own page, no-store); nothing else
    chats.hidden(answer.text.replace(f'value="{html.escape(HOOK)}"', ""))


# -- the naming ---------------------------------------------------------------------------------


MAILTO = "mailtos://u:pw%40x@127.0.0.1"


@pytest.mark.parametrize(
    ("channel", "address", "vi", "en"),
    [
        ("telegram", "-1001234567890", "chat Telegram -1001234567890",
         "Telegram chat -1001234567890"),
        ("telegram", "1001", "chat Telegram 1001", "Telegram chat 1001"),
        ("zalo", "zb", "chat Zalo zb", "Zalo chat zb"),
        ("apprise", HOOK, f"Apprise {mask(HOOK)}", f"Apprise {mask(HOOK)}"),
        ("apprise", MAILTO, f"Apprise {mask(MAILTO)}", f"Apprise {mask(MAILTO)}"),
    ],
)  # fmt: skip
def test_each_language_names_a_recipient_and_the_operators_words_stay(
    channel: str, address: str, vi: str, en: str
) -> None:
    from feedsvc.recipient_names import RecipientName  # here: the old code had none

    name = recipient_name(channel, address)
    assert isinstance(name, RecipientName)
    operators = f"{channel} chat {mask(address) if channel == 'apprise' else address}"
    logged = logging.LogRecord("feedsvc", logging.INFO, __file__, 1, "%s", (name,), None)
    assert name == f"{name}" == logged.getMessage() == operators  # the log's words, unchanged
    assert Translator("vi").recipient(name) == vi
    assert Translator("en").recipient(name) == en
    assert Translator("vi")("paused_msg", chat=name) == f"Đã tạm dừng {vi}."
    assert Translator("en")("paused_msg", chat=name) == f"Paused {en}."
    # the CLI's and the log's words keep the operators' name, in a catalogue sentence too
    assert ENGLISH.recipient(name) == operators
    assert ENGLISH("paused_msg", chat=name) == f"Paused {operators}."
    for words in (Translator("vi"), Translator("en"), ENGLISH):
        for said in (words.recipient(name), words("resumed_msg", chat=name)):
            assert not any(s in said for s in (*SECRETS, "pw%40x", "u:pw")), said


def test_a_name_is_the_same_text_with_its_parts_when_copied_or_pickled() -> None:
    from feedsvc.recipient_names import RecipientName

    for name in (telegram_chat(GROUP), chat_name("zalo", ZALO, 7), recipient_name("apprise", HOOK)):
        for again in (copy.copy(name), copy.deepcopy(name), pickle.loads(pickle.dumps(name))):
            assert again == name and type(again) is RecipientName
            assert (again.channel, again.shown) == (name.channel, name.shown)
    assert str(telegram_chat(GROUP)) == f"telegram chat {GROUP}"
    assert type(str(telegram_chat(GROUP))) is str  # formatted, joined, logged: plain text


def test_a_row_is_named_as_its_name_is() -> None:
    """The admin's ``recipient`` filter takes a row (chat, subscription, delivery)."""

    class Row:
        channel, address, chat_id = "telegram", None, GROUP

    assert Translator("vi").recipient(Row()) == f"chat Telegram {GROUP}"
    assert Translator("en").recipient(Row()) == f"Telegram chat {GROUP}"


def test_every_channel_has_its_words_in_every_language() -> None:
    for channel in CHANNELS:
        vi, en = CATALOGUE[f"recipient.{channel}"]
        assert "{address}" in vi and "{address}" in en, channel
        assert CATALOGUE[f"channel.{channel}"][0] in vi, channel  # the proper noun, capitalised
        assert CATALOGUE[f"channel.{channel}"][1] in en, channel


def test_the_use_case_keeps_the_name_for_each_front_end() -> None:
    """An operation's refusal carries the name, not words: the CLI prints ``message`` (the
    operators'), the API and the admin word ``params`` in their language."""
    name = telegram_chat(GROUP)
    exc = ops.OperationError(
        "conflict", f"{name} already has 50 subscriptions", code="too_many_subscriptions",
        params={"chat": name, "limit": 50},
    )  # fmt: skip
    assert exc.message == f"telegram chat {GROUP} already has 50 subscriptions"
    assert Translator("vi").operation_error(exc) == f"Đã có 50 đăng ký cho chat Telegram {GROUP}."
    assert (
        Translator("en").operation_error(exc)
        == f"Telegram chat {GROUP} already has 50 subscriptions."
    )
