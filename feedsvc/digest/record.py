"""What one digest part's outcome does to the rows it carried (and to the parts after it).

The same outcomes as an alert (:class:`feedsvc.notify.SendOutcome`), the same rules as
:func:`feedsvc.send_record.record_alert`, applied to a set of rows: sent rows end ``sent``
with the part's message id, the chat it went to (``sent_chat_id``, which a migration to a
supergroup never moves) and its note (:attr:`~feedsvc.notify.SendOutcome.note`: a part an
Apprise destination took in part says so, as an alert does); anything to retry goes back to
``held`` (a digest stays a digest) with the usual backoff; a second unknown outcome ends as
``unknown_outcome``; a chat that can never receive ends everything queued for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from feedsvc.catalogue.reasons import stored_reason
from feedsvc.db.committed import say
from feedsvc.delivery_states import UNSUBSCRIBED, WITHDRAWN
from feedsvc.notify import OutcomeKind, SendOutcome
from feedsvc.notify.outcome import (
    TOKEN_RETRY_SECONDS,
    TOPIC_CLOSED_RETRY_SECONDS,
    topic_closed_line,
)
from feedsvc.store import chat_migration, claims, dead_letters
from feedsvc.store import digests as store

log = logging.getLogger("feedsvc.dispatch")  # the dispatcher's records, under its name


#: The outcomes after which a digest's next part is still sent (:func:`record_part` returns
#: True): the part went, or only this part can never go as it is. Any other ends the digest
#: here, its rest back to the outbox (``digest.sending``: the parts that went owe an edit).
GOES_ON = (OutcomeKind.SENT, OutcomeKind.BAD_CONTENT, OutcomeKind.PARSE_ERROR,
           OutcomeKind.THREAD_GONE)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Policy:
    """The dispatcher's limits (:class:`feedsvc.dispatch.DispatchSettings`), one source."""

    disable_after: int
    max_attempts: int
    max_unknown_resends: int
    backoff: Callable[[int], timedelta]  # attempts so far → wait before the next one


