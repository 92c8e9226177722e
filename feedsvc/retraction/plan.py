"""What to do with a sent alert that must be retracted or corrected, step by step — pure.

A follow-up is a small state machine over Bot API calls ("methods"): ``delete``, ``text`` /
``caption`` (edit the message's text or a photo's caption, Telegram HTML), ``cover`` (replace
a photo alert's picture by a blank one, the notice as its caption: ``editMessageMedia``) and
``text_plain`` / ``caption_plain`` / ``cover_plain`` (the same without parse mode).
:func:`first_method` picks the first call, :func:`decide` reads the classified answer and says
what happens next: finish with an outcome, call again (another method, or the same later), or
pause the chat (429). The worker (:mod:`feedsvc.retraction.worker`) only carries these
decisions out.

Telegram facts (FIELD-NOTES "Telegram, more"; core.telegram.org/bots/api#deletemessage): a bot
deletes its own messages only within 48 h of sending; editing keeps working later; "message to
delete/edit not found" means already gone (success); "message is not modified" means it already
reads so (success). A group upgraded to a supergroup is deactivated: a call on its id answers
400 "group chat was upgraded to a supergroup chat" with ``migrate_to_chat_id`` (FIELD-NOTES
"python-telegram-bot 22.x": ``ChatMigrated``), so its messages can no longer be changed at all:
``unreachable`` (:data:`UNREACHABLE`), not retried, not "gone" (the message is still there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from feedsvc.articles import Article
from feedsvc.delivery_states import PHOTO, TEXT
from feedsvc.notify.edits import EditKind, EditOutcome
from feedsvc.notify.message import alert_shows

DELETE_WINDOW = timedelta(hours=48)  # Telegram: deleteMessage on the bot's own messages
EDIT_WINDOW = timedelta(hours=48)  # corrections edit alerts sent this recently (SPEC §10)
MAX_BACKOFF = 300.0  # seconds


class OnWithdraw(StrEnum):
    """``telegram.on_withdraw``: what happens to sent alerts of a withdrawn or hidden article."""

    DELETE = "delete"  # delete within 48 h of sending; past that (or refused) edit to a notice
    EDIT = "edit"  # always edit to a notice
    KEEP = "keep"  # leave them (recorded as "kept")


RETRACT, CORRECT = "retract", "correct"
#: the outcome of a follow-up on a message in a group that became a supergroup
UNREACHABLE = "unreachable"
#: a retraction whose notice was taken back: its article became public again (republished,
#: unhidden, its new time come) while the alert could still be edited (:func:`restorable`)
RESTORED = "restored"
#: retraction outcomes that left the alert reading as the notice
SHOWS_NOTICE = ("edited",)
#: retraction outcomes that no longer stand: the alert reads as the article again (cancelled
#: before its call, or its notice restored). Such a retraction is owed again by the next
#: withdrawal, and corrections edit the alert meanwhile.
UNDONE = ("cancelled", RESTORED)
#: retraction outcomes after which the alert still reads as the article: undone, or ``kept``
#: (``telegram.on_withdraw = "keep"``, a channel that cannot edit). Its article public again,
#: a correction edits it (``followup_queue.queue_corrections``); a notice or a deleted alert
#: is not corrected (a notice is restored, :func:`restorable`)
READS_AS_ALERT = (*UNDONE, "kept")
#: a correction follow-up queued to restore a notice: its first call may put the photo back
RESTORE_METHOD = "restore"
EDIT_METHODS = (
    "text", "caption", "cover", "photo",
    "text_plain", "caption_plain", "cover_plain", "photo_plain",
)  # fmt: skip


def is_correction(before: Article, after: Article) -> bool:
    """A new version that changes what an alert shows of the article
    (:func:`feedsvc.notify.message.alert_shows`: SPEC §10's title and summary, and the link,
    the meta line and a body shown for a missing summary). A tag change, a body behind a
    summary, or an image alone edits nothing (a sent photo is not replaced)."""
    return alert_shows(before) != alert_shows(after)


def restorable(outcome: str | None, sent_at: datetime | None, now: datetime) -> bool:
    """Whether a sent alert's retraction, its article public again, is taken back by editing
    the alert to the article's current text (SPEC §10; a tester's report: after a withdraw and
    a republish the chat kept "Tin này đã được gỡ bỏ." about a live article). Only a notice
    (``edited``) within :data:`EDIT_WINDOW` of the send, the corrections' window: a deleted
    alert is not sent again (one alert per chat and article), a kept or failed one still reads
    as the article. The SQL form of this rule is ``store.restores.restorable``."""
    return outcome in SHOWS_NOTICE and sent_at is not None and now - sent_at < EDIT_WINDOW


#: outcomes of a follow-up that found its message no longer in the chat: deleted by the
#: retraction, or already gone (a second retraction of a part another one deleted, a message
#: an admin deleted). A part of a digest so ended is no part any more
#: (``store.digest_parts.digest_rows`` leaves it out of the numbers).
NOT_IN_CHAT = ("deleted", "gone")
#: what a changed part of a digest sent in several owes the others (:func:`part_change`)
COUNT, RENUMBER = "count", "renumber"


def part_change(kind: str, outcome: str | None, lists_any: bool) -> str | None:
    """What a finished follow-up on a part of a digest sent in several owes the digest's other
    parts (``followup_queue.part_changed``, in the worker's record; a restore owes it when
    queued, ``followup_queue.queue_restored``). :data:`RENUMBER`: the part no longer lists an
    article — deleted, gone, or a retraction left it the notice (``lists_any`` false: none
    of its articles is public) — so every other part still in the chat is laid out again
    among the parts left ("(1/3)", "(tiếp) (2/3)" and no part 3 was a reader's; "(1/2)",
    "(tiếp) (2/2)" now). :data:`COUNT`: a retraction took articles out of a part that still
    lists some: the first part's heading counts the digest's articles. None: a correction
    only rewrites an article's line; a call that changed nothing."""
    if outcome in NOT_IN_CHAT:
        return RENUMBER
    if kind == RETRACT and outcome == "edited":
        return COUNT if lists_any else RENUMBER
    return None


