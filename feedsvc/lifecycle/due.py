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
from feedsvc.db.outage import report
from feedsvc.ingest.model import AfterCommit, Change, Prepares, TransactionHook
from feedsvc.store.due import (
    DUE_OVERLAP_SECONDS,
    became_due,
    due_checked_through,
    mark_released,
    set_due_checked_through,
)
from feedsvc.store.topics import topic_ids_of_articles

log = logging.getLogger(__name__)


class DueCheck:
    """Releases scheduled articles once their time has come (see the module docstring).

    ``hooks`` run in the check's transaction with ``Change(is_new=True)`` per released article;
    ``after_commit`` after. Each run looks back :data:`DUE_OVERLAP_SECONDS` past the stored
    watermark (``due_watermark``: where the last committed run ended, in whichever process —
    a restart, another replica after a lease handover), at most ``first_lookback`` (all of it
    on a DB with no watermark yet): a row committed just after a check passed its time is still
    released. What was released is recorded on the article (``released_at``) in the same
    transaction, so the overlap releases nothing twice. The overlap's memory was an in-memory
    set: each restart released again — logged, and alerted to chats that had subscribed since —
    the articles that became public in the 10 minutes before it.
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

    def run(self) -> list[Change]:
        """One check; returns the released articles as changes. Raises DB errors (the caller,
        the ingest job, logs them and tries again on its next tick)."""
        now = self.clock()
        for hook in self.hooks:  # e.g. the outbox compiling chats' queries: not under the lock
            if isinstance(hook, Prepares):
                hook.prepare(self.db)
        with self.db.write() as conn:
            through = due_checked_through(conn)
            set_due_checked_through(conn, now)  # first: a concurrent check waits for this one
            since = now - self.first_lookback
            if through is not None:
                since = max(since, through - timedelta(seconds=DUE_OVERLAP_SECONDS))
            due = became_due(conn, since, now)
            topics = topic_ids_of_articles(conn, [i for i, _ in due])
            changes = [
                Change(id_, article, True, frozenset(topics.get(id_, ()))) for id_, article in due
            ]
            for hook in self.hooks if changes else ():
                hook(conn, changes, now)
            mark_released(conn, [c.article_id for c in changes], now)
        if changes:
            log.info("due check: %d scheduled article(s) became public", len(changes))
            for callback in self.after_commit:
                try:
                    callback(changes)
                except Exception as exc:  # a listener must not undo the committed release
                    if not report(exc, "after-due"):  # an outage: one line (db.outage)
                        log.exception("after-due callback failed")
        return changes
