"""Plain-text alerts (Zalo, Apprise): one article → one message within a length limit.

Pure. Zalo Bot messages are plain text (markup support is unclear between versions, FIELD-NOTES
"Zalo Bot Platform"), and Apprise destinations render markup each their own way, so both get
plain text with the link written out. Lengths are counted in UTF-16 code units, which are never
fewer than code points: the text fits whichever unit the service counts in. Layout:

    title
    section · author · HH:MM dd/mm/YYYY
    <blank>
    summary, trimmed to what is left
    <blank>
    Chủ đề: topic, topic
    https://link

The title, meta line, topic line and link are capped first (``notify.message``'s caps), so the
summary always gets the rest: a 5,000-character summary is trimmed, never the link.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.feeds.sanitize import link_url, xml_clean
from feedsvc.notify.message import (
    MIN_SUMMARY,
    TITLE_CAP,
    TOPICS_CAP,
    TOPICS_LABEL,
    alert_summary,
    meta_line,
    trim_utf16,
    utf16_len,
    visible_text,
)

TEXT_LIMIT = 2000  # Zalo's sendMessage text (FIELD-NOTES "Zalo Bot Platform"); Discord's too
LINK_CAP = 1000  # a longer article URL is left out rather than crowd out the message


def format_plain_alert(
    article: Article, topic_titles: Sequence[str], tz: tzinfo, limit: int = TEXT_LIMIT
) -> str:
    """The plain-text alert for ``article`` matching ``topic_titles``; at most ``limit`` UTF-16
    units (``limit`` ≥ 1,800 leaves room for the capped title, meta, topics and link), whatever
    the article holds."""
    url = link_url(article.url)
    link = url if utf16_len(url) <= LINK_CAP else ""
    title = trim_utf16(visible_text(article.title) or url, TITLE_CAP)
    meta = meta_line(article, tz)
    topics = [t for t in (" ".join(xml_clean(t).split()) for t in topic_titles) if t]
    topic_line = trim_utf16(TOPICS_LABEL + ", ".join(topics), TOPICS_CAP) if topics else ""
    tail = "\n".join(part for part in (topic_line, link) if part)
    head = f"{title}\n{meta}"
    room = limit - utf16_len(head) - (2 + utf16_len(tail) if tail else 0) - 2
    summary = alert_summary(article)
    body = trim_utf16(summary, room) if room >= MIN_SUMMARY else ""
    return "\n\n".join(part for part in (head, body, tail) if part)
