"""Plain-text alerts (Zalo, Apprise): one article → one message within a length limit.

Pure. Zalo Bot messages are plain text (markup support is unclear between versions, FIELD-NOTES
"Zalo Bot Platform"), and Apprise destinations render markup each their own way, so both get
plain text with the link written out. Lengths are counted in UTF-16 code units, which are never
fewer than code points: the text fits whichever unit the service counts in. Layout:

    title                                  (left out with ``titled=False``: Apprise)
    section · author · HH:MM dd/mm/YYYY
    <blank>
    summary, trimmed to what is left; a line per paragraph
    <blank>
    Chủ đề: topic, topic
    https://link

The title, meta line and topic line are capped first (``notify.message``'s caps); the link is
kept whole whenever it fits beside them (``notify.message.link_that_fits``: the reader taps
it, so it wins over the summary), and the summary gets the rest: a 5,000-character summary is
trimmed, never the link; a link too long for the message even without a summary is left out
(:attr:`PlainAlert.link_left_out`, which the channel logs), never cut.

The summary keeps its paragraphs and line breaks, one line each (:func:`plain_summary`): plain
text has no other way to show them, and "<p>a</p><p>b</p>" ran together as "a b". The one
rule of every plain-text alert, Zalo's and Apprise's (Telegram's HTML alert is
``notify.message``'s).

Apprise sends the title in a field of its own and, for a service without one (its plugin's
``title_maxlen`` 0: SMS, Mattermost, Rocket.Chat…), puts it above the body itself
(``NotifyBase._apply_overflow``): a body that began with the title showed it twice.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.blank_text import shows_nothing
from feedsvc.feeds.links import article_link, spelled_link
from feedsvc.feeds.sanitize import plain_lines, shown_summary
from feedsvc.notify.message import (
    MIN_SUMMARY,
    TITLE_CAP,
    link_that_fits,
    meta_line,
    topic_line,
    trim_utf16,
    utf16_len,
    visible_text,
)

TEXT_LIMIT = 2000  # Zalo's sendMessage text (FIELD-NOTES "Zalo Bot Platform"); Discord's too


def plain_title(article: Article) -> str:
    """The alert's title: the article's visible title (its link when that shows nothing), at
    most ``TITLE_CAP`` UTF-16 units; the first line of a titled alert, Apprise's title field."""
    return trim_utf16(visible_text(article.title) or article_link(article.url), TITLE_CAP)


def plain_summary(article: Article) -> str:
    """The text under a plain alert's head: the summary, else the body
    (:func:`feedsvc.feeds.sanitize.shown_summary`), a line per paragraph or line break
    (:func:`feedsvc.feeds.sanitize.plain_lines`), in NFC; "" when it shows nothing."""
    text = plain_lines(shown_summary(article.summary) or article.body or "")
    text = unicodedata.normalize("NFC", text)
    return "" if shows_nothing(text) else text


@dataclass(frozen=True, slots=True)
class PlainAlert:
    """A plain-text alert (:func:`plain_alert`) and whether it had to go without its link."""

    text: str
    #: UTF-16 units of the article's written-out link when it could not fit the message even
    #: without a summary and was left out; 0 when it is in the text (or the article has none)
    link_left_out: int = 0


def plain_alert(
    article: Article,
    topic_titles: Sequence[str],
    tz: tzinfo,
    limit: int = TEXT_LIMIT,
    *,
    titled: bool = True,
) -> PlainAlert:
    """The plain-text alert for ``article`` matching ``topic_titles``: at most ``limit`` UTF-16
    units whatever the article holds (``limit`` ≥ 724 holds the capped title, meta and topic
    lines). ``titled=False`` leaves the title line out, for a channel that sends the title
    apart (Apprise: :func:`plain_title`; see the module docstring).

    The link is written out whole and wins over the summary
    (:func:`feedsvc.notify.message.link_that_fits`): kept whenever it fits beside the title,
    meta and topic lines, the summary trimmed to what is left (left out below
    :data:`~feedsvc.notify.message.MIN_SUMMARY`); only a link longer than that room is left
    out, :attr:`PlainAlert.link_left_out` saying so. The link is the feeds' percent-encoded
    URI (:func:`feedsvc.feeds.links.article_link`): nothing we checked says Zalo or Apprise's
    destinations make a link of an IRI's Vietnamese letters, so no shorter form is used."""
    link = spelled_link(article_link(article.url))  # the feeds' address, all of it clickable
    meta = meta_line(article, tz)
    head = f"{plain_title(article)}\n{meta}" if titled else meta
    topics = topic_line(topic_titles)
    # the link's line follows the topics' line, else a blank line after the head
    essentials = utf16_len(head) + (2 + utf16_len(topics) + 1 if topics else 2)
    kept = link_that_fits(link, essentials, limit)
    tail = "\n".join(part for part in (topics, kept) if part)
    room = limit - utf16_len(head) - (2 + utf16_len(tail) if tail else 0) - 2
    summary = plain_summary(article)
    body = trim_utf16(summary, room) if room >= MIN_SUMMARY else ""
    text = "\n\n".join(part for part in (head, body, tail) if part)
    return PlainAlert(text, 0 if kept or not link else utf16_len(link))


def format_plain_alert(
    article: Article,
    topic_titles: Sequence[str],
    tz: tzinfo,
    limit: int = TEXT_LIMIT,
    *,
    titled: bool = True,
) -> str:
    """:func:`plain_alert`'s text."""
    return plain_alert(article, topic_titles, tz, limit, titled=titled).text


def link_left_out_line(channel: str, delivery_id: int | None, alert: PlainAlert, limit: int) -> str:
    """The log line (INFO) of an alert sent without its link (:attr:`PlainAlert.link_left_out`),
    naming it by its delivery's row id (:attr:`feedsvc.channels.base.Target.delivery_id`, as
    the dispatcher's lines do; none: "an alert"), never by the article's key: a CMS that uses
    its permalink as GUID has the URL as key, and the line printed it whole (a re-tester's R5).
    "" when the link is in the alert."""
    if not alert.link_left_out:
        return ""
    named = "an alert" if delivery_id is None else f"the alert of delivery {delivery_id}"
    return (
        f"{channel}: {named} goes without its link: {alert.link_left_out} characters, more "
        f"than fit in {limit} beside its title, time and topics"
    )
