"""Changing alerts already sent: delete one, or edit its text or caption (SPEC §10).

A channel that can do this offers a :class:`MessageEditor` (``sender.editor``); one that cannot
(no ``editor``) has its retractions recorded as "kept" (see :func:`editor_of`). Telegram's
answers are folded into a small closed set of :class:`EditKind` values so the follow-up worker
decides from data. Deleting and editing are idempotent at Telegram ("message to delete not
found", "message is not modified" on a repeat), so an unknown outcome (a timeout after the
request went out, a crash mid-call) is simply retried: a repeat can never show twice.

Reading Telegram's words: the message-level answers to edits and deletes are matched here first
(below); everything else goes through the send classifier,
:func:`feedsvc.notify.refusals.classify_refusal`, whose chat-level family (blocked, no rights,
chat not found) would otherwise swallow "message can't be **deleted**". Sources: Bot API answers
as reported by python-telegram-bot users and MTProto error names (core.telegram.org/api/errors:
``MESSAGE_ID_INVALID``, ``MESSAGE_DELETE_FORBIDDEN``, ``MESSAGE_EDIT_TIME_EXPIRED``,
``MESSAGE_AUTHOR_REQUIRED``, ``MESSAGE_NOT_MODIFIED``), which the Bot API passes through.
"""

from __future__ import annotations

import functools
import logging
import re
import struct
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from feedsvc.logs import LINES
from feedsvc.notify.message import Button
from feedsvc.notify.outcome import OutcomeKind, SendOutcome
from feedsvc.recipient_names import telegram_chat

log = logging.getLogger("feedsvc.notify")


class EditKind(StrEnum):
    DONE = "done"  # deleted, or edited
    GONE = "gone"  # the message is not there (deleted already): nothing left to do
    NOT_MODIFIED = "not_modified"  # it already says exactly this: nothing left to do
    UNDELETABLE = "undeletable"  # delete refused (older than 48 h, no right): edit instead
    WRONG_KIND = "wrong_kind"  # "no text/caption in the message to edit": the other method
    PARSE_ERROR = "parse_error"  # the HTML was refused: edit again as plain text
    REFUSED = "refused"  # this message cannot be changed so (can't be edited, bad content)
    CHAT_GONE = "chat_gone"  # blocked, kicked, chat not found: unreachable
    # the group became a supergroup (``migrate_to_chat_id``): the old group is deactivated, its
    # messages out of the bot's reach for good; never retried, never "gone"
    MIGRATED = "migrated"
    RETRY_AFTER = "retry_after"  # 429: pause the chat `seconds`, then again
    TRANSIENT = "transient"  # 5xx, network, unknown outcome: again later (idempotent)

    @property
    def settled(self) -> bool:
        """The message is as wanted (or gone): the follow-up is finished successfully."""
        return self in (EditKind.DONE, EditKind.GONE, EditKind.NOT_MODIFIED)


@dataclass(frozen=True, slots=True)
class EditOutcome:
    kind: EditKind
    seconds: float | None = None  # RETRY_AFTER
    description: str = ""  # Telegram's (or the transport's) words, token-free


# Message-level answers, on the lower-cased description with "_" read as a space.
_GONE = re.compile(r"\bmessage (?:to (?:delete|edit) )?not found\b|\bmessage id invalid\b")
_NOT_MODIFIED = re.compile(r"\bnot modified\b")
_UNDELETABLE = re.compile(
    r"\bcan(?:'t|not| not) be deleted\b|\bmessage delete forbidden\b|\brights to delete\b"
)
_UNEDITABLE = re.compile(
    r"\bcan(?:'t|not| not) be edited\b|\bedit time expired\b|\bauthor required\b"
)
_WRONG_KIND = re.compile(r"\bthere is no (?:text|caption|media) in the message\b")


def classify_edit(outcome: SendOutcome) -> EditOutcome:
    """Fold the send classifier's outcome of an edit or delete call into an :class:`EditOutcome`.

    Message-level wordings win over the chat-level family; an unknown outcome (``AMBIGUOUS``)
    is ``TRANSIENT`` because repeating an edit or delete is harmless.
    """
    kind, text = outcome.kind, outcome.description
    if kind is OutcomeKind.SENT:
        return EditOutcome(EditKind.DONE, description=text)
    if kind is OutcomeKind.RETRY_AFTER:
        return EditOutcome(EditKind.RETRY_AFTER, outcome.seconds, text)
    if kind in (OutcomeKind.TRANSIENT, OutcomeKind.AMBIGUOUS, OutcomeKind.TOKEN_REFUSED):
        return EditOutcome(EditKind.TRANSIENT, description=text)  # a refused token: as before
    if kind is OutcomeKind.MIGRATED:
        return EditOutcome(EditKind.MIGRATED, description=text)
    words = text.lower().replace("_", " ")
    for pattern, found in (
        (_GONE, EditKind.GONE),
        (_NOT_MODIFIED, EditKind.NOT_MODIFIED),
        (_WRONG_KIND, EditKind.WRONG_KIND),
        (_UNDELETABLE, EditKind.UNDELETABLE),
        (_UNEDITABLE, EditKind.REFUSED),
    ):
        if pattern.search(words):
            return EditOutcome(found, description=text)
    if kind is OutcomeKind.PARSE_ERROR:
        return EditOutcome(EditKind.PARSE_ERROR, description=text)
    if kind.chat_level:
        return EditOutcome(EditKind.CHAT_GONE, description=text)
    return EditOutcome(EditKind.REFUSED, description=text)