def is_photo(kind: str | None, digest: bool, guess: bool) -> bool:
    """Whether a sent message is a photo with the alert as its caption, for the follow-up's
    first call: its recorded ``kind`` (``deliveries.message_kind``: what Telegram answered
    to the send — a photo refused and sent as text is a text — kept by the edits since,
    :func:`left_as`); a digest is a text. Not known (sent before migration 0042): ``guess``,
    which the worker gives only for a restore (``telegram.images`` and the article's image:
    the rule the notice it takes back was made by), else a text first — Telegram's "there is
    no text in the message to edit" turns it to the caption or the cover, one call more.
    Guessing a photo from the settings sent ``editMessageMedia`` to a text alert, which
    today's Bot API turns into a grey picture under the notice (a chat tester's report)."""
    if digest:
        return False
    if kind is not None:
        return kind == PHOTO
    return guess


def left_as(method: str | None, outcome: str | None) -> str | None:
    """What a follow-up's call left the message as, when it says (``photo`` after a caption
    edit, a cover or a restored picture, ``text`` after a text edit): recorded on the delivery
    (``store.followups.message_became``) so the next follow-up edits what is there. None: no
    call, a delete, or a call that did not succeed."""
    if method is None or method == "delete" or outcome not in ("edited", "unchanged"):
        return None
    return PHOTO if method.startswith(("caption", "cover", "photo")) else TEXT


def first_method(
    kind: str, on_withdraw: OnWithdraw, sent_at: datetime | None, now: datetime, caption: bool
) -> str:
    """The first call for a follow-up. ``sent_at`` is when the alert was recorded sent (UTC);
    ``caption``: the message is a photo with a caption (:func:`is_photo`); a wrong answer
    costs one call (Telegram says "there is no text/caption to edit"). A photo alert's notice
    covers its picture too (:func:`notice_method`); a restore (:data:`RESTORE_METHOD`) of a
    photo alert puts the article's picture back (``photo``)."""
    if (
        kind == RETRACT
        and on_withdraw is OnWithdraw.DELETE
        and sent_at is not None
        and now - sent_at < DELETE_WINDOW
    ):
        return "delete"
    if kind == RETRACT:
        return notice_method(caption)
    return "caption" if caption else "text"


def restore_method(caption: bool) -> str:
    """How a notice is taken back: a photo alert's blank picture (``cover``) is replaced by the
    article's own again with its caption (``photo``: ``editMessageMedia``, the URL the alert
    was sent with), a text alert's text edited as a correction edits it."""
    return "photo" if caption else "text"


