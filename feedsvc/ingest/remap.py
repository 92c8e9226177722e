"""A changed ``[source.columns]`` applied to what is stored: the source read again.

Rows are read with the mapping of the day (which column holds the summary, the ``visible``
expression); an operator who adds ``visible = "status = 'published'"`` after a first sync
expects the drafts already stored to go, not to stay public until each is edited in the CMS.
"""

from __future__ import annotations

import logging

from feedsvc.db import Database
from feedsvc.source.sql import SqlSource
from feedsvc.store import cursors

log = logging.getLogger(__name__)


def apply_source_mapping(db: Database, source: SqlSource) -> bool:
    """Compare ``source``'s mapping with the one its stored rows were read with; another one
    moves the cursor back to the start as a first sync (no alerts), so ingest reads every
    row again with it (:func:`feedsvc.store.cursors.apply_mapping`). Returns True (done)."""
    with db.write() as conn:
        changed = cursors.apply_mapping(conn, source.name, source.mapping_key)
    if changed:
        log.warning("ingest: [source.columns] changed since the stored articles were read: "
                    "reading every row of %s again to apply it (no alerts until it has caught "
                    "up)", source.name)  # fmt: skip
    return True