@runtime_checkable
class MessageEditor(Protocol):
    """What a channel that can change its sent alerts offers (Telegram; the console).
    ``plain_only``: it shows text, never Telegram's markup (the console logs an alert's
    ``plain_text``, and its corrections the same way)."""

    plain_only: bool

    async def delete(self, chat_id: int, message_id: int) -> EditOutcome:
        """Delete the message (Telegram: the bot's own, within 48 h of sending)."""
        ...

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        caption: bool,
        html: bool,
        link_preview: bool = False,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> EditOutcome:
        """Replace the text (``caption``: a photo's caption); ``html``: Telegram HTML;
        ``buttons``: the inline keyboard the message keeps (Telegram drops a message's keyboard
        when an edit does not name one: a correction passes the alert's, a notice none)."""
        ...

    async def cover(self, chat_id: int, message_id: int, text: str, *, html: bool) -> EditOutcome:
        """Replace a photo message's picture by a blank one (:func:`blank_photo`) and its
        caption by ``text`` (a notice), dropping its keyboard: what a retracted photo alert
        becomes when it cannot be deleted."""
        ...

    async def uncover(
        self, chat_id: int, message_id: int, photo_url: str, text: str, *, html: bool,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> EditOutcome:  # fmt: skip
        """Put the article's picture (``photo_url``, as the alert was sent) back in place of
        :meth:`cover`'s blank one, ``text`` as its caption, ``buttons`` under it: a notice
        taken back once the article is public again (``store.restores``)."""
        ...


def editor_of(sender: object) -> MessageEditor | None:
    """The sender's editor, or None when its channel cannot change sent alerts."""
    editor = getattr(sender, "editor", None)
    return editor if isinstance(editor, MessageEditor) else None


class ConsoleEditor:
    """The console's stand-in (no bot token): logs what Telegram would be asked to do, in
    plain text as :class:`~feedsvc.notify.console.ConsoleSender` logs an alert (a tester's:
    corrections were logged as Telegram's HTML)."""

    plain_only = True

    async def delete(self, chat_id: int, message_id: int) -> EditOutcome:
        log.info("alert #%s in %s deleted", message_id, telegram_chat(chat_id))
        return EditOutcome(EditKind.DONE)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        caption: bool,
        html: bool,
        link_preview: bool = False,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> EditOutcome:
        log.info("alert #%s in %s edited:\n%s", message_id, telegram_chat(chat_id), text,
                 extra=LINES)  # fmt: skip
        return EditOutcome(EditKind.DONE)

    async def cover(self, chat_id: int, message_id: int, text: str, *, html: bool) -> EditOutcome:
        log.info("alert #%s in %s: picture removed, caption edited:\n%s",
                 message_id, telegram_chat(chat_id), text, extra=LINES)  # fmt: skip
        return EditOutcome(EditKind.DONE)

    async def uncover(
        self, chat_id: int, message_id: int, photo_url: str, text: str, *, html: bool,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> EditOutcome:  # fmt: skip
        log.info("alert #%s in %s: picture %s back, caption edited:\n%s",
                 message_id, telegram_chat(chat_id), photo_url, text, extra=LINES)  # fmt: skip
        return EditOutcome(EditKind.DONE)


@functools.cache
def blank_photo(width: int = 320, height: int = 180) -> bytes:
    """A plain light grey PNG (RGB, 8 bits), the picture a retracted photo alert is left
    with: Telegram cannot turn a photo message into a text one, so ``editMessageMedia`` swaps
    the photo instead (core.telegram.org/bots/api#editmessagemedia; a photo's width + height
    at most 10,000, their ratio at most 20). Built with zlib (PNG, RFC 2083): a flat image
    needs no imaging library."""
    row = b"\x00" + bytes((0xE5, 0xE5, 0xE5)) * width  # filter byte 0, then the pixels

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))  # fmt: skip
