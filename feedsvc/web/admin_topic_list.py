"""The admin's topics list (``/admin/topics?q=…&page=N``): the topics a page shows and what it
says about each, computed once per page from one read (:func:`feedsvc.operations.topic_uses`).

Why: with 1,085 topics the list was one 2.1 MB page with nothing to find a topic by (the README
benchmarks 5,000). So the list is cut into pages of :data:`feedsvc.pages.listing.PAGE_SIZE`
(offset pages: topics change rarely, and a page past the last is the last) and ``?q=`` keeps
the topics whose title or slug hold every word typed — the reader index's filter
(:mod:`feedsvc.pages.listing`: case and Vietnamese marks folded, each word a syllable's start).
A topic others use by ``@slug`` — a topic's query or a chat's own query — shows who in place of
a delete button the delete would refuse. Where the list was (:class:`ListPlace`: its ``q``
and page) goes with every form and link leaving it, so an action comes back there. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from feedsvc.operations.topic_in_use import SHOWN_CHAT_QUERIES
from feedsvc.operations.topic_uses import TopicUses
from feedsvc.pages.listing import (
    Paging,
    clean_query,
    matching,
    paging,
    query_words,
    read_page,
    topic_key,
)

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator
    from feedsvc.store.topics import Topic


#: An admin page number's bound (the topics list's, the delivery log's ``?page=``): pages past
#: it are empty anyway, and a page number stays a short integer in a URL, a form and an offset.
MAX_PAGE = 1_000_000
#: The list's path under the admin's prefix: **the only place a list action returns to**.
LIST_PATH = "/topics"


@dataclass(frozen=True)
class ListPlace:
    """Where the admin's topics list was: its filter ``q`` (as the list cleans it) and its page
    (the list clamps one past its last: a delete emptying the last page shows the page before).

    Why: enable, disable, delete and backfill, and a save from the editor opened from the list,
    went back to page 1 without the filter; an admin disabling ten topics on page 7 of a
    filtered list looked for the place ten times. Each form and link leaving the list carries
    :attr:`fields` (the editor link :attr:`query`), read back by :func:`list_place`, and the
    answer returns to :attr:`path`: the admin's own list, its query written by ``urlencode``,
    so no value sent (``//evil.example``, a CR LF) makes it another place."""

    q: str = ""
    page: int = 1

    @property
    def fields(self) -> dict[str, str]:
        """The form fields that carry it (none for the list's first page unfiltered)."""
        found = {"q": self.q} if self.q else {}
        if self.page > 1:
            found["page"] = str(self.page)
        return found

    def form(self, **fields: object) -> dict[str, str]:
        """A list button's hidden fields: ``fields`` (a topic's version…) and the place."""
        return {name: str(value) for name, value in fields.items()} | self.fields

    @property
    def query(self) -> str:
        """``?q=…&page=…`` (``urlencode``), or "" where :attr:`fields` is empty."""
        return "?" + urlencode(self.fields) if self.fields else ""

    @property
    def path(self) -> str:
        """The list there, as a path under the admin's prefix: ``/topics?q=Ki%E1%BA%BFn&page=7``."""
        return LIST_PATH + self.query

    def at(self, page: int) -> ListPlace:
        """Page ``page`` of the same filter (the list's own pager)."""
        return ListPlace(self.q, page)


#: The list's first page, unfiltered: where a form that carries no place goes back to.
LIST_TOP = ListPlace()


def list_place(q: str | None, page: str | None) -> ListPlace:
    """The place a request or form gives (``q`` and ``page`` as sent, either may be absent):
    ``q`` as the list cleans it (:func:`~feedsvc.pages.listing.clean_query`: controls and
    format characters out, cut at 200 characters), ``page`` ASCII digits
    (:func:`~feedsvc.pages.listing.read_page`: anything else is 1) up to :data:`MAX_PAGE`.
    The one reader of both, for the list's own URL and for every form leaving it."""
    return ListPlace(clean_query(q), min(read_page(page), MAX_PAGE))


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
    :data:`~feedsvc.operations.topic_in_use.SHOWN_CHAT_QUERIES` chats, the rest counted."""
    users = list(uses.topic_users.get(slug, ()))
    chats = uses.chat_users.get(slug, [])
    if chats:
        users.append(t.chat_queries(chats[:SHOWN_CHAT_QUERIES], len(chats) - SHOWN_CHAT_QUERIES))
    return t("delete_blocked", slug=slug, users=", ".join(users))
