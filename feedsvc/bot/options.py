"""The bot's side of delivery options (issue 15): ``/digest``, ``/quiet``, ``/silent``,
``/settings`` and the mute / undo buttons under alerts. Synchronous DB work (handlers run it in
``asyncio.to_thread``) returning the reply, like :mod:`feedsvc.bot.actions`; the rules are
:mod:`feedsvc.digest.options` (shared with the API and the admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from html import escape

from feedsvc.bot import texts
from feedsvc.bot.actions import Target, cap_refusal
from feedsvc.bot.gate import MAX_USER_SUBSCRIPTIONS
from feedsvc.catalogue import Translator
from feedsvc.db import Database
from feedsvc.digest import ChatSettings, SettingError
from feedsvc.digest import options as chat_options
from feedsvc.store import subscriptions as subs
from feedsvc.store.topics import get_topic_by_id

FIELDS = ("digest", "quiet", "silent")


def set_option(
    db: Database, target: Target, field: str, arg: str, tz: tzinfo,
    fields: tuple[str, ...] = FIELDS,
) -> str:  # fmt: skip
    """``/digest``, ``/quiet`` or ``/silent`` with its argument; the reply (HTML), listing the
    settings ``fields`` (a bot without one of the options, Zalo's without ``/silent``, leaves
    it out: it must not invite a command it does not know)."""
    assert field in fields
    t = texts.translator()
    try:
        changes = chat_options.parse_changes(**{field: arg})
    except SettingError as exc:
        return texts.t("option_invalid", error=escape(chat_options.error_text(exc, t)),
                       usage=texts.t(f"{field}_usage"))  # fmt: skip
    with db.write() as conn:
        subs.ensure_chat(conn, target.chat_id, target.type, target.title, db.now())
    settings = chat_options.apply(db, target.chat_id, changes, tz)
    saved = texts.t("option_saved", where=texts.where(target.label))
    return saved + "\n" + _lines(settings, t, fields)


def show(db: Database, target: Target, fields: tuple[str, ...] = FIELDS) -> str:
    """``/settings``: how this chat gets its alerts (the settings ``fields``, as
    :func:`set_option`)."""
    with db.write() as conn:
        subs.ensure_chat(conn, target.chat_id, target.type, target.title, db.now())
    settings = chat_options.read(db, target.chat_id)
    return (
        texts.t("settings_head", where=texts.where(target.label))
        + "\n"
        + _lines(settings, texts.translator(), fields)
    )


def _lines(settings: ChatSettings, t: Translator, fields: tuple[str, ...]) -> str:
    """One line per setting: its words, then the value to type where the words do not already
    show it (times are shown as times: "lúc 07:30, 18:00" needs no "(07:30,18:00)" after it)."""
    words = chat_options.describe(settings, t)
    lines = (
        ("digest", settings.digest.text(), bool(settings.digest.times)),
        ("quiet", settings.quiet.stored() if settings.quiet else "off", settings.quiet is not None),
        ("silent", "on" if settings.silent else "off", False),
    )
    return "\n".join(
        f"• /{name}: {escape(words[name])}"
        + ("" if in_words else f" (<code>{escape(value)}</code>)")
        for name, value, in_words in lines
        if name in fields
    )


def mute(db: Database, chat_id: int, topic_id: int) -> tuple[str | None, int | None]:
    """The mute button: unsubscribe the chat from the topic. Returns (the topic's title or
    None when the topic is gone, the thread the subscription delivered to, for the undo)."""
    with db.write() as conn:
        topic = get_topic_by_id(conn, topic_id)
        if topic is None:
            return None, None
        thread = subs.subscription_thread(conn, chat_id, topic_id)
        subs.unsubscribe(conn, chat_id, topic_id=topic_id, query=None)
    return topic.title, thread


@dataclass(frozen=True, slots=True)
class Refused:
    """The undo button may not subscribe again: ``reply`` says why (a subscription cap)."""

    reply: str


def unmute(
    db: Database,
    target: Target,
    topic_id: int,
    thread: int | None,
    *,
    per_user: int = MAX_USER_SUBSCRIPTIONS,
) -> str | Refused | None:
    """The undo button: subscribe again (to the same thread), as ``/sub`` would: the same
    per-chat and per-user caps (:func:`feedsvc.bot.actions.cap_refusal`), the subscription
    recorded as ``target.user``'s. The topic's title; :class:`Refused` at a cap; None when the
    topic is gone or switched off."""
    with db.write() as conn:
        topic = get_topic_by_id(conn, topic_id)
        if topic is None or not topic.enabled:
            return None
        now = db.now()
        subs.ensure_chat(conn, target.chat_id, target.type, target.title, now)
        if (refusal := cap_refusal(conn, target, per_user, topic_id, None)) is not None:
            return Refused(refusal)
        subs.subscribe(conn, target.chat_id, topic_id=topic_id, query=None, now=now,
                       created_by=target.user, thread_id=thread)  # fmt: skip
    return topic.title
