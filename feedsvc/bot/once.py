"""Each Telegram update acted on at most once, across restarts (the state DB decides).

Why: Telegram forgets an update only when a later getUpdates carries an offset past it. An
update the bot fetched and answered, whose confirming call never reached the Bot API before a
stop (a slow proxy; the stop's last getUpdates is cut after
:data:`~feedsvc.bot.stopping.CONFIRM_SECONDS`), came again after the restart and was answered
again: a ``/sub`` applied twice, an ``/unsub 1`` removing the next subscription.

:class:`FirstDelivery` records an update's ``update_id`` as the update's handler is about to
begin (its chat's turn and a slot taken: :class:`feedsvc.bot.updates.PerChatUpdates`), in the
state DB's table of updates acted on (:mod:`feedsvc.store.zalo_updates`, the insert-if-new
Zalo's updates go through; ``chat`` is ``telegram:<bot id>``, a form no Zalo chat id has, so
no schema change: a table of its own would take the same single write lock on SQLite).
Keyed by the bot's id (the token's numeric prefix): another bot's update ids start again. Rows
go after that module's ``KEEP`` (48 h; Telegram keeps an update 24 h).

How it stays out of the lease's and the handlers' way. A first version was reverted after
``tests/test_bot_unsub_numbers.py`` waited 20 s on a loaded CI machine while the lease renewal
waited on the state DB. Measured since (6 CPU hogs, 257 records): a record took at most 0.12 s;
the renewal waited on a handler's own ``/sub`` transaction (0.82 s) and the default executor's
queue (0.32 s). Past the tests' 1.5 s lease, the lapse's stop cancels the update in hand after
:data:`~feedsvc.bot.stopping.ANSWERS_SECONDS` and its answer is lost: the same on the code
without records when a handler's transaction holds SQLite's write lock 2.5 s. Records only added
a thread hop and a write to each update's time in hand. Still:

* a record is one short write transaction of its own, one ``INSERT … ON CONFLICT DO NOTHING``;
  the prune (:func:`~feedsvc.store.zalo_updates.prune`) is never in it: at most once an hour,
  a transaction of its own queued after a record, awaited by no update;
* records run in one thread of this module's own (:data:`RECORDING`), never in the default
  executor that ``asyncio.to_thread`` shares between the lease renewal and the handlers'
  database work (``min(32, cores + 4)`` threads: 6 on the 2-core CI machine), so however
  slowly the DB answers, records queue there, one at a time, and take no thread the lease
  needs; at most one write lock request of the bot's is a record's;
* an update waits for its record at most :data:`RECORD_SECONDS`: a state DB that cannot record
  it in time (locked, down, slow) leaves it handled all the same (availability over
  deduplication) with one warning, as does one that fails.

A record made for an update cancelled while its record was being made (the stop's
:data:`~feedsvc.bot.stopping.ANSWERS_SECONDS`) counts it as handled: at most once, as an answer
cut short by the stop is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from telegram import Update

from feedsvc.db import Database
from feedsvc.db.errors import describe
from feedsvc.store import zalo_updates

log = logging.getLogger("feedsvc.bot")
#: seconds an update waits for its record before it is handled unrecorded
RECORD_SECONDS = 1.5
PRUNE_EVERY = 3600.0  # seconds between prunings of the recorded updates, per bot


def bot_key(token: str) -> str:
    """The recorded updates' ``chat`` for the bot of ``token`` (its id, never the token)."""
    return f"telegram:{token.split(':', 1)[0]}"


class FirstDelivery:
    """``await admit(update)``: whether ``update`` is the first copy of it this bot takes
    (True when that cannot be known in :data:`RECORD_SECONDS`). Given to
    :class:`feedsvc.bot.updates.PerChatUpdates`; :meth:`close` at the bot's shutdown.
    ``repeated(update_id)`` is told each copy dropped (getUpdates' client: a copy left
    unconfirmed at a stop is no cause for a warning, :mod:`feedsvc.bot.stopping`)."""

    def __init__(
        self, db: Database, token: str, seconds: float = RECORD_SECONDS,
        repeated: Callable[[int], None] | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.repeated = repeated
        self.chat = bot_key(token)
        self.seconds = seconds
        #: the one thread records and prunings run in (see the module docstring)
        self.recording = ThreadPoolExecutor(1, thread_name_prefix="bot-once")
        self._next_prune = 0.0  # time.monotonic() of the next pruning
        self.closed = False

    async def __call__(self, update: object) -> bool:
        if not isinstance(update, Update):
            return True  # not from Telegram (nothing else is put in the queue today)
        key = update.update_id
        loop = asyncio.get_running_loop()
        try:
            record = loop.run_in_executor(self.recording, self._record, str(key))
            first = await asyncio.wait_for(asyncio.shield(record), self.seconds)
        except Exception as exc:  # the DB down, locked or slow: answer rather than drop
            why = f"no answer within {self.seconds:g} s" if isinstance(exc, TimeoutError) else ""
            log.warning(
                "bot: could not record update %d as handled (%s); handled all the same: "
                "if Telegram sends it again it is answered again",
                key, why or describe(exc),
            )  # fmt: skip
            return True
        finally:
            self._prune_due(loop)
        if not first:
            log.info(
                "bot: update %d was handled before (Telegram sent it again: its confirmation "
                "did not reach the Bot API); ignored",
                key,
            )
            if self.repeated is not None:
                self.repeated(key)
        return first

    def close(self) -> None:
        """Let the thread end once what is queued is done (the bot's shutdown)."""
        self.closed = True
        self.recording.shutdown(wait=False)

    def _record(self, key: str) -> bool:
        now = self.db.now()
        with self.db.write() as conn:
            return zalo_updates.first_delivery(conn, self.chat, key, now)

    def _prune_due(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queue a pruning behind the record when one is due; nobody awaits it."""
        if time.monotonic() < self._next_prune or self.closed:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY
        pruning = loop.run_in_executor(self.recording, self._prune)
        pruning.add_done_callback(_told)

    def _prune(self) -> int:
        now = self.db.now()
        with self.db.write() as conn:
            return zalo_updates.prune(conn, now)


def _told(pruning: asyncio.Future[int]) -> None:
    """A pruning that failed is told (the next one, an hour on, tries again)."""
    if not pruning.cancelled() and (exc := pruning.exception()) is not None:
        log.warning("bot: recorded updates not pruned (%s); tried again later", describe(exc))
