"""Ingest's bookkeeping of each source it reads: where its cursor stands (and the column
mapping the stored rows were read with), the rows it could not take (the quarantine), and the
rows it read and decided not to apply.

Why apart from :mod:`feedsvc.db.schema`: these describe the publisher's table as ingest has
read it, not feedsvc's own data (articles, topics, recipients, the outbox); each is owned by one
``feedsvc.store`` module (``cursors``, ``quarantine``, ``unapplied``). They join the one
``metadata`` (:mod:`feedsvc.db.metadata`), which :mod:`feedsvc.db.schema` gathers whole.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from feedsvc.db.metadata import metadata
from feedsvc.db.types import BigId, UTCDateTime

source_cursors = Table(
    "source_cursors",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("cursor_ts", UTCDateTime),
    Column("cursor_id", String(255)),
    Column("last_tick_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, default=0),
    # a long catch-up (first sync): rows still behind the cursor, and rows/s (status, ETA)
    Column("backlog", BigInteger),
    Column("rate", Float),
    # a first sync under way (no alerts), kept across a restart until it catches up (0016)
    Column("first_sync", Boolean, nullable=False, server_default=false()),
    # the fingerprint of the column mapping the stored rows were read with; another one reads
    # the source again from its start (0030, feedsvc.source.sql.SqlSource.mapping)
    Column("mapping", String(64)),
    # the zone naive times were read in, and when the mapping was recorded (a replica started
    # before runs an older config); where the cursor stood when the mapping changed: rows after
    # it alert during the re-read (0031, feedsvc.ingest.remap)
    Column("mapping_zone", String(64)),
    Column("mapping_at", UTCDateTime),
    Column("alert_ts", UTCDateTime),
    Column("alert_id", String(255)),
    # the fingerprint of `visible` alone, and whether the re-read under way changed it (NULL:
    # none under way, or unknown): a draft published by status alone before the boundary
    # alerts only when it did not (0032, feedsvc.ingest.remap)
    Column("mapping_visible", String(64)),
    Column("reread_visible", Boolean),
)

# Source rows ingest could not take (issue 12 §3): one row per (source, source row id), kept
# until the row is ingested after a change in the CMS. Listed by `feedsvc status` and the admin.
ingest_quarantine = Table(
    "ingest_quarantine",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("source_key", String(255)),  # when it could be read
    Column("source_cursor", UTCDateTime, nullable=False),  # the row's position, as in articles
    Column("stage", String(10), nullable=False),  # read | parse | store
    Column("reason", Text, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "source_id"),
    Index(None, "source", "source_cursor"),
)

# Source rows ingest read and decided not to apply (migration 0029): another row of a key the
# CMS gives twice (a key column that is not unique), one row per (source, source row id) at its
# last position. The overlap window counts them as seen, as it counts the articles' and the
# quarantine's positions, so such a row is not re-read as a late commit at every poll; the
# version it was logged at says it once, across restarts (`ingest.unapplied`). Rows far behind
# the cursor are pruned (`store.unapplied.KEEP`).
ingest_not_applied = Table(
    "ingest_not_applied",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("source_id", String(255), primary_key=True),
    Column("source_key", String(255), nullable=False),
    Column("source_cursor", UTCDateTime, nullable=False),  # the row's position, as in articles
    Column("version", UTCDateTime, nullable=False),  # the row's version when decided
    Column("decided_at", UTCDateTime, nullable=False),
    Index(None, "source", "source_cursor"),
)
