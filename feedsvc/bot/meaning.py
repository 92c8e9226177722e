"""Which subscription a typed query *means*: the one rule that two queries reading alike to the
matcher are one subscription, for ``/sub`` and ``/unsub`` (bot, Zalo).

The matcher reads queries without case, in any Unicode form, with the tone mark anywhere, terms
in any order and OR/AND children de-duplicated (:mod:`feedsvc.matching.canonical`). The bot
compared spellings: ``/sub kiến thụy`` beside a stored ``Kiến Thụy`` was a second subscription
("Đã đăng ký", two lines in /list, every alert's match found twice), ``/unsub KIẾN THỤY``
answered "no subscription", and ``/sub "KIẾN THỤY" OR "Núi Đối"`` — the ``kien-thuy`` topic's
own query in capitals — made a query subscription beside the topic's, which an alert's mute
button for the topic then left sending the same articles (as ``/sub @kien-thuy`` did before
``actions._referenced_topic``). Here a query's meaning is its
:func:`~feedsvc.matching.query_digest`; the chat's stored query of the same meaning keeps its
spelling, and an enabled topic whose query means the same is that topic. A slug typed as a
hashtag or with a sentence's punctuation is its topic (:func:`typed_topic`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import Connection

from feedsvc.bot.typed import plain_quotes
from feedsvc.matching import QueryError, parse_query, query_digest
from feedsvc.store import subscriptions as subs
from feedsvc.store.topics import Topic, find_topic

Resolver = Callable[[str], str | None]
#: what may wrap a slug typed in a sentence or as a hashtag: ``#kien-thuy``, ``the-thao!``
_SLUG_WRAPPING = re.compile(r"#?(?P<slug>[^\s#]+?)[.!?…,;:]*")


def meaning(text: str, resolve: Resolver) -> str | None:
    """``text``'s meaning to the matcher (``@slug`` expanded by ``resolve``); None when it does
    not parse (a stored query a topic change broke): it means nothing another query could."""
    try:
        return query_digest(parse_query(text, resolve))
    except QueryError:
        return None


@lru_cache(maxsize=16_384)
def _own_meaning(text: str) -> str | None:
    """The meaning of a query that references no topic: its text alone decides it, so it is
    kept. Why: ``/sub`` compares the typed query with every topic's, inside the write
    transaction that subscribes; parsing 5,000 topics' queries took 0.4 s each time, a write
    lock held that long per command."""
    return meaning(text, _no_topics)


def _no_topics(slug: str) -> str | None:
    return None


def _meaning_of(text: str, resolve: Resolver) -> str | None:
    """:func:`meaning`, from :func:`_own_meaning`'s store when ``text`` has no ``@``."""
    return _own_meaning(text) if "@" not in text else meaning(text, resolve)


def stored_spelling(
    conn: Connection, chat_id: int, query: str, resolve: Resolver, spelled: Callable[[str], str],
    *, adding: bool = False,
) -> str:  # fmt: skip
    """The chat's stored query that means ``query`` — spelled alike once ``spelled`` (the bot's
    normaliser) writes it, else read alike by the matcher —, else ``query`` itself. ``adding``
    (``/sub``): a row whose phrase marks the normaliser now reads (``«an ninh»``, stored as the
    words ``«an`` and ``ninh»``) is not the phrase typed, so another subscription; removing
    (``/unsub``), it is found by its spelling."""
    stored = [s.query for s in subs.list_subscriptions(conn, chat_id) if s.query is not None]
    if query in stored:
        return query
    for text in stored:
        if spelled(text) == query and not (adding and plain_quotes(text) != text):
            return text  # a row saved before queries were normalised
    wanted = meaning(query, resolve)
    if wanted is not None:
        for text in stored:
            if _meaning_of(text, resolve) == wanted:
                return text
    return query


def topic_meant(topics: list[Topic], query: str, resolve: Resolver) -> Topic | None:
    """The enabled topic whose query means what ``query`` does, else None."""
    wanted = meaning(query, resolve)
    if wanted is None:
        return None
    for topic in topics:
        if topic.enabled and _meaning_of(topic.query, resolve) == wanted:
            return topic
    return None


def typed_topic(conn: Connection, word: str) -> Topic | None:
    """The topic ``word`` names: as any slug is (:func:`~feedsvc.store.topics.find_topic`), or
    once a leading ``#`` and trailing sentence punctuation are taken off (``#kien-thuy``,
    ``kien-thuy.``, ``the-thao!``), or with its underscores read as hyphens (``kien_thuy``,
    ``#kien_thuy``, as hashtags are often written). Read as queries, those were subscriptions
    to the slug's syllables as words ("kien" "thuy", toneless), matching next to nothing,
    under "Đã đăng ký"; a word that names no topic either way stays what it was typed as."""
    found = _SLUG_WRAPPING.fullmatch(word)
    unwrapped = found.group("slug") if found is not None else word
    # underscores for hyphens (`kien_thuy`: no slug has one, `topics_file.SLUG`)
    for name in dict.fromkeys((word, unwrapped, unwrapped.replace("_", "-"))):
        if (topic := find_topic(conn, name)) is not None:
            return topic
    return None
