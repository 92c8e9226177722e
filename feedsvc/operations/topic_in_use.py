"""A topic in use by ``@slug`` — in another topic's query or a chat's own query — and the
refusals that name its users: a delete of a topic in use (:func:`refuse_if_used`), a save whose
query the chats' queries using it could no longer be parsed with
(:func:`refuse_broken_chat_queries`), both for :mod:`feedsvc.operations.topics`; apart from it
for its size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedsvc.matching import references
from feedsvc.operations.errors import OperationError
from feedsvc.recipient_names import named
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store

if TYPE_CHECKING:
    from sqlalchemy import Connection


#: How many chat queries a refusal names by chat and subscription id; the rest are counted.
SHOWN_CHAT_QUERIES = 10


def refuse_if_used(conn: Connection, slug: str) -> None:
    """Raise ``conflict`` when a topic's query or a chat's own query references ``slug`` by
    ``@slug`` (:func:`feedsvc.matching.references`, the lexer's references: a substring test
    refused ``rt`` for ``@rt-1`` and for the phrase ``"email @rt"``). A chat query left with an
    unknown ``@slug`` no longer parses: its chat got nothing more, silently (a WARNING in the
    service's log), so it is named like a topic — chat and subscription id — and, like a topic,
    changed first (the subscription removed, or the chat's query changed); ``--force`` is
    about a topic's own subscriptions and never overrides this."""
    topics = [t.slug for t in topic_store.list_topics(conn) if slug in references(t.query)]
    queries = [
        (named(s), s.id)
        for s in sub_store.list_subscriptions(conn)
        if s.query is not None and slug in references(s.query)
    ]
    if not topics and not queries:
        return
    users = ", ".join(topics)
    shown, more = queries[:SHOWN_CHAT_QUERIES], len(queries) - SHOWN_CHAT_QUERIES
    params: dict[str, object] = {"slug": slug, "users": users, "chat_queries": (shown, more)}
    if not queries:
        message, code = f"{slug} is used by {users}; change those first", "topic_in_use"
    else:
        from feedsvc.catalogue import ENGLISH

        chats = ENGLISH.chat_queries(shown, more)
        what = f"{users} and by the own queries of {chats}" if topics else (
            f"the own queries of {chats}"
        )  # fmt: skip
        message = (
            f"{slug} is used by {what}; change those first (a chat's query: remove its "
            "subscription, or the chat changes its query)"
        )
        code = "topic_in_use_and_chat_queries" if topics else "topic_in_chat_queries"
    raise OperationError("conflict", message, code=code, params=params)


def refuse_broken_chat_queries(slug: str, broken: list[tuple[str, int]]) -> None:
    """The chats' own queries that reach ``slug`` (at any depth) must still parse with its new
    query, as the chat-query index parses them (a query grown to the expanded-term limit, a
    chain of references grown too deep): one that does not is skipped from then on, and its
    chat gets nothing (a WARNING in the service's log); ``broken``: (chat, subscription id)
    of those that would not, named like :func:`refuse_if_used` does (``breaks_chat_queries``)."""
    if not broken:
        return
    from feedsvc.catalogue import ENGLISH

    shown, more = broken[:SHOWN_CHAT_QUERIES], len(broken) - SHOWN_CHAT_QUERIES
    raise OperationError(
        "invalid",
        f"the own queries of {ENGLISH.chat_queries(shown, more)} use @{slug} and would no "
        "longer parse with this query",
        code="breaks_chat_queries",
        params={"slug": slug, "chat_queries": (shown, more)},
        field="query",
    )
