"""A token bucket in the state DB: one send budget shared by every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from feedsvc.db.schema import rate_buckets as t


def take(
    conn: Connection, name: str, rate: float, capacity: float, want: int, now: datetime
) -> tuple[int, float]:
    """Take up to ``want`` whole tokens; returns (taken, seconds until the next token).

    Call inside the write transaction that uses the tokens: on PostgreSQL the row is locked
    (FOR UPDATE), on SQLite the writer lock already serialises callers.
    """
    stmt = select(t.c.tokens, t.c.updated_at).where(t.c.name == name)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        conn.execute(insert(t).values(name=name, tokens=capacity, updated_at=now))
        tokens = capacity
    else:
        elapsed = max(0.0, (now - row.updated_at).total_seconds())
        tokens = min(capacity, row.tokens + elapsed * rate)
    taken = max(0, min(want, int(tokens)))
    tokens -= taken
    conn.execute(update(t).where(t.c.name == name).values(tokens=tokens, updated_at=now))
    wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
    return taken, wait


def give_back(conn: Connection, name: str, count: int) -> None:
    if count > 0:
        conn.execute(update(t).where(t.c.name == name).values(tokens=t.c.tokens + count))
