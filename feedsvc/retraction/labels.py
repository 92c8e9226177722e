"""A corrected alert's topic labels (its "Chủ đề:" line): what the chat wants of the article
NOW (:mod:`feedsvc.wanted`, the one decision a send takes too), not the labels it went out with.

``deliveries.topics`` holds the labels the alert went out with. A correction that takes the
article out of a topic edited the alert's text but kept the old list (``Chủ đề: Kiến Thụy, An
ninh - Trật tự`` after it left ``an-ninh``: attack F4), so the edit is built from these labels
instead: the chat's enabled topics the article matches (``article_topics``, written with the
correction), by topic id, under their current titles, then the chat's own queries it matches,
by subscription id, each labelled with its text. When none is left the alert keeps its place
and loses its topic line (``format_alert`` writes none for an empty list): the correction is
still news to the chat, and a retraction is the lifecycle's decision (withdrawn or hidden),
not a label's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.retraction.plan import CORRECT
from feedsvc.store.followups import Followup
from feedsvc.wanted import Pair, labels, wants

__all__ = ["Pair", "current_labels", "labels", "relabelled"]


def current_labels(
    conn: Connection, pairs: Sequence[Pair], found: dict[int, Article]
) -> dict[Pair, list[str]]:
    """Each (chat, article) pair's labels now (see the module docstring); pairs whose article
    is not in ``found`` (deleted since) are left out: the caller keeps the stored labels."""
    return {pair: want.labels for pair, want in wants(conn, pairs, found).items()}


def relabelled(
    conn: Connection, claimed: list[Followup], found: dict[int, Article]
) -> list[Followup]:
    """Corrections (restores too) carry the topic labels the article has for the chat now,
    not the ones they were queued with; retractions are left as they are."""
    pairs = [(c.chat_id, c.article_id) for c in claimed if c.kind == CORRECT]
    now = current_labels(conn, pairs, found)
    return [
        replace(c, topics=now[(c.chat_id, c.article_id)])
        if c.kind == CORRECT and (c.chat_id, c.article_id) in now
        else c
        for c in claimed
    ]
