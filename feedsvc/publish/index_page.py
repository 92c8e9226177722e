"""The index page's entries (``/``: every enabled topic, its count and newest headlines), kept
per topic as its last render here showed them.

Why: the index page lists every topic, and rebuilding it read every topic's headlines again,
one query each (~5 s at 5,000 topics: ``bench/startup_render.py``), after every ingest render
and at a restart with anything changed. A topic's entry changes only with what renders the
topic here: its articles or their public state (ingest, and :mod:`feedsvc.touched` for changes
made anywhere), its definition, the bot's @username. So each render keeps the topic's entry,
and a rebuild reads only the topics without one (a restart; a topic whose render was adopted
from another replica, which is forgotten here), all in one statement per 500 topics, and
renders only the entries that changed (rendering all 5,000 sections again cost ~1.5 s).
Callers hold the publisher's render lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from feedsvc.articles import Article
from feedsvc.pages import INDEX_HEADLINES, IndexEntry, PageTopic
from feedsvc.store.records import Topic

#: What builds an entry: (topic, its newest articles, its article count) → entry.
Build = Callable[[Topic, list[Article], int], PageTopic]
#: What reads the missing entries' data: topics → (topic id → newest articles, id → count).
Read = Callable[[list[Topic]], tuple[dict[int, list[Article]], dict[int, int]]]
#: What renders entries' parts of the page (:func:`feedsvc.pages.index_entries`).
Render = Callable[[list[PageTopic]], list[IndexEntry]]


class IndexEntries:
    """Slug → the topic's entry on the index page (its newest :data:`INDEX_HEADLINES` only)
    and, once rendered, its parts of the page."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[PageTopic, IndexEntry | None]] = {}

    def keep(self, entry: PageTopic) -> bool:
        """A render of the topic just built this (its page's view, cut to the headlines); an
        entry that did not change keeps its rendered parts. True: it is new or changed, so
        the index page must be rebuilt (even when the topic's own bytes did not change: they
        may have been adopted from another replica's render)."""
        entry = replace(entry, articles=entry.articles[:INDEX_HEADLINES])
        held = self._entries.get(entry.slug)
        if held is not None and held[0] == entry:
            return False
        self._entries[entry.slug] = (entry, None)
        return True

    def forget(self, slugs: Iterable[str]) -> bool:
        """These topics' renders came from elsewhere: read them again at the next rebuild.
        True: an entry was dropped, so the index page served may not show them (another
        replica's renders) and must be rebuilt."""
        dropped = [slug for slug in slugs if self._entries.pop(slug, None) is not None]
        return bool(dropped)

    def listed(
        self, enabled: list[Topic], read: Read, build: Build, render: Render
    ) -> list[IndexEntry]:
        """The rendered parts of ``enabled``'s entries, in order; the missing entries read
        (``read``) and built, and the changed ones rendered (``render``), first. Entries of
        topics no longer listed are dropped."""
        missing = [t for t in enabled if t.slug not in self._entries]
        if missing:
            newest, counts = read(missing)
            for t in missing:
                self.keep(build(t, newest.get(t.id, []), counts.get(t.id, 0)))
        self._entries = {t.slug: self._entries[t.slug] for t in enabled}
        unrendered = [slug for slug, (_, part) in self._entries.items() if part is None]
        parts = render([self._entries[slug][0] for slug in unrendered]) if unrendered else []
        for slug, part in zip(unrendered, parts, strict=True):
            self._entries[slug] = (self._entries[slug][0], part)
        return [part for _, part in self._entries.values() if part is not None]
