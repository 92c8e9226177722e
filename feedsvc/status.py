"""The operator's facts, shared by ``feedsvc status``, ``/api/status`` and the admin page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries, source_articles, topics
from feedsvc.store import quarantine
from feedsvc.store.cursors import get_cursor

if TYPE_CHECKING:
    from feedsvc.app import Service

QUARANTINE_LISTED = 20  # the newest quarantined source rows listed (the count says how many)


def collect_status(service: Service, db: Database | None = None) -> dict[str, Any]:
    """``db``: the engine to read with (web requests pass theirs); default the service's."""
    db = db or service.db
    now = db.now()
    with db.read() as conn:
        cursor = get_cursor(conn, service.ingestor.source.name)

        def count(stmt: Any) -> int:
            return int(conn.execute(stmt).scalar_one())

        facts: dict[str, Any] = {
            "database": db.engine.url.render_as_string(hide_password=True),
            "source": service.ingestor.source.name,
            "last_ingest_tick": cursor.last_tick_at,
            "last_ingest_success": cursor.last_success_at,
            "ingest_lag_seconds": (
                round((now - cursor.last_success_at).total_seconds(), 1)
                if cursor.last_success_at
                else None
            ),
            "ingest_cursor": f"{cursor.ts} / {cursor.id}" if cursor.ts else None,
            # a catch-up (first sync, or after an outage): rows behind the cursor at its last
            # batch, the rate it moved at, and when it should be done at that rate
            "ingest_backlog": cursor.backlog,
            "ingest_rate_per_second": cursor.rate,
            "ingest_eta_seconds": (
                round(cursor.backlog / cursor.rate)
                if cursor.backlog and cursor.rate
                else (0 if cursor.backlog == 0 else None)
            ),
            "last_ingest_error": cursor.last_error,
            "articles_stored": count(select(func.count()).select_from(articles)),
            "topics_enabled": count(
                select(func.count()).select_from(topics).where(topics.c.enabled.is_(True))
            ),
            "deliveries_pending": count(
                select(func.count())
                .select_from(deliveries)
                .where(deliveries.c.state.in_(["pending", "sending"]))
            ),
        }
        facts["ingest_quarantined"] = quarantine.count(conn)
        facts["quarantined_rows"] = [
            f"{e.source} row {e.row.source_id}"
            + (f" ({e.row.source_key})" if e.row.source_key else "")
            + f", {e.row.stage}: {e.row.reason} (last seen {e.last_seen_at:%Y-%m-%d %H:%M} UTC)"
            for e in quarantine.newest(conn, QUARANTINE_LISTED)
        ]
        if service.ingestor.source.name == "builtin":
            facts["source_articles"] = count(select(func.count()).select_from(source_articles))
    return facts
