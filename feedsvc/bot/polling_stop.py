"""The Telegram bot's polling stopped: PTB's half of :mod:`feedsvc.bot.stopping` (why and the
shares are there). Its own module so that the rule the Zalo bot shares imports nothing of
python-telegram-bot; this one is imported where the Telegram bot is built
(:mod:`feedsvc.bot.service`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram.error import TimedOut
from telegram.request import RequestData

from feedsvc.bot.stopping import CONFIRM_SECONDS, log, shares, stop_handling
from feedsvc.bot.updates import PerChatUpdates
from feedsvc.notify.charged import ChargedRequest

#: how PTB's Updater begins the line it logs (with a traceback) when that last call fails
_PTB_CONFIRM_FAILED = "Error while calling `get_updates` one more time"


class ConfirmCut(TimedOut):
    """A getUpdates after the stop began that got no answer in time. ``fetched``: it would
    have confirmed an update fetched since the offset the last answered getUpdates carried
    (Telegram applies an offset on receipt, and an answered call was received) that is not a
    copy of one handled before; False: it had nothing to confirm that matters."""

    def __init__(self, message: str, fetched: bool) -> None:
        super().__init__(message)
        self.fetched = fetched


def _offset(request_data: RequestData | None) -> int:
    """A getUpdates call's ``offset`` parameter (PTB's ``Updater._last_update_id``), 0 when
    none (as Telegram reads it)."""
    offset = request_data.parameters.get("offset") if request_data is not None else None
    return offset if isinstance(offset, int) else 0


def _update_ids(payload: bytes) -> list[int]:
    """The ``update_id`` of each update a getUpdates answer brought (none when it is not
    the Bot API's shape: PTB tells that)."""
    try:
        result = json.loads(payload).get("result")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return []
    if not isinstance(result, list):
        return []
    ids = (u.get("update_id") for u in result if isinstance(u, dict))
    return [i for i in ids if isinstance(i, int)]


class PollRequest(ChargedRequest):
    """getUpdates' HTTP client. After :meth:`cut` (the stop began) each call of it gets at most
    ``seconds`` in all (pool, connect, write, read), then fails as :class:`ConfirmCut`, PTB's
    :class:`TimedOut`; :meth:`resume` (polling starts again) lifts that. The long poll in
    flight is PTB's to cancel; a long poll sent before the cut keeps its own timeouts.

    It keeps the ids of the updates fetched and not yet confirmed (``_unconfirmed``: each
    answered call's updates, less those below its offset, which Telegram applied), and
    :meth:`handled_before` takes out a copy :mod:`feedsvc.bot.once` dropped: whether the stop's
    call had anything to confirm that matters. Only answered calls count: one cut or
    cancelled may or may not have reached the Bot API."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cut: float | None = None
        self._unconfirmed: set[int] = set()

    def cut(self, seconds: float = CONFIRM_SECONDS) -> None:
        self._cut = seconds

    def resume(self) -> None:
        self._cut = None

    def handled_before(self, update_id: int) -> None:
        """``update_id`` is a copy of an update handled before (dropped): if it comes again
        it is dropped again, so confirming it does not matter."""
        self._unconfirmed.discard(update_id)

    @property
    def unconfirmed(self) -> int:
        """Updates fetched that no answered getUpdates has confirmed, copies left out."""
        return len(self._unconfirmed)

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
                fetched = any(i < offset for i in self._unconfirmed)
                raise ConfirmCut(said, fetched) from exc
        if 200 <= answer[0] <= 299:
            if offset:  # Telegram forgot every update below it
                self._unconfirmed = {i for i in self._unconfirmed if i >= offset}
            self._unconfirmed.update(_update_ids(answer[1]))
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
                      "new update to confirm", error)  # fmt: skip
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


async def stop_polling(
    app: Any, polls: PollRequest | None, updates: PerChatUpdates, within: float | None = None
) -> None:
    """Stop ``app``'s (PTB's ``Application``) polling and the updates in hand in at most
    ``within`` seconds (:func:`shares`; None: :data:`POLLING_STOP_SECONDS`): the long poll
    cancelled, the confirming call cut (``polls``), the answers given until their share of the
    stop has passed, counted from its start."""
    confirm, answers = shares(within)
    began = asyncio.get_running_loop().time()
    if polls is not None:
        polls.cut(confirm)
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await stop_handling(asyncio.ensure_future(app.stop()), updates, began, answers)
