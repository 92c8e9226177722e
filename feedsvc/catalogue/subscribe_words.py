"""What adding a subscription changed for its recipient, in one language's words
(``Translator.subscribed``): switched back on — an Apprise URL added again after its
destination refused alerts several times in a row, which README promises and which the answer
"already subscribed" hid — and why it still receives no alerts (paused, switched off, a 429
pause with its end). ``feedsvc subs add``'s stderr (English, times to the second:
``cli.common.cli_words``), the API's ``message`` (the request's language), the admin's flash
(the admin's). Apart from ``__init__``, which is at its size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedsvc.recipient_names import named

if TYPE_CHECKING:
    from feedsvc.operations import Subscribed
    from feedsvc.store.chat_pauses import ChatPause

    from . import Translator

MESSAGES: dict[str, tuple[str, str]] = {
    "subscribe.switched_on": (
        "{chat} đã được bật lại (trước đó bị tắt: {reason}).",
        "{chat} is switched back on (it was switched off: {reason}).",
    ),
    "subscribe.switched_on_plain": ("{chat} đã được bật lại.", "{chat} is switched back on."),
    "subscribe.not_receiving": (
        "{chat} hiện không nhận thông báo: {why}.",
        "{chat} receives no alerts now: {why}.",
    ),
    "subscribe.why.paused": ("đang tạm dừng", "paused"),
    "subscribe.why.off": ("đã tắt", "switched off"),  # a reason stored empty (still off)
    # a Telegram or Zalo chat: only writing to the bot switches it on (bot.actions.heard_from)
    "subscribe.why.off_until_heard": (
        "{reason}; chat sẽ được bật lại khi nhắn cho bot",
        "{reason}; it is switched back on when it writes to the bot again",
    ),
    "subscribe.why.rate_limited": (
        "kênh yêu cầu chờ (HTTP 429) đến {time}",
        "the channel asked to wait (HTTP 429) until {time}",
    ),
}


def subscribed(t: Translator, done: Subscribed) -> list[str]:
    """The sentences saying what ``done`` changed for its recipient, and what still stops its
    alerts; empty when it simply receives them (nothing to add to "added" or "already
    subscribed"). The chat named as ``t`` names recipients (an Apprise URL masked)."""
    chat = named(done.subscription)
    said = []
    if done.switched_on_from is not None:  # an empty stored reason was off too: no words
        if reason := t.reason(done.switched_on_from, done.subscription.channel):
            said.append(t("subscribe.switched_on", chat=chat, reason=reason))
        else:
            said.append(t("subscribe.switched_on_plain", chat=chat))
    if (off := done.still_off) is not None:
        said.append(t("subscribe.not_receiving", chat=chat, why=_why(t, off)))
    return said


def _why(t: Translator, off: ChatPause) -> str:
    """Why a recipient receives no alerts now: paused, switched off (with the way back a chat
    has), or a 429 pause's end."""
    if off.paused:
        return t("subscribe.why.paused")
    if off.disabled_reason is not None:
        words = t.reason(off.disabled_reason, off.channel) or t("subscribe.why.off")
        if off.channel == "apprise":  # adding the URL again is its way back, just taken
            return words
        return t("subscribe.why.off_until_heard", reason=words)
    return t("subscribe.why.rate_limited", time=t.time(off.blocked_until))
