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
wait, as a crash would.

What the stop so leaves unrecorded is **one rule for every sender** (:class:`LastTries`): kept
(``keep``), written once more when the sender has drained (the state DB may answer again within
the stop's budget), and what is still refused told in one WARNING per channel, naming how many
of each kind the channel had taken (``2 sent alerts and 1 digest part``) and what the restart
does with them. A digest's parts and the follow-ups' edits were dropped without a word: the
next start sent the part again, the chat had it twice, and the operator never heard why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from feedsvc.db.outage import is_outage, report
from feedsvc.waiting import sleep_or_wake

T = TypeVar("T")


async def until_committed(
    write: Callable[[], Awaitable[T]], stop: asyncio.Event, every: float, who: str,
    keep: Callable[[], None] | None = None,
) -> T:  # fmt: skip
    """``await write()`` (a new try each time) until it returns; an outage is counted on its
    database's log (``who``: the part of the service, :func:`~feedsvc.db.outage.report`) and
    tried again after ``every`` seconds. Raises what a write that is no outage raised (a bug,
    a row's fault: at once, never again), or the outage's error once ``stop`` is set, having
    called ``keep`` (the record handed to its sender's :class:`LastTries`)."""
    while True:
        try:
            return await write()
        except Exception as exc:
            if stop.is_set():
                if keep is not None and is_outage(exc):
                    keep()
                raise
            if not report(exc, who):
                raise
        await sleep_or_wake(every, stop)


@dataclass(frozen=True, slots=True)
class Kind:
    """What a kept record says the channel did, as the warning counts it: ``one`` and ``many``
    (``sent alert``, ``sent alerts``)."""

    one: str
    many: str

    def counted(self, n: int) -> str:
        return f"{n} {self.one if n == 1 else self.many}"


@dataclass(frozen=True, slots=True)
class _Kept:
    kind: Kind
    known: bool  # the channel took it (sent, edited, deleted): the restart does it again
    again: Callable[[], object]  # the record written once more (blocking: one transaction)


class LastTries:
    """One sender's records its stop left unrecorded (module docstring): :meth:`keep` them
    while it drains, :meth:`last_try` once it has. ``who``: the part of the service (the
    outage's log); ``then``: what the restart does with what stays unrecorded, after "they
    will be"; the lines are ``logger``'s."""

    def __init__(self, who: str, then: str, logger: logging.Logger) -> None:
        self.who, self.then, self.log = who, then, logger
        self._kept: list[_Kept] = []

    def keep(self, kind: Kind, known: bool, again: Callable[[], object]) -> None:
        """A record the stop ended the wait of (its state DB unavailable); ``known``: it says
        the channel took the message or the edit; ``again``: the record, written once more
        (it leaves alone a row recorded or taken back since)."""
        self._kept.append(_Kept(kind, known, again))

    async def last_try(self, channel: str) -> None:
        """Write each kept record once more, in order, in a thread; the first refused for an
        outage ends the tries (the state DB still unavailable: the rest would wait as long).
        Those still unrecorded are lost to this process (their leases run out, the next start
        does them again): one WARNING naming ``channel`` and how many of each kind the
        channel took, none when it took none of them."""
        kept, self._kept = self._kept, []
        if not kept:
            return
        left: list[_Kept] = []
        for n, record in enumerate(kept):
            try:
                await asyncio.to_thread(record.again)
            except Exception as exc:
                if report(exc, self.who):
                    left.extend(kept[n:])
                    break
                self.log.exception("%s: a record kept at the stop could not be written", channel)
                left.append(record)
        if len(left) < len(kept):
            self.log.info("%s: %d record(s) kept through the state DB outage written at the stop",
                          channel, len(kept) - len(left))  # fmt: skip
        counts = _counts([r.kind for r in left if r.known])
        if counts:
            self.log.warning(
                "%s: stopping with %s the state DB could not record (it is unavailable): they "
                "will be %s", channel, counts, self.then,
            )  # fmt: skip


def _counts(kinds: Sequence[Kind]) -> str:
    """``2 sent alerts and 1 digest part``: each kind's count, in the order first kept."""
    seen = list(dict.fromkeys(kinds))
    words = [kind.counted(kinds.count(kind)) for kind in seen]
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1] if words else ""
