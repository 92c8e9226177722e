"""One follow-up's call on a sent message, and what the changed message says.

A retraction deletes the message or edits it to the notice (:class:`Notices`: withdrawn, or
scheduled now — it will be published, so it does not say "withdrawn"), covering a photo
alert's picture; a correction edits it to the article as it reads now (a restore puts the
picture back). A digest message — a message recorded on several deliveries — is edited by any
follow-up of one of them to its articles public now (:func:`digest_now`), never one alert's
text over the whole digest, the notice or the delete only once none is. Every call names the
chat the message was sent to (``Followup.message_chat``). The worker
(:mod:`feedsvc.retraction.worker`) decides when; :mod:`.plan`, which method and what the
answer means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.digest.edge import DigestEdge
from feedsvc.digest.message import DigestPart
from feedsvc.notify import format_alert
from feedsvc.notify.edits import EditOutcome, MessageEditor
from feedsvc.notify.message import Button
from feedsvc.retraction.plan import CORRECT, RETRACT
from feedsvc.store import digest_parts
from feedsvc.store import digests as digest_store
from feedsvc.store.followups import Followup

NOTICE_KEY = "bot.alert_withdrawn"
# the notice of an article moved into the future (SPEC §10): it will be published, so it does
# not say "withdrawn"
RESCHEDULED_KEY = "bot.alert_rescheduled"


@dataclass(frozen=True, slots=True)
class Notices:
    """What a retracted alert says instead, in the site's language (``site.language``)."""

    withdrawn: str
    rescheduled: str

    @classmethod
    def of(cls, language: str) -> Notices:
        words = Translator(language)
        return cls(words(NOTICE_KEY), words(RESCHEDULED_KEY))


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed follow-up with what its call needs, read at claim time."""

    followup: Followup
    article: Article | None
    public: bool
    at: float  # monotonic time of its send slot
    # a digest message (several alerts, one message): what it reads now, its public articles
    # laid out again (``DigestEdge.message_now``; empty: none is public)
    digest_now: tuple[DigestPart, ...] = ()
    # a correction's inline keyboard, as the alert was sent with (an edit naming none drops it),
    # a topic the chat muted since offered as its undo (:mod:`.undo`)
    buttons: tuple[tuple[Button, ...], ...] = ()
    # scheduled now (moved into the future after its alert), not withdrawn or hidden
    rescheduled: bool = False


def digest_now(
    conn: Connection, layout: DigestEdge, f: Followup, now: datetime
) -> tuple[DigestPart, ...]:
    """What a digest message (``f.siblings``: it carries other alerts) reads now: its
    public articles laid out again (``DigestEdge.message_now``). A retraction or a
    correction of one alert edits the message to that — never one alert's text over the
    whole digest, never the notice while another of its articles is public; none public:
    the retraction deletes it or edits it to the notice, as an alert's. A part of a digest
    sent in several keeps its place among the parts still listing an article, ``(2/3)``
    (``store.digest_parts.digest_rows``)."""
    if f.message_id is None or f.migrated_away:
        return ()
    sent = digest_store.message_articles(conn, f.message_chat, f.message_id)
    rows = digest_parts.digest_rows(conn, f.message_chat, f.message_id)  # a part: its place
    digest = [(r.message, r.article_id) for r in rows]
    message = (f.message_chat, f.message_id)
    return tuple(layout.message_now(conn, f.chat_id, sent, now, message, digest))


async def call(
    editor: MessageEditor, job: Job, method: str, notices: Notices, tz: tzinfo
) -> EditOutcome:
    """``method`` (:mod:`.plan`'s: ``delete``, ``text``/``caption``, ``*_plain``, ``cover``,
    ``photo``) on ``job``'s message; the channel's answer, as its editor words it."""
    f = job.followup
    assert f.message_id is not None
    if method == "delete":
        return await editor.delete(f.message_chat, f.message_id)
    caption = method.startswith("caption")
    html = not method.endswith("_plain")
    if job.digest_now:  # the digest's public articles, laid out again
        shown = job.digest_now[0].message
        html = html and not f.plain_text and not editor.plain_only
        return await editor.edit(
            f.message_chat, f.message_id, shown.text if html else shown.plain_text,
            caption=False, html=html, link_preview=f.link_preview,
        )  # fmt: skip
    if f.kind == RETRACT:  # a digest of several articles says the general notice
        text = notices.rescheduled if job.rescheduled and not f.siblings else notices.withdrawn
        if method.startswith("cover"):  # a photo alert: its picture goes too
            return await editor.cover(f.message_chat, f.message_id, text, html=html)
    else:
        assert job.article is not None
        photo = method.startswith("photo")
        caption = caption or photo
        msg = format_alert(job.article, f.topics, tz, with_image=caption, caption=caption)
        html = html and not f.plain_text and not editor.plain_only
        text = msg.text if html else msg.plain_text
        if photo and msg.photo_url:  # a restore: the article's picture over the blank one
            return await editor.uncover(f.message_chat, f.message_id, msg.photo_url, text,
                                        html=html, buttons=job.buttons)  # fmt: skip
    return await editor.edit(
        f.message_chat, f.message_id, text, caption=caption, html=html,
        link_preview=f.link_preview, buttons=job.buttons if f.kind == CORRECT else (),
    )  # fmt: skip
