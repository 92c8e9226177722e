"""A bot's base URL that answers something that is not its Bot API, told as one outage.

A ``telegram.base_url`` at a server that answers 200 ``{}`` to everything (a web server, a
proxy's page, a mock left in a config) made PTB's getMe raise ``KeyError: 'result'``: the bot's
lease loop logged ``ERROR feedsvc.bot: bot: lease loop error: KeyError: 'result'`` at every
retry, and nothing named the setting (a tester's; ``config check`` says OK: it does not call
the URL). Such an answer is now a :class:`~feedsvc.notify.answers.NotBotApiAnswer` at the HTTP
edge (:func:`feedsvc.notify.answers.read_error_answer`, 2xx bodies too; Zalo's
:class:`~feedsvc.channels.zalo.api.ForeignAnswer`), and this module tells it.

One :class:`BaseUrlWatch` per setting and URL in the process (:func:`watch_of`): the bot's lease
loop and its getUpdates, and the reader pages' getMe (:func:`feedsvc.server.learn_bot_username`)
report to the same one. The first such answer is one WARNING naming the setting, the URL
(credentials masked: it holds no token) and what came back — its status and size, never its
body; while it lasts, the same again every :data:`~feedsvc.failure_log.REMIND_SECONDS`; the
first answer of the Bot API after it, one INFO line (:class:`~feedsvc.failure_log.FailureLog`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from feedsvc.failure_log import REMIND_SECONDS, FailureLog, spoken
from feedsvc.url_credentials import masked


class BaseUrlWatch:
    """What ``key`` (``telegram.base_url``) at ``url`` answered, as the log tells it (see the
    module docstring); ``api``: what should answer there, in words. Thread-safe."""

    def __init__(
        self, key: str, url: str, api: str, log: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.key, self.url, self.api, self.log = key, url, api, log
        self.told = FailureLog(clock)
        self._lock = threading.Lock()

    def failed(self, said: object) -> None:
        """An answer at the URL that is not the API's (``said``: what the edge raised, whose
        words are the answer's status and size, never its body)."""
        with self._lock:
            kind = self.told.failed(self.key, str(said))
            lasting = self.told.lasting()
        if kind is None:
            self.log.debug("%s %s: not %s again: %s", self.key, masked(self.url), self.api, said)
            return
        still = f" (for {spoken(lasting)} now)" if kind == "reminder" else ""
        self.log.warning(
            "%s %s answered something that is not %s%s: %s; set it to %s's address (a proxy's "
            "own page answers so too); retrying, said again every %s while it lasts",
            self.key, masked(self.url), self.api, still, said, self.api,
            spoken(REMIND_SECONDS),
        )  # fmt: skip

    def answered(self) -> None:
        """The API answered at the URL: the end of a run of such answers, in one line."""
        with self._lock:
            ended = self.told.ended()
        if ended is not None:
            seconds, tries = ended
            self.log.info("%s %s answers as %s again after %s (%d answer(s) that were not)",
                     self.key, masked(self.url), self.api, spoken(seconds), tries)  # fmt: skip


_watches: dict[tuple[str, str], BaseUrlWatch] = {}
_registry_lock = threading.Lock()


def watch_of(
    key: str, url: str, api: str = "the Bot API", logger: str = "feedsvc.bot"
) -> BaseUrlWatch:
    """The one :class:`BaseUrlWatch` of ``key`` at ``url`` in this process, made on first use
    (its lines on ``logger``: the bot's)."""
    with _registry_lock:
        found = _watches.get((key, url))
        if found is None:
            found = BaseUrlWatch(key, url, api, logging.getLogger(logger))
            _watches[(key, url)] = found
        return found
