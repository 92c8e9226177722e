"""The bot's ``bot-poller`` lease row in the state DB: Telegram allows one ``getUpdates`` per
token (409 Conflict otherwise), so one replica polls (:mod:`feedsvc.bot.service` owns when).

Kept apart from the lease loop so the DB side — take or renew, release, and which other holder
a standby waits for — reads on its own; every call is a short write transaction, blocking (the
loop runs it on a thread)."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta

from feedsvc.db import Database
from feedsvc.store import leases

log = logging.getLogger("feedsvc.bot")
LEASE_NAME = "bot-poller"


class PollerLease:
    """``holder``'s claim on :data:`LEASE_NAME`, ``lease`` long from each renewal."""

    def __init__(self, db: Database, holder: str, lease: timedelta) -> None:
        self.db, self.holder, self.lease = db, holder, lease
        #: the other holder a standby said it waits for: told once per holder, not at every
        #: look (a dead process's lease kept the next start silent for up to the lease's length)
        self._waits_for: str | None = None
        self._lock = threading.Lock()  # a look and the stop's release, one at a time
        self._closed = False

    def acquire(self, polling: bool) -> bool:
        """Take or renew the lease; True when ours; False once :meth:`close` ran (a look that
        began late, its loop cancelled by the stop, takes nothing). A standby (``polling``
        False) kept out by another holder logs, once per holder, whose lease it waits for and
        until when (UTC). Raises the database's error (the loop words it: ``outage.report``)."""
        with self._lock:
            return not self._closed and self._acquire(polling)

    def _acquire(self, polling: bool) -> bool:
        now = self.db.now()
        with self.db.write() as conn:
            if leases.acquire(conn, LEASE_NAME, self.holder, self.lease, now):
                self._waits_for = None
                return True
            other = leases.get(conn, LEASE_NAME)
        if other is not None and other.holder != self._waits_for and not polling:
            self._waits_for = other.holder
            log.info("bot: waiting for the poller lease, held by %s until %s (in %.0f s) unless "
                     "it is released first", other.holder, *other.ends(now))  # fmt: skip
        return False

    def release(self) -> None:
        """Give the lease up (a start that failed): a healthier replica takes over at its next
        look, and so may this one."""
        with self._lock:
            self._give_up()

    def open(self) -> None:
        """A start: looks take the lease again (after :meth:`close`)."""
        with self._lock:
            self._closed = False

    def close(self) -> None:
        """The stop's release: after any look under way (the lock: released before a late look
        took it, the lease stayed held until it expired, and a standby waited it out), and no
        later look takes it."""
        with self._lock:
            self._closed = True
            self._give_up()

    def _give_up(self) -> None:
        with self.db.write() as conn:
            leases.release(conn, LEASE_NAME, self.holder)


async def done_by(renewal: asyncio.Future[bool], seconds: float) -> bool:
    """Whether ``renewal`` finished within ``seconds`` (it keeps running either way): a renewal
    stuck on the state DB is waited for only until the lease it renews expires."""
    done, _ = await asyncio.wait({renewal}, timeout=max(0.0, seconds))
    return bool(done)
