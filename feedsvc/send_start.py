"""When this process's dispatchers start, and their stop: the send gate's wiring.

A process with role ``scheduler`` counts what was owed at start (unfinished deliveries and
follow-ups, every channel: :func:`feedsvc.store.deliveries.owed`). Nothing owed: its
dispatchers start at once. Else the gate is armed and they start when it opens (after the
first look at the source, bounded: :mod:`feedsvc.send_gate`), never once the service stops.
A bot-only process runs no dispatcher but watches the bots' tokens as a dispatcher records
them (``Dispatchers.watch_tokens``). The composition root (:mod:`feedsvc.app`) says when;
this module owns how, and what a stop then waits for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from feedsvc.channel_modes import Mode, waiting_channels
from feedsvc.channels.fleet import Dispatchers
from feedsvc.db import Database
from feedsvc.send_gate import SendGate
from feedsvc.shutdown import bounded
from feedsvc.store.deliveries import owed


class SendStart:
    """``dispatchers``' start; ``modes`` gives each channel's mode when they start (a channel
    ``waiting`` for its token claims nothing: :mod:`feedsvc.channel_modes`)."""

    def __init__(
        self, db: Database, dispatchers: Dispatchers, modes: Callable[[], dict[str, Mode]]
    ) -> None:
        self.db, self.dispatchers, self.modes = db, dispatchers, modes
        self._task: asyncio.Task[None] | None = None  # the start waiting for the gate
        self.running = False  # the dispatchers run (or, in a bot-only process, the token watch)

    async def begin(
        self, gate: SendGate, catching_up: Callable[[], bool], stopping: Callable[[], bool]
    ) -> None:
        """Role ``scheduler``, at start: the dispatchers now when nothing was owed, else when
        ``gate`` opens (``catching_up``: ingest reads a backlog; ``stopping``: never start)."""
        if waiting := await asyncio.to_thread(self._owed):
            gate.arm(waiting)
            looked = self._send_when_looked(gate, catching_up, stopping)
            self._task = asyncio.create_task(looked, name="send-gate")
        else:
            gate.open_now("nothing was owed at start")
            await self._start_sending()

    async def watch_tokens(self) -> None:
        """A bot-only process: the bots' tokens recorded as a dispatcher's are, refused too."""
        await self.dispatchers.watch_tokens()
        self.running = True

    async def stop(self, left: Callable[[float], float]) -> bool:
        """A start under way ends first, then in-flight sends finish and are recorded, each
        within ``left(keep)`` seconds (``feedsvc.shutdown``); False: work was abandoned."""
        orderly = True
        if self._task is not None:  # a start of the dispatchers under way ends first
            orderly &= await bounded(self._task, left(1.0), "dispatch start")
        if self.running:  # in-flight sends finish and are recorded
            orderly &= await self.dispatchers.stop(timeout=left(1.0))
        return orderly

    def _owed(self) -> int:
        with self.db.read() as conn:  # two indexed counts
            return owed(conn)

    async def _start_sending(self) -> None:
        await self.dispatchers.start(waiting_channels(self.modes()))
        self.running = True

    async def _send_when_looked(
        self, gate: SendGate, catching_up: Callable[[], bool], stopping: Callable[[], bool]
    ) -> None:
        """Start the dispatchers when the send gate opens (never once the service stops)."""
        if await gate.wait(catching_up) and not stopping():
            await self._start_sending()
