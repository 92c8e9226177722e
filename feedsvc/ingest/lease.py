"""The ingest leader lease and the PostgreSQL wake-up hook (replicas sharing one state DB)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, text

from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.ingest.model import Change, LeaseHolder
from feedsvc.store import leases

INGEST_LEASE = "ingest"
LEASE_MIN_SECONDS = 6.0
WAKE_CHANNEL = "feedsvc_deliveries"


class LeaseLost(Exception):
    """Another replica took the ingest lease while this one was mid-tick: roll back."""


class IngestLease:
    """The ``ingest`` lease (:mod:`feedsvc.store.leases`, DB clock): one leader per state DB.

    The TTL is three poll intervals (at least 6 s): a leader renews it every tick (and in every
    write transaction of a long tick), so it only lapses when the leader died or stalled, and a
    standby takes over within TTL + one poll.
    """

    def __init__(self, holder: str, poll_seconds: float) -> None:
        self.holder = holder
        self.ttl = timedelta(seconds=max(3 * poll_seconds, LEASE_MIN_SECONDS))
        self.held = False
        #: who held it at the last :meth:`take` that failed (:func:`held_by`)
        self.other: LeaseHolder | None = None

    def take(self, db: Database) -> bool:
        with db.write() as conn:
            now = db.now()
            self.held = self.renew(conn, now)
            other = None if self.held else leases.get(conn, INGEST_LEASE)
        self.other = None if other is None else held_by(other, now, self.ttl)
        return self.held

    def renew(self, conn: Connection, now: datetime) -> bool:
        return leases.acquire(conn, INGEST_LEASE, self.holder, self.ttl, now)

    def release(self, db: Database) -> None:
        if self.held:
            with db.write() as conn:
                leases.release(conn, INGEST_LEASE, self.holder)
            self.held = False


def held_by(lease: leases.Lease, now: datetime, ttl: timedelta) -> LeaseHolder:
    """Another process's hold on the ingest lease, as a standby's log line and ``/readyz`` say
    it: the holder as the lease table records it (``host:pid:nonce``), how long since it last
    renewed (its ``expires_at`` less the TTL this configuration gives: a holder renews every
    tick), and when the lease lapses — ``the ingest lease of web-1:4242:ab12cd (not heard from
    for 3 s) lapses in 9 s``. A killed process leaves its lease to lapse: "another replica
    leads ingest" said so of a process that no longer ran. Both times are the state DB's
    clock (``now``: :meth:`Database.now`). Pure."""
    left = max(0.0, (lease.expires_at - now).total_seconds())
    quiet = (now - (lease.expires_at - ttl)).total_seconds()
    # a holder with a longer TTL (another poll interval) renewed at an unknown time: not said
    heard = "" if quiet < 0 else f" (not heard from for {quiet:.0f} s)"
    lapse = f"lapses in {left:.0f} s" if left > 0 else "has lapsed"
    return LeaseHolder(lease.holder, f"the ingest lease of {lease.holder}{heard} {lapse}")


def notify_new_deliveries(conn: Connection, changes: Sequence[Change], now: datetime) -> None:
    """Transaction hook (PostgreSQL): wake every replica's dispatcher when this commit queued
    deliveries. NOTIFY is transactional (sent on commit, dropped on rollback) and goes to OUR
    state DB only, never the CMS. It is a hint; dispatchers also poll.

    The payload is the state schema's name: a channel spans the whole database, so deployments
    (or test runs) kept in separate schemas of one database would otherwise wake each other;
    :class:`feedsvc.wakeups.WakeListener` ignores another schema's notifications."""
    if conn.dialect.name != "postgresql" or not any(c.first_shown for c in changes):
        return
    queued = conn.execute(
        select(deliveries.c.id).where(deliveries.c.created_at == now).limit(1)
    ).first()
    if queued is not None:
        conn.execute(
            text("SELECT pg_notify(:channel, coalesce(current_schema(), ''))"),
            {"channel": WAKE_CHANNEL},
        )
