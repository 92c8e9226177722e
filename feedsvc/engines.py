"""The service's database engines and its article source, built from the settings.

Split from :mod:`feedsvc.app` (the composition root), which builds them through
:func:`service_databases` and :func:`make_source`. Background work (ingest, dispatch, feed sync,
the bot) and web requests use separate engines, so requests can never take the connections the
jobs need: web concurrency is bounded in several places (render slots, the thread pool) but only
separate pools make "jobs never wait on a drained pool" hold by construction.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.source import SqlSource, builtin_source, external_source

#: Pool of the engine serving web requests (admin, API, search feeds, ``?limit=`` renders):
#: small, and quick to give up (``pool_timeout`` seconds) rather than pile up waiters.
WEB_POOL = {"pool_size": 4, "max_overflow": 4, "pool_timeout": 10}


def in_memory(url: str) -> bool:
    """An in-memory SQLite URL: every engine would get a database of its own, so share one."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def service_databases(settings: Settings) -> tuple[Database, Database]:
    """The state DB's engines: the jobs' (default pool) and the web requests'
    (:data:`WEB_POOL`; the same engine for an in-memory SQLite DB), with
    ``database``'s timeouts."""
    url = settings.database.url
    bounds = settings.database.timeouts()
    db = Database(url, timeouts=bounds)
    return db, db if in_memory(url) else Database(url, pool=WEB_POOL, timeouts=bounds)


def make_source(settings: Settings, db: Database) -> SqlSource:
    """The articles' source: ``source.url``'s table (an external CMS), else the built-in
    ``source_articles`` on ``db``'s engine."""
    source = settings.source
    if source.url:
        return external_source(
            source.url, source.table, source.columns, settings.source_tz, source.timeouts()
        )
    return builtin_source(db.engine)
