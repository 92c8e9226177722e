"""Topics whose feeds a change touched that no render in this process shows yet.

Why: the feeds-sync job (every few seconds) asks the state DB which articles changed in a
window reaching :data:`LIFECYCLE_OVERLAP` back (a change committed a little after the moment it
records must still be found), to render what changed with no ingest in this process to say so:
a scheduled article's time came, or one was withdrawn, hidden or shown again by the CLI, an
editor, reconciliation or a replica (SPEC §10). But ingest writes ``last_changed_at`` too, so
every article this process had just stored — and rendered at once (``FeedPublisher.on_ingest``)
or marked for the catch-up render (:mod:`feedsvc.stale`) — was found again, and again at each
sync while it stayed in the window: its topics rendered to the same bytes several times over
(found 2026-11-30; ``bench/renders.py``). Likewise a scheduled article the due check had just
released and rendered.

So this remembers, per recently changed article, the state the renders here already show
(:class:`~feedsvc.store.lifecycle.ArticleState`: its last write) and whether it was due
(``published_at`` passed). An article found in that state needs no render; a later write or
its time coming does. A state is remembered only when it was read *before* the render that
will show it (which reads the DB afterwards, so it sees that state or a newer one), so a
change committed in between is never taken as shown.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from feedsvc.db import Database
from feedsvc.store.lifecycle import ArticleState, article_states, change_marker, changed_articles
from feedsvc.store.topics import topic_ids_of_articles

#: How far back each sync looks again for lifecycle changes (a change committed a little after
#: the moment it records); what a render here already shows is not rendered again.
LIFECYCLE_OVERLAP = timedelta(seconds=30)


class TouchedTopics:
    """The lifecycle changes since the last :meth:`since_last` that renders here do not show.

    Thread-safe: the ingest thread calls :meth:`rendering`, the feeds-sync job the rest.
    """

    def __init__(self, overlap: timedelta = LIFECYCLE_OVERLAP) -> None:
        self.overlap = overlap
        self._lock = threading.Lock()
        #: article id → the state renders here show, and whether it was due then
        self._shown: dict[int, tuple[ArticleState, bool]] = {}
        self._since: datetime | None = None
        self._marker: tuple[object, ...] = ()

    def __len__(self) -> int:
        """Articles remembered (bounded by what changed in the last window, plus any
        released early): tests and the bench look at it."""
        with self._lock:
            return len(self._shown)

    def rendering(self, db: Database, article_ids: Sequence[int]) -> None:
        """These articles' topics are about to be rendered (or marked stale, rendered later):
        remember their state, read now, before that render reads the DB."""
        if not article_ids:
            return
        now = db.now()  # taken before the read: an article due by now is in the render
        with db.read() as conn:
            states = article_states(conn, article_ids)
        self._remember(states, now)

    def since_last(self, db: Database, now: datetime) -> set[int] | None:
        """Topic ids to render for the changes of ``(last call - overlap, now]`` that renders
        here do not show, remembered as shown (the caller renders them next). None: the DB
        shows no change since the last call (or this is the first call, which renders every
        topic anyway). Raises the DB's error; the next call then looks from the same point."""
        since = self._since
        if since is None:
            self._since = now
            return None
        start = since - self.overlap
        with db.read() as conn:
            marker = change_marker(conn, start, now)
            if marker == self._marker:
                self._since = now
                return None
            unshown = self._unshown(changed_articles(conn, start, now), now)
            topics = topic_ids_of_articles(conn, [s.article_id for s in unshown])
        self._since, self._marker = now, marker
        self._remember(unshown, now)
        self._forget(now - self.overlap)
        return set().union(*topics.values())

    def _remember(self, states: Iterable[ArticleState], at: datetime) -> None:
        with self._lock:
            for s in states:
                self._shown[s.article_id] = (s, s.published_at <= at)

    def _unshown(self, states: Iterable[ArticleState], now: datetime) -> list[ArticleState]:
        """The states no render here shows: unknown, written since, or due since."""
        with self._lock:
            shown = self._shown
            return [s for s in states if shown.get(s.article_id) != (s, s.published_at <= now)]

    def _forget(self, before: datetime) -> None:
        """Drop what no window from ``before`` on can find again in the same state: written
        and (if it was due) published at or before ``before``. A still scheduled article's
        time coming is a change to render anyway, unless the due check renders it first."""
        with self._lock:
            self._shown = {
                i: (s, due)
                for i, (s, due) in self._shown.items()
                if s.changed_at > before or (due and s.published_at > before)
            }
