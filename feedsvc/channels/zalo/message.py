"""Zalo alerts: the plain-text alert (:mod:`feedsvc.channels.plain`) at Zalo's 2,000-character
limit (FIELD-NOTES "Zalo Bot Platform")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.channels.plain import PlainAlert, plain_alert

TEXT_LIMIT = 2000


def zalo_alert(article: Article, topic_titles: Sequence[str], tz: tzinfo) -> PlainAlert:
    """At most :data:`TEXT_LIMIT` UTF-16 units (so also code points), whatever the article; the
    link whole whenever it fits beside the title, meta and topics (:func:`plain_alert`)."""
    return plain_alert(article, topic_titles, tz, TEXT_LIMIT)


def format_zalo_alert(article: Article, topic_titles: Sequence[str], tz: tzinfo) -> str:
    """:func:`zalo_alert`'s text."""
    return zalo_alert(article, topic_titles, tz).text