def record_part(
    conn: Connection, now: datetime, owner: str, batch: store.HeldBatch, part: Sequence[int],
    later: Sequence[int], o: SendOutcome, policy: Policy, head: int | None = None,
) -> bool:  # fmt: skip
    """Record ``o`` for the rows of ``part``; rows of ``later`` parts follow a failure that
    stops the digest. ``head``: part 1's message id, of a digest of several parts whose part 1
    went (``deliveries.digest_head``: a part laid out again later keeps its place,
    :func:`feedsvc.store.digest_parts.digest_rows`). Returns True when the next part may be sent."""
    rows = {r.id: r for r in batch.rows}
    text = o.description[:1000]
    kind = o.kind
    backoff = policy.backoff(max(r.attempts for r in batch.rows))
    if kind is OutcomeKind.SENT:
        known: dict[str, Any] = {} if o.message_kind is None else {"message_kind": o.message_kind}
        store.finish_rows(conn, part, owner, state="sent", message_id=o.message_id or 0,
                          sent_chat_id=batch.chat_id, finished_at=now, attempt=True,
                          error=o.note, digest_head=head, **known)  # fmt: skip
        dead_letters.chat_succeeded(conn, batch.chat_id)
        again = sorted(i for i in part if rows[i].ambiguous)
        if again:  # sent before with an unknown outcome (send_record.record_alert's line)
            say(conn, log, logging.INFO, "digest of %s: a part sent again after an earlier "
                "send whose outcome is unknown: the chat may have it twice (deliveries %s)",
                batch.recipient, ", ".join(map(str, again)))  # fmt: skip
        return True
    if kind in GOES_ON:  # this part can never go as it is; the next one may
        store.finish_rows(conn, part, owner, state="bad_content", error=text, finished_at=now,
                          attempt=True)  # fmt: skip
        return True
    everything = [*part, *later]
    if kind is OutcomeKind.TOKEN_REFUSED:  # the operator's to fix: no attempt spent
        store.finish_rows(conn, everything, owner, state="held", error=text,
                          due_at=now + timedelta(seconds=TOKEN_RETRY_SECONDS),
                          retry_kind="token_refused")  # fmt: skip
    elif kind is OutcomeKind.TOPIC_CLOSED:  # the chat's admins may reopen it: no attempt spent
        store.finish_rows(conn, everything, owner, state="held", error=text,
                          due_at=now + timedelta(seconds=TOPIC_CLOSED_RETRY_SECONDS),
                          retry_kind="topic_closed")  # fmt: skip
        say(conn, log, logging.WARNING, "%s", topic_closed_line(batch.recipient, None))
    elif kind is OutcomeKind.RETRY_AFTER:
        until = now + timedelta(seconds=o.seconds or 1)
        claims.block_chat_until(conn, batch.chat_id, until)
        store.finish_rows(conn, everything, owner, state="held", due_at=until, error=text,
                          retry_kind="rate_limited")  # fmt: skip
    elif kind is OutcomeKind.MIGRATED and o.new_chat_id not in (None, batch.chat_id):
        store.finish_rows(conn, everything, owner, state="held", due_at=now, error=text,
                          retry_kind="migrated")  # fmt: skip
        chat_migration.follow_migration(conn, batch.chat_id, o.new_chat_id, now)
    elif kind.chat_level:
        store.finish_rows(conn, everything, owner, state=kind.value, error=text, finished_at=now,
                          attempt=True)  # fmt: skip
        reason = stored_reason(kind.value, text)  # a code, worded when shown
        dead_letters.chat_failed(conn, batch.chat_id, reason, policy.disable_after, now)
    elif kind is OutcomeKind.AMBIGUOUS:
        if max(rows[i].ambiguous for i in part) >= policy.max_unknown_resends:
            store.finish_rows(conn, part, owner, state="unknown_outcome", error=text,
                              finished_at=now, attempt=True, unknown=True)  # fmt: skip
        else:
            store.finish_rows(conn, part, owner, state="held", due_at=now + backoff,
                              error=text, attempt=True, unknown=True,
                              retry_kind="unknown")  # fmt: skip
        store.finish_rows(conn, later, owner, state="held", due_at=now + backoff)
    elif max(rows[i].attempts for i in everything) + 1 >= policy.max_attempts:
        store.finish_rows(conn, everything, owner, state="failed", error=text, finished_at=now,
                          attempt=True)  # fmt: skip
    else:
        store.finish_rows(conn, everything, owner, state="held", due_at=now + backoff,
                          error=text, attempt=True, retry_kind="transient")  # fmt: skip
    return False


def set_aside(
    conn: Connection, now: datetime, owner: str, withdrawn: Sequence[int],
    later: Sequence[tuple[int, datetime, bool]], unsubscribed: Sequence[int] = (),
) -> None:  # fmt: skip
    """Rows left out of a digest: an article no longer public ends ``withdrawn`` (SPEC §10:
    never sent); one still scheduled (``later``: id, due, held) goes back to ``held`` for the
    chat's digest after its publication time, or to ``pending`` as an instant alert due then
    when the chat would not hold it (:meth:`feedsvc.digest.edge.DigestEdge.set_later`); one
    the chat no longer wants ends ``unsubscribed`` (:mod:`feedsvc.wanted`)."""
    store.finish_rows(conn, withdrawn, owner, state=WITHDRAWN, error="withdrawn",
                      finished_at=now)  # fmt: skip
    store.finish_rows(conn, unsubscribed, owner, state=UNSUBSCRIBED, error="unsubscribed",
                      finished_at=now)  # fmt: skip
    for delivery_id, due, held in later:
        state = {"state": "held"} if held else {"state": "pending", "digest": False}
        store.finish_rows(conn, [delivery_id], owner, due_at=due, **state)
