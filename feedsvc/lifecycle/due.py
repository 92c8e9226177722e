"""Scheduled articles whose time came: their alerts and feeds, with no source change.

An article stored before its ``published_at`` is not public and the outbox skips it. The due
check runs after every ingest tick (so on the ingest leader, within one poll of the time): it
hands the articles that became public since its last run to the same transaction hooks ingest
uses (the outbox: alerts), then to the after-commit listeners (feed re-render, dispatcher
wake-up). Every replica's feed sync also re-renders topics whose articles became due
(:mod:`feedsvc.touched`), so feeds do not depend on this process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from feedsvc.db import Database
from feedsvc.ingest.model import AfterCommit, Change, Prepares, TransactionHook
from feedsvc.store.lifecycle import (
    DUE_OVERLAP_SECONDS,
    became_due,
    due_checked_through,
    set_due_checked_through,
)
from feedsvc.store.topics import topic_ids_of_articles

log = logging.getLogger(__name__)


class DueCheck:
    """Releases scheduled articles once their time has come (see the module docstring).

    ``hooks`` run in the check's transaction with ``Change(is_new=True)`` per released article
    (the outbox's unique (chat, article) rule makes a repeat harmless); ``after_commit`` after.
    Each run looks back :data:`DUE_OVERLAP_SECONDS` past the previous one (a commit landing
    late); the first run of a process starts where the last committed run ended
    (``due_watermark``, written with each run), looking back at most ``first_lookback`` (all of
    it on a DB with no watermark yet). It looked back ``first_lookback`` at every start, knowing
    nothing of what the previous process had released: each restart released again, and logged,
    every scheduled article of the last day. No overlap across a restart: the previous process
    ran its ingest and its checks in one thread, in order, so none of its own commits lands
    behind its last check.
    """

    def __init__(
        self,
        db: Database,
        hooks: Sequence[TransactionHook],
        after_commit: Sequence[AfterCommit] = (),
        first_lookback: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.hooks = list(hooks)
        self.after_commit = list(after_commit)
        self.first_lookback = first_lookback
        self.clock = clock or db.now
        self._last: datetime | None = None
        self._released: dict[int, datetime] = {}  # article id → published_at, inside the overlap

    def run(self) -> list[Change]:
        """One check; returns the released articles as changes. Raises DB errors (the caller,
        the ingest job, logs them and tries again on its next tick)."""
        now = self.clock()
        for hook in self.hooks:  # e.g. the outbox compiling chats' queries: not under the lock
            if isinstance(hook, Prepares):
                hook.prepare(self.db)
        with self.db.write() as conn:
            if self._last is not None:
                since = self._last - timedelta(seconds=DUE_OVERLAP_SECONDS)
            else:
                through = due_checked_through(conn)
                since = now - self.first_lookback
                since = max(since, through) if through is not None else since
            due = [(i, a) for i, a in became_due(conn, since, now) if i not in self._released]
            topics = topic_ids_of_articles(conn, [i for i, _ in due])
            changes = [
                Change(id_, article, True, frozenset(topics.get(id_, ()))) for id_, article in due
            ]
            for hook in self.hooks if changes else ():
                hook(conn, changes, now)
            set_due_checked_through(conn, now)
        self._last = now
        self._released = {i: p for i, p in self._released.items() if p > since}
        self._released.update((c.article_id, c.article.published_at) for c in changes)
        if changes:
            log.info("due check: %d scheduled article(s) became public", len(changes))
            for callback in self.after_commit:
                try:
                    callback(changes)
                except Exception:  # a broken listener must not undo the committed release
                    log.exception("after-due callback failed")
        return changes
