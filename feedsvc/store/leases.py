"""Named leases in the shared state DB: "only one replica does X at a time" (bot poller, ingest).

A lease is a row ``(name, holder, expires_at)``. Acquiring and renewing are the same single
conditional UPDATE (mine, or expired → mine until ``now + ttl``), so two replicas racing for an
expired lease cannot both win: the database serialises the row update and re-checks the WHERE.
The INSERT for a lease that does not exist yet skips a conflicting row, so losing that race is a
plain "not acquired" rather than an aborted transaction. ``now`` must come from :meth:`Database.now`
so every replica compares against the same clock.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, or_, select, update

from feedsvc.db.schema_service import leases
from feedsvc.store.upsert import insert_missing

_THIS: tuple[int, str] | None = None  # (pid, name) of this process, made once per process


def this_process() -> str:
    """This process's name as a lease holder and claim owner: ``host:pid:nonce`` (at most 55
    characters: ``deliveries.lease_owner`` holds 64).

    Why the nonce: a host name and a pid do not name one process across containers. Two
    containers sharing a host name (``--network host``, a compose ``hostname:``, one pod) both
    run feedsvc as pid 1, and ``db upgrade`` in one took the other's leases for its own and
    migrated under it (a verifier's, ``feedsvc.db.running``); two dispatchers would take each
    other's claims for their own. Made again in a forked child (its pid differs)."""
    global _THIS
    pid = os.getpid()
    if _THIS is None or _THIS[0] != pid:
        _THIS = (pid, f"{socket.gethostname()[:40]}:{pid}:{secrets.token_hex(3)}")
    return _THIS[1]


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    expires_at: datetime

    def ends(self, now: datetime) -> tuple[str, float]:
        """Its end as a time of day (UTC) and the seconds from ``now`` to it, for a log line
        (SQLite gives its datetimes back naive: UTC)."""
        end = self.expires_at if self.expires_at.tzinfo else self.expires_at.replace(tzinfo=UTC)
        return end.astimezone(UTC).strftime("%H:%M:%S UTC"), max(0.0, (end - now).total_seconds())


def acquire(conn: Connection, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take or renew ``name`` for ``holder`` until ``now + ttl``; False if another holds it."""
    expires = now + ttl
    result = conn.execute(
        update(leases)
        .where(leases.c.name == name, or_(leases.c.holder == holder, leases.c.expires_at < now))
        .values(holder=holder, expires_at=expires)
    )
    if result.rowcount == 1:
        return True
    # missing (first use): created for us unless another replica holds it, or inserts it first
    stmt = insert_missing(conn, leases).values(name=name, holder=holder, expires_at=expires)
    return conn.execute(stmt.returning(leases.c.name)).first() is not None


def release(conn: Connection, name: str, holder: str) -> bool:
    """Give the lease up (clean shutdown) so a standby can take over without waiting for expiry."""
    result = conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))
    return result.rowcount == 1


def get(conn: Connection, name: str) -> Lease | None:
    row = conn.execute(select(leases).where(leases.c.name == name)).first()
    return Lease(row.name, row.holder, row.expires_at) if row is not None else None
