"""A Telegram command's answer, sent and, when it does not go, told: the bot's one reply path.

Its retries are the request edge's (:func:`feedsvc.notify.resend.resent_after_pause`, the one
place a bot's answer is sent again, Zalo's too): a 429 waited out, a failure Telegram surely did
not act on (the classifier's ``never_acted``: no connection made) a few times, an unknown
outcome never (a read timeout; a 5xx, a gateway's page: nginx in front of a local Bot API server
answers 504 after passing the call on). What is left when they end is logged here and goes no
further; so is a callback query's answer (:func:`answer_query`).
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import TelegramError

from feedsvc.channels.recipients import recipient_name
from feedsvc.notify.outcome import REPLY_RETRIES, OutcomeKind, SendOutcome
from feedsvc.notify.telegram import failure_outcome

log = logging.getLogger("feedsvc.bot")

#: What a failed call may pass as: neither the chat's nor the message's (one WARNING line).
PASSING = frozenset({OutcomeKind.TRANSIENT, OutcomeKind.AMBIGUOUS, OutcomeKind.RETRY_AFTER})


async def reply(message: Message, text: str) -> None:
    """Send one answer (its retries are the request edge's:
    :func:`feedsvc.notify.resend.resent_after_pause`). Its failure is logged here and raised
    no further: the command has had its effect by then, and :meth:`Handlers.error`'s apology
    ("an error occurred, try again") told a reader whose ``/sub`` had worked that it had not
    (a 502 on the answer), or came before the answer itself (a slow one). One line: WARNING
    for a passing failure (an unknown outcome says the answer may have arrived after all),
    INFO for a chat that refuses the bot. An answer Telegram refuses as it is (bad content, "can't
    parse entities") is the bot's own fault: raised on, ERROR with its traceback and the apology
    (``tests/test_bot_blocked.py``)."""
    try:
        preview = LinkPreviewOptions(is_disabled=True)
        await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=preview)
    except TelegramError as exc:
        outcome = failure_outcome(exc, message.get_bot().token)
        if outcome is None or not (outcome.kind in PASSING or outcome.kind.chat_level):
            raise  # an answer refused as it is: the bot's fault, ERROR and apology (Handlers.error)
        reply_failed(message.chat.id, outcome)


async def answer_query(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a pressed button (a toast; ``alert``: a box to close), never sent again (not a
    message call: :class:`~feedsvc.notify.charged.ChargedRequest`). A passing failure is one
    WARNING line naming the chat, as an answer's (:func:`reply`), and goes no further: raised,
    :meth:`Handlers.error` told a reader whose mute had been done that it had not (a gateway's
    504 on the toast)."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:
        outcome = failure_outcome(exc, query.get_bot().token)
        if outcome is None or not (outcome.kind in PASSING or outcome.kind.chat_level):
            raise
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        reply_failed(chat, outcome, "button answer", tries=1)


def reply_failed(
    chat_id: int, outcome: SendOutcome, what: str = "reply", tries: int = REPLY_RETRIES + 1
) -> None:
    """The one log line of an answer that did not go (:func:`reply`; ``what``: what it was,
    ``tries``: how often a call that never reached Telegram was made)."""
    kind, said = outcome.kind, outcome.description
    name = recipient_name("telegram", str(chat_id))
    if kind is OutcomeKind.AMBIGUOUS:
        log.warning("bot: %s to %s: no answer from Telegram (%s); not sent again: it may "
                    "have arrived", what, name, said)  # fmt: skip
    elif kind is OutcomeKind.TRANSIENT and not outcome.unacted:  # a 5xx, a gateway's page
        log.warning("bot: %s to %s failed with an unknown outcome (%s); not sent again: it "
                    "may have arrived", what, name, said)  # fmt: skip
    elif kind is OutcomeKind.RETRY_AFTER:
        log.warning("bot: %s to %s not delivered: Telegram asked to wait %.0f s", what, name,
                    outcome.seconds or 0)  # fmt: skip
    elif kind is OutcomeKind.TRANSIENT:
        log.warning("bot: %s to %s not delivered after %d tries: %s", what, name, tries,
                    said)  # fmt: skip
    else:
        log.info("bot: %s to %s not delivered: %s", what, name, said)
