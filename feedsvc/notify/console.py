"""Console notifier: the stand-in for Telegram when no bot token is configured (SPEC §6).

The demo and local runs still show every alert, and the dispatcher's bookkeeping is exercised
exactly as with Telegram: each send "succeeds" with an increasing message id.
"""

from __future__ import annotations

import itertools
import logging

from feedsvc.notify.edits import ConsoleEditor
from feedsvc.notify.message import AlertMessage
from feedsvc.notify.outcome import SendOutcome

log = logging.getLogger("feedsvc.notify")


class ConsoleSender:
    """Logs alerts at INFO on logger ``feedsvc.notify`` instead of sending them."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.editor = ConsoleEditor()  # retractions and corrections are logged too

    async def start(self) -> None:
        """Nothing to open: the console is always there."""

    async def close(self) -> None:
        """Nothing to close."""

    async def send(self, chat_id: int, msg: AlertMessage, link_preview: bool) -> SendOutcome:
        """Log the plain-text form (readable in a terminal) and report it sent."""
        message_id = next(self._ids)
        photo = f" [photo {msg.photo_url}]" if msg.photo_url else ""
        log.info("alert to chat %s (#%s)%s:\n%s", chat_id, message_id, photo, msg.plain_text)
        return SendOutcome.sent(message_id)

    async def send_plain(self, chat_id: int, msg: AlertMessage, link_preview: bool) -> SendOutcome:
        return await self.send(chat_id, msg, link_preview)
