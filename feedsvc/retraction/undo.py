"""A corrected alert's undo buttons: the "↩ Bật lại" a reader was offered must survive a
correction.

Pressing "🔕 Tắt {topic}" under an alert unsubscribes the chat and swaps the button for its
undo (:mod:`feedsvc.bot.buttons`). A correction edits the alert and sends its keyboard again,
built from what the chat follows now (:meth:`feedsvc.digest.edge.DigestEdge.options`): the
muted topic is no longer followed, so its button vanished, undo included. This module says
which topics the correction offers the undo for instead.

Which topics the alert's buttons named is not recorded; what is, is the labels it went out
with (``deliveries.topics``, the send's labels, :mod:`feedsvc.wanted`: the titles of the chat's
topics the article matched then, by topic id, then its own queries' texts; a correction's
relabel, :mod:`feedsvc.retraction.labels`, is never written back). So no schema change: a topic
gets an undo when the article still matches it (``article_topics``, enabled), the chat does not
follow it now, it existed when the alert was sent, and its title is one of those labels that
nothing the chat has now accounts for (a topic it follows and the article matches, under the
same title; an own query of that text). A title two such topics share beyond what the labels
count is ambiguous and gets no undo: never an undo for a topic the chat did not follow when the
alert was sent. Left out therefore: a topic retitled since the send (its label names the old
title), a deleted or disabled one (nothing to follow again: the undo would answer "gone").

The undo's forum thread is not known (the muted subscription, which held it, is gone, and the
thread an alert went to is not recorded): its callback names none, so pressing it subscribes
the chat itself (the general thread of a forum), not the thread the subscription delivered to.

Only Telegram edits sent alerts and shows buttons; Zalo and Apprise ignore buttons, so nothing
changes there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.store.audience import chat_query_subscriptions
from feedsvc.store.digests import Match, Unfollowed, matches_for, unfollowed_matches

# (delivery id, chat id, article id, labels it was sent with, when it was recorded sent)
Sent = tuple[int, int, int, list[str], datetime | None]


def muted_topics(conn: Connection, sent: Sequence[Sent]) -> dict[int, list[Match]]:
    """Per delivery id, the topics its correction offers the undo for (see the module
    docstring), each without a thread; deliveries with none are left out. Three reads."""
    if not sent:
        return {}
    pairs = [(c, a) for _, c, a, _, _ in sent]
    followed = matches_for(conn, pairs)
    unfollowed = unfollowed_matches(conn, pairs)
    queries = chat_query_subscriptions(conn, {c for c, _ in pairs})
    out = {}
    for delivery_id, chat_id, article_id, labels, sent_at in sent:
        pair = (chat_id, article_id)
        undo = undo_topics(
            labels, followed.get(pair, []), unfollowed.get(pair, []),
            (q for _, q in queries.get(chat_id, [])), sent_at,
        )  # fmt: skip
        if undo:
            out[delivery_id] = undo
    return out


def undo_topics(
    labels: Sequence[str],
    followed: Sequence[Match],
    unfollowed: Sequence[Unfollowed],
    queries: Iterable[str],
    sent_at: datetime | None,
) -> list[Match]:
    """Pure: the ``unfollowed`` topics (matched now, not followed now) the alert's ``labels``
    name and nothing the chat has now accounts for (``followed``: its topics the article
    matches now; ``queries``: the texts of its own queries), created by ``sent_at``; in the
    labels' order, without a thread. None when the send time is not known."""
    if sent_at is None:
        return []
    left = Counter(labels)
    left.subtract(m.title for m in followed)
    left.subtract(queries)
    by_title: dict[str, list[Unfollowed]] = {}
    for topic in unfollowed:
        if topic.created_at <= sent_at and topic.title in left:
            by_title.setdefault(topic.title, []).append(topic)
    order = {title: i for i, title in reversed(list(enumerate(labels)))}
    out: list[Match] = []
    for title in sorted(by_title, key=order.__getitem__):
        found = by_title[title]
        if len(found) <= left[title]:  # more candidates than labels: which one is not known
            out.extend(Match(t.topic_id, t.slug, t.title, None) for t in found)
    return out
