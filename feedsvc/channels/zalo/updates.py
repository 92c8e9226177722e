"""Zalo updates and replies as data — pure.

An update (FIELD-NOTES "Zalo Bot Platform") is ``{"event_name": "message.text.received", "message":
{"from": {...}, "chat": {"id": "…", "chat_type": "PRIVATE" | "GROUP"}, "text": "…", ...}}``;
webhook bodies carry it under ``result`` in some clients and bare in others: both are read. A
photo's update (``message.image.received``) carries its ``caption``, read as the text is.
Replies are worded by :mod:`feedsvc.bot.texts` in Telegram HTML (one wording for both bots);
:func:`plain_reply` turns them into Zalo's plain text.

An update's identity (tester4 G1: Zalo redelivers, and each copy must not act again) is its chat
and ``message.message_id`` (a string, FIELD-NOTES). Without one, the sender, ``date`` and text
stand in for it (:func:`_update_key`: a copy of the same update has all three; two different
messages would need the same text in the same millisecond); with neither ``message_id`` nor
``date`` nothing tells copies apart and the update is acted on. ``date`` (milliseconds) also
dates it: an update older than :data:`MAX_AGE` is never acted on.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsvc.bot.typed import read_command
from feedsvc.graphemes import prefix
from feedsvc.notify.message import trim_utf16

REPLY_LIMIT = 2000  # Zalo's text limit
MAX_ID_CHARS = 100  # a Zalo id longer than this is not one: ignore the update
#: an update older than this is answered by nothing: Telegram keeps undelivered updates 24 h, and
#: a command replayed days later (a stuck retry queue, a replayed POST) must not act
MAX_AGE = timedelta(hours=24)
_LINK = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
#: the events whose ``caption`` may carry a command: a photo's, a sticker's, a kind Zalo adds
#: later; ``message.unsupported.received`` (FIELD-NOTES) carries nothing to read
_CAPTIONED = re.compile(r"message\.(?!unsupported\.)[a-z_]+\.received")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message to the bot: where it came from and what it says (a photo's caption too)."""

    chat_id: str
    chat_type: str  # private | group
    title: str | None  # the sender's display name (private) or the group's name
    text: str
    user_id: str | None = None  # the sender's Zalo id (the per-user command budget counts it)
    key: str | None = None  # the update's identity within the chat (module docstring); None: none
    sent_at: datetime | None = None  # Zalo's ``date``; None when absent or not a time


def is_zalo_id(text: str) -> bool:
    """A Zalo chat or user id as feedsvc stores it: 1–:data:`MAX_ID_CHARS` printable characters,
    no whitespace. The one rule for ids from updates (webhook, polling) and from the admin (CLI,
    API, web admin: :mod:`feedsvc.channels.recipients`); an id with control characters would end
    up in the admin, the logs and the outbox."""
    return 0 < len(text) <= MAX_ID_CHARS and text.isprintable() and not any(
        c.isspace() for c in text)  # fmt: skip


def parse_update(body: Any) -> Incoming | None:
    """The message in ``body`` (an update, or ``{"result": update}``) with the text a command
    is read from (:func:`_said`); None for anything else (a photo or sticker without a
    caption, unknown shapes), which the bot ignores."""
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        body = body["result"]
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender, text = message.get("chat"), message.get("from"), _said(body, message)
    if not isinstance(chat, dict) or text is None:
        return None
    chat_id = chat.get("id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, str | int):
        return None
    if not is_zalo_id(chat_id if isinstance(chat_id, str) else str(chat_id)[: MAX_ID_CHARS + 1]):
        return None
    kind = "group" if str(chat.get("chat_type", "")).upper() == "GROUP" else "private"
    name = chat.get("name") if kind == "group" else None
    if name is None and isinstance(sender, dict):
        name = sender.get("display_name")
    title = prefix(str(name), 200) if isinstance(name, str | int) else None  # whole clusters
    user = sender.get("id") if isinstance(sender, dict) else None
    user_id = str(user) if isinstance(user, str | int) and not isinstance(user, bool) else None
    if user_id is not None and not is_zalo_id(user_id):
        user_id = None  # the chat's budget still applies
    sent_at = _sent_at(message.get("date"))
    key = _update_key(message.get("message_id"), user_id, message.get("date"), text)
    return Incoming(str(chat_id), kind, title, text, user_id, key, sent_at)


def _said(update: dict[str, Any], message: dict[str, Any]) -> str | None:
    """The text a command is read from: a text message's ``text``; a photo's (a sticker's, any
    ``message.<kind>.received`` but ``unsupported``'s) ``caption``, as the Telegram bot reads a
    photo's caption (``/sub an ninh`` under a picture). FIELD-NOTES names these events but not
    a caption's field; ``caption`` is the public clients' (the shape ``sendPhoto`` takes)."""
    event = update.get("event_name")
    if event == "message.text.received":
        field = "text"
    elif isinstance(event, str) and _CAPTIONED.fullmatch(event):
        field = "caption"
    else:
        return None
    said = message.get(field)
    return said if isinstance(said, str) else None


def _sent_at(date: Any) -> datetime | None:
    """Zalo's ``date`` (milliseconds since the epoch, a number or a string of digits)."""
    if isinstance(date, str) and date.isascii() and date.isdigit() and len(date) <= 20:
        date = int(date)
    if isinstance(date, bool) or not isinstance(date, int | float):
        return None
    try:
        return datetime.fromtimestamp(date / 1000, UTC)
    except (OverflowError, ValueError, OSError):  # absurd numbers (a hostile or broken sender)
        return None


def _update_key(message_id: Any, user_id: str | None, date: Any, text: str) -> str | None:
    """The update's identity within its chat (module docstring)."""
    is_id = isinstance(message_id, str | int) and not isinstance(message_id, bool)
    if is_id and is_zalo_id(found := str(message_id)[: MAX_ID_CHARS + 1]):
        return found
    if isinstance(date, bool) or not isinstance(date, str | int | float):
        return None
    digest = hashlib.sha256(repr((user_id, str(date), text)).encode("utf-8", "surrogatepass"))
    return "sha256:" + digest.hexdigest()[:64]


def parse_command(text: str) -> tuple[str, str] | None:
    """``"/sub kien-thuy"`` → ``("sub", "kien-thuy")``; None when ``text`` is no command. Read
    as the Telegram bot reads one (:func:`feedsvc.bot.typed.read_command`): after invisible
    characters too (``"\u200b/sub an ninh"``); an ``@addressee`` is ignored."""
    command = read_command(text)
    return None if command is None else (command[0], command[2])


def plain_reply(reply: str) -> str:
    """A bot reply (Telegram HTML) as Zalo plain text: links written out, tags dropped,
    entities decoded, within :data:`REPLY_LIMIT` (UTF-16 units)."""

    def link(found: re.Match[str]) -> str:
        url, label = html.unescape(found.group(1)), _TAG.sub("", found.group(2))
        return label if html.unescape(label) == url else f"{label} ({html.escape(url)})"

    text = html.unescape(_TAG.sub("", _LINK.sub(link, reply)))
    return trim_utf16(text, REPLY_LIMIT)
