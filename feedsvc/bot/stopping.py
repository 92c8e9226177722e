"""A bot's polling stopped within a short, fixed time, whatever the Bot API's pace: the rule.

Why: polling, the bot stops in three steps that each await the Bot API. PTB's ``Updater.stop``
cancels the long poll in flight (at once), then makes one last getUpdates (``timeout=0``) that
confirms the offset of the updates it fetched; ``Application.stop`` waits for the updates in
hand (an answer, sendMessage, in flight). Against a Bot API that answered only after seconds,
that last call and that answer each took up to the read timeout (10 s), past the stop's 5 s:
"bot did not stop in time; abandoning it", exit 1 (a tester's: 4 of 7 stops). Now:

* the confirming call gets :data:`CONFIRM_SECONDS` (:class:`polling_stop.PollRequest`, cut
  once the stop begins); when it gets no answer, PTB's ERROR traceback for it is one warning
  instead (:class:`polling_stop._ConfirmCutLine`), and only when it had something to confirm:
  an update fetched since the offset the last answered getUpdates carried that was not a copy
  of one handled before (:class:`polling_stop.ConfirmCut`). Nothing fetched — a slow Bot API
  whose long polls brought nothing — or only a copy :mod:`feedsvc.bot.once` dropped (an
  update re-sent at the start because the last stop's confirmation was cut: if it comes
  again it is dropped again) is a DEBUG line (it was the warning on every stop). What it
  would have confirmed was in most cases confirmed already: each long poll carries the
  offset past the updates fetched before it, and Telegram applies it on receipt. Only
  updates whose next long poll never reached the Bot API come again at the next start, where
  :mod:`feedsvc.bot.once` finds them handled and drops them;
* the updates in hand get until :data:`ANSWERS_SECONDS` into the stop to end, then are
  cancelled (:meth:`feedsvc.bot.updates.PerChatUpdates.cancel`): an answer cut short has an
  unknown outcome, as one the process was killed during. Their time runs from the stop's
  start, alongside the confirming call (they run meanwhile), not after it: one after the other
  the two took 1.5 s, more than the bot's share of the 5 s stop when the service's other steps
  had taken theirs (about 1.4 s: "bot did not stop in time", exit 1 and the lease left behind
  whenever getUpdates and an answer were both slow, a tester's 4 of 4). Both shares shrink to
  fit a shorter stop still (:func:`shares`).

The updates in hand are given up by one rule for both bots (:func:`stop_handling`: until
their share, counted from the stop's start, then cancelled with one line): the Zalo bot's
stop (:meth:`feedsvc.channels.zalo.service.ZaloService.stop`) gives its chats' lanes
(:class:`~feedsvc.channels.zalo.lanes.ChatLanes`) the same share.

Split: this module is the rule both bots share and imports nothing of python-telegram-bot: a
Zalo-only service (no ``telegram.token``) imports it and not PTB
(``tests/test_service_imports.py``). The Telegram bot's PTB-bound half (:class:`PollRequest`,
:class:`ConfirmCut`, :func:`stop_polling`) is :mod:`feedsvc.bot.polling_stop`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger("feedsvc.bot")

#: seconds for the stop's last getUpdates (the real Bot API answers one with timeout=0 at once)
CONFIRM_SECONDS = 0.75
#: seconds into the stop the updates in hand are given to end, before they are cancelled
ANSWERS_SECONDS = 0.75
#: seconds the stop of polling takes at most: its two shares run side by side
POLLING_STOP_SECONDS = max(CONFIRM_SECONDS, ANSWERS_SECONDS)
#: how often a stop whose time is up cancels updates that began after its first cancel
_RECHECK_SECONDS = 0.05


class InHand(Protocol):
    """The updates a bot is handling, which its stop may cut short: PTB's
    (:class:`~feedsvc.bot.updates.PerChatUpdates`) or the Zalo bot's lanes
    (:class:`~feedsvc.channels.zalo.lanes.ChatLanes`)."""

    def cancel(self) -> int:
        """Cancel every update in hand or waiting for its turn; how many."""
        ...


def shares(within: float | None) -> tuple[float, float]:
    """The confirming call's and the answers' seconds for a stop of polling given ``within``
    seconds (None: no limit but their own), each at least a tick."""
    if within is None:
        return CONFIRM_SECONDS, ANSWERS_SECONDS
    return max(0.05, min(CONFIRM_SECONDS, within)), max(0.0, min(ANSWERS_SECONDS, within))


async def stop_handling(
    app_stop: asyncio.Future[None], updates: InHand, began: float, seconds: float,
    who: logging.Logger = log,
) -> None:  # fmt: skip
    """Await ``app_stop`` (PTB's ``Application.stop``, the Zalo bot's ``drain``: each waits for
    the updates in hand), cancelling those updates once ``seconds`` have passed since
    ``began`` (the event loop's time the bot's stop began: the confirming call's time counts),
    and any that begin after (PTB takes the updates still queued before it stops). The line
    saying how many were given up is ``who``'s (``feedsvc.bot``, ``feedsvc.zalo``), its name's
    last part leading it."""
    loop = asyncio.get_running_loop()
    cut, at = 0, 0.0
    try:
        done, _ = await asyncio.wait({app_stop}, timeout=max(0.0, began + seconds - loop.time()))
        at = loop.time() - began
        while not done:
            cut += updates.cancel()
            done, _ = await asyncio.wait({app_stop}, timeout=_RECHECK_SECONDS)
    except asyncio.CancelledError:  # the stop that began this one is itself cut short (the
        at = loop.time() - began  # lease loop's, by the service's stop): nothing left running
        cut += updates.cancel()
        raise
    finally:
        if cut:
            who.warning(
                "%s: %d update%s still in hand %.2f s into the stop (an answer the Bot API has "
                "not acknowledged yet); given up, its outcome unknown",
                who.name.rpartition(".")[2], cut, "" if cut == 1 else "s", at,
            )  # fmt: skip
    await app_stop
