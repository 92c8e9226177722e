"""What follows a committed ingest batch: its counts in the tick's result, one warning per row
quarantined for the first time, and the after-commit listeners (feeds, the dispatchers'
wake-up), none of which may undo the commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from feedsvc.ingest.model import AfterCommit, Change, TickResult
from feedsvc.store.quarantine import Quarantined

log = logging.getLogger(__name__)


def report(
    source: str,
    result: TickResult,
    changes: Sequence[Change],
    fresh: Sequence[Quarantined],
    listeners: Sequence[AfterCommit],
) -> None:
    """Count ``changes`` and ``fresh`` (rows of source ``source`` quarantined, not listed
    before) into ``result``, log each of ``fresh``, and call ``listeners`` with the changes
    (a listener's exception is logged, never raised)."""
    for q in fresh:
        log.warning(
            "source %s row id=%s%s quarantined (%s): %s",
            source,
            q.source_id,
            f" ({q.source_key})" if q.source_key else "",
            q.stage,
            q.reason,
        )
    result.quarantined += fresh
    result.stored += len(changes)
    result.new += sum(c.is_new for c in changes)
    result.updated += sum(not c.is_new for c in changes)
    result.matches += sum(len(c.topic_ids) for c in changes)
    if changes:
        for callback in listeners:
            try:
                callback(changes)
            except Exception:  # a broken listener must not undo a committed ingest
                log.exception("after-ingest callback failed")