def notice_method(caption: bool) -> str:
    """How a retracted alert becomes the notice: a text alert's text is edited; a photo
    alert's picture is replaced by a blank one, the notice as its caption (``cover``). Editing
    only the caption left the article's photo in the chat under "this article was removed" —
    the very picture a takedown is often for (a wrong suspect, a minor; a tester's report):
    every retraction past Telegram's 48 h delete window, or with ``on_withdraw = "edit"``.
    (core.telegram.org/bots/api#editmessagemedia: the current Bot API also adds media to a
    text message, so ``caption`` must be what the message is — :func:`is_photo`, never a
    guess from the settings — or a text alert shows the notice under a blank picture; an
    older server's "there is no media in the message" turns it to the text edit.)"""
    return "cover" if caption else "text"


@dataclass(frozen=True, slots=True)
class Next:
    """The decision after one call: ``outcome`` set → finished; else call ``method`` again
    after ``delay`` seconds (the chat paused ``pause_chat`` seconds first, on a 429)."""

    outcome: str | None = None
    method: str | None = None
    delay: float = 0.0
    pause_chat: float | None = None
    error: str | None = None


def _other_kind(method: str) -> str:
    """Text ↔ caption, keeping the parse mode."""
    base, _, plain = method.partition("_")
    return ("caption" if base == "text" else "text") + ("_plain" if plain else "")


def backoff(attempts: int, base: float) -> float:
    """Seconds before a transient failure is tried again: doubles per attempt, capped."""
    return min(MAX_BACKOFF, base * 2.0 ** min(attempts, 10))


def decide(
    kind: str,
    method: str,
    result: EditOutcome,
    attempts: int,
    *,
    caption: bool = False,
    max_attempts: int = 25,
    backoff_base: float = 2.0,
) -> Next:
    """What follows ``result`` of calling ``method`` (``attempts``: calls made before this one;
    ``caption``: the guess :func:`first_method` was given, for the edit after a refused delete).

    Retraction: delete refused (too old, no right, any refusal but "gone") → edit to the
    notice; an unreachable chat or an uneditable message ends ``failed`` with Telegram's words.
    Both: a chat upgraded to a supergroup (``migrate_to_chat_id``) ends ``unreachable``.
    Correction: "not modified" is success (``unchanged``). Both: 429 pauses the chat and keeps
    the follow-up; 5xx, network errors and unknown outcomes are tried again with backoff (a
    repeat is harmless) until ``max_attempts``, then ``failed``.
    """
    r, text = result.kind, result.description or None
    if r is EditKind.DONE:
        return Next("deleted" if method == "delete" else "edited")
    if r is EditKind.GONE:
        return Next("gone")
    if r is EditKind.NOT_MODIFIED:
        return Next("edited" if kind == RETRACT else "unchanged")
    if r is EditKind.MIGRATED:  # the old group is closed: no call can reach the message
        return Next(UNREACHABLE, error=text)
    if attempts + 1 >= max_attempts:
        return Next("failed", error=text)
    if r is EditKind.RETRY_AFTER:
        seconds = result.seconds or 1.0
        return Next(method=method, delay=seconds, pause_chat=seconds, error=text)
    if r is EditKind.TRANSIENT:
        return Next(method=method, delay=backoff(attempts, backoff_base), error=text)
    if method == "delete":
        if r is EditKind.CHAT_GONE:
            return Next("failed", error=text)
        return Next(method=notice_method(caption), error=text)  # the notice instead
    if method.startswith(("cover", "photo")):
        return _after_picture(method, r, text)
    if r is EditKind.WRONG_KIND:  # a photo after all: a notice covers its picture too
        plain = "_plain" if method.endswith("_plain") else ""
        return Next(method="cover" + plain if kind == RETRACT else _other_kind(method),
                    error=text)  # fmt: skip
    if r is EditKind.PARSE_ERROR and not method.endswith("_plain"):
        return Next(method=method + "_plain", error=text)
    return Next("failed", error=text)


def _after_picture(method: str, r: EditKind, text: str | None) -> Next:
    """A refused edit of a photo alert's picture — ``cover`` (the notice's blank picture) or
    ``photo`` (a restore: the article's picture back): a text alert after all (the guess was
    wrong) gets its text edited; the markup refused, the same edit in plain text; any other
    refusal (the picture's URL no longer answers, the chat takes no new photos) at least the
    caption — never a follow-up given up while the caption says what is no longer true."""
    plain = method.endswith("_plain")
    if r is EditKind.WRONG_KIND:
        return Next(method="text_plain" if plain else "text", error=text)
    if r is EditKind.PARSE_ERROR and not plain:
        return Next(method=method + "_plain", error=text)
    if r is EditKind.CHAT_GONE:
        return Next("failed", error=text)
    return Next(method="caption_plain" if plain else "caption", error=text)
