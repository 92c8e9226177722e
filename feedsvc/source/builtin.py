"""The built-in ``source_articles`` table as a source: read through :class:`SqlSource` exactly
as a CMS table is, so the path the demo and tests exercise is the one production uses."""

from __future__ import annotations

from sqlalchemy import Engine

from feedsvc.config import SourceColumns
from feedsvc.db.schema import source_articles
from feedsvc.source.sql import SqlSource
from feedsvc.store.records import BUILTIN_SOURCE

#: The source's name: the key of its cursor in the state DB, and what ``feedsvc status`` shows.
BUILTIN_NAME = BUILTIN_SOURCE

#: The built-in table's ``visible``: an imported ``"withdrawn": true`` (SPEC §10).
BUILTIN_VISIBLE = "NOT withdrawn"


def builtin_source(engine: Engine) -> SqlSource:
    columns = SourceColumns(visible=BUILTIN_VISIBLE)
    return SqlSource(engine, source_articles, columns, BUILTIN_NAME, withdraw_reason="source")
