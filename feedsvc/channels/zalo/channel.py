"""The Zalo channel: its limits, its error classifier, and the send of one alert.

Limits (the one place that declares them): plain text within 2,000 characters
(:mod:`.message`); at most one message a second to a private chat and one every 3 s to a group
(Zalo publishes no figures we could find: Telegram's, which are conservative for a chat app);
``zalo.global_rate`` overall (default 10/s), counting every call that sends a message, the
bot's answers too (the client charges the channel's send budget); a recipient is disabled after
3 permanent failures in a row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta, tzinfo

import httpx

from feedsvc.articles import Article
from feedsvc.budget import send_budget
from feedsvc.channels.base import ChannelLimits, OutcomeKind, SendOutcome, Target
from feedsvc.channels.plain import link_left_out_line
from feedsvc.channels.zalo.api import ForeignAnswer, ZaloBotAPI, ZaloError
from feedsvc.channels.zalo.message import TEXT_LIMIT, zalo_alert
from feedsvc.notify.message import AlertMessage, trim_utf16
from feedsvc.notify.outcome import DEFAULT_RETRY_AFTER
from feedsvc.notify.refusals import classify_refusal
from feedsvc.notify.unsent import UNSENT

LIMITS = ChannelLimits(
    name="zalo",
    max_text=TEXT_LIMIT,
    text_unit="utf16",
    global_rate=10.0,
    private_interval=timedelta(seconds=1.05),
    group_interval=timedelta(seconds=3.05),
    disable_after=3,
    max_in_flight=32,
)
TOO_MANY_REQUESTS = 429

log = logging.getLogger(__name__)


def classify(exc: BaseException) -> SendOutcome:
    """Fold what a ``sendMessage`` raised into an outcome (the channel's one classifier).

    429 — as the HTTP status or as ``error_code`` — pauses the chat, for its ``retry_after``
    or, none usable, :data:`~feedsvc.notify.outcome.DEFAULT_RETRY_AFTER` (Telegram's rule);
    401 is the bot's token refused (``TOKEN_REFUSED``: every alert waits for the operator,
    unspent); 5xx is the service's problem, retried; 403 is the recipient
    refusing (blocked the bot); a 400/404 whose words name a missing or refusing
    recipient is chat-level, other 400s are this message's fault; a 404 that names no recipient
    is a wrong ``base_url``, retried (never a reason to disable every chat). Transport errors
    before the request was complete are transient and surely not acted on
    (:attr:`~feedsvc.notify.outcome.SendOutcome.unacted`: a bot's answer goes again at once);
    after it (read timeout, dropped connection, unreadable answer) the outcome is unknown. An
    error status whose body is not the API's (``ZaloError.foreign``: a proxy's HTML page) says
    nothing of the chat or the message: a 429 still pauses, any other is retried like a 5xx.
    Neither is ``unacted``: a gateway's 502/504 may come after it passed the request on, and
    Zalo's own 5xx says nothing of whether the message went; an alert is retried later, a
    bot's answer is not sent again.
    """
    if isinstance(exc, ZaloError):
        text = exc.description if exc.foreign else f"{exc.code}: {exc.description}"
        if TOO_MANY_REQUESTS in (exc.code, exc.status):
            if exc.retry_after is not None:
                return SendOutcome.retry_after(exc.retry_after, text)
            said = f"{text} (no usable retry_after: paused {DEFAULT_RETRY_AFTER:.0f} s)"
            return SendOutcome.retry_after(DEFAULT_RETRY_AFTER, said)
        if exc.foreign:
            return SendOutcome.transient(text)
        if exc.code == 401:
            return SendOutcome.token_refused(text)
        if exc.code == 403:
            return classify_refusal(text, forbidden=True)
        if exc.code in (400, 404):
            outcome = classify_refusal(text)
            if outcome.kind is OutcomeKind.PARSE_ERROR:
                return SendOutcome.bad_content(text)
            if exc.code == 404 and not outcome.kind.chat_level:
                return SendOutcome.transient(text)
            return outcome
        return SendOutcome.transient(text)
    name = type(exc).__name__
    if isinstance(exc, UNSENT):  # no connection made, the request not complete: unacted
        return SendOutcome.transient(name, unacted=True)
    if isinstance(exc, httpx.ReadTimeout | httpx.ReadError | httpx.RemoteProtocolError):
        return SendOutcome.ambiguous(name)
    if isinstance(exc, ForeignAnswer):  # its words: the answer's status and size
        return SendOutcome.ambiguous(str(exc))
    if isinstance(exc, httpx.DecodingError):
        return SendOutcome.ambiguous(name)
    return SendOutcome.transient(name)


def message_number(message_id: str | None) -> int:
    """Zalo's message id as the outbox's integer column holds it (0 when not a number)."""
    if message_id is not None and message_id.isascii() and message_id.isdigit():
        value = int(message_id)
        if value < 2**63:
            return value
    return 0


class ZaloChannel:
    """Alerts to Zalo chats through :class:`ZaloBotAPI`, every message call charged to the
    channel's send budget (the client's ``charge``)."""

    def __init__(self, api: ZaloBotAPI, tz: tzinfo, *, global_rate: float | None = None) -> None:
        self.api = api
        self.tz = tz
        self.limits = LIMITS if global_rate is None else replace(LIMITS, global_rate=global_rate)
        #: the channel's send budget in this process (bound to the state DB by its dispatcher),
        #: shared with its follow-up worker and the Zalo bot of this process
        self.budget = send_budget(self)
        api.charge = self.budget.charge

    async def start(self) -> None:
        await self.api.start()

    async def close(self) -> None:
        await self.api.close()

    async def deliver(self, target: Target, article: Article, topics: Sequence[str]) -> SendOutcome:
        alert = zalo_alert(article, topics, self.tz)
        if said := link_left_out_line("zalo", target.delivery_id, alert, TEXT_LIMIT):
            log.info("%s", said)
        return await self._send(target, alert.text)

    async def send_message(self, target: Target, msg: AlertMessage) -> SendOutcome:
        """A message composed elsewhere (a digest part, split at this channel's limit): its
        plain-text form, as Zalo takes no markup."""
        return await self._send(target, trim_utf16(msg.plain_text, TEXT_LIMIT))

    async def who_am_i(self) -> SendOutcome:
        """getMe, folded by :func:`classify`: ``SENT`` when the token is accepted,
        ``TOKEN_REFUSED`` when refused (``channels.tokens.TokenWatch`` records which)."""
        try:
            await self.api.get_me()
        except (ZaloError, httpx.HTTPError) as exc:
            return classify(exc)
        return SendOutcome.sent(0)

    async def _send(self, target: Target, text: str) -> SendOutcome:
        try:
            message_id = await self.api.send_message(target.address, text)
        except (ZaloError, httpx.HTTPError) as exc:
            return classify(exc)
        return SendOutcome.sent(message_number(message_id))
