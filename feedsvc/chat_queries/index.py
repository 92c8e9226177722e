"""The compiled own-query subscriptions of every chat, refreshed incrementally before ingest writes.

Why this shape: one matcher rebuilt over *all* chats' queries, inside the ingest write
transaction, took 60–92 s at 2,500 ``@slug``-expanded queries while holding SQLite's write lock
(no alerts, "database is locked" everywhere). Here:

* :meth:`ChatQueryIndex.refresh` reads a stamp (one aggregate query); only when it moved does it
  read the subscriptions' texts (and the topics when those moved), then, with no transaction
  open, compiles what was added, drops what was removed, and recompiles only the queries whose
  ``@slug`` references changed. Ingest calls it at the start of every tick and before each
  write transaction (:class:`feedsvc.ingest.model.Prepares`).
* :meth:`ChatQueryIndex.match` only matches (no parsing, no database).
* A subscription added after the last refresh is picked up by the next batch; a removed one,
  or one of a paused or disabled chat, is filtered out by the outbox inside the transaction
  (``live_query_targets``), so nothing stale is ever alerted.

Thread safety: ``refresh`` and ``match`` may run on different threads; a lock covers each
add/remove and each match, never a parse.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from feedsvc.db import Database
from feedsvc.matching import Document, Query, QueryError, parse_query
from feedsvc.matching.queryset import QuerySet
from feedsvc.store.audience import query_subscription_texts, query_subscriptions_stamp
from feedsvc.store.topics import list_topics, topics_version

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did: queries compiled, removed, and now failing to parse."""

    compiled: int = 0
    removed: int = 0
    broken: int = 0


class ChatQueryIndex:
    """``subscription id → compiled query``; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set: QuerySet[int] = QuerySet()
        self._texts: dict[int, str] = {}  # every own-query subscription known, compiled or not
        self._uses: dict[int, frozenset[str]] = {}  # slugs each query looked up
        self._broken: set[int] = set()  # texts that no longer parse (e.g. a deleted @topic)
        self._refs: dict[str, str] = {}
        self._stamp: tuple[object, ...] | None = None

    def __len__(self) -> int:
        return len(self._set)

    def text(self, subscription_id: int) -> str | None:
        """The query text compiled for ``subscription_id`` (None when it is not compiled)."""
        with self._lock:
            return self._texts.get(subscription_id) if subscription_id in self._set else None

    def invalidate(self) -> None:
        """Force the next :meth:`refresh` to re-read everything (a stale entry was seen)."""
        self._stamp = None

    def refresh(self, db: Database) -> RefreshResult:
        """Bring the index up to date with the state DB; cheap when nothing changed.

        Reads in one short read transaction, compiles after it ended. Raises what the database
        raises (the caller, an ingest tick, backs off); a query that no longer parses is logged
        once and left out until topics change.
        """
        with db.read() as conn:
            subs_stamp, topics_stamp = query_subscriptions_stamp(conn), topics_version(conn)
            stamp = (subs_stamp, topics_stamp)
            if stamp == self._stamp:
                return RefreshResult()
            old = self._stamp
            texts = query_subscription_texts(conn) if old is None or old[0] != subs_stamp else None
            refs = (
                {t.slug: t.query for t in list_topics(conn)}
                if old is None or old[1] != topics_stamp
                else None
            )
        result = self._apply(self._texts if texts is None else texts, refs)
        self._stamp = stamp
        if result.compiled or result.removed:
            log.info(
                "chat queries: %d compiled, %d removed, %d held (%d not parsable)",
                result.compiled,
                result.removed,
                len(self._set),
                len(self._broken),
            )
        return result

    def _apply(self, texts: dict[int, str], refs: dict[str, str] | None) -> RefreshResult:
        changed: set[str] = set()
        if refs is not None:
            changed = {
                s for s in self._refs.keys() | refs.keys() if self._refs.get(s) != refs.get(s)
            }
            self._refs = refs
        gone = [i for i, q in self._texts.items() if texts.get(i) != q]
        todo = [i for i, q in texts.items() if self._texts.get(i) != q]
        if changed:
            todo += [i for i, uses in self._uses.items() if uses & changed and i in texts]
            todo += [i for i in self._broken if i in texts]
        with self._lock:
            for sid in gone:
                self._set.remove(sid)
                self._uses.pop(sid, None)
                self._broken.discard(sid)
            self._texts = dict(texts)
        compiled = 0
        for sid in dict.fromkeys(todo):
            parsed = self._parse(sid, texts[sid])
            with self._lock:
                if parsed is None:
                    self._set.remove(sid)
                else:
                    self._set.add(sid, parsed)
                    compiled += 1
        return RefreshResult(compiled, len(gone), len(self._broken))

    def _parse(self, sid: int, text: str) -> Query | None:
        looked: set[str] = set()

        def resolve(slug: str) -> str | None:
            looked.add(slug)
            return self._refs.get(slug)

        try:
            query = parse_query(text, resolve)
        except QueryError as exc:
            if sid not in self._broken:
                log.warning("chat query subscription %d no longer parses, skipped: %s", sid, exc)
            self._broken.add(sid)
            self._uses[sid] = frozenset(looked)
            return None
        self._broken.discard(sid)
        self._uses[sid] = frozenset(looked)
        return query

    def match(self, doc: Document) -> set[int]:
        """The subscription ids of every compiled query ``doc`` matches."""
        with self._lock:
            return self._set.match_keys(doc)
