"""The service's database engines, its article source and its ingestor, built from the settings.

Split from :mod:`feedsvc.app` (the composition root), which builds them through
:func:`service_databases`, :func:`make_source` and :func:`make_ingestor`. Background work
(ingest, dispatch, feed sync, the bot) and web requests use separate engines, so requests can
never take the connections the jobs need: web concurrency is bounded in several places (render
slots, the thread pool) but only separate pools make "jobs never wait on a drained pool" hold
by construction.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from feedsvc.config import Settings, match_processes
from feedsvc.db import Database
from feedsvc.ingest import IngestLease, Ingestor
from feedsvc.source import SqlSource, builtin_source, external_source
from feedsvc.topic_index import TopicIndex

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
    ``database``'s timeouts; on an SQLite file both use it only while it is the file the first
    of them opened (``feedsvc.db.sqlite_file.SameFile``)."""
    url = settings.database.url
    bounds = settings.database.timeouts()
    db = Database(url, timeouts=bounds)
    if in_memory(url):
        return db, db
    return db, Database(url, pool=WEB_POOL, timeouts=bounds, same_file=db.same_file)


def make_source(settings: Settings, db: Database) -> SqlSource:
    """The articles' source: ``source.url``'s table (an external CMS), else the built-in
    ``source_articles`` on ``db``'s engine."""
    source = settings.source
    if source.url:
        return external_source(
            source.url, source.table, source.columns, settings.source_tz, source.timeouts()
        )
    return builtin_source(db.engine)


def make_ingestor(
    settings: Settings, db: Database, source: SqlSource, index: TopicIndex, owner: str
) -> Ingestor:
    """Ingest from ``source`` into ``db``, matched against ``index``, as ``source.*`` says
    (poll, overlap, batch size, match workers); on a PostgreSQL state DB under the ``ingest``
    lease, held as ``owner`` (the dispatcher's name), so one replica ingests at a time."""
    s = settings.source
    return Ingestor(
        db,
        source,
        index,
        tz=settings.source_tz,
        poll_seconds=s.poll_seconds,
        overlap_seconds=s.overlap_seconds,
        batch_size=s.batch_size,
        match_workers=match_processes(s.match_workers),
        lease=IngestLease(owner, s.poll_seconds) if db.dialect == "postgresql" else None,
    )
