"""A chat's options changed meanwhile are refused naming the chat, never feedsvc's internal
chat number (a report, low): ``PATCH /api/chats/4503599627370497`` with a stale ``If-Match``
answered the 412 with ``error`` "chat 4503599627370497's options were changed meanwhile
(digest); nothing was saved" for a Zalo or Apprise chat — a number nobody finds in Zalo or in
the config; the ``message`` beside it named it already. Now the refusal itself
(:class:`feedsvc.digest.options.ChatChangedMeanwhile`, its English and its ``chat``) names it
as :mod:`feedsvc.recipient_names` does (``zalo chat zb``, ``apprise chat json://***#…``, the
URL's password, path and query tokens never), read with the options it refused under the
write's lock, and every front end words that one name.

The real app and SQLite state DB of ``test_admin_recipient_names`` (a Telegram supergroup, a
Zalo chat and an Apprise URL with a password), the admin in Vietnamese and in English.
"""

from __future__ import annotations

import pytest
from test_admin import TOKEN
from test_admin_recipient_names import NAMES, OPERATORS, SECRETS, Chats, chats

from feedsvc.catalogue import Translator
from feedsvc.digest import options as chat_options
from feedsvc.digest import versions

__all__ = ["chats"]  # the fixture, by import

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
CHANNELS = ["telegram", "zalo", "apprise"]


def no_secret_nor_number(text: str, chats: Chats, channel: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret
    if channel != "telegram":  # a Telegram chat's own id is the number
        assert str(chats.ids[channel]) not in text, text


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_apis_412_error_names_the_chat(chats: Chats, channel: str, language: str) -> None:
    """The report's steps: GET the chat's options, someone changes them, a PATCH with the
    version read is refused; ``error`` (the operators' English, what a script logs) names
    the chat as the log does, ``message`` in the request's language."""
    chat = chats.ids[channel]
    auth = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": language}
    read = chats.client.get(f"/api/chats/{chat}", headers=auth).json()
    changes = chat_options.parse_changes("hourly", None, None)
    chat_options.apply(chats.service.db, chat, changes, chats.service.settings.tz)  # meanwhile
    answer = chats.client.patch(
        f"/api/chats/{chat}", json={"digest": "08:00"},
        headers=auth | {"If-Match": f'"{read["version"]}"'},
    )  # fmt: skip
    assert answer.status_code == 412, answer.text
    got = answer.json()
    assert got["code"] == "chat_changed_meanwhile"
    assert got["error"] == (
        f"{OPERATORS[channel]}'s options were changed meanwhile (digest); nothing was saved"
        " (If-Match not met)"
    ), got
    said = Translator(language)("api.chat_changed_meanwhile", chat=NAMES[language][channel],
                                fields="digest")  # fmt: skip
    assert got["message"] == said, got
    no_secret_nor_number(answer.text, chats, channel)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("code", ["chat_changed_meanwhile", "chat_version_missing"])
def test_the_refusal_names_its_chat(chats: Chats, channel: str, code: str) -> None:
    """The refusal as every caller gets it (the admin's chat page, the API): its English and
    its ``chat``, for both its codes — a page from before versions sent no version."""
    chat, db, tz = chats.ids[channel], chats.service.db, chats.service.settings.tz
    seen = versions.version_of(chat_options.read(db, chat))
    if code == "chat_version_missing":
        seen = "no version"
    else:
        chat_options.apply(db, chat, chat_options.parse_changes("hourly"), tz)  # meanwhile
    with pytest.raises(chat_options.ChatChangedMeanwhile) as refused:
        chat_options.apply(db, chat, chat_options.parse_changes("08:00"), tz, seen=seen)
    exc = refused.value
    assert exc.code == code and exc.fields == ("digest",)
    assert exc.chat == OPERATORS[channel] and exc.chat_id == chat
    english = str(exc)
    if code == "chat_version_missing":
        said = f"no version of {OPERATORS[channel]}'s options was given; nothing was saved"
        assert english == said
    else:
        assert english.startswith(f"{OPERATORS[channel]}'s options were changed meanwhile")
    no_secret_nor_number(english, chats, channel)
    # the admin's words name it in the admin's language, from the refusal's own name
    assert chats.t.recipient(exc.chat) == chats.names[channel]
