"""The sending edge: one alert → one Bot API call → a
:class:`~feedsvc.notify.outcome.SendOutcome` the dispatcher stores.

Everything python-telegram-bot can raise is folded into a small closed set of outcomes (SPEC §6
"Delivery semantics"), so the dispatcher decides retries and terminal states from data, never
from exception types or message strings. Order of ``except`` clauses matters: ``RetryAfter`` and
``ChatMigrated`` first (PTB raises them whatever the HTTP status), then ``Forbidden`` and
``BadRequest``, then ``TimedOut`` (a ``NetworkError``), then ``NetworkError``. An error answer
that is not the Bot API's own (a proxy's HTML 403) never reaches the 403/400 reading: the
request edge raises it as :class:`~feedsvc.notify.answers.NotBotApiAnswer`, a ``NetworkError``
(transient), and bounds or refuses the ``retry_after`` and ``migrate_to_chat_id`` PTB would
misread (:func:`feedsvc.notify.answers.read_error_answer`).

The bot token is a credential: it is scrubbed from every description returned and from the
``httpx`` request log (which prints full URLs, ``/bot<TOKEN>/`` included, at INFO).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Self

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from feedsvc.notify.answers import ForeignSuccess, pause_seconds
from feedsvc.notify.charged import Charge, ChargedRequest
from feedsvc.notify.message import AlertMessage, Button
from feedsvc.notify.outcome import OutcomeKind, SendOutcome
from feedsvc.notify.refusals import classify_refusal, keyboard_refused
from feedsvc.notify.tls import tls_context
from feedsvc.notify.unsent import UNSENT
from feedsvc.recipient_names import telegram_chat

log = logging.getLogger("feedsvc.notify")
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
_TOKEN_RE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


def scrub_token(text: str, token: str | None = None) -> str:
    """``text`` without the bot token (the given one, and anything shaped like a token)."""
    if token:
        text = text.replace(token, "<token>")
    return _TOKEN_RE.sub("<token>", text)


class _ScrubFilter(logging.Filter):
    """Rewrites log records of a logger so they never carry a bot token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub_token(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


# Loggers known to print the token: httpx logs every URL at INFO, PTB's bots log their base URL
# at DEBUG. Filters on a logger apply to records created on it, hence the exact names.
_LEAKY_LOGGERS = (
    "httpx",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
)


def install_log_scrubber() -> None:
    """Idempotently scrub tokens from loggers that print them; call before creating a Bot."""
    for name in _LEAKY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ScrubFilter) for f in logger.filters):
            logger.addFilter(_ScrubFilter())


