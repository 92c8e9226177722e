"""Queued alerts too old to send: ``telegram.alert_max_age_hours`` at the send, not only at the
match.

The rule (README, ``config/feedsvc.toml``): an article published longer ago than
``telegram.alert_max_age_hours`` (default 48) never alerts — applied where ingest, a scheduled
article's time, an edit or an unhide queues its alerts. An alert queued while fresh and kept
unsent for longer — its channel ``waiting`` for a lost token for days (``channel_modes``), a
token refused, a channel or the service down, a long backlog — went out as old news the moment
it could. Each dispatcher now ends its channel's such alerts as ``failed`` — a dead letter,
re-sendable from the delivery log if an editor still wants it — with :func:`stale_reason`, and
says so in one WARNING per pass, not one line per alert. Which ones, and which wait (a paused
chat's, a digest's or quiet hours' ``held``, a re-sent one): ``store.dead_letters.end_stale``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from feedsvc.db import Database
from feedsvc.store import dead_letters

log = logging.getLogger(__name__)

#: Seconds between two passes of one dispatcher (one UPDATE; the first before its first claim)
SWEEP_SECONDS = 60.0


def stale_reason(max_age: timedelta) -> str:
    """The error such an alert ends with (English, stored as a channel's error text is)."""
    hours = max_age.total_seconds() / 3600
    return (
        f"not sent: the article was published more than {hours:g} h ago "
        "(telegram.alert_max_age_hours) before the alert could go out"
    )


class StaleAlerts:
    """One dispatcher's pass over its channel's queue (:data:`SWEEP_SECONDS` apart)."""

    def __init__(self, max_age: timedelta, clock: Callable[[], datetime]) -> None:
        self.max_age = max_age
        self.clock = clock  # the dispatcher's (the DB's, or a test's moved one)
        self._last: float | None = None  # time.monotonic() of the last pass

    def sweep(self, db: Database, channel: str) -> int:
        """End ``channel``'s queued alerts too old to send, when a pass is due; how many (a
        thread; the DB's errors are raised to the dispatcher's step, which reports them)."""
        at = time.monotonic()
        if self._last is not None and at - self._last < SWEEP_SECONDS:
            return 0
        self._last = at
        reason = stale_reason(self.max_age)
        with db.write() as conn:
            now = self.clock()
            ended = dead_letters.end_stale(conn, channel, self.max_age, reason, now)
        if ended:
            log.warning(
                "%s: %d queued alert(s) ended as failed, not sent: their articles were "
                "published more than %g h ago (telegram.alert_max_age_hours); re-send from the "
                "delivery log any still wanted",
                channel, ended, self.max_age.total_seconds() / 3600,
            )  # fmt: skip
        return ended
