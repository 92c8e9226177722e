"""A sent message's outcome, kept through a state-DB outage and written again until it commits.

Every sender records what the channel answered after the call: the dispatcher's alerts
(:class:`feedsvc.send_record.BatchRecorder`), a digest's parts (:mod:`feedsvc.digest.sending`)
and the follow-up worker's edits and deletes (:mod:`feedsvc.retraction.worker`). Dropped when
the state DB cannot take it now (an outage, :func:`~feedsvc.db.outage.is_outage`: its file moved
away, a lock, a full disk, a server down), the record was the crash's duplicate without a
crash: the row stayed leased until its lease ran out, and the message was then sent, edited or
deleted again (an alert or a digest part twice in the chat; an edit made twice). So the write
is tried again every ``every`` seconds until it commits, the sender holding the row meanwhile
(its lease renewed, never taken back by its process's claims, any channel's, however long the
outage: :attr:`~feedsvc.lease_keeper.LeaseKeeper.ours`); only ``stop`` (the sender's) ends the
wait, after one last try, as a crash would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from feedsvc.db.outage import report
from feedsvc.waiting import sleep_or_wake

T = TypeVar("T")


async def until_committed(
    write: Callable[[], Awaitable[T]], stop: asyncio.Event, every: float, who: str
) -> T:
    """``await write()`` (a new try each time) until it returns; an outage is counted on its
    database's log (``who``: the part of the service, :func:`~feedsvc.db.outage.report`) and
    tried again after ``every`` seconds. Raises what a write that is no outage raised (a bug,
    a row's fault: at once, never again), or the outage's error once ``stop`` is set."""
    while True:
        try:
            return await write()
        except Exception as exc:
            if stop.is_set() or not report(exc, who):
                raise
        await sleep_or_wake(every, stop)
