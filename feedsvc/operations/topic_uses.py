"""What the admin's topics list says about every topic at once, from one read of the topics
and the subscriptions: each topic's subscriptions by channel (its delete question) and who uses
it by ``@slug`` — other topics' queries and chats' own queries — in place of a delete button
that :func:`feedsvc.operations.topics.delete_topic` would refuse
(:func:`~feedsvc.operations.topic_in_use.refuse_if_used`: the same references,
:func:`feedsvc.matching.references`). Computed once per page, never a query per row: a list
of 5,000 topics is one read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from feedsvc.matching import referenced_by, references
from feedsvc.recipient_names import named
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store

if TYPE_CHECKING:
    from feedsvc.db import Database


@dataclass
class TopicUses:
    """``topics``: every topic, by slug; ``counts``: slug → channel → subscriptions (every
    one, a paused chat's too: what a delete removes); ``topic_users``: slug → the slugs of
    the topics whose query names it; ``chat_users``: slug → (chat, subscription id) of
    the chats' own queries naming it, in subscription order, each chat named as operators
    know it (:func:`feedsvc.recipient_names.named`, never the internal number)."""

    topics: list[topic_store.Topic]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    topic_users: dict[str, list[str]] = field(default_factory=dict)
    chat_users: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def used(self, slug: str) -> bool:
        """Whether a delete of ``slug`` is refused for its users."""
        return bool(self.topic_users.get(slug) or self.chat_users.get(slug))


def topic_uses(db: Database) -> TopicUses:
    """Every topic with its subscriptions and its users, read in one transaction."""
    with db.read() as conn:
        topics = topic_store.list_topics(conn)
        subs = sub_store.list_subscriptions(conn)
    uses = TopicUses(topics)
    named_by = referenced_by({tp.slug: tp.query for tp in topics})
    uses.topic_users = {slug: sorted(users) for slug, users in named_by.items()}
    for sub in subs:
        if sub.topic_slug is not None:
            by_channel = uses.counts.setdefault(sub.topic_slug, {})
            by_channel[sub.channel] = by_channel.get(sub.channel, 0) + 1
        if sub.query is not None:
            for slug in sorted(references(sub.query)):
                uses.chat_users.setdefault(slug, []).append((named(sub), sub.id))
    return uses
