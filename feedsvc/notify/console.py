"""Console notifier: the stand-in for Telegram when no bot token is configured (SPEC §6).

The demo and local runs still show every alert, and the dispatcher's bookkeeping is exercised
exactly as with Telegram: each send "succeeds" with a message id no other send to the chat had,
in this process or an earlier one (Telegram's are unique per chat). They were counted from #1
in each process: after a restart two deliveries of one chat were recorded with the same id,
which the follow-up worker reads as one digest message, so a correction of the new alert was
"kept (digest message shared by 2)" instead of edited (attack F7).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from feedsvc.logs import LINES
from feedsvc.notify.edits import ConsoleEditor
from feedsvc.notify.message import AlertMessage
from feedsvc.notify.outcome import SendOutcome
from feedsvc.recipient_names import telegram_chat

log = logging.getLogger("feedsvc.notify")


class ConsoleSender:
    """Logs alerts at INFO on logger ``feedsvc.notify`` instead of sending them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """``clock``: seconds since the epoch (the message ids' source; tests pass their own)."""
        self._clock = clock
        self._last = 0
        self.editor = ConsoleEditor()  # retractions and corrections are logged too

    def _next_id(self) -> int:
        """The wall clock in milliseconds, and above the last id given: increasing in a process,
        and a restart (far longer than a millisecond; sends are paced by
        ``telegram.global_rate``, far under one a millisecond, so ids never run ahead of the
        clock) starts above every id the previous process gave. Unique for every chat at once,
        with no read of the state DB. A wall clock set back across a restart could repeat ids:
        the console is for demos and local runs."""
        self._last = max(self._last + 1, int(self._clock() * 1000))
        return self._last

    async def start(self) -> None:
        """Nothing to open: the console is always there."""

    async def close(self) -> None:
        """Nothing to close."""

    async def send(self, chat_id: int, msg: AlertMessage, link_preview: bool) -> SendOutcome:
        """Log the plain-text form (readable in a terminal) and report it sent."""
        message_id = self._next_id()
        photo = f" [photo {msg.photo_url}]" if msg.photo_url else ""
        # its lines indented under the record (LINES), not one line of "\n" escapes
        log.info("alert to %s (#%s)%s:\n%s", telegram_chat(chat_id), message_id, photo,
                 msg.plain_text, extra=LINES)  # fmt: skip
        return SendOutcome.sent(message_id, photo=bool(msg.photo_url and msg.is_caption))

    async def send_plain(self, chat_id: int, msg: AlertMessage, link_preview: bool) -> SendOutcome:
        """A text, as Telegram's plain fallback is (never a photo)."""
        return await self.send(chat_id, replace(msg, photo_url=None, is_caption=False),
                               link_preview)  # fmt: skip
