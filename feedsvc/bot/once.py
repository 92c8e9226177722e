"""Each Telegram update acted on at most once, across restarts (the state DB decides).

Why: Telegram forgets an update only when a later getUpdates carries an offset past it. An
update the bot fetched and answered, whose confirming call never reached the Bot API before a
stop (a slow proxy; the stop's last getUpdates is cut after
:data:`~feedsvc.bot.stopping.CONFIRM_SECONDS`), came again after the restart and was answered
again: a ``/sub`` or ``/unsub`` applied twice, an answer sent twice.

Now :class:`FirstDelivery` records an update's ``update_id`` when the update is taken for
handling, before it is answered (at most once, as PTB's own confirmation is), in the state DB's
table of updates acted on (:mod:`feedsvc.store.zalo_updates`, the same insert-if-new Zalo's
updates go through; its ``chat`` is ``telegram:<bot id>`` here, which no Zalo chat id has: no
schema change). Keyed by the bot's id (the token's numeric prefix): another bot's update ids
start again. Rows go after that module's ``KEEP`` (48 h; Telegram keeps an update 24 h).

A state DB that cannot record it does not stop the bot: the update is handled (availability
over deduplication) and a warning says so.
"""

from __future__ import annotations

import logging
import time

from telegram import Update

from feedsvc.db import Database
from feedsvc.db.errors import describe
from feedsvc.store import zalo_updates

log = logging.getLogger("feedsvc.bot")

PRUNE_EVERY = 600.0  # seconds between two prunings of the recorded updates, per process


def bot_key(token: str) -> str:
    """The recorded updates' ``chat`` for the bot of ``token`` (its id, never the token)."""
    return f"telegram:{token.split(':', 1)[0]}"


class FirstDelivery:
    """``admit(update)``: whether ``update`` is the first copy of it this bot takes (blocking:
    the DB). Given to :class:`feedsvc.bot.updates.PerChatUpdates`, which asks it for every
    update as the update's turn comes."""

    def __init__(self, db: Database, token: str) -> None:
        self.db = db
        self.chat = bot_key(token)
        self._next_prune = 0.0  # time.monotonic() of the next pruning

    def __call__(self, update: object) -> bool:
        if not isinstance(update, Update):
            return True  # not from Telegram (nothing else is put in the queue today)
        try:
            first = self._record(str(update.update_id))
        except Exception as exc:  # the DB down or locked: answer rather than drop
            log.warning(
                "bot: could not record update %d as handled (%s); handled all the same: "
                "if Telegram sends it again it is answered again",
                update.update_id, describe(exc),
            )  # fmt: skip
            return True
        if not first:
            log.info(
                "bot: update %d was handled before (Telegram sent it again: its confirmation "
                "did not reach the Bot API); ignored",
                update.update_id,
            )
        return first

    def _record(self, key: str) -> bool:
        now = self.db.now()
        with self.db.write() as conn:
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY
                zalo_updates.prune(conn, now)
            return zalo_updates.first_delivery(conn, self.chat, key, now)
