"""The state DB reads behind the status facts (``feedsvc.status``), in one transaction.

``feedsvc.store.lite.read_status`` is the same read over the driver itself (sqlite3, psycopg)
for ``feedsvc status``; keep the two in step (tests/test_store_lite.py compares them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, func, select

from feedsvc.channel_modes import latest_refusals
from feedsvc.db.schema import articles, deliveries, source_articles, topics
from feedsvc.status import StatusReads
from feedsvc.store import channel_tokens, quarantine
from feedsvc.store.cursors import get_cursor
from feedsvc.store.records import BUILTIN_SOURCE

#: Deliveries still to go out (queued or being sent).
PENDING_STATES = ("pending", "sending")


def read_status(conn: Connection, source: str, listed: int) -> StatusReads:
    """Counts and the ingest cursor of ``source``; the ``listed`` newest quarantined rows."""

    def count(stmt: Select[Any]) -> int:
        return int(conn.execute(stmt).scalar_one())

    refused = channel_tokens.refusal_records(conn)
    return StatusReads(
        cursor=get_cursor(conn, source),
        quarantined=quarantine.count(conn),
        articles=count(select(func.count()).select_from(articles)),
        topics_enabled=count(
            select(func.count()).select_from(topics).where(topics.c.enabled.is_(True))
        ),
        deliveries_pending=count(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.state.in_(PENDING_STATES))
        ),
        source_articles=(
            count(select(func.count()).select_from(source_articles))
            if source == BUILTIN_SOURCE
            else None
        ),
        quarantine_newest=quarantine.newest(conn, listed),
        tokens_seen=channel_tokens.tokens_seen(conn),
        refusals=latest_refusals(refused),
        refused_by=refused,
    )
