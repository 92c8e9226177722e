"""A corrected alert's topic labels (its "Chủ đề:" line): the chat's subscriptions the article
matches NOW, not the ones it matched when the alert was queued.

``deliveries.topics`` is written once, at enqueue (the labels the alert went out with). A
correction that takes the article out of a topic edited the alert's text but kept the old list
(``Chủ đề: Kiến Thụy, An ninh - Trật tự`` after it left ``an-ninh``: attack F4), so the edit is
built from these labels instead, in the order the outbox gives them: the chat's topics the
article matches (``article_topics``, written with the correction), by topic id, then the
chat's own queries it matches, by subscription id, each labelled with its text. When none is
left the alert keeps its place and loses its topic line (``format_alert`` writes none for an
empty list): the correction is still news to the chat, and a retraction is the lifecycle's
decision (withdrawn or hidden), not a label's. ``deliveries.topics`` itself keeps what was sent.

Own queries are parsed here for the few chats being corrected (a handful of short texts; the
ingest's compiled index lives in another process or thread); a query that no longer parses
(its ``@topic`` deleted) matches nothing, as in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.matching import Document, Query, QueryError, document_from_article, parse_query
from feedsvc.matching.evaluate import match_document
from feedsvc.store.audience import chat_query_subscriptions
from feedsvc.store.digests import matches_for
from feedsvc.store.topics import list_topics

Pair = tuple[int, int]  # (chat id, article id)


def labels(topics: Sequence[tuple[int, str]], queries: Sequence[tuple[int, str]]) -> list[str]:
    """Pure: the labels of ``topics`` (topic id, title) by topic id, then ``queries``
    (subscription id, text) by subscription id, as :class:`feedsvc.outbox.Outbox` lists them."""
    return [t for _, t in sorted(topics)] + [q for _, q in sorted(queries)]


def current_labels(
    conn: Connection, pairs: Sequence[Pair], found: dict[int, Article]
) -> dict[Pair, list[str]]:
    """Each (chat, article) pair's labels now (see the module docstring); pairs whose article
    is not in ``found`` (deleted since) are left out: the caller keeps the stored labels."""
    wanted = [p for p in dict.fromkeys(pairs) if p[1] in found]
    if not wanted:
        return {}
    topics = matches_for(conn, wanted)
    queries = chat_query_subscriptions(conn, {c for c, _ in wanted})
    refs = {t.slug: t.query for t in list_topics(conn)} if queries else {}
    compiled: dict[str, Query | None] = {}
    out: dict[Pair, list[str]] = {}
    for chat_id, article_id in wanted:
        doc = document_from_article(found[article_id])
        hits = [
            (sid, text)
            for sid, text in queries.get(chat_id, [])
            if _matches(compiled, refs, text, doc)
        ]
        mine = [(m.topic_id, m.title) for m in topics.get((chat_id, article_id), [])]
        out[(chat_id, article_id)] = labels(mine, hits)
    return out


def _matches(
    compiled: dict[str, Query | None], refs: dict[str, str], text: str, doc: Document
) -> bool:
    """Whether the own query ``text`` matches ``doc``, parsed once per call as the chat-query
    index parses it (:func:`parse_query`, ``@slug`` from ``refs``); unparsable: no."""
    if text not in compiled:
        try:
            compiled[text] = parse_query(text, refs.get)
        except QueryError:
            compiled[text] = None
    query = compiled[text]
    return query is not None and match_document(query, doc)
