"""Prometheus metrics, one registry per process (what /metrics serves).

**Unknown is NaN, never 0.** A gauge whose value is not known (no successful ingest yet, the
state DB not answering the scrape) is ``NaN``: a 0 read as the best case (``lag 0``, an empty
queue) or a date in 1970, so an alert such as ``feedsvc_ingest_lag_seconds > 600`` never
fired on a service that had never ingested. NaN compares false too, so ingest's alert pairs the
lag with the state: ``feedsvc_ingest_state{state=~"never|failing|unknown"} == 1`` (README).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from feedsvc.channel_modes import SHOWN
from feedsvc.ingest_state import INGEST_CODES, ingest_state

if TYPE_CHECKING:
    from datetime import datetime

    from feedsvc.channel_modes import Shown
    from feedsvc.ingest import TickResult
    from feedsvc.store.records import Cursor

REGISTRY = CollectorRegistry(auto_describe=True)

INGEST_TICKS = Counter(
    "feedsvc_ingest_ticks", "Ingest ticks by outcome", ["outcome"], registry=REGISTRY
)
INGESTED = Counter(
    "feedsvc_articles_ingested", "Articles stored by ingest", ["kind"], registry=REGISTRY
)
REJECTED = Counter(
    "feedsvc_articles_rejected", "Source rows ingest skipped (all quarantined)", registry=REGISTRY
)
QUARANTINED = Counter(
    "feedsvc_ingest_quarantined",
    "Source rows quarantined by ingest, by the stage that failed (read, parse, store)",
    ["stage"],
    registry=REGISTRY,
)
INGEST_LAG = Gauge(
    "feedsvc_ingest_lag_seconds",
    "Seconds ingest is behind the source: since the cursor's time while rows are still behind "
    "it (first sync, re-read, catch-up), else since the last successful tick (as feedsvc "
    "status); "
    "NaN before the first successful tick or when the state DB does not answer",
    registry=REGISTRY,
)
#: The state when this scrape could not read ingest's bookkeeping (the state DB did not answer):
#: a label of ``feedsvc_ingest_state`` only, ``feedsvc status`` cannot show it (it reads the DB).
UNKNOWN = "unknown"
INGEST_STATE = Gauge(
    "feedsvc_ingest_state",
    "1 for ingest's state now (as ingest_state in feedsvc status; unknown: the state DB did "
    "not answer), 0 for the others",
    ["state"],
    registry=REGISTRY,
)
LAST_INGEST = Gauge(
    "feedsvc_ingest_last_success_timestamp",
    "Unix time of the last successful ingest tick (any replica's, from the state DB); NaN "
    "before the first one or when the state DB does not answer",
    registry=REGISTRY,
)
#: ``feedsvc.db.outage.Outage.disk_full``: this process's, known without the state DB answering
STATE_DB_DISK_FULL = Gauge(
    "feedsvc_state_db_disk_full",
    "1 while the state DB's disk is full (writes refused for lack of space since, until one "
    "commits with room again; reads and feeds are still served), else 0",
    registry=REGISTRY,
)
MATCHES = Counter("feedsvc_topic_matches", "Article-topic matches stored", registry=REGISTRY)
DELIVERIES = Counter(
    "feedsvc_deliveries",
    "Deliveries finished (a send and its recorded outcome), by channel and outcome",
    ["channel", "outcome"],
    registry=REGISTRY,
)
FOLLOWUPS = Counter(
    "feedsvc_alert_followups",
    "Retractions and corrections of sent alerts finished, by kind and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "feedsvc_delivery_queue_depth",
    "Pending deliveries; NaN when the state DB did not answer the scrape",
    registry=REGISTRY,
)
CHANNEL_MODE = Gauge(
    "feedsvc_channel_mode",
    "1 for each delivery channel's mode as this process shows it (on, console, off, waiting, "
    "refused, sent_elsewhere), 0 for the others",
    ["channel", "mode"],
    registry=REGISTRY,
)
RENDER_SECONDS = Histogram(
    "feedsvc_feed_render_seconds",
    "Feed render time",
    ["format"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
HTTP_REQUESTS = Counter(
    "feedsvc_http_requests",
    "JSON API requests by route and status (feeds: feedsvc_feed_responses)",
    ["route", "status"],
    registry=REGISTRY,
)
FEED_RESPONSES = Counter(
    "feedsvc_feed_responses",
    "Topic and search feed responses by format and status (304s show readers revalidating)",
    ["format", "status"],
    registry=REGISTRY,
)


def record_tick(result: TickResult) -> None:
    """Count one ingest tick's outcome (skipped ticks by why; stored, quarantined, matched)."""
    if result.skipped:
        INGEST_TICKS.labels("standby" if result.standby else "backoff").inc()
        return
    INGEST_TICKS.labels("error" if result.error else "ok").inc()
    INGESTED.labels("new").inc(result.new)
    INGESTED.labels("updated").inc(result.updated)
    REJECTED.inc(result.rejected)
    for row in result.quarantined:
        QUARANTINED.labels(row.stage).inc()
    MATCHES.inc(result.matches)


def record_channel_modes(modes: dict[str, Shown]) -> None:
    """Set :data:`CHANNEL_MODE` from ``feedsvc.channel_modes.shown_modes``: every mode of
    every channel gets a sample (1 or 0), so ``feedsvc_channel_mode{mode="off"} == 1`` is an
    alert rule that also sees a channel go back on."""
    for channel, current in modes.items():
        for mode in SHOWN:
            CHANNEL_MODE.labels(channel, mode).set(1 if mode == current else 0)


def record_ingest(cursor: Cursor | None, now: datetime, poll_seconds: float) -> None:
    """Set ingest's gauges from its bookkeeping in the state DB (``cursor``; None when the DB
    did not answer): :data:`INGEST_STATE` (every state gets a sample, 1 or 0; :data:`UNKNOWN`
    without a cursor), :data:`INGEST_LAG` and :data:`LAST_INGEST`, NaN when unknown. The state
    and lag are ``feedsvc.ingest_state.ingest_state``'s, as ``feedsvc status`` shows them; the last
    success is the leader's, so every replica reports the same, before its own first tick too."""
    state = ingest_state(cursor, now, poll_seconds) if cursor is not None else None
    code = state.code if state is not None else UNKNOWN
    for label in (*INGEST_CODES, UNKNOWN):
        INGEST_STATE.labels(label).set(1 if label == code else 0)
    lag = state.lag_seconds if state is not None else None
    INGEST_LAG.set(math.nan if lag is None else lag)
    success = cursor.last_success_at if cursor is not None else None
    LAST_INGEST.set(math.nan if success is None else success.timestamp())


def record_queue_depth(depth: int | None) -> None:
    """:data:`QUEUE_DEPTH`, NaN when it could not be read (not 0: "nothing waiting")."""
    QUEUE_DEPTH.set(math.nan if depth is None else depth)
