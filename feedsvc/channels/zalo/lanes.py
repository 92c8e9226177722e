"""One ordered lane per chat: how the Zalo bot runs a chat's updates, one after the other.

Why (a tester's report): each update used to get a task of its own, bounded only in number,
so one chat's ``/sub an-ninh`` and ``/unsub an-ninh`` ran at once and in any order: the
unsubscribe found nothing, the subscribe landed after it, the user was told "no subscription",
then "subscribed", and kept receiving alerts; ``/quiet …`` then ``/settings`` showed the old
settings. Telegram's library keeps a chat's updates in order; Zalo's bot now does too.

:class:`ChatLanes` keeps, per chat, a FIFO of the updates not handled yet and at most one worker
task, which handles them one after the other (the reply sent before the next one starts, so
replies go out in order too). Different chats run at once, up to ``concurrency`` handlers, one
slot per update: a chat holds at most one slot, and a worker that wants another queues behind
the others (``asyncio.Semaphore`` is first come, first served), so a chat flooding the bot
neither starves the others nor grows without bound — its lane holds at most ``per_chat``
waiting updates and :meth:`submit` refuses the rest. A lane lives only while it has work: the
worker removes it when its FIFO is empty, so memory follows the chats active now, not every
chat ever seen. :meth:`submit` never waits (the webhook answers Zalo at once, whatever a chat's
earlier commands are doing).

Stopping: :meth:`drain` waits until every lane is empty, updates submitted meanwhile included
(an update already acknowledged — the webhook's 200, a ``getUpdates`` that returned it — is not
dropped by an orderly stop that has the time); the bot's stop gives it its share of the stop,
then :meth:`cancel` cuts the workers short and the updates still waiting are abandoned
(:func:`feedsvc.bot.stopping.stop_handling`, the Telegram bot's rule: a held Zalo API kept the
stop past its 5 s, exit 1); cancelled, :meth:`drain` cancels them too. Those never begun were
never recorded as handled (:mod:`feedsvc.store.zalo_updates` records an update when it is
acted on), so a copy Zalo delivers again still acts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger("feedsvc.zalo")
T = TypeVar("T")


@dataclass(eq=False)
class _Lane(Generic[T]):
    """One chat's updates waiting, and the task handling them."""

    waiting: deque[T] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    handling: bool = False  # an update popped from ``waiting`` is being handled
    refused: int = 0  # updates refused while this lane was full (logged once per lane)


class ChatLanes(Generic[T]):
    """Per-chat ordered handling of ``T`` items by ``handle`` (module docstring)."""

    def __init__(
        self, handle: Callable[[T], Awaitable[None]], *, concurrency: int, per_chat: int
    ) -> None:
        if concurrency < 1 or per_chat < 1:
            raise ValueError("concurrency and per_chat must be at least 1")
        self._handle = handle
        self._slots = asyncio.Semaphore(concurrency)
        self.per_chat = per_chat
        self._lanes: dict[str, _Lane[T]] = {}

    @property
    def chats(self) -> int:
        """Chats with a lane now (updates waiting or being handled)."""
        return len(self._lanes)

    def waiting(self, chat: str) -> int:
        """Updates of ``chat`` waiting behind the one being handled."""
        lane = self._lanes.get(chat)
        return 0 if lane is None else len(lane.waiting)

    def submit(self, chat: str, item: T) -> bool:
        """Queue ``item`` behind ``chat``'s earlier ones, without waiting; False when the chat
        already has ``per_chat`` updates waiting (``item`` dropped: a flood, which the command
        budget would silence anyway)."""
        lane = self._lanes.get(chat)
        if lane is None:
            lane = self._lanes[chat] = _Lane()
            lane.waiting.append(item)
            lane.task = asyncio.create_task(self._work(chat, lane), name="zalo-chat")
            return True
        if len(lane.waiting) >= self.per_chat:
            if not lane.refused:
                log.warning("zalo: a chat sent %d commands faster than they are handled: "
                            "further ones dropped until it catches up", self.per_chat)  # fmt: skip
            lane.refused += 1
            return False
        lane.waiting.append(item)
        return True

    async def _work(self, chat: str, lane: _Lane[T]) -> None:
        """Handle ``lane``'s updates in order until it is empty, then forget the lane. No
        ``await`` between the last emptiness check and the removal: :meth:`submit`, on the same
        loop, either queued before it (handled) or finds no lane and starts a new one."""
        try:
            while lane.waiting:
                item = lane.waiting.popleft()
                lane.handling = True
                try:
                    async with self._slots:
                        await self._handle(item)
                except Exception:  # one update's failure must not strand the ones behind it
                    log.exception("zalo: an update failed")
                finally:
                    lane.handling = False
        finally:
            if self._lanes.get(chat) is lane:
                del self._lanes[chat]
            if lane.refused:
                log.warning("zalo: %d commands of one chat were dropped", lane.refused)

    def cancel(self) -> int:
        """Cancel every lane's work, the update being handled and those waiting behind it (the
        bot's stop, once they had their share of it); how many. Lanes submitted after start
        anew."""
        lanes, self._lanes = self._lanes, {}
        count = 0
        for lane in lanes.values():
            count += len(lane.waiting) + lane.handling
            lane.waiting.clear()
            if lane.task is not None:
                lane.task.cancel()
        return count

    async def drain(self) -> None:
        """Wait until every lane is empty (module docstring); cancelling this cancels them."""
        while self._lanes:
            tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
            await asyncio.gather(*tasks, return_exceptions=True)
