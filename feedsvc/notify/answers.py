"""What an HTTP answer to a Bot API call says, before python-telegram-bot reads it.

PTB reads any error status as Telegram's verdict: a 403 as :class:`~telegram.error.Forbidden`,
a 400 as :class:`~telegram.error.BadRequest`, whatever the body. Between feedsvc and Telegram
sit proxies (a corporate egress proxy, nginx in front of a local Bot API server, a captive
portal) that answer 403 or 400 with an HTML page of their own; read as Telegram's, a proxy's
403 ended every alert as ``blocked`` and disabled every chat it reached, and a 400 made each
alert a dead letter. The Bot API always answers a JSON object with ``"ok": false`` (Bot API
"Making requests"; FIELD-NOTES "Fake Bot API"): any other error body is the path's failure,
not the chat's or the message's, so it is a :class:`NotBotApiAnswer`, a ``NetworkError`` the
classifier (:func:`feedsvc.notify.telegram.classify_outcome`) reads like a 5xx: transient, but
perhaps acted on (a gateway's 502/504 after passing the call on), so never a bot's answer sent
again.

A 2xx answer is the Bot API's only as a JSON object with ``"ok": true`` and a ``"result"``:
a ``telegram.base_url`` at a server answering 200 ``{}`` (``[]``, ``{"ok": true}``, a page)
made PTB raise ``KeyError: 'result'`` out of every call, logged as a bug in the bot's loop at
each retry (a tester's). It is a :class:`ForeignSuccess`: a send's unknown outcome, any other
call's failure, told once naming the setting (:mod:`feedsvc.notify.not_bot_api`).

The answer's ``parameters`` are outside data too: PTB builds a timedelta from ``retry_after``
(one of 10**15 seconds or more, or ``1e999``, raised ``OverflowError`` out of the send) and
takes any ``migrate_to_chat_id`` (``true``, a text, another channel's id, the chat's own id) as
the chat's new id, to which the outbox then moves the chat (its own: the chat, its
subscriptions and the alert were deleted). A pause is bounded here
(:func:`feedsvc.notify.outcome.bounded_pause`); a migration to what cannot be a supergroup's
id, or a pause that is no number, is not the Bot API's answer either.

A 429 is the flood limit whatever else its answer says: one without a usable ``retry_after``
(none, 0, negative, no number; :func:`feedsvc.notify.outcome.retry_after_seconds`), or whose
body is not the Bot API's, was PTB's ``NetworkError`` (or ours): a transient failure, that one
alert backed off while the chat's next alerts walked into the limit again. It is a
:class:`DefaultPause`, a ``RetryAfter`` of :data:`~feedsvc.notify.outcome.DEFAULT_RETRY_AFTER`
seconds: the chat paused, the alert kept, as for any 429.
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import timedelta
from typing import Any

from telegram.error import NetworkError, RetryAfter, TelegramError

from feedsvc.db.schema import NON_TELEGRAM_IDS
from feedsvc.notify.outcome import DEFAULT_RETRY_AFTER, bounded_pause, retry_after_seconds

TOO_MANY_REQUESTS = 429


class NotBotApiAnswer(NetworkError):
    """An error status whose body is not the Bot API's: whatever answered (a proxy, nginx in
    front of a local Bot API server) may have passed the call on before failing (a 504 when
    upstream was slow): the outbox retries an alert later, a bot's answer is not sent again
    (:func:`feedsvc.notify.telegram.never_reached`)."""


class ForeignSuccess(NotBotApiAnswer):
    """A 2xx answer whose body is not the Bot API's (no ``"ok": true`` with a ``"result"``: a
    web server's ``{}``, a proxy's page): whatever answered may have passed a message on, so
    a send is an unknown outcome (:func:`feedsvc.notify.telegram.classify_outcome`); for any
    other call it is the path's failure, retried, and told naming ``telegram.base_url``
    (:mod:`feedsvc.notify.not_bot_api`). PTB read such a body as ``KeyError: 'result'``."""


class DefaultPause(RetryAfter):
    """A 429 without a usable ``retry_after``: pause the chat :data:`DEFAULT_RETRY_AFTER`
    seconds. Its text (the delivery's stored error) is the answer's own words and says so."""

    def __init__(self, said: str) -> None:
        super().__init__(math.ceil(DEFAULT_RETRY_AFTER))
        self.message = f"{said} (no usable retry_after: paused {DEFAULT_RETRY_AFTER:.0f} s)"

    def __reduce__(self) -> tuple[type, tuple[str]]:  # type: ignore[override]
        return self.__class__, (self.message,)


def read_error_answer(
    status: int, payload: bytes, chat: int | None = None, *, api_call: bool = True
) -> TelegramError | None:
    """The exception to raise for the answer ``(status, payload)`` to a call naming ``chat``
    instead of PTB's reading, or None when PTB reads it right (a Bot API answer: a 2xx one with
    ``"ok": true`` and a ``"result"``, or a Bot API error it takes as it is). A 2xx answer to
    an ``api_call`` without them is a :class:`ForeignSuccess` (not an API call: a file's
    download, PTB's GET, whose 2xx answer is the file's bytes)."""
    success = 200 <= status <= 299
    if success and not api_call:
        return None
    try:
        body: Any = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8 JSON (UnicodeDecodeError is a ValueError)
        body = None
    if success:
        if isinstance(body, dict) and body.get("ok") is True and "result" in body:
            return None
        return ForeignSuccess(_foreign(status, payload, NO_RESULT))
    if not isinstance(body, dict) or body.get("ok") is not False:
        return _refused(status, _foreign(status, payload, "not a Bot API answer"))
    parameters = body.get("parameters")
    if parameters is None:
        return DefaultPause(_said(body)) if status == TOO_MANY_REQUESTS else None
    if not isinstance(parameters, dict):
        return _refused(status, _foreign(status, payload, "parameters that are no object"))
    migrate = parameters.get("migrate_to_chat_id")
    if migrate:  # PTB's test, first, as PTB reads them
        if supergroup_id(migrate) and migrate != chat:
            return None
        what = "the chat itself" if migrate == chat else "no chat"
        return NotBotApiAnswer(_foreign(status, payload, f"a migrate_to_chat_id naming {what}"))
    retry = parameters.get("retry_after")
    seconds = retry_after_seconds(retry)
    if seconds is not None:
        return RetryAfter(math.ceil(bounded_pause(seconds)))
    if status == TOO_MANY_REQUESTS:
        return DefaultPause(_said(body))
    if not retry:
        return None
    if isinstance(retry, bool) or not isinstance(retry, int | float) or retry != retry:  # NaN
        return NotBotApiAnswer(_foreign(status, payload, "a retry_after that is no number"))
    return RetryAfter(1)  # a negative one on another status: the shortest pause, as before


#: What a 2xx answer that is not the Bot API's lacks, in words.
NO_RESULT = 'not a Bot API answer (no "ok": true with a "result")'


def _refused(status: int, what: str) -> TelegramError:
    """What an answer that is not the Bot API's own is: a 429's :class:`DefaultPause` (the
    limit, whoever says it), else a :class:`NotBotApiAnswer` retried."""
    return DefaultPause(what) if status == TOO_MANY_REQUESTS else NotBotApiAnswer(what)


def _said(body: dict[str, Any]) -> str:
    """The Bot API answer's own words (its ``description``), for the stored error."""
    description = body.get("description")
    return description if isinstance(description, str) and description else "Too Many Requests"


def supergroup_id(value: object) -> bool:
    """Whether ``value`` can be the id a group moved to: a negative integer of at most 52
    bits (Bot API ``Chat.id``; ``migrate_to_chat_id`` names a supergroup, ids below zero),
    never a boolean, a text or an id of feedsvc's other channels (:data:`NON_TELEGRAM_IDS`)."""
    return isinstance(value, int) and not isinstance(value, bool) and -NON_TELEGRAM_IDS < value < 0


def _foreign(status: int, payload: bytes, what: str) -> str:
    """A short description of an answer that is not the Bot API's: its status and size, never
    its body (a proxy's page: kilobytes of HTML in every dead letter and log line)."""
    return f"HTTP {status} answer of {len(payload)} bytes: {what}"


def pause_seconds(exc: RetryAfter) -> float:
    """A ``RetryAfter``'s wait in seconds (``inf`` for an int beyond a float's range: "a very
    long time"), whichever form PTB 22 gives it (an int now, a ``timedelta`` later)."""
    with warnings.catch_warnings():  # PTB 22 warns that the int form becomes a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    try:
        return value.total_seconds() if isinstance(value, timedelta) else float(value)
    except OverflowError:
        return math.inf
