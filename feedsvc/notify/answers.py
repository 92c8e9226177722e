"""What an HTTP error answer to a Bot API call says, before python-telegram-bot reads it.

PTB reads any error status as Telegram's verdict: a 403 as :class:`~telegram.error.Forbidden`,
a 400 as :class:`~telegram.error.BadRequest`, whatever the body. Between feedsvc and Telegram
sit proxies (a corporate egress proxy, nginx in front of a local Bot API server, a captive
portal) that answer 403 or 400 with an HTML page of their own; read as Telegram's, a proxy's
403 ended every alert as ``blocked`` and disabled every chat it reached, and a 400 made each
alert a dead letter. The Bot API always answers a JSON object with ``"ok": false`` (Bot API
"Making requests"; FIELD-NOTES "Fake Bot API"): any other error body is the path's failure,
not the chat's or the message's, so it is a :class:`NotBotApiAnswer`, a ``NetworkError`` the
classifier (:func:`feedsvc.notify.telegram.classify_outcome`) retries like a 5xx.

The answer's ``parameters`` are outside data too: PTB builds a timedelta from ``retry_after``
(one of 10**15 seconds or more, or ``1e999``, raised ``OverflowError`` out of the send) and
takes any ``migrate_to_chat_id`` (``true``, a text, another channel's id, the chat's own id) as
the chat's new id, to which the outbox then moves the chat (its own: the chat, its
subscriptions and the alert were deleted). A pause is bounded here
(:func:`feedsvc.notify.outcome.bounded_pause`); a migration to what cannot be a supergroup's
id, or a pause that is no number, is not the Bot API's answer either.
"""

from __future__ import annotations

import json
import math
from typing import Any

from telegram.error import NetworkError, RetryAfter, TelegramError

from feedsvc.db.schema import NON_TELEGRAM_IDS
from feedsvc.notify.outcome import bounded_pause


class NotBotApiAnswer(NetworkError):
    """An error status whose body is not the Bot API's: nothing was sent; retry later."""


def read_error_answer(status: int, payload: bytes, chat: int | None = None) -> TelegramError | None:
    """The exception to raise for the answer ``(status, payload)`` to a call naming ``chat``
    instead of PTB's reading, or None when PTB reads it right (a 2xx, or a Bot API error it
    takes as it is)."""
    if 200 <= status <= 299:
        return None
    try:
        body: Any = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8 JSON (UnicodeDecodeError is a ValueError)
        body = None
    if not isinstance(body, dict) or body.get("ok") is not False:
        return NotBotApiAnswer(_foreign(status, payload, "not a Bot API answer"))
    parameters = body.get("parameters")
    if parameters is None:
        return None
    if not isinstance(parameters, dict):
        return NotBotApiAnswer(_foreign(status, payload, "parameters that are no object"))
    migrate = parameters.get("migrate_to_chat_id")
    if migrate:  # PTB's test, first, as PTB reads them
        if supergroup_id(migrate) and migrate != chat:
            return None
        what = "the chat itself" if migrate == chat else "no chat"
        return NotBotApiAnswer(_foreign(status, payload, f"a migrate_to_chat_id naming {what}"))
    retry = parameters.get("retry_after")
    if not retry:
        return None
    if isinstance(retry, bool) or not isinstance(retry, int | float) or retry != retry:  # NaN
        return NotBotApiAnswer(_foreign(status, payload, "a retry_after that is no number"))
    return RetryAfter(math.ceil(bounded_pause(_seconds(retry))))


def supergroup_id(value: object) -> bool:
    """Whether ``value`` can be the id a group moved to: a negative integer of at most 52
    bits (Bot API ``Chat.id``; ``migrate_to_chat_id`` names a supergroup, ids below zero),
    never a boolean, a text or an id of feedsvc's other channels (:data:`NON_TELEGRAM_IDS`)."""
    return isinstance(value, int) and not isinstance(value, bool) and -NON_TELEGRAM_IDS < value < 0


def _seconds(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an int beyond float's range: "a very long time"
        return math.inf


def _foreign(status: int, payload: bytes, what: str) -> str:
    """A short description of an answer that is not the Bot API's: its status and size, never
    its body (a proxy's page: kilobytes of HTML in every dead letter and log line)."""
    return f"HTTP {status} answer of {len(payload)} bytes: {what}"
