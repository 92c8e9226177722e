"""Incremental ingest: the publisher's rows into our articles, matches and outbox.

``ingestor``  the tick (keyset batches, one transaction each, cursor included)
``pipeline``  a batch's way from source rows to its commit, the ingestor's base
``window``    the overlap window check for late commits
``backoff``   when to retry after failures, and the probe that ends an outage early
``lease``     one ingest leader among replicas; the PostgreSQL wake-up hook
``model``     what a tick produces (:class:`Change`, :class:`TickResult`) and the hook types
"""

from feedsvc.ingest.ingestor import Ingestor
from feedsvc.ingest.lease import WAKE_CHANNEL, IngestLease, LeaseLost, notify_new_deliveries
from feedsvc.ingest.model import AfterCommit, Change, IngestHealth, TickResult, TransactionHook

__all__ = [
    "WAKE_CHANNEL",
    "AfterCommit",
    "Change",
    "IngestHealth",
    "IngestLease",
    "Ingestor",
    "LeaseLost",
    "TickResult",
    "TransactionHook",
    "notify_new_deliveries",
]
