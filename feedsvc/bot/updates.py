"""How the bot takes its updates: different chats at once, each chat's in order.

Why: every reply is charged to the send budget the alerts share (:mod:`feedsvc.budget`): it
waits for the slots the outbox already reserved (0.25 s) and, right after an alert to its chat,
for that chat's pace (about 1 s private, 3 s group). PTB's default handles one update at a
time, so those waits added up across users: 30 users sending ``/help`` together while alerts
flowed at 25/s got their answers over 10 s. Handled concurrently they take consecutive slots.
One chat's updates stay in order (``/sub`` then ``/unsub`` must not swap), and a supergroup
migration's two service messages (one in each chat) share one line.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Hashable
from typing import Any, Protocol

from telegram import Update
from telegram.ext import BaseUpdateProcessor

CREATED = inspect.CORO_CREATED
MAX_CONCURRENT = 16  # updates in hand at once: the bot's HTTP pool size
UNBOUNDED = 2**30  # PTB's semaphore's size: updates waiting for their line hold none of ours


class Admission(Protocol):
    """Whether an update is handled (:class:`feedsvc.bot.once.FirstDelivery`: not a copy of
    one handled before), asked just before its handler begins; closed at PTB's shutdown."""

    async def __call__(self, update: object) -> bool: ...

    def close(self) -> None: ...


def update_line(update: object) -> Hashable:
    """The line ``update`` waits in: its chat, the new supergroup for a migration's service
    messages, one shared line for anything without a chat."""
    if not isinstance(update, Update):
        return None
    message = update.effective_message
    if message is not None and (message.migrate_to_chat_id or message.migrate_from_chat_id):
        return ("migration", message.migrate_to_chat_id or message.chat.id)
    chat = update.effective_chat
    return None if chat is None else chat.id


class PerChatUpdates(BaseUpdateProcessor):
    """Up to ``max_concurrent`` updates at once, one at a time per :func:`update_line`.

    An update waits for its line first and only then for one of the ``max_concurrent`` slots.
    PTB's own semaphore (taken before :meth:`do_process_update`, in a method PTB declares
    final) is given no say: in that order a chat whose answer waits out a 429 pause (up to
    :data:`~feedsvc.notify.outcome.REPLY_PAUSE_WAIT`) held a slot for each of its queued
    updates — 16 queued ``/help`` of one paused group held every slot, and every other chat
    waited the pause out with it (a reviewer's finding). Now it holds one."""

    def __init__(
        self,
        max_concurrent: int = MAX_CONCURRENT,
        admit: Admission | None = None,
    ) -> None:
        super().__init__(UNBOUNDED)  # PTB's semaphore: never the one that waits
        #: asked once the update has its line and a slot, right before its handler: False
        #: drops it (nothing awaited in between: a record is for an update whose handler began,
        #: unless the stop cancels it during the record)
        self._admit = admit
        self._slots = asyncio.Semaphore(max_concurrent)
        self._lines: dict[Hashable, tuple[asyncio.Lock, int]] = {}  # lock, updates in it
        self._in_hand: set[asyncio.Task[Any]] = set()  # the tasks handling them (:meth:`cancel`)

    def cancel(self) -> int:
        """Cancel every update in hand or waiting for its line (the bot's stop, once they had
        their time: :mod:`feedsvc.bot.stopping`); how many."""
        tasks, self._in_hand = self._in_hand, set()
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        task = asyncio.current_task()
        assert task is not None  # PTB runs each update in a task of its own
        self._in_hand.add(task)
        try:
            await self._in_line(update, coroutine)
        finally:
            self._in_hand.discard(task)
            if inspect.iscoroutine(coroutine) and inspect.getcoroutinestate(coroutine) == CREATED:
                coroutine.close()  # cancelled while waiting for its line: never begun

    async def _in_line(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = update_line(update)
        lock, waiting = self._lines.get(key, (asyncio.Lock(), 0))
        self._lines[key] = (lock, waiting + 1)
        try:
            async with lock, self._slots:
                if self._admit is not None and not await self._admit(update):
                    return  # never begun: closed by do_process_update
                await coroutine
        finally:
            lock, waiting = self._lines[key]
            if waiting == 1:
                del self._lines[key]  # bounded: only lines with updates in them are kept
            else:
                self._lines[key] = (lock, waiting - 1)

    async def initialize(self) -> None:
        """Nothing to set up (PTB's hook)."""

    async def shutdown(self) -> None:
        """The admission's thread let go (PTB's hook, at the bot's shutdown)."""
        if self._admit is not None:
            self._admit.close()
