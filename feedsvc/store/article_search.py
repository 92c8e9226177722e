"""The archive search index lookup: which stored articles may match a query's key sets, newest
first (PostgreSQL GIN, SQLite FTS5 ``articles_search``; migration 0002). Candidates only: the
caller matches them. Used by on-demand search feeds, previews, editors' checks and backfill.

SQLite's index keeps no token positions (``detail=none``, migration 0014): only ANDs and ORs of
single quoted tokens work there; a phrase, ``NEAR`` or a column filter is an error. A new kind
of lookup that needs one needs a migration back to the default ``detail`` first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, select, text

from feedsvc.db.schema import articles


def candidate_ids(
    conn: Connection,
    key_sets: list[list[str]] | None,
    limit: int | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[int] | None:
    """Ids of articles whose ``search_text`` holds every key of at least one of ``key_sets``,
    newest first (``published_at``, then id), at most ``limit``; published at/after ``since``
    and, given ``until``, at/before it (what readers see leaves scheduled articles out: a 2064
    date must not take the newest slots).

    Uses the archive search index of migration 0002 (PostgreSQL GIN over
    ``to_tsvector('simple', search_text)``, SQLite FTS5 ``articles_search``). None means "no
    usable index lookup" (no key sets, an empty set, or a dialect other than these two): the
    caller scans instead.  The state DB must be migrated to 0002 (``feedsvc`` always migrates
    to head on start).  Keys must be indexable (:func:`feedsvc.matching.candidates.indexable_key`);
    they are always passed as bound parameters, never spliced into SQL.

    With a ``limit``, the newest :data:`WINDOWS` of the archive are tried first (see there).
    """
    if not key_sets or any(not keys for keys in key_sets):
        return None
    dialect = conn.dialect.name
    params: dict[str, object] = {}
    if dialect == "postgresql":
        parts = []
        for i, keys in enumerate(key_sets):
            params[f"s{i}"] = " ".join(keys)
            parts.append(f"plainto_tsquery('simple'::regconfig, :s{i})")
        # a set that the parser reduced to nothing would silently drop out of the OR
        empty = " OR ".join(f"numnode({p}) = 0" for p in parts)
        if conn.execute(text(f"SELECT {empty}"), params).scalar_one():
            return None
        where = "to_tsvector('simple'::regconfig, search_text) @@ (" + " || ".join(parts) + ")"
    elif dialect == "sqlite":
        params["q"] = " OR ".join(
            "(" + " AND ".join('"' + key.replace('"', '""') + '"' for key in keys) + ")"
            for keys in key_sets
        )
        where = "id IN (SELECT rowid FROM articles_search WHERE articles_search MATCH :q)"
    else:
        return None
    if dialect == "postgresql":  # keep the GIN bitmap exact: a lossy one re-parses every row
        conn.execute(text(f"SET LOCAL work_mem = '{PG_SEARCH_WORK_MEM}'"))
    for factor in WINDOWS if limit is not None else ():
        assert limit is not None
        newest = select(articles.c.published_at)
        if until is not None:
            newest = newest.where(articles.c.published_at <= until)
        cutoff = conn.execute(
            newest.order_by(articles.c.published_at.desc()).offset(limit * factor).limit(1)
        ).scalar()
        if cutoff is None:
            break  # the archive is smaller than the window
        ids = _candidates(conn, where, params, max(cutoff, since or cutoff), limit, until)
        if len(ids) >= limit:
            return ids
    return _candidates(conn, where, params, since, limit, until)


#: Newest-first candidate windows, as multiples of ``limit``; the last try is the whole archive.
#: Sorting *every* match of a broad query by date means reading each matching row (250,000 for a
#: quarter of 1,000,000 articles: seconds); bounding by the newest ``window`` articles first lets
#: the database combine the text index with the ``published_at`` index.
WINDOWS = (8, 64)
PG_SEARCH_WORK_MEM = "32MB"


def _candidates(
    conn: Connection,
    where: str,
    params: dict[str, object],
    since: datetime | None,
    limit: int | None,
    until: datetime | None = None,
) -> list[int]:
    """One lookup: matches of ``where`` published in ``[since, until]``, newest first."""
    params = dict(params)
    sql = f"SELECT id FROM articles WHERE {where}"
    if since is not None:
        sql += " AND published_at >= :since"
        params["since"] = since
    if until is not None:
        sql += " AND published_at <= :until"
        params["until"] = until
    sql += " ORDER BY published_at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    stmt = text(sql)
    for name in ("since", "until"):  # UTCDateTime: naive UTC on SQLite, aware on PostgreSQL
        if name in params:
            stmt = stmt.bindparams(bindparam(name, type_=articles.c.published_at.type))
    return [int(i) for i in conn.execute(stmt, params).scalars()]
