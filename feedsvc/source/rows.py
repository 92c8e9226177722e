"""What a source read yields: a whole row (:class:`SourceRow`) or its position alone
(:class:`WindowKey`). Kept apart from the reads (:mod:`feedsvc.source.sql`) so that modules
which only handle rows (the CLI's samples, ingest's writer) need not name the reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceRow:
    cursor: Any  # the cursor column's value exactly as the source holds it
    cursor_ts: datetime  # the same moment, aware UTC, for our own bookkeeping
    id: Any
    record: dict[str, Any]  # SPEC §3 field names → raw values, for parse_article
    #: Why the row cannot be taken as read (e.g. a field that is not valid UTF-8), or None.
    #: Ingest quarantines such a row (stage ``read``) instead of altering its text.
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class WindowKey:
    """A source row's position, without its content: the overlap window's unit of comparison."""

    cursor: Any  # native cursor value
    cursor_ts: datetime  # the same moment, aware UTC
    id: str  # the row id as text (how feedsvc stores it: ``articles.source_id``)
