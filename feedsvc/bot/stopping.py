"""The bot's polling stopped within a short, fixed time, whatever the Bot API's pace.

Why: polling, the bot stops in three steps that each await the Bot API. PTB's ``Updater.stop``
cancels the long poll in flight (at once), then makes one last getUpdates (``timeout=0``) that
confirms the offset of the updates it fetched; ``Application.stop`` waits for the updates in
hand (an answer, sendMessage, in flight). Against a Bot API that answered only after seconds,
that last call and that answer each took up to the read timeout (10 s), past the stop's 5 s:
"bot did not stop in time; abandoning it", exit 1 (a tester's: 4 of 7 stops). Now:

* the confirming call gets :data:`CONFIRM_SECONDS` (:class:`PollRequest`, cut once the stop
  begins); when it gets no answer, PTB's ERROR traceback for it is one warning here instead
  (:class:`_ConfirmCutLine`), and only when it had something to confirm: updates fetched
  since the offset the last answered getUpdates carried (:class:`ConfirmCut`). Nothing
  fetched — a slow Bot API whose long polls brought nothing — is a DEBUG line (it was the
  warning on every stop). What it would have confirmed was in most cases confirmed already:
  each long poll carries the offset past the updates fetched before it, and Telegram applies it
  on receipt. Only updates whose next long poll never reached the Bot API come again at the
  next start, where :mod:`feedsvc.bot.once` finds them handled and drops them;
* the updates in hand get :data:`ANSWERS_SECONDS` to end, then are cancelled
  (:meth:`feedsvc.bot.updates.PerChatUpdates.cancel`): an answer cut short has an unknown
  outcome, as one the process was killed during.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import TimedOut
from telegram.request import RequestData

from feedsvc.bot.updates import PerChatUpdates
from feedsvc.notify.charged import ChargedRequest

log = logging.getLogger("feedsvc.bot")

#: seconds for the stop's last getUpdates (the real Bot API answers one with timeout=0 at once)
CONFIRM_SECONDS = 0.75
#: seconds the updates in hand are given to end once polling stops, before they are cancelled
ANSWERS_SECONDS = 0.75
#: how PTB's Updater begins the line it logs (with a traceback) when that last call fails
_PTB_CONFIRM_FAILED = "Error while calling `get_updates` one more time"


class ConfirmCut(TimedOut):
    """A getUpdates after the stop began that got no answer in time. ``fetched``: its offset
    is not the one the last answered getUpdates carried, so it would have confirmed updates
    fetched since (Telegram applies an offset on receipt, and an answered call was received);
    False: it had nothing to confirm."""

    def __init__(self, message: str, fetched: bool) -> None:
        super().__init__(message)
        self.fetched = fetched


def _offset(request_data: RequestData | None) -> object:
    """A getUpdates call's ``offset`` parameter (PTB's ``Updater._last_update_id``), or None."""
    return request_data.parameters.get("offset") if request_data is not None else None


#: :attr:`PollRequest._confirmed` before any getUpdates was answered: nothing fetched yet
_NONE_ANSWERED = object()


class PollRequest(ChargedRequest):
    """getUpdates' HTTP client. After :meth:`cut` (the stop began) each call of it gets at most
    ``seconds`` in all (pool, connect, write, read), then fails as :class:`ConfirmCut`, PTB's
    :class:`TimedOut`; :meth:`resume` (polling starts again) lifts that. The long poll in
    flight is PTB's to cancel; a long poll sent before the cut keeps its own timeouts. It
    keeps the offset of the last call answered 2xx (``_confirmed``: what Telegram has
    applied; none answered yet, nothing was fetched), to tell whether the stop's call had
    anything to confirm."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cut: float | None = None
        self._confirmed: object = _NONE_ANSWERED

    def cut(self, seconds: float = CONFIRM_SECONDS) -> None:
        self._cut = seconds

    def resume(self) -> None:
        self._cut = None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:  # fmt: skip
        cut, offset = self._cut, _offset(request_data)
        sent = super().do_request(url, method, request_data, *args, **kwargs)
        if cut is None:
            answer = await sent
        else:
            try:
                answer = await asyncio.wait_for(sent, cut)
            except TimeoutError as exc:
                said = f"no answer within {cut:g} s of the stop"
                confirmed = self._confirmed
                raise ConfirmCut(said, confirmed not in (_NONE_ANSWERED, offset)) from exc
        if 200 <= answer[0] <= 299:
            self._confirmed = offset
        return answer


class _ConfirmCutLine(logging.Filter):
    """PTB's ERROR (with a traceback) for a failed last getUpdates at a stop, told as one
    warning of the bot's instead: a slow Bot API at a stop is no error of the program."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(_PTB_CONFIRM_FAILED):
            return True
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ConfirmCut) and not error.fetched:
            log.debug("bot: the last getUpdates got no answer at the stop (%s); it had no "
                      "update to confirm", error)  # fmt: skip
            return False
        log.warning(
            "bot: the last getUpdates, confirming the updates fetched, failed at the stop (%s); "
            "an update whose next long poll did not reach the Bot API either comes again at the "
            "next start (and is not handled again)",
            error,
        )
        return False


def install_confirm_line() -> None:
    """Idempotently put :class:`_ConfirmCutLine` on PTB's Updater logger."""
    logger = logging.getLogger("telegram.ext.Updater")
    if not any(isinstance(f, _ConfirmCutLine) for f in logger.filters):
        logger.addFilter(_ConfirmCutLine())


async def stop_handling(app_stop: asyncio.Future[None], updates: PerChatUpdates) -> None:
    """Await ``app_stop`` (PTB's ``Application.stop``, which waits for the updates in hand),
    cancelling those updates after :data:`ANSWERS_SECONDS`."""
    done, _ = await asyncio.wait({app_stop}, timeout=ANSWERS_SECONDS)
    if not done and (cut := updates.cancel()):
        log.warning(
            "bot: %d update%s still in hand %g s into the stop (an answer the Bot API has not "
            "acknowledged yet); given up, its outcome unknown",
            cut, "" if cut == 1 else "s", ANSWERS_SECONDS,
        )  # fmt: skip
    await app_stop
