"""What Telegram's words say of a refused message: the one reading of a Bot API error's
description (a 400 or 403) into an outcome (:func:`classify_refusal`), and whether a refusal is
of the message's inline keyboard (:func:`keyboard_refused`).

Kept apart from the sending edge (:mod:`feedsvc.notify.telegram`, which folds PTB's exceptions
and calls these): pure — a description in, an outcome out; it calls neither PTB nor HTTP —, so
the wordings are tested as data (tests/test_notify_telegram.py collects them) and read in one
place by every caller: the alert sender, the follow-ups' edits (:mod:`feedsvc.notify.edits`: a
keyboard refused) and Zalo's channel (:func:`feedsvc.channels.zalo.channel.classify`: its 400,
403 and 404 descriptions).
"""

from __future__ import annotations

import re

from feedsvc.notify.outcome import OutcomeKind, SendOutcome

_KEYBOARD_WORDS = re.compile(r"button|markup|keyboard", re.IGNORECASE)


def keyboard_refused(kind: OutcomeKind, description: str) -> bool:
    """Whether a refusal is of the message's inline keyboard: bad content (a 400) whose
    description names it — ``BUTTON_URL_INVALID``, ``BUTTON_DATA_INVALID``, "reply markup is
    too long", "can't parse inline keyboard button" (Bot API error texts, as Telegram sends
    them; not all documented). Any other refusal ("message is too long") would be refused
    again without the buttons."""
    return kind is OutcomeKind.BAD_CONTENT and _KEYBOARD_WORDS.search(description) is not None


# How the Bot API words "this chat can never receive from the bot" (403s and some 400s), as
# word stems over the lower-cased description with ``_`` read as a space, so the MTProto spellings
# (``CHAT_WRITE_FORBIDDEN``) and the sentences ("need administrator rights in the channel chat")
# fall in the same family: rights, admin, forbidden, deactivated, deleted, kicked, banned,
# blocked, not a member, private, restricted... Checked against the descriptions collected in
# tests/test_notify_telegram.py; a new wording of the same meaning lands here by its words.
_REFUSED = re.compile(
    r"\b(?:rights?|admin\w*|forbidden|deactivated|deleted|kicked|banned|blocked|"
    r"not (?:a )?(?:member|participant)|private|restricted|inaccessible|"
    r"can't initiate|can't send messages to bots)\b"
)
# The recipient does not exist (for the bot): a chat/user/peer/channel that is not found, invalid
# or empty. ("message to reply not found" names no recipient: message-level.)
_UNKNOWN_CHAT = re.compile(
    r"\b(?:chat|user|peer|channel|group)(?: id)?(?: is)? (?:not found|invalid|empty)\b"
)
# A description naming a part of the message (a kind of content, link previews, an entity or a
# button) or one forum thread is about this message: the chat may still take a plain text alert
# ("not enough rights to send photos", ``ENTITY_MENTION_USER_INVALID``, ``TOPIC_CLOSED``).
_PARTIAL = re.compile(
    r"\b(?:photos?|media|videos?|audios?|documents?|stickers?|gifs?|animations?|voice|polls?|"
    r"webpages?|web page|previews?|entity|entities|mention|buttons?|markup|keyboard|reply|"
    r"thread|topic)\b"
)
_PARSE = ("can't parse entities", "can't find end tag")
# The forum topic thread the message was addressed to is gone (Bot API: "message thread not
# found"; MTProto: TOPIC_DELETED, TOPIC_ID_INVALID): the chat itself still takes alerts.
_THREAD_GONE = re.compile(r"\b(?:thread not found|topic (?:deleted|id invalid))\b")
# The forum topic was closed by the chat's admins (``TOPIC_CLOSED``; "topic is closed", "topic
# was closed"): it may be reopened, so the alert waits (no dead letter, no attempt spent).
_TOPIC_CLOSED = re.compile(r"\btopic (?:is |was |has been )?closed\b")


def classify_refusal(description: str, *, forbidden: bool = False) -> SendOutcome:
    """Fold a 400/403 description into its outcome: the one place that reads Telegram's words.

    ``forbidden`` is True for a 403, which always concerns the chat (blocked, kicked, no rights)
    unless it names one kind of content. A closed forum topic (``TOPIC_CLOSED``) waits to be
    reopened (``topic_closed``), read before the words naming a part of the message. Chat-level
    outcomes (``blocked``, ``chat_not_found``) count towards disabling the chat;
    ``parse_error`` is re-sent as plain text; anything else is ``bad_content`` (this message,
    as it is, can never be sent). Source of the wordings: Bot API answers as collected by
    python-telegram-bot users and Telegram's MTProto error names
    (core.telegram.org/api/errors), which the Bot API passes through in upper case.
    """
    words = description.lower().replace("_", " ")
    if any(s in words for s in _PARSE):
        return SendOutcome.parse_error(description)
    if _THREAD_GONE.search(words):
        return SendOutcome.thread_gone(description)
    if _TOPIC_CLOSED.search(words):
        return SendOutcome.topic_closed(description)
    if _PARTIAL.search(words):
        return SendOutcome.bad_content(description)
    if _UNKNOWN_CHAT.search(words):
        return SendOutcome.chat_not_found(description)
    if forbidden or _REFUSED.search(words):
        return SendOutcome.blocked(description)
    return SendOutcome.bad_content(description)
