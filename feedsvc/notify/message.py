"""Alert formatting: one article → one Telegram message (SPEC §6 "Message").

Pure functions, no I/O, so every limit can be property-tested. Telegram's HTML parse mode has
no escaping helper and counts lengths in UTF-16 code units *after* entity parsing, so this module
escapes every piece of article text with :func:`html.escape` and budgets on the visible text.
Trimming happens on plain text *before* escaping: a cut can never land inside an entity or a
tag, and it steps back rather than split a surrogate pair.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.blank_text import shows_nothing
from feedsvc.feeds.links import article_link, spelled_link
from feedsvc.feeds.sanitize import (
    absolute_url,
    field_text,
    plain_text,
    shown_summary,
    xml_clean,
)
from feedsvc.graphemes import prefix, utf16_units

TEXT_LIMIT = 4096  # sendMessage text, UTF-16 units after entity parsing
CAPTION_LIMIT = 1024  # sendPhoto caption
ELLIPSIS = "…"
# Caps so one absurd field (a 2 MB title) cannot crowd out the rest of the message. An alert's
# written-out link has no cap of its own (:func:`link_that_fits`); URL_CAP is a digest line's.
TITLE_CAP, META_CAP, TOPICS_CAP, URL_CAP = 300, 120, 300, 2000
SEPARATOR = " · "  # between an alert's section, author and time
MIN_SUMMARY = 40  # below this a summary is noise: leave it out
TOPICS_LABEL = "Chủ đề: "

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button: a link (``url``) or a callback (``data``, ≤ 64 bytes)."""

    text: str
    url: str | None = None
    data: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """How one message goes to its chat (issue 15), already decided and worded: no sound,
    a forum thread, inline buttons (Telegram), a notice said once above the message."""

    silent: bool = False
    thread_id: int | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What the sender needs. ``text`` is Telegram HTML; ``plain_text`` is the no-parse-mode
    fallback for "can't parse entities"; ``is_caption`` means ``text`` fits a photo caption.

    Delivery options (issue 15), applied where the channel has them: ``silent`` (no sound,
    Telegram ``disable_notification``), ``thread_id`` (a forum topic thread,
    ``message_thread_id``) and ``buttons`` (rows of an inline keyboard)."""

    text: str
    plain_text: str
    photo_url: str | None = None
    is_caption: bool = False
    silent: bool = False
    thread_id: int | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()


def with_options(msg: AlertMessage, options: DeliveryOptions) -> AlertMessage:
    """``msg`` carrying ``options``; a notice goes above the text, in italics, when it fits the
    message limit (the plain form, which spells the link out, is the longer one: measured on
    it). A message already at its limit goes without the notice rather than not at all."""
    limit = CAPTION_LIMIT if msg.is_caption else TEXT_LIMIT
    if options.notice and utf16_len(msg.plain_text) + utf16_len(options.notice) + 2 <= limit:
        msg = replace(
            msg,
            text=f"<i>{html.escape(options.notice)}</i>\n\n{msg.text}",
            plain_text=f"{options.notice}\n\n{msg.plain_text}",
        )
    return replace(msg, silent=options.silent, thread_id=options.thread_id, buttons=options.buttons)


#: Length in UTF-16 code units, Telegram's unit (an emoji outside the BMP counts 2).
utf16_len = utf16_units


def meta_line(article: Article, tz: tzinfo) -> str:
    """An alert's second line, "section · author · HH:MM dd/mm/YYYY" (``tz``: the site's
    timezone), at most :data:`META_CAP` UTF-16 units. The time always shows: the section and
    the author share what is left, a short one leaving the rest to the other (a tester's
    5,000-character section pushed the author and the time out). SPEC §6."""
    when = article.published_at.astimezone(tz).strftime("%H:%M %d/%m/%Y")
    parts = [visible_text(article.section or ""), visible_text(article.author or "")]
    parts = [part for part in parts if part]
    room = META_CAP - utf16_len(when) - len(SEPARATOR) * len(parts)
    shortest_first = sorted(range(len(parts)), key=lambda i: utf16_len(parts[i]))
    for n, i in enumerate(shortest_first):  # each takes what it needs of an equal share
        parts[i] = trim_utf16(parts[i], room // (len(parts) - n))
        room -= utf16_len(parts[i])
    return SEPARATOR.join([*parts, when])


def link_that_fits(link: str, essentials: int, limit: int) -> str:
    """**The one rule for an article's link written out in a plain-text alert** (Zalo's and
    Apprise's, :mod:`feedsvc.channels.plain`; Telegram's plain fallback, :func:`format_alert`):
    ``link`` whole when it fits ``limit`` beside ``essentials`` — the UTF-16 units of what the
    message holds besides it and its summary: title, meta line, topics, their separators and
    the link's own line break —, else "". The link is what a reader taps: it wins over the
    summary, which is trimmed to what is left (a Vietnamese slug of ~400 letters is ~1,200
    units percent-encoded; a fixed 1,000-unit cap left such links out of Zalo and Apprise
    alerts with 1,800 units free, a tester's T1). Never cut: a link cut short opens another
    page, so one that cannot fit even without a summary is left out (its caller may say so).
    Pure; lengths in UTF-16 code units (:func:`utf16_len`)."""
    return link if link and essentials + utf16_len(link) <= limit else ""


def trim_utf16(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, ending in "…" when cut.

    Prefers a word boundary in the last 30 % of the budget; never splits a grapheme cluster
    (:func:`feedsvc.graphemes.prefix`: a flag, an emoji sequence, a letter and its marks).
    """
    if utf16_len(text) <= limit:
        return text
    if limit < 1:
        return ""
    cut = prefix(text, limit - 1, utf16=True)  # one unit for the ellipsis
    space = cut.rfind(" ")
    if space >= len(cut) * 0.7:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def visible_text(fragment: str) -> str:
    """What a reader sees of a CMS text field (title, section, author): tags dropped, entities
    decoded, NFC, control characters and lone surrogates gone, one line; a ``<`` that begins
    no markup kept (``Sách <Số đỏ>``: :func:`feedsvc.feeds.sanitize.field_text`). Escaped once
    for Telegram after this (``&amp;`` must not show as "&amp;")."""
    return _clean(field_text(fragment)) if fragment else ""


def visible_summary(fragment: str) -> str:
    """:func:`visible_text` of a summary or body, which is HTML (SPEC §3): HTML semantics
    (:func:`feedsvc.feeds.sanitize.plain_text`)."""
    return _clean(plain_text(fragment)) if fragment else ""


def alert_shows(article: Article) -> tuple[object, ...]:
    """What an alert shows of ``article`` but its picture (:func:`format_alert`): title, link,
    meta line (section, author, time) and :func:`alert_summary` — a newer version changing any
    of it is a correction (:func:`feedsvc.retraction.plan.is_correction`). Only the title and
    summary counted: a corrected link kept the alert's title and "Đọc bài" button on the old
    URL, a body fixed in an article without a summary kept the wrong words in the chat (a
    tester's)."""
    return (
        article.title, article.url, article.section, article.author, article.published_at,
        alert_summary(article),
    )  # fmt: skip


def alert_summary(article: Article) -> str:
    """The text an alert shows under its title: the summary's visible text, else the body's
    (:func:`feedsvc.feeds.sanitize.shown_summary`: a summary that shows nothing, what CMS
    editors leave in an emptied field, used to hide the body); "" when that shows nothing."""
    text = visible_summary(shown_summary(article.summary) or article.body or "")
    return "" if shows_nothing(text) else text


def _clean(text: str) -> str:
    """NFC, only characters Telegram shows as text (the feeds' cleaner), one line."""
    text = unicodedata.normalize("NFC", xml_clean(text))
    return _SPACES.sub(" ", text).strip()


#: Characters around a label that do not make it another label: a chat's query `"Kiến Thụy"`
#: beside the topic Kiến Thụy.
_LABEL_EDGES = " \"'“”„«»"


def topic_line(topic_titles: Sequence[str]) -> str:
    """The alert's "Chủ đề: A, B" line (Telegram's and the plain channels'), each label cleaned
    (:func:`_clean`) and shown once: a chat's own query that reads as one of its topics' titles
    (the topic Kiến Thụy and the query `Kiến Thụy`, in any case or between quotes) made
    "Chủ đề: Kiến Thụy, An ninh, Kiến Thụy" (a tester's); the first one stays, in the outbox's
    order. Empty when no label is left; at most :data:`TOPICS_CAP` UTF-16 units."""
    seen: set[str] = set()
    shown: list[str] = []
    for label in map(_clean, topic_titles):
        key = label.strip(_LABEL_EDGES).casefold()
        if key and key not in seen:
            seen.add(key)
            shown.append(label)
    return trim_utf16(TOPICS_LABEL + ", ".join(shown), TOPICS_CAP) if shown else ""


def format_alert(
    article: Article,
    topic_titles: Sequence[str],
    tz: tzinfo,
    with_image: bool = False,
    *,
    caption: bool = False,
) -> AlertMessage:
    """The alert for ``article`` matching ``topic_titles`` (one message listing all topics).

    Layout: bold linked title; "section · author · HH:MM dd/mm/YYYY" (site's timezone); the summary
    (or the body's start) trimmed to fit; the topic names. With ``with_image`` and an http(s)
    image the text is a caption (1024 units), else a message (4096 units); ``caption`` keeps
    the caption budget even without an image (a correction of an alert sent as a photo).
    """
    # the feeds' enclosure: an http(s) URI against the article's page, else no photo
    image = article.image_url if with_image else None
    photo = absolute_url(image, article.url) if image else None
    limit = CAPTION_LIMIT if photo or caption else TEXT_LIMIT

    url = article_link(article.url)  # the one address of an article (feeds.links)
    title = trim_utf16(visible_text(article.title) or url, TITLE_CAP)
    meta = meta_line(article, tz)
    topics_line = topic_line(topic_titles)
    summary = alert_summary(article)

    def compose(link: str | None, as_html: bool) -> str:
        # Visible layout: title \n meta [\n\n summary] [\n\n topics] [\n url]
        fixed = utf16_len(title) + 1 + utf16_len(meta)
        fixed += 2 + utf16_len(topics_line) if topics_line else 0
        fixed += 1 + utf16_len(link) if link else 0
        room = limit - fixed - 2
        body = trim_utf16(summary, room) if room >= MIN_SUMMARY else ""
        esc = html.escape if as_html else _identity
        bold = f"<b>{esc(title)}</b>"
        linked = f'<a href="{html.escape(url)}">{bold}</a>' if url else bold
        head = f"{linked}\n<i>{esc(meta)}</i>" if as_html else f"{title}\n{meta}"
        parts = [head]
        if body:
            parts.append(esc(body))
        if topics_line:
            parts.append(esc(topics_line))
        text = "\n\n".join(parts)
        return f"{text}\n{link}" if link else text

    # the plain text's link, all of it a linkifier's, as a plain channel's alert keeps it
    # (:func:`link_that_fits`): beside the title, meta and topics the fallback must hold
    essentials = utf16_len(title) + 1 + utf16_len(meta) + 1
    essentials += 2 + utf16_len(topics_line) if topics_line else 0
    plain_link = link_that_fits(spelled_link(url) if url else "", essentials, limit)
    return AlertMessage(
        text=compose(None, as_html=True),
        plain_text=compose(plain_link or None, as_html=False),
        photo_url=photo,
        is_caption=photo is not None,
    )


def _identity(text: str) -> str:
    return text
