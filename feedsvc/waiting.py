"""How the sending loops (a channel's dispatcher, its follow-up worker, an off channel) wait:
idle until their next work is due, or less when something sets one of their events (stop, a
wake-up from ingest or from another replica's NOTIFY); and release each API call no sooner
than its planned slot and ``1 / rate`` after the call before it (:func:`release_gate`). Pure
asyncio, no I/O."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref


async def sleep_or_wake(seconds: float, *events: asyncio.Event) -> None:
    """Return after ``seconds``, or as soon as one of ``events`` is set (at once if one is)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            waiters = [asyncio.ensure_future(e.wait()) for e in events]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()


class ReleaseGate:
    """One channel's API calls in this process, released in FIFO order and kept apart as
    actually released.

    Why: calls are planned at slots of the shared budget (:func:`feedsvc.store.rate.reserve`),
    but when the event loop lags several slots fall due at once and calls that each slept to
    their own slot would leave together. Telegram counts arrivals, not plans. Each release is
    measured after its sleep, so a late call pushes the next one back instead of bunching.
    """

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last = float("-inf")  # time.monotonic() of the latest release
        self._gap = 0.0  # the gap the latest release was kept

    async def wait(self, at: float, gap: float) -> None:
        """Return at ``at`` (a ``time.monotonic()`` value) or later, and at least ``gap``
        seconds after the previous call through this gate returned or, later, left
        (:meth:`leaving`). Looked at again after each sleep: the call before may have left
        late meanwhile."""
        async with self._lock_for(asyncio.get_running_loop()):
            while (delay := max(at, self._last + gap) - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            self._last, self._gap = time.monotonic(), gap

    def leaving(self) -> None:
        """The call released last leaves now (its request is about to be written): the next
        release is at least half a gap after this, as well as a gap after the release.

        Why: a stall of the process between a call's release and its request (the OS or
        another thread holding the CPU for a few hundred ms on a loaded machine) sent it late,
        and the next call, released on time, followed it within milliseconds (a CI run: 17 ms
        apart at 4/s). Half a gap, not a whole one: the usual path from release to request
        (formatting, building the HTTP request: a millisecond or two) then costs no
        throughput, while a late call still keeps the next apart from it."""
        self._last = max(self._last, time.monotonic() - self._gap / 2)

    def _lock_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        """The gate's lock for ``loop`` (an asyncio lock serves one event loop)."""
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


_GATES: weakref.WeakKeyDictionary[object, ReleaseGate] = weakref.WeakKeyDictionary()


def release_gate(channel: object) -> ReleaseGate:
    """The gate of ``channel`` (the object that makes the calls) in this process: its
    dispatcher's sends and its follow-up worker's deletes and edits draw on one budget
    (SPEC §10), so they pass one gate."""
    gate = _GATES.get(channel)
    if gate is None:
        gate = _GATES[channel] = ReleaseGate()
    return gate
