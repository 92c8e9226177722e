"""Leases kept alive while their holder is working on the rows.

A claimed row's lease (``telegram.lease_seconds``, 60 s by default) is how long other replicas
wait before taking the row back as a crashed sender's (:func:`feedsvc.store.claims.recover`).
A lease fixed at claim time also ran out under a sender that was alive and still sending — a
slow channel, a loaded machine, a digest of several parts, a send slot far ahead —: another
replica sent the alert again, and the first one's record was refused, so the chat got it twice
(seen with three replicas on a loaded machine, ``test_replicas``). A :class:`LeaseKeeper`
extends the leases of the rows its process is working on every quarter of a lease, on a fixed
schedule, so three renewals in a row may fail (a locked SQLite file, an outage) before one
runs out.

Only rows a task is working on are renewed (:meth:`LeaseKeeper.hold` at the claim,
:meth:`LeaseKeeper.drop` when the task ends, however it ends): a row whose outcome could not be
recorded keeps its lease's end, and is taken back and tried again as before. A task that hangs
(every channel call has its own timeouts; this is the guard behind them) keeps its rows for
:data:`MAX_HOLD_LEASES` leases at most, then they are left to run out. A killed or cancelled
sender renews nothing: its leases run out as before.

A process runs a sender per channel, each with its keeper, and each sender's claim takes back
the expired leases of every channel (a crashed replica's). What the process's other keepers hold
is its own too (:attr:`LeaseKeeper.ours`): the Apprise dispatcher's claim, the state DB back
after an outage longer than the lease, took back a Telegram row whose answer the Telegram
dispatcher held and was writing again (:mod:`feedsvc.db.kept`), and the alert was sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Table

from feedsvc.db import Database
from feedsvc.db.outage import report
from feedsvc.store import claims
from feedsvc.waiting import sleep_or_wake

log = logging.getLogger(__name__)

#: Renewals per lease: three may fail before it runs out.
RENEWALS_PER_LEASE = 4
#: How long (in leases, from the claim) a row is renewed at most: 10 min at the default 60 s.
#: A digest of many parts is sent in seconds to a minute; a task still at it after that hangs.
MAX_HOLD_LEASES = 10

#: every keeper in this process (:attr:`LeaseKeeper.ours`), and the lock of its changes: it is
#: read in the claims' threads
_KEEPERS: weakref.WeakSet[LeaseKeeper] = weakref.WeakSet()
_KEEPERS_LOCK = threading.Lock()


class LeaseKeeper:
    """Renews ``owner``'s leases on the held rows of ``table`` (state ``leased``) to ``lease``
    from ``clock()`` (UTC) every ``lease / 4``, until :meth:`stop`."""

    def __init__(
        self,
        db: Database,
        table: Table,
        owner: str,
        lease: timedelta,
        *,
        leased: str,
        clock: Callable[[], datetime],
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.table = table
        self.owner = owner
        self.lease = lease
        self.leased = leased
        self.clock = clock  # the leases' clock: PostgreSQL's is a query, read in a thread only
        self.ticks = ticks  # seconds, monotonic: how long a row has been held (the event loop's)
        #: row id → (the tasks working on it, ``ticks()`` when it was first held)
        self._held: dict[int, tuple[int, float]] = {}
        self._stop = asyncio.Event()
        with _KEEPERS_LOCK:
            _KEEPERS.add(self)

    @property
    def every(self) -> float:
        """Seconds between renewals' starts."""
        return self.lease.total_seconds() / RENEWALS_PER_LEASE

    @property
    def held(self) -> set[int]:
        """The ids renewed now (a snapshot)."""
        return set(self._held)

    @property
    def ours(self) -> set[int]:
        """The ids held now by every keeper of this owner on this table, this one's and the
        process's other senders' (another channel's dispatcher): rows this process is working
        on, or whose outcome it holds and is writing; its claims never take them back, however
        long ago their leases ran out (:func:`feedsvc.store.claims.recover`'s ``keep``). A
        stopped keeper's rows are not among them: its sender was stopped or cancelled, and
        they are left to their leases' end as a killed sender's. A snapshot, safe to take in a
        claim's thread."""
        with _KEEPERS_LOCK:
            keepers = [
                k for k in _KEEPERS
                if k.table is self.table and k.owner == self.owner
                and (k is self or not k._stop.is_set())
            ]  # fmt: skip
        ids: set[int] = set()
        for keeper in keepers:
            ids.update(keeper._held)  # one C-level copy of the dict's keys
        return ids

    def hold(self, ids: Iterable[int]) -> None:
        """Keep the leases of ``ids`` alive (just claimed by a task of this process)."""
        now = self.ticks()
        for id_ in ids:
            count, since = self._held.get(id_, (0, now))
            self._held[id_] = (count + 1, since)

    def drop(self, ids: Iterable[int]) -> None:
        """Stop renewing ``ids`` (their task ended: recorded, or left to the lease's end)."""
        for id_ in ids:
            count, since = self._held.get(id_, (0, 0.0))
            if count > 1:
                self._held[id_] = (count - 1, since)
            else:
                self._held.pop(id_, None)

    def stop(self) -> None:
        self._stop.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Renewing while the block runs (a sender's loop, its drain too); at its end, however
        it ends (a cancelled sender's included), stopped at once: a renewal under way is
        cancelled, never waited for (a locked SQLite file: seconds of the stop's grace)."""
        self._stop.clear()  # a sender run again (a test's restart) renews again
        keeper = asyncio.create_task(self.run())
        try:
            yield
        finally:
            self.stop()
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def run(self) -> None:
        """Renew until :meth:`stop`, each renewal starting ``every`` seconds after the last
        one started (a slow, failing one does not push the next back). The caller stops it
        after its last task ended (:meth:`running`)."""
        start = time.monotonic()
        while not self._stop.is_set():
            start += self.every
            await sleep_or_wake(max(0.0, start - time.monotonic()), self._stop)
            if self._held and not self._stop.is_set():
                # which ids, decided here: hold and drop run on this loop, never beside it
                await asyncio.to_thread(self._write, self._renewable())
            start = max(start, time.monotonic() - self.every)  # never a burst to catch up

    def renew(self) -> int:
        """One renewal of the held rows this owner still holds, now; how many. A failure (an
        outage) is logged and the next renewal tries again."""
        return self._write(self._renewable())

    def _write(self, ids: list[int]) -> int:
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
                log.exception("could not renew the leases of %s", self.table.name)
            return 0

    def _renewable(self) -> list[int]:
        """The held ids, but those held past :data:`MAX_HOLD_LEASES` leases (let go, said once:
        their task hangs, and their leases now run out)."""
        limit = self.ticks() - MAX_HOLD_LEASES * self.lease.total_seconds()
        for id_, (_, since) in list(self._held.items()):
            if since < limit:
                self._held.pop(id_, None)
                log.warning(
                    "%s row %s: still being worked on %s after its claim; its lease is left "
                    "to run out and another try to take it",
                    self.table.name, id_, MAX_HOLD_LEASES * self.lease,
                )  # fmt: skip
        return sorted(self._held)
