"""The Bot API edge where a message call is charged to the send budget.

Every python-telegram-bot request goes through ``BaseRequest.do_request``; this subclass asks
its ``charge`` hook before each call that sends, edits or deletes a message (Telegram counts
them against the bot's ~30 messages a second and each chat's pace), and lets every other call
(``getUpdates``, ``getMe``, ``getChatMember``, ``answerCallbackQuery``: a toast, not a message,
``setMyCommands``) through at once. The alert sender and the bot's Application both use it, so
no call site has to remember: what a charge costs is :meth:`feedsvc.budget.SendBudget.charge`.

It is also where an answer's status and bytes are seen before PTB reads them: an error answer
that is not the Bot API's (a proxy's HTML page) or whose parameters PTB would misread is raised
as :func:`feedsvc.notify.answers.read_error_answer` says, for the alert sender and the bot alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import RetryAfter
from telegram.request import HTTPXRequest, RequestData

from feedsvc.digits import ascii_int
from feedsvc.notify.answers import pause_seconds, read_error_answer
from feedsvc.notify.resend import Refused, resent_after_pause

# Bot API methods that send, edit or delete a message (lower case: Telegram's method names are
# case-insensitive). Deletes count as the follow-up worker has always counted them (SPEC §10).
MESSAGE_METHODS = frozenset(
    m.lower()
    for m in (
        "sendMessage", "sendPhoto", "sendAudio", "sendDocument", "sendVideo", "sendAnimation",
        "sendVoice", "sendVideoNote", "sendPaidMedia", "sendMediaGroup", "sendLocation",
        "sendVenue", "sendContact", "sendPoll", "sendDice", "sendSticker", "sendInvoice",
        "sendGame", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
        "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
        "editMessageLiveLocation", "stopMessageLiveLocation", "stopPoll", "deleteMessage",
        "deleteMessages",
    )
)  # fmt: skip

#: awaited before a message call with the chat id it names (None: an inline message, a
#: ``@channel`` username): returns when the call may leave
Charge = Callable[[int | None], Awaitable[None]]


def message_call(url: str) -> bool:
    """Whether the Bot API ``url`` (``…/bot<token>/<method>``) is a message call."""
    return url.rsplit("/", 1)[-1].lower() in MESSAGE_METHODS


def chat_of(request_data: RequestData | None) -> int | None:
    """The numeric ``chat_id`` a call names, if any."""
    if request_data is None:
        return None
    value = request_data.parameters.get("chat_id")
    if isinstance(value, int):
        return value
    return ascii_int(value) if isinstance(value, str) else None


class ChargedRequest(HTTPXRequest):
    """:class:`HTTPXRequest` that awaits ``charge`` before each message call (none: uncharged,
    a sender used on its own). ``charge`` may be set after construction (the channel that owns
    the sender sets its budget's). With ``refused`` (the bot's), a message call answered 429
    waits the pause asked and goes again, at most
    :data:`~feedsvc.notify.outcome.REPLY_RESENDS` times, when ``refused`` says so; otherwise
    the ``RetryAfter`` is raised as before. With ``unsent`` too (the bot's:
    :func:`feedsvc.notify.telegram.never_reached`), one that never reached Telegram goes again
    (:func:`resent_after_pause`). The alert sender has neither: its outbox decides."""

    def __init__(
        self, *args: Any, charge: Charge | None = None, refused: Refused | None = None,
        unsent: Callable[[Exception], bool] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.charge = charge
        self.refused = refused
        self.unsent = unsent

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        chat = chat_of(request_data)
        message = message_call(url)
        sent = super().do_request

        async def once() -> tuple[int, bytes]:
            if self.charge is not None and message:
                await self.charge(chat)
            status, payload = await sent(url, method, request_data, *args, **kwargs)
            error = read_error_answer(status, payload, chat, api_call=method != "GET")
            if error is not None:
                raise error
            return status, payload

        if not message or self.refused is None:
            return await once()
        return await resent_after_pause(once, _telegram_pause, self.refused, chat, self.unsent)


def _telegram_pause(exc: Exception) -> float | None:
    return pause_seconds(exc) if isinstance(exc, RetryAfter) else None
