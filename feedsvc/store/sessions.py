"""Revoked admin sessions: a logout is a row, so it survives restarts and reaches replicas.

Sessions themselves stay stateless (signed cookies, :mod:`feedsvc.web.admin_auth`); only the
exceptions — sessions ended early — are stored, each until the moment it would have expired.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from feedsvc.db.schema_service import revoked_sessions as t


def revoke(conn: Connection, session_id: str, expires_at: datetime, now: datetime) -> None:
    """End ``session_id`` (kept until ``expires_at``); forgets revocations already expired."""
    conn.execute(delete(t).where(t.c.expires_at < now))
    try:
        with conn.begin_nested():
            conn.execute(insert(t).values(session_id=session_id, expires_at=expires_at))
    except IntegrityError:
        pass  # revoked already (a double logout, or another replica)


def is_revoked(conn: Connection, session_id: str) -> bool:
    row = conn.execute(select(t.c.session_id).where(t.c.session_id == session_id)).first()
    return row is not None
