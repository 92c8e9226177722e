"""Leases kept alive while their holder is working on the rows.

A claimed row's lease (``telegram.lease_seconds``, 60 s by default) is how long other replicas
wait before taking the row back as a crashed sender's (:func:`feedsvc.store.claims.recover`).
A lease fixed at claim time also ran out under a sender that was alive and still sending — a
slow channel, a loaded machine, a digest of several parts, a send slot far ahead —: another
replica sent the alert again, and the first one's record was refused, so the chat got it twice
(seen with three replicas on a loaded machine, ``test_replicas``). A :class:`LeaseKeeper`
extends the leases of the rows its process is working on every third of a lease, so a lease
runs out only when its holder has stopped (killed, or hung past every timeout of its own).

Only rows a task is working on are renewed (:meth:`LeaseKeeper.hold` at the claim,
:meth:`LeaseKeeper.drop` when the task ends, however it ends): a row whose outcome could not be
recorded keeps its lease's end, and is taken back and tried again as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Table

from feedsvc.db import Database
from feedsvc.db.outage import report
from feedsvc.store import claims
from feedsvc.waiting import sleep_or_wake

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews ``owner``'s leases on the held rows of ``table`` (state ``leased``) to ``lease``
    from ``clock()`` (UTC) every ``lease / 3``, until :meth:`stop`."""

    def __init__(
        self,
        db: Database,
        table: Table,
        owner: str,
        lease: timedelta,
        *,
        leased: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.table = table
        self.owner = owner
        self.lease = lease
        self.leased = leased
        self.clock = clock
        self._held: dict[int, int] = {}  # row id → the tasks working on it
        self._stop = asyncio.Event()

    @property
    def every(self) -> float:
        """Seconds between renewals: a third of the lease, so two may fail before it ends."""
        return self.lease.total_seconds() / 3

    def hold(self, ids: Iterable[int]) -> None:
        """Keep the leases of ``ids`` alive (just claimed by a task of this process)."""
        for id_ in ids:
            self._held[id_] = self._held.get(id_, 0) + 1

    def drop(self, ids: Iterable[int]) -> None:
        """Stop renewing ``ids`` (their task ended: recorded, or left to the lease's end)."""
        for id_ in ids:
            left = self._held.get(id_, 0) - 1
            if left > 0:
                self._held[id_] = left
            else:
                self._held.pop(id_, None)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Renew until :meth:`stop`: the caller stops it after its last task ended."""
        while not self._stop.is_set():
            await sleep_or_wake(self.every, self._stop)
            if self._held and not self._stop.is_set():
                await asyncio.to_thread(self.renew)

    def renew(self) -> int:
        """One renewal of the held rows this owner still holds; how many. A failure (an
        outage) is logged and the next renewal tries again: a lease outlives two misses."""
        ids = sorted(self._held)
        if not ids:
            return 0
        try:
            with self.db.write() as conn:
                return claims.renew(
                    conn, self.table, ids, self.owner, self.clock() + self.lease,
                    leased=self.leased,
                )  # fmt: skip
        except Exception as exc:
            if not report(exc, "leases"):
                log.exception("could not renew %d leases of %s", len(ids), self.table.name)
            return 0
