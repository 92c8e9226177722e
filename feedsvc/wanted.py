"""What a chat wants of an article now: whether its queued alert still goes out, and with
which topic labels (the "Chủ đề:" line, a digest's group). The one decision, read just before
a send and before a correction's edit.

An alert is queued when an article first matches one of a chat's subscriptions (the outbox,
in the ingest transaction) and may wait: the chat's pacing, a backlog, a 429 pause, quiet
hours or a digest. Meanwhile the chat may unsubscribe (CLI, API, admin, the bot's ``/unsub``
or mute button), a topic may be disabled, deleted or retitled, and a correction may take the
article out of a topic or a query. The labels written at enqueue (``deliveries.topics``) then
lie: a deleted topic's 286 queued alerts went out under its name, and after a partial
unsubscribe (A and B matched, B left) the alert still said "Chủ đề: A, B". So every send and
every correction asks here instead (:class:`Wants`):

* the enabled topics the chat subscribes to that the article matches now (``article_topics``,
  :func:`feedsvc.store.digests.matches_for`), each under its current title;
* then the chat's own queries the article matches now, each labelled with its text, parsed as
  the chat-query index parses them (``@slug`` from the topics as stored, whatever their state;
  a query that no longer parses matches nothing, as in the outbox).

Nothing left: the alert is not wanted and ends ``unsubscribed`` (``dispatch``, ``digest.edge``);
a correction keeps its place without a topic line (:mod:`feedsvc.retraction.labels`). Labels
are ordered as the outbox orders them (:func:`labels`), so an unchanged alert reads as queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.fieldtext import quoted_query
from feedsvc.store.audience import chat_query_subscriptions
from feedsvc.store.digests import Match, matches_for
from feedsvc.store.topics import get_topic

if TYPE_CHECKING:
    from feedsvc.matching import Document, Query

Pair = tuple[int, int]  # (chat id, article id)


def query_label(query: str) -> str:
    """Pure: the label of a chat's own query on an alert, a digest's group and the admin's
    delivery log: the query as a search feed's title shows it
    (:func:`feedsvc.fieldtext.quoted_query`: ``an ninh`` is “an ninh”, ``"an ninh"`` stays).
    It went out bare, "Chủ đề: An ninh, an ninh or công an", under a feed titled “…”."""
    return quoted_query(query)


def labels(topics: Iterable[tuple[int, str]], queries: Iterable[tuple[int, str]]) -> list[str]:
    """Pure: the labels of ``topics`` (topic id, title) by topic id, then ``queries``
    (subscription id, text) by subscription id (:func:`query_label`), as
    :class:`feedsvc.outbox.Outbox` lists them."""
    return [t for _, t in sorted(topics)] + [query_label(q) for _, q in sorted(queries)]


@dataclass(frozen=True, slots=True)
class Wants:
    """What one chat wants of one article now. ``topics``: its enabled topics the article
    matches, in subscription order, with slug and forum thread (a digest's group and thread);
    ``queries``: its own queries the article matches, (subscription id, text) by
    id. False when both are empty: the alert is not wanted."""

    topics: tuple[Match, ...] = ()
    queries: tuple[tuple[int, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.topics or self.queries)

    @property
    def labels(self) -> list[str]:
        """The alert's topic labels, in the outbox's order (:func:`labels`)."""
        return labels(((m.topic_id, m.title) for m in self.topics), self.queries)


def wants(
    conn: Connection, pairs: Sequence[Pair], found: Mapping[int, Article]
) -> dict[Pair, Wants]:
    """Each (chat, article) pair whose article is in ``found`` (article id → article) → what
    the chat wants of it now (see the module docstring; an empty :class:`Wants`: nothing).
    Pairs whose article is not in ``found`` (no longer stored) are left out. Reads the topic
    matches and the chats' own queries (one query each), and, only for chats with own queries,
    each topic their ``@slug`` references name, once; each own query is parsed once per call
    and matched against each article's document, built once."""
    todo = [p for p in dict.fromkeys(pairs) if p[1] in found]
    if not todo:
        return {}
    topics = matches_for(conn, todo)
    queries = chat_query_subscriptions(conn, {c for c, _ in todo})
    matching = _QueryMatcher(conn)
    docs: dict[int, Document] = {}
    out: dict[Pair, Wants] = {}
    for chat_id, article_id in todo:
        hits: list[tuple[int, str]] = []
        for sid, text in queries.get(chat_id, []):
            if article_id not in docs:
                docs[article_id] = matching.document(found[article_id])
            if matching.matches(text, docs[article_id]):
                hits.append((sid, text))
        out[(chat_id, article_id)] = Wants(
            tuple(topics.get((chat_id, article_id), ())), tuple(hits)
        )
    return out


class _QueryMatcher:
    """Own queries parsed as the chat-query index parses them (:func:`parse_query`, ``@slug``
    from the stored topics, looked up once each), once per text; unparsable: matches nothing.
    The matcher is imported here, not at the top: the dispatcher's import stays light."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.refs: dict[str, str | None] = {}
        self.compiled: dict[str, Query | None] = {}

    def _resolve(self, slug: str) -> str | None:
        if slug not in self.refs:
            topic = get_topic(self.conn, slug)
            self.refs[slug] = topic.query if topic is not None else None
        return self.refs[slug]

    def document(self, article: Article) -> Document:
        from feedsvc.matching import document_from_article

        return document_from_article(article)

    def matches(self, text: str, doc: Document) -> bool:
        from feedsvc.matching import QueryError, parse_query
        from feedsvc.matching.evaluate import match_document

        if text not in self.compiled:
            try:
                self.compiled[text] = parse_query(text, self._resolve)
            except QueryError:
                self.compiled[text] = None
        query = self.compiled[text]
        return query is not None and match_document(query, doc)
