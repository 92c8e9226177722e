"""Prometheus metrics, one registry per process (what /metrics serves)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from feedsvc.channel_modes import MODES
from feedsvc.status import INGEST_CODES

if TYPE_CHECKING:
    from feedsvc.channel_modes import Mode
    from feedsvc.ingest import TickResult

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
    "it (first sync, catch-up), else since the last successful tick (as feedsvc status)",
    registry=REGISTRY,
)
INGEST_STATE = Gauge(
    "feedsvc_ingest_state",
    "1 for ingest's state now (as ingest_state in feedsvc status), 0 for the others",
    ["state"],
    registry=REGISTRY,
)
LAST_INGEST = Gauge(
    "feedsvc_ingest_last_success_timestamp", "Unix time of the last good tick", registry=REGISTRY
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
QUEUE_DEPTH = Gauge("feedsvc_delivery_queue_depth", "Pending deliveries", registry=REGISTRY)
CHANNEL_MODE = Gauge(
    "feedsvc_channel_mode",
    "1 for each delivery channel's mode in this process (on, console, off), 0 for the others",
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
    "HTTP requests by route kind and status",
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
    if result.error is None:
        LAST_INGEST.set_to_current_time()
    INGESTED.labels("new").inc(result.new)
    INGESTED.labels("updated").inc(result.updated)
    REJECTED.inc(result.rejected)
    for row in result.quarantined:
        QUARANTINED.labels(row.stage).inc()
    MATCHES.inc(result.matches)


def record_channel_modes(modes: dict[str, Mode]) -> None:
    """Set :data:`CHANNEL_MODE` from ``feedsvc.channel_modes.channel_modes``: every mode of
    every channel gets a sample (1 or 0), so ``feedsvc_channel_mode{mode="off"} == 1`` is an
    alert rule that also sees a channel go back on."""
    for channel, current in modes.items():
        for mode in MODES:
            CHANNEL_MODE.labels(channel, mode).set(1 if mode == current else 0)


def record_ingest_state(code: str, lag_seconds: float | None) -> None:
    """Set :data:`INGEST_STATE` (every state gets a sample, 1 or 0) and :data:`INGEST_LAG`
    (left as it was before any successful tick) from ``feedsvc.status.ingest_state``: the same
    state and lag ``feedsvc status`` and ``/api/status`` show."""
    for state in INGEST_CODES:
        INGEST_STATE.labels(state).set(1 if state == code else 0)
    if lag_seconds is not None:
        INGEST_LAG.set(lag_seconds)
