"""Feed polls counted where feeds are served, without a database write per request.

The serving paths (the wire protocol, the ASGI fast path, the routes) all run on the event loop
and call :meth:`PollCounter.count`: a dictionary increment. A scheduler job on the same loop
:meth:`~PollCounter.take`\\ s the counts every :data:`FLUSH_SECONDS` and adds them to
``feed_polls`` off the loop; a failed write puts them back for the next flush.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from feedsvc.db import Database
from feedsvc.store.stats import add_polls

FLUSH_SECONDS = 60.0

log = logging.getLogger(__name__)


class PollCounter:
    """Topic slug → polls since the last flush. Not thread-safe by design: used on the loop."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def count(self, slug: str) -> None:
        self._counts[slug] = self._counts.get(slug, 0) + 1

    def take(self) -> dict[str, int]:
        counts, self._counts = self._counts, {}
        return counts

    def give_back(self, counts: dict[str, int]) -> None:
        for slug, n in counts.items():
            self._counts[slug] = self._counts.get(slug, 0) + n


def store_polls(db: Database, tz: ZoneInfo, counts: dict[str, int], now: datetime) -> None:
    """Add ``counts`` to today's rows (the local day of ``now``); runs off the event loop."""
    with db.write() as conn:
        add_polls(conn, now.astimezone(tz).date(), counts)
