"""Recipients and their subscriptions as the admin changes them: subscribe a recipient of any
channel to a topic or its own query (with the bot's limits), unsubscribe, pause and resume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from feedsvc.bot.actions import MAX_SUBSCRIPTIONS
from feedsvc.bot.actions import normalise as normalise_query
from feedsvc.catalogue import ENGLISH
from feedsvc.db import Database
from feedsvc.echoes import echoed
from feedsvc.limits import CHAT_QUERY, too_long
from feedsvc.logs import quoted
from feedsvc.matching import QueryError, parse_chat_query
from feedsvc.operations.errors import OperationError, query_invalid, refuse_control, too_long_error
from feedsvc.recipient_names import named, telegram_chat
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.store.chat_pauses import ChatPause, chat_pauses
from feedsvc.topics_file import lists_slug
from feedsvc.typed_query import quote_refusal, typed_error

if TYPE_CHECKING:
    from feedsvc.channels.recipients import RecipientSpec
    from feedsvc.config import TopicsSettings


CHAT_TYPES = ("private", "group", "supergroup", "channel")


@dataclass(frozen=True, slots=True)
class Subscribed:
    """What adding a subscription did, for the answer to say (``subs add``, the API, the admin):
    the subscription, whether it was ``created`` (else the recipient had it already), the
    reason the recipient was switched off for when this add switched it back on
    (``switched_on_from``: an Apprise recipient disabled after refusals in a row; "already
    subscribed" alone hid that alerts go to it again) and why it still receives no alerts
    (``still_off``: paused, switched off — a Telegram or Zalo chat is switched on only by
    writing to the bot —, a 429 pause), read after the add; None when it receives them."""

    subscription: sub_store.Subscription
    created: bool
    switched_on_from: str | None = None
    still_off: ChatPause | None = None

    @property
    def switched_on(self) -> bool:
        return self.switched_on_from is not None


def add_subscription(
    db: Database,
    chat_id: int | None,
    chat_type: str | None,
    *,
    topic: str | None,
    query: str | None,
    channel: str = "telegram",
    address: str | None = None,
    topics_config: TopicsSettings | None = None,
    command: str = "feedsvc",
) -> tuple[sub_store.Subscription, bool]:
    """:func:`subscribe_recipient`'s subscription and whether it was created, for callers that
    tell no one what changed for the recipient."""
    done = subscribe_recipient(
        db, chat_id, chat_type, topic=topic, query=query, channel=channel, address=address,
        topics_config=topics_config, command=command,
    )  # fmt: skip
    return done.subscription, done.created


def subscribe_recipient(
    db: Database,
    chat_id: int | None,
    chat_type: str | None,
    *,
    topic: str | None,
    query: str | None,
    channel: str = "telegram",
    address: str | None = None,
    topics_config: TopicsSettings | None = None,
    command: str = "feedsvc",
) -> Subscribed:
    """Subscribe a recipient — a Telegram chat (``chat_id``), or ``(channel, address)`` of any
    channel (:mod:`feedsvc.channels.recipients`) — to a topic or to its own query, with the bot's
    rules (enabled topics only; a query's ``@slug`` may name any topic, a disabled one too, as
    topic queries, previews, search feeds and matching resolve it; length and count limits).
    Idempotent: returns the subscription, whether it was created and what changed for the
    recipient or still stops its alerts (:class:`Subscribed`). ``topics_config``: the
    ``[topics]`` settings, for the hint of an unknown topic (:func:`_unknown_hint`); ``command``:
    how feedsvc is typed, in that hint."""
    from feedsvc.channels.recipients import RecipientError, recipient_spec

    for name, value in (("address", address), ("topic", topic), ("query", query)):
        if value is not None:  # before any SQL (a NUL fails PostgreSQL, a surrogate every DB)
            refuse_control(name, value)
    try:
        spec = recipient_spec(channel, chat_id, chat_type, address)
    except RecipientError as exc:
        raise OperationError(
            "invalid", exc.message, code=exc.code, params=exc.params, field=exc.field
        ) from None
    if (topic is None) == (query is None):
        raise OperationError(
            "invalid", "give exactly one of topic or query", code="topic_or_query", field="topic"
        )
    typed = query  # as sent: a query error is placed and shown on it (typed_error)
    if query is not None:
        query = normalise_query(query)
        if not query:
            raise OperationError("invalid", "query is empty", code="query_empty", field="query")
        if (over := too_long("query", query, CHAT_QUERY)) is not None:
            raise too_long_error(over)
        if (quotes := quote_refusal(typed or "")) is not None:  # as the bots refuse it
            code, params = f"quote_{quotes.code}", dict[str, object](mark=quotes.mark)
            raise OperationError(
                "invalid", ENGLISH(f"op.{code}", **params), code=code, params=params,
                field="query", position=quotes.position,
            )  # fmt: skip
    with db.write() as conn:
        if query is not None:  # its @slugs checked against topics no delete removes meanwhile
            topic_store.serialize(conn)
        now = db.now()
        topic_id = None
        if topic is not None:
            found = topic_store.find_topic(conn, topic)
            if found is None or not found.enabled:
                state = "unknown" if found is None else "disabled"
                said: dict[str, object] = {"slug": topic}
                if found is None:
                    said |= _unknown_hint(conn, topic, topics_config, command)
                message = f"{state} topic {quoted(echoed(topic))}"
                if found is not None:  # switched off: what to do, as for an unknown one
                    enable = f"{command or 'feedsvc'} topics enable {found.slug}"
                    message += f": switch it on first (`{enable}`, or Enable in the admin)"
                if hint := ENGLISH.topic_hint(said):
                    message = f"{message}. {hint}"
                raise OperationError(
                    "invalid", message, code=f"topic_{state}", params=said, field="topic"
                )
            topic_id = found.id
        else:
            # every topic, a disabled one too: as at match time (chat_queries.index)
            known = {t.slug: t.query for t in topic_store.list_topics(conn)}
            try:
                parse_chat_query(query or "", known.get)
            except QueryError as exc:
                raise query_invalid(typed_error(typed or "", exc), typed) from None
        chat_id, switched_on_from = _ensure_recipient(conn, spec, now)
        existing = sub_store.find_subscription(conn, chat_id, topic_id=topic_id, query=query)
        if existing is None and sub_store.count_subscriptions(conn, chat_id) >= MAX_SUBSCRIPTIONS:
            chat = sub_store.get_chat(conn, chat_id)
            name = named(chat) if chat else telegram_chat(chat_id)
            raise OperationError(
                "conflict",
                f"{name} already has {MAX_SUBSCRIPTIONS} subscriptions",
                code="too_many_subscriptions",
                params={"chat": name, "limit": MAX_SUBSCRIPTIONS},
            )
        created = sub_store.subscribe(conn, chat_id, topic_id=topic_id, query=query, now=now)
        sub_id = sub_store.find_subscription(conn, chat_id, topic_id=topic_id, query=query)
        sub = sub_store.get_subscription(conn, sub_id or 0)
        still_off = next(iter(chat_pauses(conn, now, only=chat_id)), None)
    assert sub is not None
    return Subscribed(sub, created, switched_on_from, still_off)


def _unknown_hint(
    conn: Connection, slug: str, topics: TopicsSettings | None, command: str
) -> dict[str, object]:
    """Why ``slug`` names no topic, as parameters of ``op.topic_unknown.<hint>``: the topics file
    lists it but it was never imported (a fresh state DB: the file is applied only by a start
    or ``topics import``, and ``subs add`` said only "unknown topic"), or the state DB has no
    topic at all. Read only on this error path; a file that cannot be read gives no hint."""
    if topics is not None and lists_slug(topics.file, slug.strip()):
        path = str(topics.file.absolute())
        return {"hint": "not_imported", "path": path, "command": command,
                "start": topics.import_on_start}  # fmt: skip
    if not topic_store.list_topics(conn):
        return {"hint": "no_topics", "command": command}
    return {}


def _ensure_recipient(
    conn: Connection, spec: RecipientSpec, now: datetime
) -> tuple[int, str | None]:
    """The recipient's chat id, its row created if missing (an Apprise row's title is its
    masked URL, so every listing of titles is safe to show), and the reason it was switched
    off for when this switched it back on, else None. An Apprise recipient disabled after
    refusals in a row (a 404 while its webhook was redeployed) is switched on again: an admin
    adding the URL again is its "/start", the only way back an Apprise destination has (it
    sends no commands). A Telegram or Zalo chat is not: writing to the bot is its way back
    (``bot.actions.heard_from``), which an admin cannot do for it."""
    from feedsvc.channels.recipients import shown_address

    if spec.chat_id is not None:  # Telegram
        chat = sub_store.get_chat(conn, spec.chat_id)
        title = chat.title if chat else None
        sub_store.ensure_chat(conn, spec.chat_id, spec.chat_type, title, now)
        return spec.chat_id, None
    address = spec.address
    found = sub_store.find_recipient(conn, spec.channel, address)
    if found is None and spec.channel == "apprise":
        address = _known_spelling(conn, address)
        found = sub_store.find_recipient(conn, spec.channel, address)
    title = found.title if found else None
    if spec.channel == "apprise":
        title = shown_address(spec.channel, address)
    chat = sub_store.ensure_recipient(conn, spec.channel, address, spec.chat_type, title, now)
    off = chat.disabled_reason if spec.channel == "apprise" else None
    if off is not None and sub_store.reenable_chat(conn, chat.chat_id):
        return chat.chat_id, off
    return chat.chat_id, None


def _known_spelling(conn: Connection, url: str) -> str:
    """The address of the Apprise recipient that is ``url``'s destination spelt otherwise
    (``JSON://`` for ``json://``, options in another order: :func:`~feedsvc.channels.apprise_urls.
    same_destination`), else ``url``. Why: each spelling was a recipient of its own, and an
    article matching topics subscribed under two spellings reached the destination twice (a
    tester's three POSTs for one article), which §6 forbids for any chat; masked, the admin
    could not see they were one."""
    from feedsvc.channels.apprise_urls import same_destination

    known = sub_store.recipient_addresses(conn, "apprise")
    return same_destination(url, known) or url


def remove_subscription(db: Database, subscription_id: int) -> sub_store.Subscription:
    with db.write() as conn:
        sub = sub_store.get_subscription(conn, subscription_id)
        if sub is None or not sub_store.delete_subscription(conn, subscription_id):
            raise OperationError(
                "not_found",
                f"unknown subscription {subscription_id}",
                code="subscription_not_found",
                params={"id": subscription_id},
            )
    return sub


def set_chat_paused(db: Database, chat_id: int, paused: bool) -> sub_store.Chat:
    """Pause or resume a chat's alerts (what the chat's own /pause and /resume do)."""
    with db.write() as conn:
        if sub_store.get_chat(conn, chat_id) is None:
            raise OperationError(
                "not_found",
                f"unknown chat {chat_id}",
                code="chat_not_found",
                params={"chat": chat_id},
            )
        sub_store.set_paused(conn, chat_id, paused)
        chat = sub_store.get_chat(conn, chat_id)
    assert chat is not None
    return chat
