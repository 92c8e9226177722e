"""Alerts already sent, after the fact (SPEC §10, issue 13 §2–§3): retracted when their article
is withdrawn or hidden, edited when it is corrected; and alerts owed when an edit makes a fresh
article match a topic for the first time.

``plan`` (pure): which Bot API call next, and what an answer means. ``hooks``: the ingest
transaction hooks that queue the work. ``worker``: claims follow-ups under leases within the
send budgets and carries the plan out. SQL lives in :mod:`feedsvc.store.followups`
(the worker's) and :mod:`feedsvc.store.followup_queue` (what is owed).
"""

from feedsvc.retraction.plan import OnWithdraw

__all__ = ["OnWithdraw"]
