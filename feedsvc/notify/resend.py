"""A bot's answer sent again after a 429's pause or a connection never made:
:func:`resent_after_pause`, both bots'.

Why its own module: the Zalo bot uses it, and a Zalo-only service (no ``telegram.token``)
imports nothing of python-telegram-bot (``tests/test_service_imports.py``); the Bot API's
request edge (:mod:`feedsvc.notify.charged`) imports PTB, this imports none of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from feedsvc.notify.outcome import REPLY_RESENDS, REPLY_RETRIES

log = logging.getLogger(__name__)
#: Seconds before an answer that never reached the service goes again (times the try's number).
REPLY_RETRY_DELAY = 0.5

#: awaited when a message call was answered 429, with its chat (Telegram's id, or a Zalo
#: address: :data:`feedsvc.budget.Chat`) and the seconds asked: records
#: the chat's pause; True: wait them and send the call again (a bot's answer), False: raise
#: (:meth:`feedsvc.budget.SendBudget.refused`). The alert sender has none: its outbox pauses
#: the chat and keeps the alert.
Refused = Callable[[int | str | None, float], Awaitable[bool]]
T = TypeVar("T")


async def resent_after_pause(
    send: Callable[[], Awaitable[T]],
    pause_of: Callable[[Exception], float | None],
    refused: Refused,
    chat: int | str | None,
    unsent: Callable[[Exception], bool] | None = None,
) -> T:
    """``send()`` (a bot's answer, any channel's), sent again after the pause a 429 asks —
    ``pause_of`` reads the seconds from what ``send`` raised, None for anything else — at
    most :data:`~feedsvc.notify.outcome.REPLY_RESENDS` times, while ``refused`` (the budget's:
    it records the chat's pause) says to wait; and after a failure ``unsent`` (the channel's
    classifier's :attr:`~feedsvc.notify.outcome.SendOutcome.never_acted`) says surely did not
    take effect (a connection never made), at most
    :data:`~feedsvc.notify.outcome.REPLY_RETRIES` times, :data:`REPLY_RETRY_DELAY` apart and
    longer each time. A connect blip dropped the answer, and the apology after it went into
    the same blip. The one place a bot's answer is sent again, both bots'.

    An answer whose outcome is unknown is not sent again, not even once as an alert is: a read
    timeout, a connection dropped after the request went out, and any 5xx — a gateway's (nginx
    in front of a local Bot API server answers 504 with its page when upstream is slow, after
    passing the request on: the user got the answer three times) or the API's own (no document
    says it was not acted on). The reader is in the chat; one lost is seen and asked again.
    Raises what the last try raised otherwise."""
    pauses = retries = 0
    while True:
        try:
            return await send()
        except Exception as exc:
            seconds = pause_of(exc)
            if seconds is not None:
                if pauses == REPLY_RESENDS or not await refused(chat, seconds):
                    raise
                pauses += 1
            elif unsent is not None and retries < REPLY_RETRIES and unsent(exc):
                retries += 1
                seconds = REPLY_RETRY_DELAY * retries
                log.debug("an answer was not sent (%s); again in %.1f s", type(exc).__name__,
                          seconds)  # fmt: skip
            else:
                raise
        await asyncio.sleep(seconds)
