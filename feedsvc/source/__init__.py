"""Reading the publisher's articles: the built-in table or an external CMS table (read-only)."""

from feedsvc.source.sql import SourceRow, SqlSource, builtin_source, external_source

__all__ = ["SourceRow", "SqlSource", "builtin_source", "external_source"]
