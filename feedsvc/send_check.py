"""The check at send time (SPEC §10): whether a claimed alert still goes, and with which labels.

The dispatcher (:mod:`feedsvc.dispatch`) runs it just before the send's slot, at most
``AHEAD`` and the gate's lag earlier; what it ends or re-queues it records itself, no attempt
counted: nothing reached the channel.
"""

from __future__ import annotations

import logging

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.delivery_states import UNSUBSCRIBED, WITHDRAWN
from feedsvc.lifecycle.visibility import Visibility
from feedsvc.recipient_names import named
from feedsvc.store import deliveries as q
from feedsvc.store import lifecycle
from feedsvc.wanted import wants

log = logging.getLogger("feedsvc.dispatch")  # the dispatcher's records, under its name


def send_labels(
    db: Database, owner: str, d: q.Claimed, article: Article | None
) -> list[str] | None:
    """The labels ``d`` goes out with, or None: do not send (recorded here under ``owner``'s
    lease). An article withdrawn or hidden since its alert was queued, or claimed just as it
    happened, is never sent: the delivery ends as ``withdrawn``. One whose time was moved into
    the future waits for it. What the chat wants of the article now (:mod:`feedsvc.wanted`,
    one read) decides both whether it goes and its topic labels: nothing (unsubscribed, the
    topic disabled or deleted, its query no longer matching) ends it ``unsubscribed``;
    otherwise it goes out labelled with only what the chat still follows and the article still
    matches, under current titles, not the labels it was queued with. (A send already under
    way cannot be stopped; its retraction is the sent alert's concern.) None of these counts
    an attempt: nothing reached the channel."""
    want = None
    with db.read() as conn:
        now = db.now()
        seen = lifecycle.article_visibility(conn, d.article_id, now)
        if seen is Visibility.PUBLIC and article is not None:
            pair = (d.chat_id, d.article_id)
            want = wants(conn, [pair], {d.article_id: article})[pair]
    if want:
        return want.labels
    if want is not None:
        with db.write() as conn:
            q.mark_terminal(conn, d.id, owner, UNSUBSCRIBED, "unsubscribed", now,
                            attempted=False)  # fmt: skip
        log.info("delivery %s not sent: %s no longer subscribes to it", d.id, named(d))
        return None
    if seen in (Visibility.PUBLIC, None):  # no article: the send path says so
        return d.topics
    with db.write() as conn:
        now = db.now()
        if seen is Visibility.SCHEDULED:
            due = lifecycle.published_at(conn, d.article_id) or now
            q.retry_later(conn, d.id, owner, due, "scheduled: not public yet",
                          kind="scheduled", attempted=False)  # fmt: skip
        else:
            reason = "hidden" if seen is Visibility.HIDDEN else "withdrawn"
            q.mark_terminal(conn, d.id, owner, WITHDRAWN, reason, now,
                            attempted=False)  # fmt: skip
    log.info("delivery %s not sent: article %s is %s", d.id, d.article_id, seen.value)
    return None
