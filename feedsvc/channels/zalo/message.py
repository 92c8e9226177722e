"""Zalo alerts: the plain-text alert (:mod:`feedsvc.channels.plain`) at Zalo's 2,000-character
limit (FIELD-NOTES "Zalo Bot Platform")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.channels.plain import format_plain_alert

TEXT_LIMIT = 2000


def format_zalo_alert(article: Article, topic_titles: Sequence[str], tz: tzinfo) -> str:
    """At most :data:`TEXT_LIMIT` UTF-16 units (so also code points), whatever the article."""
    return format_plain_alert(article, topic_titles, tz, TEXT_LIMIT)
