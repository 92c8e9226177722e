"""What a change of topics' queries breaks among the queries that use them by ``@slug``.

A topic's query can reach others through references at any depth; a change to one of them can
make a user's query unparsable (references nested more than ``MAX_REF_DEPTH`` deep, more
expanded terms than ``MAX_EXPANDED_TERMS``). The matcher then skips that topic for good and a
chat's own query stops matching, each seen only as a log line. Every writer of topics asks here
first: a save (:mod:`feedsvc.operations.topics`) and a topics file applied
(:mod:`feedsvc.topics_sync`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from feedsvc.matching import (
    QueryError,
    parse_chat_query,
    parse_topic,
    references,
    users_of_any,
)
from feedsvc.recipient_names import named

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass
class Broken:
    """``topics``: slug → its parse problem; ``chats``: (chat, subscription id) of chats'
    own queries, each in the order found, the chat named as operators know it
    (:func:`feedsvc.recipient_names.named`)."""

    topics: dict[str, str] = field(default_factory=dict)
    chats: list[tuple[str, int]] = field(default_factory=list)


def _problem(query: str, queries: Mapping[str, str], slug: str | None) -> str | None:
    """Why ``query`` does not parse as the matcher parses it: a topic's (``slug``) by
    :func:`parse_topic`, a chat's own by :func:`parse_chat_query`; None when it does."""
    try:
        if slug is None:
            parse_chat_query(query, queries.get)
        else:
            parse_topic(query, queries.get, slug)
    except QueryError as exc:
        return str(exc)
    return None


def broken_users(
    conn: Connection,
    changed: Iterable[str],
    after: Mapping[str, str],
    before: Mapping[str, str],
) -> Broken:
    """The topics (other than ``changed``) and chats' own queries that reach a slug of
    ``changed`` and parse with ``before`` (slug → query) but not with ``after``: what the
    change would break. Reads the subscriptions."""
    from feedsvc.store import subscriptions as sub_store

    changed = set(changed)
    reach = set(users_of_any(changed, after))  # every query lexed once, however many changed
    broken = Broken()
    for slug in sorted(reach - changed):
        problem = _problem(after[slug], after, slug)
        if problem is not None and _problem(before.get(slug, after[slug]), before, slug) is None:
            broken.topics[slug] = f"topic {slug}: query: {problem}"
    used = reach | changed
    for sub in sub_store.list_subscriptions(conn):
        if sub.query is None or not references(sub.query) & used:
            continue
        if (
            _problem(sub.query, after, None) is not None
            and _problem(sub.query, before, None) is None
        ):
            broken.chats.append((named(sub), sub.id))
    return broken
