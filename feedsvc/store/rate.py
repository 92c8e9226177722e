"""A token bucket in the state DB: one send budget shared by every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from feedsvc.db.schema_service import rate_buckets as t
from feedsvc.store.upsert import insert_missing


def reserve(
    conn: Connection,
    name: str,
    rate: float,
    capacity: float,
    want: int,
    now: datetime,
    ahead: float,
) -> list[float]:
    """Reserve up to ``want`` send slots; returns each slot's delay in seconds from ``now``.

    Slots may lie up to ``ahead`` seconds in the future (the bucket goes into debt), so one
    claim transaction schedules several sends spaced exactly ``1 / rate`` apart instead of
    paying a transaction per message. Call inside the write transaction that uses the slots:
    on PostgreSQL the row is locked (FOR UPDATE), on SQLite the writer lock serialises callers,
    so every replica draws from the same budget.
    """
    stmt = select(t.c.tokens, t.c.updated_at).where(t.c.name == name)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:  # created full by whichever replica comes first, then read (and locked)
        conn.execute(insert_missing(conn, t).values(name=name, tokens=capacity, updated_at=now))
        row = conn.execute(stmt).one()
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    tokens = min(capacity, row.tokens + elapsed * rate)
    delays: list[float] = []
    for i in range(want):
        delay = max(0.0, (i + 1 - tokens) / rate)
        if delay > ahead:
            break
        delays.append(delay)
    conn.execute(
        update(t).where(t.c.name == name).values(tokens=tokens - len(delays), updated_at=now)
    )
    return delays


def give_back(conn: Connection, name: str, count: int) -> None:
    if count > 0:
        conn.execute(update(t).where(t.c.name == name).values(tokens=t.c.tokens + count))
