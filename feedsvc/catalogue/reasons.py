"""Why a chat was switched off (``reason.<code>``): stored as a code, worded when shown.

A chat's ``disabled_reason`` used to hold words: Telegram's English ("Forbidden: bot was
blocked by the user") or the bot's site-language phrase, shown as they were in admins of the
other language. It now holds ``code`` or ``code|detail`` (:func:`stored_reason`); ``detail`` is
technical data (the channel's own words, a member status), shown after the words.
:meth:`feedsvc.catalogue.Translator.reason` words a stored value in any language; a value
written before codes (no known code) is shown as it is.

The codes are the channels' common outcome kinds; their words are each channel's
(:func:`words_key`): an Apprise recipient is no chat with a bot in it, but a destination (a
webhook, a mail box) that refused the notification or was not found, by the HTTP status its
detail starts with (:func:`http_status`, as ``channels.apprise.refusal`` writes it).
"""

from __future__ import annotations

import re

#: The codes (``reason.<code>`` keys below): the send outcomes that count towards disabling a
#: chat (:class:`feedsvc.notify.outcome.OutcomeKind`) and the bot's membership changes.
CODES = ("blocked", "chat_not_found", "user_blocked", "removed")
SEPARATOR = "|"
MAX_STORED = 500  # characters kept in ``chats.disabled_reason``

MESSAGES: dict[str, tuple[str, str]] = {
    "reason.blocked": (
        # no brackets: the channel's own words follow in brackets (Translator.reason)
        "kênh từ chối nhận tin nhiều lần liên tiếp: bot bị chặn, bị mời ra hoặc không có quyền",
        "the channel refused messages several times in a row: the bot is blocked, was removed "
        "or has no rights",
    ),
    "reason.chat_not_found": (
        "kênh báo không có cuộc trò chuyện này nhiều lần liên tiếp",
        "the channel reported several times in a row that this chat does not exist",
    ),
    "reason.user_blocked": ("người dùng đã chặn bot", "the user blocked the bot"),
    "reason.removed": ("bot bị mời ra khỏi nhóm", "the bot was removed from the group"),
    # Apprise (channels.apprise.refusal): 401/403 and 404/410 answers, the status after them
    "reason.apprise.blocked": (
        "điểm nhận từ chối thông báo nhiều lần liên tiếp",
        "the destination refused notifications several times in a row",
    ),
    "reason.apprise.chat_not_found": (
        "không tìm thấy điểm nhận nhiều lần liên tiếp",
        "the destination was not found several times in a row",
    ),
}
#: The HTTP status(es) a detail begins with: ``HTTP 403: …``, ``HTTP 401, 403: …``
_HTTP_STATUS = re.compile(r"HTTP (\d{3}(?:, \d{3})*)\b")


def stored_reason(code: str, detail: str = "") -> str:
    """The value to store for ``code`` (one of :data:`CODES`) with optional technical detail."""
    if code not in CODES:
        raise ValueError(f"unknown reason code {code!r}")
    detail = " ".join(detail.split())
    return (f"{code}{SEPARATOR}{detail}" if detail else code)[:MAX_STORED]


def split_reason(stored: str) -> tuple[str | None, str]:
    """``(code, detail)`` of a stored reason; ``(None, stored)`` for a value without a code."""
    code, sep, detail = stored.partition(SEPARATOR)
    if code in CODES:
        return code, detail if sep else ""
    return None, stored


def words_key(code: str, channel: str | None) -> str:
    """The catalogue key wording ``code`` for a recipient of ``channel``: the channel's own
    (``reason.<channel>.<code>``) when it has one, else the common ``reason.<code>``."""
    own = f"reason.{channel}.{code}"
    return own if own in MESSAGES else f"reason.{code}"


def http_status(detail: str) -> str | None:
    """The HTTP status(es) a stored detail begins with (``"403"``, ``"401, 403"``), or None."""
    found = _HTTP_STATUS.match(detail)
    return found.group(1) if found else None
