"""Reading the publisher's articles: the built-in table or an external CMS table (read-only)."""

from feedsvc.source.builtin import builtin_source
from feedsvc.source.cursor import CursorCodec
from feedsvc.source.engine import external_source
from feedsvc.source.rows import SourceRow, WindowKey
from feedsvc.source.sql import FieldMap, SourceError, SqlSource

__all__ = [
    "CursorCodec",
    "FieldMap",
    "SourceError",
    "SourceRow",
    "SqlSource",
    "WindowKey",
    "builtin_source",
    "external_source",
]