class TelegramSender:
    """Sends alerts through a python-telegram-bot :class:`~telegram.Bot`.

    Timeouts default to connect 5 s, read 10 s, write 10 s, pool 5 s; tests pass short ones.
    Use ``async with TelegramSender(...)`` (or :meth:`start`/:meth:`close`).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        write_timeout: float = 10.0,
        pool_timeout: float = 5.0,
        pool_size: int = 64,
    ) -> None:
        self._token = token
        install_log_scrubber()  # before Bot(): its constructor logs the URL with the token
        request = ChargedRequest(
            connection_pool_size=pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
            media_write_timeout=write_timeout,
            httpx_kwargs={"verify": tls_context()},
        )
        # getUpdates is never asked of a sender, but PTB builds its client anyway: given ours,
        # with the process's TLS context rather than one of its own (:mod:`.tls`)
        self.bot = Bot(
            token, base_url=base_url, request=request, get_updates_request=bare_request()
        )
        from feedsvc.notify.telegram_edits import TelegramEditor  # it builds on this module

        self.editor = TelegramEditor(self.bot, token)
        self._request = request

    def charge_with(self, charge: Charge | None) -> None:
        """Charge every message call this sender (and its editor) makes to ``charge``: the
        channel sets its send budget's (:meth:`feedsvc.budget.SendBudget.charge`), so a
        second call for one alert (the text after a refused photo) takes a slot of its own."""
        self._request.charge = charge

    async def start(self) -> None:
        """Open the HTTP pool. No ``getMe`` here: a dead network must not stop the service."""
        await self.bot.request.initialize()

    async def close(self) -> None:
        await self.bot.request.shutdown()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def send(self, chat_id: int, msg: AlertMessage, link_preview: bool) -> SendOutcome:
        """Send ``msg`` as HTML; a photo the server rejects falls back to a text message, and
        a text refused with its keyboard goes without it (:meth:`_keyboard_fallback`)."""
        if msg.photo_url and msg.is_caption:
            photo = await self._call(
                self.bot.send_photo(
                    chat_id, msg.photo_url, caption=msg.text, parse_mode=ParseMode.HTML,
                    **_options(msg),
                )
            )  # fmt: skip
            if photo.kind is not OutcomeKind.BAD_CONTENT:
                return photo
            # a second call: the request charges it a slot of its own (ChargedRequest)
            log.info("photo rejected for %s (%s); sending text", telegram_chat(chat_id),
                     photo.description)  # fmt: skip

        def text(m: AlertMessage) -> Awaitable[Message]:
            preview = LinkPreviewOptions(is_disabled=not link_preview)
            return self.bot.send_message(chat_id, m.text, parse_mode=ParseMode.HTML,
                                         link_preview_options=preview, **_options(m))  # fmt: skip

        return await self._keyboard_fallback(chat_id, msg, text)

    async def send_plain(self, chat_id: int, msg: AlertMessage, link_preview: bool) -> SendOutcome:
        """The "can't parse entities" fallback: ``msg.plain_text`` with no parse mode."""

        def plain(m: AlertMessage) -> Awaitable[Message]:
            preview = LinkPreviewOptions(is_disabled=not link_preview)
            return self.bot.send_message(chat_id, m.plain_text, link_preview_options=preview,
                                         **_options(m))  # fmt: skip

        return await self._keyboard_fallback(chat_id, msg, plain)

    async def _keyboard_fallback(
        self, chat_id: int, msg: AlertMessage, call: Callable[[AlertMessage], Awaitable[Message]]
    ) -> SendOutcome:
        """``call(msg)``; refused as bad content with a keyboard, ``call`` again without it.

        Telegram refuses a whole message for its keyboard on rules its docs do not all state
        (a URL button's host without a dot: ``BUTTON_URL_INVALID``; a keyboard over ~10 KB:
        "Reply markup is too long", tginfo/Telegram-Limits issue 187), and a refusal is
        recorded as "can never be sent": the alert was lost for its buttons. The buttons are
        extras (the title links the article). A second call, charged a slot of its own, only
        for a refusal that names the keyboard (:func:`keyboard_refused`)."""
        outcome = await self._call(call(msg))
        if not (msg.buttons and keyboard_refused(outcome.kind, outcome.description)):
            return outcome
        log.info("alert refused for %s (%s); sending it without its buttons",
                 telegram_chat(chat_id), outcome.description)  # fmt: skip
        return await self._call(call(replace(msg, buttons=())))

    async def who_am_i(self) -> SendOutcome:
        """getMe, folded as a send is (:func:`classify_outcome`): ``SENT`` when the token is
        accepted, ``TOKEN_REFUSED`` when refused (``channels.tokens.TokenWatch`` records which)."""
        return await classify_outcome(self.bot.get_me(), self._token)

    async def _call(self, request: Awaitable[Message]) -> SendOutcome:
        outcome = await classify(request, self._token)
        if not outcome.delivered:
            log.debug("send outcome %s: %s", outcome.kind, outcome.description)
        return outcome


def bare_request() -> HTTPXRequest:
    """PTB's default HTTP client with the process's TLS context (:mod:`.tls`): for a ``Bot``'s
    client that feedsvc does not tune (a sender's getUpdates, which it never asks; getMe at
    start), which PTB would otherwise build with a CA store of its own. Uncharged, but its
    error answers are read as every call's are (:func:`feedsvc.notify.answers.
    read_error_answer`): a ``telegram.base_url`` that is no Bot API answering 404 with a page of
    its own was reported at start as "the token was rejected"."""
    return ChargedRequest(connection_pool_size=1, httpx_kwargs={"verify": tls_context()})


def _options(msg: AlertMessage) -> dict[str, Any]:
    """The Bot API parameters of ``msg``'s delivery options (none when unset)."""
    options: dict[str, Any] = {}
    if msg.silent:
        options["disable_notification"] = True
    if msg.thread_id is not None:
        options["message_thread_id"] = msg.thread_id
    if msg.buttons:
        options["reply_markup"] = keyboard(msg.buttons)
    return options


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup:
    """Our buttons as PTB's inline keyboard (a link, or a callback with its data)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, url=b.url, callback_data=b.data) for b in row]
            for row in rows
        ]
    )


async def classify(request: Awaitable[Message], token: str | None = None) -> SendOutcome:
    """Await one Bot API call and fold its result or exception into a :class:`SendOutcome`."""
    return await classify_outcome(request, token)


async def classify_outcome(request: Awaitable[object], token: str | None = None) -> SendOutcome:
    """:func:`classify` for any Bot API call: a ``True`` answer (``deleteMessage``, an edit of
    an inline message) or another object (getMe's User) is ``SENT`` with message id 0."""
    try:
        result = await request
    except Exception as exc:
        outcome = failure_outcome(exc, token)
        if outcome is None:
            raise
        return outcome
    if isinstance(result, Message):  # what Telegram made of it: a photo after all, or a text
        return SendOutcome.sent(result.message_id, photo=bool(result.photo))
    return SendOutcome.sent(0)


def failure_outcome(exc: Exception, token: str | None = None) -> SendOutcome | None:
    """What a Bot API call that raised ``exc`` came to (None: not a call's failure, a bug to
    raise): the one reading of PTB's errors, for the alert sender (:func:`classify_outcome`)
    and the bot's answers (:func:`never_reached`). The order of the checks matters (module
    docstring)."""
    if isinstance(exc, RetryAfter):
        return SendOutcome.retry_after(pause_seconds(exc), _describe(exc, token))
    if isinstance(exc, ChatMigrated):
        return SendOutcome.migrated(exc.new_chat_id, _describe(exc, token))
    if isinstance(exc, Forbidden):
        return classify_refusal(_describe(exc, token), forbidden=True)
    if isinstance(exc, BadRequest):
        return classify_refusal(_describe(exc, token))
    if isinstance(exc, TimedOut):
        cause = exc.__cause__
        if isinstance(cause, UNSENT):
            # Nothing (or an incomplete request) reached the server: Telegram cannot act on it.
            return SendOutcome.transient(_describe(exc, token, cause), unacted=True)
        return SendOutcome.ambiguous(_describe(exc, token, cause))
    if isinstance(exc, ForeignSuccess):  # a 2xx answer of no Bot API: whatever answered may
        return SendOutcome.ambiguous(_describe(exc, token))  # have sent
    if isinstance(exc, NetworkError):
        cause = exc.__cause__
        if isinstance(cause, httpx.ReadError | httpx.RemoteProtocolError):
            # The connection died after the request went out: it may have been processed.
            return SendOutcome.ambiguous(_describe(exc, token, cause))
        # a connection never made: unacted; a 5xx (the Bot API's own, a gateway's 502/504 page
        # after passing the call on: NotBotApiAnswer) may have been; the outbox retries both
        unsent = isinstance(cause, UNSENT)
        return SendOutcome.transient(_describe(exc, token, cause), unacted=unsent)
    if isinstance(exc, InvalidToken):  # 401 or 404 (PTB): the token or base_url, never a chat's
        return SendOutcome.token_refused(_describe(exc, token))
    if isinstance(exc, TelegramError):
        text = _describe(exc, token)
        if "invalid server response" in text.lower():  # 2xx with a body we cannot read
            return SendOutcome.ambiguous(text)
        return SendOutcome.transient(text)  # Conflict, EndPointNotFound
    if isinstance(exc, KeyError | AttributeError | TypeError | ValueError):
        # PTB wraps every HTTP error status and transport failure in a TelegramError, and a
        # 2xx answer without "ok": true and a "result" is a ForeignSuccess (above); these come
        # from a result that is no Message (null, no date). It may have
        # been sent (a proxy, a local Bot API server): unknown, re-sent once at most. Raised
        # out of here, the dispatcher retried it as transient, up to 25 copies.
        return SendOutcome.ambiguous(f"unreadable answer ({type(exc).__name__})")
    return None


def never_reached(exc: Exception) -> bool:
    """Whether a Bot API call that raised ``exc`` may be sent again as it is: it surely did not
    take effect (:attr:`SendOutcome.never_acted`: no connection made, the request not complete)
    — a bot's answer is, a few times (:func:`feedsvc.notify.resend.resent_after_pause`); an
    alert goes back to the outbox instead. Never a 5xx: a gateway (nginx in front of a local Bot
    API server, 504 when upstream is slow) may have passed it on (the user got the answer three
    times), and no Bot API document says Telegram's own JSON 5xx was not acted on: unknown."""
    outcome = failure_outcome(exc)
    return outcome is not None and outcome.never_acted


def _describe(exc: Exception, token: str | None, cause: BaseException | None = None) -> str:
    text = str(exc) or type(exc).__name__
    if cause is not None and type(cause).__name__ not in text:
        text = f"{text} ({type(cause).__name__})"
    return scrub_token(text, token)
