"""Whether a queued alert is still wanted by its chat, checked just before it is sent.

An alert is queued when an article first matches one of a chat's subscriptions (the outbox,
in the ingest transaction) and may wait: the chat's pacing, a backlog, a 429 pause, quiet
hours or a digest. If meanwhile the chat unsubscribes (CLI, API, admin, the bot's ``/unsub`` or
mute button), or the topic is disabled or deleted, the alert was still sent: a removed webhook
went on receiving posts, and a deleted topic's 286 queued alerts went out under its name.
Every way of ending a subscription reaches this one check, at send time, beside the
article's own (withdrawn or hidden: ``dispatch._withheld``, ``digest.edge``): an alert is
wanted while an enabled topic the chat subscribes to matches the article, or one of its own
queries does (parsed as :mod:`feedsvc.retraction.labels` parses it: ``@slug`` from the
topics, unparsable matches nothing). Not wanted, it ends ``unsubscribed``, never sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.store.audience import chat_query_subscriptions, topic_wanted
from feedsvc.store.topics import get_topic


def unwanted(conn: Connection, chat_id: int, articles: Mapping[int, Article]) -> set[int]:
    """The ids of ``articles`` (article id → article) that none of the chat's subscriptions
    wants now (see the module docstring). Reads the subscriptions, their topics' matches and,
    only for articles no topic justifies, the chat's own queries."""
    rest = set(articles) - topic_wanted(conn, chat_id, articles)
    queries = chat_query_subscriptions(conn, [chat_id]).get(chat_id, []) if rest else []
    if not queries:
        return rest
    from feedsvc.matching import QueryError, document_from_article, parse_query
    from feedsvc.matching.evaluate import match_document

    def resolve(slug: str) -> str | None:
        topic = get_topic(conn, slug)
        return topic.query if topic is not None else None

    parsed = []
    for _, text in queries:
        try:
            parsed.append(parse_query(text, resolve))
        except QueryError:
            continue  # matches nothing, as in the outbox
    out = set()
    for a in rest:
        doc = document_from_article(articles[a])
        if not any(match_document(q, doc) for q in parsed):
            out.add(a)
    return out
