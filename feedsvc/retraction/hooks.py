"""Ingest transaction hook: corrections of articles already alerted (SPEC §10).

Runs inside the ingest transaction (after the article rows are updated), so a correction and
the edits it owes commit together: queued now for an article public now, or marked for the
worker's sweep to queue once it is public again — a correction stored while it was scheduled
ahead, hidden or withdrawn (:mod:`feedsvc.store.owed_corrections`). Retractions need no hook:
the worker's sweep finds articles withdrawn or hidden by any path (see
:func:`feedsvc.store.followup_queue.sweep_retired`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from feedsvc.db.committed import say
from feedsvc.ingest import Change
from feedsvc.retraction.plan import EDIT_WINDOW, is_correction
from feedsvc.store.owed_corrections import owe_corrections

log = logging.getLogger(__name__)


class Corrections:
    """Queue an edit of the alerts sent within ``window`` of each corrected article (a newer
    version whose title or summary changed). ``enabled`` is ``telegram.edit_on_update``."""

    def __init__(self, enabled: bool = True, window: timedelta = EDIT_WINDOW) -> None:
        self.enabled, self.window = enabled, window

    def __call__(self, conn: Connection, changes: Sequence[Change], now: datetime) -> None:
        if not self.enabled:
            return
        ids = [
            c.article_id
            for c in changes
            if c.previous is not None and is_correction(c.previous, c.article)
        ]
        # not public now (retracted meanwhile, or its time moved ahead): owed once it is
        queued = owe_corrections(conn, ids, now, self.window)
        if queued:  # once committed (feedsvc.db.committed)
            say(conn, log, logging.INFO, "%d sent alert(s) to correct for %d article(s)",
                queued, len(ids))  # fmt: skip
