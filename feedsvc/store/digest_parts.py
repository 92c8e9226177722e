"""The parts of a digest sent in several, as sent rows record them (``deliveries.digest_head``:
part 1's message id on every row of such a digest, migration 0040): which messages make up a
digest, in the order they went, and which of them are no longer in the chat.

A part's place is what the follow-up worker lays it out with (``(tiếp) (2/3)``,
:meth:`feedsvc.digest.edge.DigestEdge.message_now`) and what the follow-up queue owes the
other parts when one changes (``followup_queue.queue_parts``). A part deleted (every article
in it retracted) or found gone is no part any more: "(1/3)", "(tiếp) (2/3)" and no part 3
was what a reader was left with. A group that became a supergroup between two parts has its
first parts in the group and the rest in the supergroup (``digest.sending``), all its rows
moved to the supergroup's id (``chat_migration``): one digest still.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, and_, or_, select

from feedsvc.db.schema import alert_followups, deliveries
from feedsvc.retraction.plan import NOT_IN_CHAT


class PartRow(NamedTuple):
    """A sent row of a digest of several parts: the message it went in (``chat_id``: the chat
    it was SENT to, ``message_id``) and its delivery and article."""

    chat_id: int
    message_id: int
    delivery_id: int
    article_id: int

    @property
    def message(self) -> tuple[int, int]:
        """The message's key: Telegram's message ids are per chat."""
        return self.chat_id, self.message_id


def digest_rows(conn: Connection, chat_id: int, message_id: int) -> list[PartRow]:
    """Every sent row of the digest of several parts that message ``message_id`` in
    ``chat_id`` (the chat it was SENT to) was a part of (``digest_head``: part 1's message id,
    :func:`feedsvc.digest.record.record_part`), in the order the parts went (Telegram's message
    ids grow in a chat; part 1's chat first, :func:`_head_chat`), but the parts no longer in
    the chat (:func:`gone_messages`: deleted, or found gone): no part any more, they number
    none of the others. ``[]`` when that message was no such part, or was sent before
    migration 0040 recorded it."""
    found = conn.execute(
        select(deliveries.c.digest_head, deliveries.c.chat_id)
        .where(
            deliveries.c.sent_chat_id == chat_id,
            deliveries.c.message_id == message_id,
            deliveries.c.digest_head.is_not(None),
        )
        .limit(1)
    ).first()
    if found is None:
        return []
    head, now_in = int(found[0]), int(found[1])
    first = _head_chat(conn, chat_id, now_in, head)
    stmt = select(
        deliveries.c.sent_chat_id, deliveries.c.message_id, deliveries.c.id,
        deliveries.c.article_id,
    ).where(
        deliveries.c.sent_chat_id.in_({first, chat_id}),
        deliveries.c.digest_head == head,
        deliveries.c.chat_id == now_in,
        deliveries.c.state == "sent",
    )  # fmt: skip
    rows = [PartRow(*map(int, row)) for row in conn.execute(stmt).tuples()]
    gone = gone_messages(conn, [r.delivery_id for r in rows])
    rows = [r for r in rows if r.message not in gone]
    return sorted(rows, key=lambda r: (r.chat_id != first, r.message_id, r.delivery_id))


def _head_chat(conn: Connection, chat_id: int, now_in: int, head: int) -> int:
    """The chat part 1 of a digest went to, seen from a part in ``chat_id`` (its rows now in
    chat ``now_in``): the group this chat was, when part 1's rows moved here with the chat
    but say they were sent there (the group became a supergroup between the parts;
    ``digest.sending`` sent the rest here, numbered on); else this chat. The group's first:
    Telegram's message ids are per chat, and a part sent here may carry part 1's id (a new
    supergroup's ids start low). Known limit: a digest of the supergroup's own whose part 1
    has the id of a digest's part 1 sent to the group before is read as that one's rest."""
    there = conn.execute(
        select(deliveries.c.sent_chat_id)
        .where(
            deliveries.c.chat_id == now_in,
            deliveries.c.message_id == head,
            deliveries.c.digest_head == head,
            deliveries.c.sent_chat_id != chat_id,
        )
        .limit(1)
    ).scalar()
    return chat_id if there is None else int(there)


def gone_messages(
    conn: Connection, delivery_ids: Sequence[int], but: int | None = None
) -> set[tuple[int, int]]:
    """The messages (sent chat, message id) of these deliveries that a finished follow-up
    (other than follow-up ``but``) found no longer in the chat: deleted by a retraction, or
    already gone (``retraction.plan.NOT_IN_CHAT``), whichever of the message's deliveries it
    was owed on."""
    if not delivery_ids:
        return set()
    mine = select(deliveries.c.sent_chat_id, deliveries.c.message_id).where(
        deliveries.c.id.in_(list(delivery_ids)), deliveries.c.message_id.is_not(None)
    )
    keys = {(int(c), int(m)) for c, m in conn.execute(mine).tuples() if c is not None}
    if not keys:
        return set()
    other = deliveries.alias("other")
    stmt = (
        select(other.c.sent_chat_id, other.c.message_id)
        .join(alert_followups, alert_followups.c.delivery_id == other.c.id)
        .where(
            or_(*(and_(other.c.sent_chat_id == c, other.c.message_id == m) for c, m in keys)),
            alert_followups.c.state == "done",
            alert_followups.c.outcome.in_(NOT_IN_CHAT),
        )
    )
    if but is not None:
        stmt = stmt.where(alert_followups.c.id != but)
    return {(int(c), int(m)) for c, m in conn.execute(stmt).tuples()}
