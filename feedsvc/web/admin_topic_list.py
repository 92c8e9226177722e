"""The admin's topics list (``/admin/topics?q=…&page=N``): the topics a page shows and what it
says about each, computed once per page from one read (:func:`feedsvc.operations.topic_uses`).

Why: with 1,085 topics the list was one 2.1 MB page with nothing to find a topic by (the README
benchmarks 5,000). So the list is cut into pages of :data:`feedsvc.pages.listing.PAGE_SIZE`
(offset pages: topics change rarely, and a page past the last is the last) and ``?q=`` keeps
the topics whose title or slug hold every word typed — the reader index's filter
(:mod:`feedsvc.pages.listing`: case and Vietnamese marks folded, each word a syllable's start).
A topic others use by ``@slug`` — a topic's query or a chat's own query — shows who in place of
a delete button the delete would refuse. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from feedsvc.operations.topic_uses import TopicUses
from feedsvc.operations.topics import SHOWN_CHAT_QUERIES
from feedsvc.pages.listing import Paging, matching, paging, query_words, topic_key

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator
    from feedsvc.store.topics import Topic


@dataclass(frozen=True)
class TopicList:
    """One page of the list: its topics, where it sits (``paging``: of the topics the
    filter kept), how many topics there are in all, and the "used by" note of each topic on
    the page that has users (slug → note)."""

    topics: list[Topic]
    paging: Paging
    all_topics: int
    used_by: dict[str, str]


def filtered(topics: list[Topic], q: str) -> list[Topic]:
    """The ``topics`` whose title or slug hold every word of ``q`` (already cleaned,
    :func:`feedsvc.pages.listing.clean_query`); all of them for an empty ``q``, none for a
    ``q`` with no letter or digit."""
    if not q:
        return topics
    words = query_words(q)
    if not words:
        return []
    keys = [topic_key(tp.title, tp.slug, "") for tp in topics]
    return [topics[i] for i in matching(keys, words)]


def topic_list(uses: TopicUses, q: str, page: int, t: Translator) -> TopicList:
    """Page ``page`` (clamped) of the topics ``q`` keeps."""
    kept = filtered(uses.topics, q)
    at = paging(len(kept), page)
    shown = kept[at.start : at.start + (at.last - at.first + 1 if at.total else 0)]
    notes = {tp.slug: used_by_note(uses, tp.slug, t) for tp in shown if uses.used(tp.slug)}
    return TopicList(shown, at, len(uses.topics), notes)


def used_by_note(uses: TopicUses, slug: str, t: Translator) -> str:
    """Why ``slug`` has no delete button: the topics and chats' own queries that name it
    (``admin.delete_blocked``), as the delete's refusal names them: the first
    :data:`~feedsvc.operations.topics.SHOWN_CHAT_QUERIES` chats, the rest counted."""
    users = list(uses.topic_users.get(slug, ()))
    chats = uses.chat_users.get(slug, [])
    if chats:
        users.append(t.chat_queries(chats[:SHOWN_CHAT_QUERIES], len(chats) - SHOWN_CHAT_QUERIES))
    return t("delete_blocked", slug=slug, users=", ".join(users))
