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

The title, meta line, topic line and link are capped first (``notify.message``'s caps), so the
summary always gets the rest: a 5,000-character summary is trimmed, never the link.

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
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.blank_text import shows_nothing
from feedsvc.feeds.links import article_link, spelled_link
from feedsvc.feeds.sanitize import plain_lines, shown_summary
from feedsvc.notify.message import (
    MIN_SUMMARY,
    TITLE_CAP,
    meta_line,
    topic_line,
    trim_utf16,
    utf16_len,
    visible_text,
)

TEXT_LIMIT = 2000  # Zalo's sendMessage text (FIELD-NOTES "Zalo Bot Platform"); Discord's too
LINK_CAP = 1000  # a longer article URL is left out rather than crowd out the message


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


def format_plain_alert(
    article: Article,
    topic_titles: Sequence[str],
    tz: tzinfo,
    limit: int = TEXT_LIMIT,
    *,
    titled: bool = True,
) -> str:
    """The plain-text alert for ``article`` matching ``topic_titles``; at most ``limit`` UTF-16
    units (``limit`` ≥ 1,800 leaves room for the capped title, meta, topics and link), whatever
    the article holds. ``titled=False`` leaves the title line out, for a channel that sends the
    title apart (Apprise: :func:`plain_title`; see the module docstring)."""
    url = spelled_link(article_link(article.url))  # the feeds' address, all of it clickable
    link = url if utf16_len(url) <= LINK_CAP else ""
    meta = meta_line(article, tz)
    tail = "\n".join(part for part in (topic_line(topic_titles), link) if part)
    head = f"{plain_title(article)}\n{meta}" if titled else meta
    room = limit - utf16_len(head) - (2 + utf16_len(tail) if tail else 0) - 2
    summary = plain_summary(article)
    body = trim_utf16(summary, room) if room >= MIN_SUMMARY else ""
    return "\n\n".join(part for part in (head, body, tail) if part)
