"""How far back a backfill reaches by default: the one owner of that window.

A topic saved with "backfill on save" (the admin), ``POST /api/topics/{slug}/backfill`` without
``days`` and ``feedsvc topics backfill`` without ``--days`` fill its feed from the articles
published in the last :data:`BACKFILL_DAYS` days; a preview counts its matches over the whole
archive. Both counts are said by the preview (:mod:`feedsvc.preview`: ``in_window``), so its
"15 of 355 match" is no promise a save keeps with 13 (a tester's: the preview counted the
archive, the save's backfill 30 days). Pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: The default backfill window, in whole days (the CLI's ``--days`` default spells it again:
#: command modules import only Click at top level; ``tests/test_preview_backfill_window.py``
#: checks they agree).
BACKFILL_DAYS = 30


def window_start(now: datetime, days: int | None = BACKFILL_DAYS) -> datetime | None:
    """The first moment of a backfill judged at ``now`` over the last ``days`` days: an
    article published at or after it is in the window; None (``days`` None or 0): every
    stored article is."""
    return now - timedelta(days=days) if days else None
