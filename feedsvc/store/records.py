"""The store's record types that read-only CLI commands print, without SQLAlchemy.

They live here, not beside their queries, so that ``feedsvc.store.lite`` (sqlite3 and psycopg
reads for ``topics list`` and ``status``, issue #17 §1) can return the very same objects as the
SQLAlchemy store modules (``topics``, ``cursors``, ``quarantine``), which re-export them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic as an admin writes it (file, CLI, API)."""

    slug: str
    title: str
    query: str
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    slug: str
    title: str
    description: str
    query: str
    enabled: bool
    origin: str
    updated_at: datetime

    @property
    def spec(self) -> TopicSpec:
        return TopicSpec(self.slug, self.title, self.query, self.description, self.enabled)

    @property
    def version(self) -> str:
        """Its fields' version, as an editor's form or an API client holds it
        (:func:`feedsvc.topic_versions.version_of`)."""
        from feedsvc.topic_versions import version_of

        return version_of(self.spec)


@dataclass(frozen=True, slots=True)
class Cursor:
    """An ingest cursor: a (timestamp, id) keyset position plus health bookkeeping (UTC)."""

    ts: datetime | None
    id: str | None
    last_tick_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    backlog: int | None = None  # rows behind the cursor at the last batch of a catch-up
    rate: float | None = None  # rows/s of that catch-up
    first_sync: bool = False  # a first sync is under way: what it stores does not alert
    #: a re-read after a mapping change: where the cursor stood then (as ``ts``/``id``); rows
    #: after it alert as in any sync (None: no re-read, or one with nothing read before)
    alert_ts: datetime | None = None
    alert_id: str | None = None
    #: that re-read changed ``visible`` (None: no re-read under way, or not known, before
    #: 0032): when False, a draft it finds published by its status alone alerts
    visible_changed: bool | None = None

    @property
    def row_id(self) -> str | None:
        """The source row the cursor stands on, as people and ``status`` name it: ``id`` is
        stored as ``[native cursor value, row id]`` (:func:`stored_position`), and that native
        value — a CMS's naive wall time, or UTC — printed beside the site-zone time read as a
        second time hours apart (a tester's ``22:03 +07:00 / ["2026-12-06T15:03…","300"]``)."""
        found = stored_position(self.id)
        return found[1] if found is not None else self.id


@dataclass(frozen=True, slots=True)
class Quarantined:
    """One skipped source row: its id and position, the key when it could be read, the stage
    that failed (``read`` by the CMS driver, ``parse`` by validation, ``store`` in the state DB)
    and the reason (one line, no SQL)."""

    source_id: str
    source_cursor: datetime  # UTC instant of its cursor value
    source_key: str | None
    stage: str
    reason: str


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    row: Quarantined
    source: str
    first_seen_at: datetime
    last_seen_at: datetime


#: The name the built-in source's cursor and quarantine rows are recorded under.
BUILTIN_SOURCE = "builtin"


def external_source_name(table: str) -> str:
    """The name an external CMS table's cursor and quarantine rows are recorded under."""
    return f"external:{table}"


def stored_position(stored_id: str | None) -> tuple[Any, str] | None:
    """A stored ``cursor_id`` (``source_cursors.cursor_id``/``alert_id``) as ``(native value as
    JSON gave it, row id)``; None for an old plain-id one (before the native value was kept).
    The one reader of :meth:`feedsvc.source.cursor.CursorCodec.encode`'s form: ingest's
    :meth:`~feedsvc.source.cursor.CursorCodec.decode` and the status surfaces."""
    if stored_id is None or not stored_id.startswith("["):
        return None
    native, id_ = json.loads(stored_id)
    return native, str(id_)
