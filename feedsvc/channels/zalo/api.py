"""A thin Zalo Bot API client over ``httpx`` (no young third-party SDK as a dependency).

Shapes (FIELD-NOTES "Zalo Bot Platform", read from public clients): ``POST
{base_url}/bot{TOKEN}/{method}`` with a JSON body; the answer is ``{"ok": true, "result": …}``
or ``{"ok": false, "error_code": N, "description": "…"}``. Ids are strings. ``getUpdates``
answers one update object in the clients we read (an array on Telegram): both are accepted.

Every call that sends a message (:data:`MESSAGE_METHODS`: alerts, digest parts and the bot's
replies alike) first awaits the client's ``charge`` hook with the chat it names: the channel's
send budget (:meth:`feedsvc.budget.SendBudget.charge`), set by the channel and by the bot's
service. This is Zalo's one place where a message call is charged, as
:class:`feedsvc.notify.charged.ChargedRequest` is Telegram's: no call site has to remember.

The token is a credential in every URL: this module never logs a URL, and
:func:`install_log_scrubber` keeps ``httpx``'s own request log free of it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Self

import httpx

from feedsvc.notify.outcome import retry_after_seconds
from feedsvc.notify.tls import tls_context

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
log = logging.getLogger("feedsvc.zalo")

#: Bot API methods that send a message (FIELD-NOTES "Zalo Bot Platform"), lower case: each one
#: costs a slot of the Zalo send budget. ``sendChatAction`` (a typing sign) is no message.
MESSAGE_METHODS = frozenset({"sendmessage", "sendphoto", "sendsticker"})

#: awaited before a message call with the Zalo chat id it names (None: none given); returns
#: when the call may leave
Charge = Callable[[str | None], Awaitable[None]]
#: characters of an error's description kept: the API's words are outside data, stored with
#: the delivery and logged
DESCRIPTION_CHARS = 500


def message_call(method: str) -> bool:
    """Whether the Bot API ``method`` sends a message (charged to the send budget)."""
    return method.lower() in MESSAGE_METHODS


class ZaloError(Exception):
    """The API answered ``ok: false``, or an error status came with a body that is not the
    API's (``foreign``: a proxy's page, no ``ok``): ``code`` is its ``error_code`` (else the
    HTTP status), ``status`` the HTTP status (``code`` when not given), ``description`` its
    words (token-free, at most :data:`DESCRIPTION_CHARS`), ``retry_after`` its usable
    ``parameters.retry_after`` in seconds (:func:`~feedsvc.notify.outcome.retry_after_seconds`)
    or None."""

    def __init__(
        self, code: int, description: str, retry_after: float | None = None, *,
        foreign: bool = False, status: int | None = None,
    ) -> None:  # fmt: skip
        description = description[:DESCRIPTION_CHARS]
        super().__init__(f"{code}: {description}")
        self.code = code
        self.status = code if status is None else status
        self.description = description
        self.retry_after = retry_after
        self.foreign = foreign


class ForeignAnswer(httpx.DecodingError):
    """A 2xx answer that is not the API's (no JSON object with ``"ok"``, or ``"ok": true``
    without a ``"result"``: a web server's ``{}``, a proxy's page): did a send go? unknown (the
    channel's ``ambiguous``); any other call failed, told naming ``zalo.base_url``
    (:mod:`feedsvc.notify.not_bot_api`). Its words: the answer's status and size, never its
    body. ``{"ok": true}`` was read as no update, and the poller asked again at once, for
    ever."""


class _TokenFilter(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def install_log_scrubber(token: str) -> None:
    """Keep ``token`` out of ``httpx``'s INFO request lines (which print full URLs)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _TokenFilter) and f.token == token for f in logger.filters):
        logger.addFilter(_TokenFilter(token))


class ZaloBotAPI:
    """One bot's API. Timeouts in seconds; ``call`` raises :class:`ZaloError` for an API
    refusal and lets ``httpx`` transport errors through (the channel classifies both).
    ``charge`` (None: uncharged, a client used on its own) may be set after construction:
    the channel and the bot's service set their send budget's."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        pool_size: int = 32,
        charge: Charge | None = None,
    ) -> None:
        self.charge = charge
        self._token = token
        self.base_url = base_url  # ``zalo.base_url`` (no token), for what names it
        self._base = f"{base_url.rstrip('/')}/bot{token}/"
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        self._limits = httpx.Limits(max_connections=pool_size)
        self._client: httpx.AsyncClient | None = None
        install_log_scrubber(token)

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, limits=self._limits, verify=tls_context()
            )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "<token>")

    async def call(
        self, method: str, payload: dict[str, Any], *, read_timeout: float | None = None
    ) -> Any:
        """``result`` of one API call; a message call waits for its ``charge`` first."""
        if self.charge is not None and message_call(method):
            chat = payload.get("chat_id")
            await self.charge(chat if isinstance(chat, str) else None)
        if self._client is None:
            await self.start()
        assert self._client is not None
        timeout = self._timeout if read_timeout is None else httpx.Timeout(
            read_timeout, connect=self._timeout.connect, pool=self._timeout.pool
        )  # fmt: skip
        response = await self._client.post(self._base + method, json=payload, timeout=timeout)
        try:
            body = response.json()
        except (ValueError, RecursionError):  # not JSON, or nested past the recursion limit
            body = None
        ok = body.get("ok") if isinstance(body, dict) else None
        if not isinstance(ok, bool) or (ok and response.is_success and "result" not in body):
            # not the API's answer (FIELD-NOTES: always an object with "ok", "result" with a
            # true one): a proxy's page, a body cut short. 2xx: did it send? unknown. An error
            # status: the path failed, never the API's verdict on the chat or the message (a
            # proxy's 403 read as Zalo's disabled every recipient it reached)
            said = (
                f"HTTP {response.status_code} answer of {len(response.content)} bytes: "
                "not a Zalo Bot API answer"
            )
            if response.is_success:
                raise ForeignAnswer(said, request=response.request)
            raise ZaloError(response.status_code, said, foreign=True)
        if body["ok"]:
            return body.get("result")
        code = body.get("error_code")
        params = body.get("parameters")
        retry = params.get("retry_after") if isinstance(params, dict) else None
        raise ZaloError(
            code if isinstance(code, int) and not isinstance(code, bool) else response.status_code,
            self.scrub(str(body.get("description") or "error")),
            retry_after_seconds(retry),
            status=response.status_code,
        )

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe", {})
        return result if isinstance(result, dict) else {}

    async def send_message(self, chat_id: str, text: str) -> str | None:
        """Send ``text``; returns Zalo's message id (a string) when it gives one."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        found = result.get("message_id") if isinstance(result, dict) else None
        return str(found) if found is not None else None

    async def get_updates(self, timeout: float) -> list[dict[str, Any]]:
        """Long poll for up to ``timeout`` seconds; the updates, oldest first (often one)."""
        result = await self.call("getUpdates", {"timeout": int(timeout)}, read_timeout=timeout + 10)
        if isinstance(result, dict):
            return [result] if result else []
        if isinstance(result, list):
            return [u for u in result if isinstance(u, dict)]
        return []

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook", {})
