"""Zalo updates acted on at most once (tester4 G1), decided by the state DB.

Zalo redelivers: a webhook retry after a timeout or a 5xx, a replayed POST, the same update
through long polling, a copy at each replica behind one URL. Each copy used to run its command
again (a replayed ``/unsub 1`` removed the next subscription). :func:`first_delivery` inserts
the update's key with the conflict skipped and asks ``RETURNING`` whether the row is new, so of
any number of copies, concurrent or days apart, on any replica, exactly one gets True.

Telegram's updates are recorded here too (:mod:`feedsvc.bot.once`), ``chat`` being
``telegram:<bot id>`` and the key the ``update_id``: Telegram sends again an update whose
confirming offset never reached it. No Zalo chat id has that form.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete

from feedsvc.db.schema_service import zalo_updates
from feedsvc.store.upsert import insert_rows

#: how long a key is kept: past the age after which an update is not acted on at all
#: (:data:`feedsvc.channels.zalo.updates.MAX_AGE`), with a day to spare for clocks that disagree
KEEP = timedelta(hours=48)


def first_delivery(conn: Connection, chat: str, key: str, now: datetime) -> bool:
    """Record the update ``key`` of ``chat``; True only for the first copy ever recorded."""
    row = {"chat": chat, "update_key": key, "seen_at": now}
    return bool(insert_rows(conn, zalo_updates, [row], zalo_updates.c.chat))


def prune(conn: Connection, now: datetime) -> int:
    """Forget keys older than :data:`KEEP`; how many went."""
    result = conn.execute(delete(zalo_updates).where(zalo_updates.c.seen_at < now - KEEP))
    return int(result.rowcount or 0)
