"""Which queued alerts a chat holds (a digest schedule, quiet hours): the SQL side. The rule
itself — settings and an instant → when the chat's alerts go out — is the caller's ``release``
(:func:`feedsvc.digest.schedule.release_at` in the site's zone, :class:`feedsvc.digest.edge.
DigestEdge.release`); this module only applies it.

Two places apply it, both inside the dispatcher's claim transaction: :func:`hold_pending` holds
every pending row of the chats that hold now (so a digest takes them all), and
:func:`hold_leased` takes back, from what the outbox claim just leased, the rows whose chat
holds. The second is the guarantee: under PostgreSQL's READ COMMITTED each statement sees what
committed before it, so a row ingest committed between the hold and the claim was leased as an
instant alert for a chat in quiet hours or on a digest schedule (tester tlife, s11). A claim
that leases a row checks its chat in the same transaction, after the lease, whatever committed
in between; SQLite's writer lock makes that a no-op there, but the rule does not rely on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, or_, select, update

from feedsvc.db.schema import chats, deliveries
from feedsvc.digest.settings import ChatSettings

#: a chat's settings → the instant its alerts go out (the chat holds them until then), None: now
Release = Callable[[ChatSettings], datetime | None]
#: a leased row and its chat's stored options: (delivery id, ``digest``, ``quiet``, ``silent``)
Leased = tuple[int, str | None, str | None, bool]


def may_hold() -> Any:
    """A clause: the chat has a digest schedule or a quiet window (its alerts may be held);
    a chat with neither never holds, whatever ``release`` says."""
    return or_(chats.c.digest.is_not(None), chats.c.quiet.is_not(None))


def _held(due: datetime) -> dict[str, Any]:
    """What a held row is: waiting for the digest (or the window's end) at ``due``."""
    return {"state": "held", "due_at": due, "digest": True}


def hold_pending(
    conn: Connection, now: datetime, release: Release, channel: str = "telegram"
) -> int:
    """Hold the pending rows of every chat whose settings say "not now" (``release`` → the
    instant they go out, None: now); returns rows held. Only chats with a digest or quiet
    window are looked at, so instant chats cost nothing here."""
    has_pending = exists().where(
        deliveries.c.chat_id == chats.c.chat_id, deliveries.c.state == "pending"
    )
    stmt = select(chats.c.chat_id, chats.c.digest, chats.c.quiet, chats.c.silent).where(
        may_hold(), chats.c.channel == channel, has_pending
    )
    held = 0
    for chat_id, digest, quiet, silent in conn.execute(stmt).tuples().all():
        due = release(ChatSettings.from_row(digest, quiet, silent))
        if due is None:
            continue
        result = conn.execute(
            update(deliveries)
            .where(deliveries.c.chat_id == chat_id, deliveries.c.state == "pending")
            .values(**_held(due))
        )
        held += result.rowcount
    return held


def hold_leased(
    conn: Connection, owner: str, leased: Sequence[Leased], release: Release
) -> set[int]:
    """Of rows ``owner`` just leased for sending as instant alerts, hold those whose chat's
    settings say "not now" (``held``, due when ``release`` says, lease dropped, no attempt
    counted); returns their ids, which the caller must not send."""
    by_due: dict[datetime, list[int]] = {}
    for id_, digest, quiet, silent in leased:
        if digest is None and quiet is None:
            continue
        due = release(ChatSettings.from_row(digest, quiet, silent))
        if due is not None:
            by_due.setdefault(due, []).append(id_)
    for due, ids in by_due.items():
        conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id.in_(ids),
                deliveries.c.state == "sending",
                deliveries.c.lease_owner == owner,
            )
            .values(lease_owner=None, lease_until=None, **_held(due))
        )
    return {id_ for ids in by_due.values() for id_ in ids}
