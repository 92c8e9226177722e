"""The bot's database work, synchronous (the DB layer is sync SQLAlchemy): handlers run these in
``asyncio.to_thread`` so a slow database never stalls the event loop the dispatcher shares.

Each function is one transaction and returns the reply text, so a handler is "check permission,
call one action, reply" and the rules (topic slug first, else a query; idempotence; limits) sit in
one place that tests can read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html import escape

from sqlalchemy import Connection

from feedsvc import limits
from feedsvc.bot import texts
from feedsvc.bot.gate import MAX_USER_SUBSCRIPTIONS
from feedsvc.bot.meaning import stored_spelling, topic_meant, typed_topic
from feedsvc.db import Database
from feedsvc.graphemes import utf16_units
from feedsvc.limits import too_long
from feedsvc.matching import QueryError, parse_chat_query
from feedsvc.store import chat_migration
from feedsvc.store import subscriptions as subs
from feedsvc.store.topics import Topic, find_topic, list_topics
from feedsvc.store.topics import serialize as serialize_topics
from feedsvc.typed_query import quote_refusal, typed_error, typed_query

#: A chat's own query, in characters as :mod:`feedsvc.limits` counts them (its owner).
MAX_QUERY_CHARS = limits.CHAT_QUERY
MAX_SUBSCRIPTIONS = 50  # per chat
# The longest command argument read at all (a query is at most MAX_QUERY_CHARS; a Telegram
# message at most 4096): longer ones get one short reply, never an echo of what was sent.
MAX_ARG_CHARS = 1000
# "/unsub 2" picks the 2nd line of /list: ASCII digits only ("²" and "١" are text, not numbers).
_LIST_NUMBER = re.compile(r"[0-9]{1,6}", re.ASCII)
#: a query that is one ``@slug`` reference and nothing else (the query lexer's slug characters)
_ONE_REFERENCE = re.compile(r"@([A-Za-z0-9_-]+)")
#: what separates the slugs of ``/sub kien-thuy the-thao`` or ``/sub kien-thuy, the-thao``
_SLUG_LIST_SEP = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Target:
    """The chat a command acts on: the chat it came from, or a channel named in it."""

    chat_id: int
    type: str
    title: str | None
    label: str | None = None  # "@channel" when acting on a channel from a private chat
    # who asked, "<channel>:<user id>" ("telegram:42"): the per-user cap counts by it; None
    # for someone exempt from it (a configured bot admin) or unknown
    user: str | None = None
    thread_id: int | None = None  # the forum topic thread the command was sent in


def normalise(arg: str) -> str:
    """One spelling per query: a reader's typed query as every surface reads it
    (:func:`feedsvc.typed_query.typed_query`: invisible characters dropped, full-width and
    "fancy text" forms plain, NFC, keyboard quotes as ``"``, whitespace collapsed), so
    idempotence hinges on none of them: a decomposed ``/sub "công an"`` was a second
    subscription beside the composed one, both shown alike in /list."""
    return typed_query(arg)


def argument_problem(arg: str) -> str | None:
    """Why a command's raw argument cannot be used at all (the reply), or None when it can.

    Whatever a user types reaches the handlers only through this check: control characters
    (NUL cannot be stored in PostgreSQL text, and none belongs in a topic or query), lone
    surrogates (not encodable as UTF-8) and arguments longer than :data:`MAX_ARG_CHARS`.
    """
    if len(arg) > MAX_ARG_CHARS:
        return texts.arg_too_long(MAX_ARG_CHARS)
    if any(unicodedata.category(c) in ("Cc", "Cs") and not c.isspace() for c in arg):
        return texts.arg_control_chars()
    return None


def list_number(arg: str) -> int | None:
    """``arg`` as a line number of ``/list`` (ASCII digits), else None."""
    return int(arg) if _LIST_NUMBER.fullmatch(arg) else None


def register(db: Database, target: Target) -> None:
    """Record the chat and make it live again: it is talking to the bot, so it is reachable."""
    with db.write() as conn:
        subs.ensure_chat(conn, target.chat_id, target.type, target.title, db.now())
        subs.reenable_chat(conn, target.chat_id)


def heard_from(db: Database, channel: str, address: str) -> bool:
    """The recipient wrote to the bot (any command on Telegram, any message on Zalo): one that
    was switched off after refusing alerts (blocked the bot, the chat gone) is live again, as
    README promises ("until it writes to the bot again"); True when it was. Only /start, /sub,
    /pause and /resume did that: a Zalo user who unblocked the OA and wrote "xin chào" or
    /list stayed off, and each new article was never queued for them (a tester's). A read
    first: a live recipient's message costs no write."""
    with db.read() as conn:
        found = subs.find_recipient(conn, channel, address)
    if found is None or found.disabled_reason is None:
        return False
    with db.write() as conn:
        subs.reenable_chat(conn, found.chat_id)
    return True


def enabled_topics(db: Database, head: str = "topics_head", limit: int = texts.MAX_REPLY) -> str:
    """``/topics`` within ``limit`` UTF-16 units (the channel's reply limit)."""
    with db.read() as conn:
        return texts.topics(list_topics(conn, enabled_only=True), head, limit)


def is_topic(db: Database, slug: str) -> bool:
    with db.read() as conn:
        return find_topic(conn, slug) is not None


def cap_refusal(
    conn: Connection, target: Target, per_user: int, topic_id: int | None, query: str | None
) -> str | None:
    """The reply refusing ``target`` the subscription to ``topic_id`` or ``query`` (its chat at
    :data:`MAX_SUBSCRIPTIONS`, or its user, ``target.user``, at ``per_user`` created across
    chats), or None when it may have it: room left, or it exists already (idempotent at a cap).
    Every path that adds a subscription for a chat user (commands, the undo button) asks here,
    so no path slips past the caps (#12 §2)."""
    if subs.find_subscription(conn, target.chat_id, topic_id=topic_id, query=query) is not None:
        return None
    if subs.count_subscriptions(conn, target.chat_id) >= MAX_SUBSCRIPTIONS:
        return texts.too_many(MAX_SUBSCRIPTIONS)
    if target.user and subs.count_user_subscriptions(conn, target.user) >= per_user:
        return texts.t("too_many_for_user", limit=per_user)
    return None


def subscribe(
    db: Database, target: Target, arg: str, *, per_user: int = MAX_USER_SUBSCRIPTIONS,
    limit: int = texts.MAX_REPLY,
) -> str:  # fmt: skip
    """Subscribe ``target`` to a topic (``arg`` is its slug) or to ``arg`` as its own query.

    Refused with a reply: a query too long or too big once expanded, a disabled topic, a chat at
    :data:`MAX_SUBSCRIPTIONS`, a user (``target.user``) who created ``per_user`` already.
    ``@slug`` alone naming an enabled topic is that topic (:func:`_referenced_topic`); two or
    more slugs are each their topic (:func:`_several_topics`), the replies within ``limit``
    UTF-16 units (the channel's reply limit).
    """
    typed, arg = arg, normalise(arg)
    if (over := too_long("query", arg, MAX_QUERY_CHARS)) is not None:
        return texts.query_too_long(over)
    if (quotes := quote_refusal(typed)) is not None:  # shown on what was typed, as its place
        return texts.quote_refusal(typed, quotes)
    if (slugs := _several_topics(db, arg)) is not None:
        replies = [subscribe(db, target, slug, per_user=per_user) for slug in slugs]
        return texts.fit(replies, limit)
    with db.write() as conn:
        serialize_topics(conn)  # its @slugs checked against topics no delete removes meanwhile
        now = db.now()
        topic = typed_topic(conn, arg)
        if topic is not None and not topic.enabled:
            return texts.topic_disabled(topic.slug)
        if topic is None and (ref := _referenced_topic(conn, arg)) is not None and ref.enabled:
            topic = ref
        note = ""
        if topic is None:
            # ``@slug`` of a disabled topic too: it lends its query as at match time (README)
            topics = list_topics(conn)
            known = {t.slug: t.query for t in topics}
            try:
                parse_chat_query(arg, known.get)
            except QueryError as exc:
                return texts.invalid_query(typed, typed_error(typed, exc))
            if (meant := topic_meant(topics, arg, known.get)) is not None:
                topic, note = meant, texts.query_is_topic(arg, meant)
        subs.ensure_chat(conn, target.chat_id, target.type, target.title, now)
        subs.reenable_chat(conn, target.chat_id)
        topic_id, query = (topic.id, None) if topic else (None, arg)
        if query is not None:
            query = stored_spelling(conn, target.chat_id, query, known.get, normalise, adding=True)
        if (refusal := cap_refusal(conn, target, per_user, topic_id, query)) is not None:
            return refusal
        what = _label(topic, query or arg)  # the stored spelling a query means
        was_in = subs.subscription_thread(conn, target.chat_id, topic_id, query)
        added = subs.subscribe(
            conn,
            target.chat_id,
            topic_id=topic_id,
            query=query,
            now=now,
            created_by=target.user,
            thread_id=target.thread_id,
        )
    hints = texts.query_hints(query) if query is not None else ""
    if not added and was_in != target.thread_id:
        return note + texts.moved_subscription(what, target.thread_id) + hints
    return (
        note + (texts.subscribed if added else texts.already_subscribed)(what, target.label) + hints
    )


def start_topic(
    db: Database, target: Target, slug: str, *, per_user: int = MAX_USER_SUBSCRIPTIONS
) -> str:
    """A deep link's ``/start <slug>``: greet and subscribe to that topic. The payload names a
    topic as ``/sub`` reads a slug (:func:`~feedsvc.bot.meaning.typed_topic`): a link's payload
    is ``A-Za-z0-9_-`` only, and ``/start an_ninh`` was "no such topic" while ``/sub an_ninh``
    subscribed to ``an-ninh``. An unknown slug gets a friendly pointer to /topics, never a
    query subscription to the slug's text. Both bots (Zalo's ``/start`` too)."""
    register(db, target)
    with db.read() as conn:
        topic = typed_topic(conn, normalise(slug))
    if topic is None:
        return texts.start_unknown_topic(slug)
    return texts.t("start") + "\n\n" + subscribe(db, target, topic.slug, per_user=per_user)


def unsubscribe(db: Database, target: Target, arg: str, limit: int = texts.MAX_REPLY) -> str:
    """By its number in ``/list`` (several: ``/unsub 1 3``), by topic slug, by the query's
    text (or one the matcher reads alike: :mod:`feedsvc.bot.meaning`), by ``@slug`` alone (the
    topic a ``/sub @slug`` subscribed to), by a topic's own query, or by several slugs (in that
    order). A number first: ``/help`` offers ``/unsub <số thứ tự>``, and a query whose text is
    that number took its place (``/unsub 1`` removed line 3, "1"); such a query is still
    removed by its own line's number, or by its text once no line has that number."""
    arg = normalise(arg)
    with db.write() as conn:
        lines = _list_lines(conn, target.chat_id, arg)
        if lines:
            for chosen in lines:
                subs.unsubscribe_id(conn, target.chat_id, chosen.id)
    if lines:
        return texts.fit([texts.unsubscribed(_sub_label(c), target.label) for c in lines], limit)
    with db.write() as conn:
        topic = typed_topic(conn, arg)
        what = _label(topic, arg)
        if topic is not None:
            removed = subs.unsubscribe(conn, target.chat_id, topic_id=topic.id, query=None)
        else:
            topics = list_topics(conn)
            known = {t.slug: t.query for t in topics}
            query = stored_spelling(conn, target.chat_id, arg, known.get, normalise)
            removed = subs.unsubscribe(conn, target.chat_id, topic_id=None, query=query)
            what = _label(None, query)
        if not removed and topic is None and (ref := _referenced_topic(conn, arg)) is not None:
            removed = subs.unsubscribe(conn, target.chat_id, topic_id=ref.id, query=None)
            what = _label(ref, arg)
        if not removed and topic is None and (meant := topic_meant(topics, arg, known.get)):
            removed = subs.unsubscribe(conn, target.chat_id, topic_id=meant.id, query=None)
            what = _label(meant, arg)
    if not removed and (slugs := _several_topics(db, arg)) is not None:
        return texts.fit([unsubscribe(db, target, slug) for slug in slugs], limit)
    if not removed:
        return texts.not_subscribed(arg)
    return texts.unsubscribed(what, target.label)


def _list_lines(conn: Connection, chat_id: int, arg: str) -> list[subs.Subscription]:
    """The subscriptions ``arg`` names by their numbers in ``/list`` (one, or several apart:
    ``1 3``, ``1, 3``), each once, resolved before any is removed (removing line 1 first made
    line 3 the old line 4); empty unless every part is a number of a line."""
    parts = [part for part in _SLUG_LIST_SEP.split(arg) if part]
    numbers = [list_number(part) for part in parts]
    if not numbers or None in numbers:
        return []
    current = subs.list_subscriptions(conn, chat_id)
    if not all(n is not None and 1 <= n <= len(current) for n in numbers):
        return []
    return [current[n - 1] for n in dict.fromkeys(n for n in numbers if n is not None)]


def _several_topics(db: Database, arg: str) -> list[str] | None:
    """The slugs when ``arg`` is two or more topic slugs and nothing else (``/sub kien-thuy
    the-thao``, commas too), else None. Read as a query, such a list ANDs the slugs' syllables
    as words ("kien" "thuy" "the" "thao", accent-sensitive), a subscription that matches
    nothing: the user was told "Đã đăng ký" and got no alert ever. Each slug is its topic
    instead, subscribed (or unsubscribed) one by one, each with the usual rules and reply.
    ``@slug`` stays query composition (``@kien-thuy @an-ninh``: both topics' queries)."""
    slugs = [part for part in _SLUG_LIST_SEP.split(arg) if part]
    if len(slugs) < 2 or any(part.startswith("@") for part in slugs):
        return None
    with db.read() as conn:
        named = [typed_topic(conn, slug) for slug in slugs]
        if all(topic is not None for topic in named):
            return list(dict.fromkeys(topic.slug for topic in named if topic is not None))
    return None


def list_for(
    db: Database, target: Target, variant: str = "", limit: int = texts.MAX_REPLY,
    units: texts.Units = utf16_units,
) -> str:  # fmt: skip
    """``/list`` within ``limit`` UTF-16 units (the channel's reply limit), each line measured
    by ``units`` (Zalo's: the plain text it sends)."""
    with db.read() as conn:
        chat = subs.get_chat(conn, target.chat_id)
        items = subs.list_subscriptions(conn, target.chat_id)
    paused = chat.paused if chat else False
    disabled = chat.disabled_reason if chat else None
    return texts.subscription_list(
        items, paused, disabled, target.label, variant, limit, here=target.thread_id, units=units
    )


def set_preview(db: Database, target: Target, on: bool) -> str:
    with db.write() as conn:
        subs.ensure_chat(conn, target.chat_id, target.type, target.title, db.now())
        subs.set_link_preview(conn, target.chat_id, on)
    return texts.link_preview(on, target.label)


def set_paused(db: Database, target: Target, paused: bool) -> str:
    with db.write() as conn:
        chat = subs.ensure_chat(conn, target.chat_id, target.type, target.title, db.now())
        subs.reenable_chat(conn, target.chat_id)
        changed = chat.paused != paused
        if changed:
            subs.set_paused(conn, target.chat_id, paused)
    return texts.paused(paused, changed, target.label)


def follow_migration(db: Database, old: int, new: int) -> None:
    """A group became a supergroup: its subscriptions and queued alerts follow the new id."""
    with db.write() as conn:
        chat_migration.follow_migration(conn, old, new, db.now())


def bot_removed(db: Database, chat_id: int, reason: str) -> bool:
    with db.write() as conn:
        return subs.disable_chat(conn, chat_id, reason)


def _referenced_topic(conn: Connection, arg: str) -> Topic | None:
    """The topic a query of exactly one ``@slug`` names (found as any slug is,
    :func:`find_topic`), else None. ``/sub @kien-thuy`` made a query subscription beside the
    topic's, and muting the topic with an alert's button left the query sending the same
    articles (tester4 G5): such a query is the topic, so ``/sub`` subscribes to the topic itself
    (or says it already is). A disabled topic's ``@slug`` stays a query, lending its query as at
    match time (README); one with other terms (``@kien-thuy cầu``) is a query as always."""
    found = _ONE_REFERENCE.fullmatch(arg)
    return find_topic(conn, found.group(1)) if found else None


def _label(topic: Topic | None, arg: str) -> str:
    return texts.topic_label(topic) if topic is not None else texts.query_label(arg)


def _sub_label(sub: subs.Subscription) -> str:
    if sub.topic_slug is not None:
        return f"<b>{escape(sub.topic_title or sub.topic_slug)}</b>"
    return texts.query_label(sub.query or "")
