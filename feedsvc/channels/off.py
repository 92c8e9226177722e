"""The worker standing in for a channel that is not configured (:mod:`feedsvc.channel_modes`):
it ends that channel's queued alerts as ``failed`` with the reason, at start, on every wake-up
(new alerts were queued) and every :data:`POLL_SECONDS`, so they never pile up as ``pending``
or ``held``.

Every replica that dispatches must have the same channels configured: a replica without the Zalo
token ends the Zalo alerts a replica with it would send.
"""

from __future__ import annotations

import asyncio
import logging

from feedsvc.channel_modes import off_reason
from feedsvc.channels.tokens import TokenWatch
from feedsvc.db import Database
from feedsvc.db.errors import describe
from feedsvc.db.outage import report
from feedsvc.store import dead_letters
from feedsvc.waiting import sleep_or_wake

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0


class OffChannel:
    """``run()`` until ``stop()``; ``wake`` is set when deliveries may have been queued."""

    def __init__(self, db: Database, channel: str, poll_seconds: float = POLL_SECONDS) -> None:
        self.db = db
        self.channel = channel
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        self._stop = asyncio.Event()
        self.tokens = TokenWatch(channel, stand_in=True)

    def close_queued(self) -> int:
        """One pass (a thread): end what is queued for the channel; returns how many. Nothing
        once another process has sent with the channel's token, or holds one it refuses now
        (``channels.tokens``): its alerts are then that process's to send, never ended here."""
        with self.db.write() as conn:
            if self.tokens.stands_down(conn, self.db.now):
                return 0
            ended = dead_letters.end_off_channel(conn, self.channel, off_reason(self.channel),
                                          self.db.now())  # fmt: skip
        if ended:
            log.warning("%s: %d alert(s) ended as failed", off_reason(self.channel), ended)
        return ended

    async def run(self) -> None:
        while not self._stop.is_set():
            self.wake.clear()
            try:
                await asyncio.to_thread(self.close_queued)
            except Exception as exc:  # the DB may be down: try again next round
                if report(exc, f"channel {self.channel} (off)"):  # one line per outage
                    await sleep_or_wake(self.poll_seconds, self._stop, self.wake)
                    continue
                # the DB's own wording (no SQL, no values): "OperationalError" alone said nothing
                log.warning("channel %s (off): cannot end its queued alerts: %s", self.channel,
                            describe(exc))  # fmt: skip
            await sleep_or_wake(self.poll_seconds, self._stop, self.wake)

    def stop(self) -> None:
        self._stop.set()
