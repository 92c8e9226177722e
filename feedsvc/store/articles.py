"""feedsvc's own copy of ingested articles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, bindparam, case, func, insert, select, text, update

from feedsvc.articles import Article
from feedsvc.db.schema import article_topics, articles
from feedsvc.lifecycle.visibility import as_of, public_clause, retired_clause

#: SQLite's archive search index (FTS5, external content over ``articles``; migration 0002).
FTS_TABLE = "articles_search"


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    article: Article
    first_seen_at: datetime
    #: when feedsvc last stored a change to it (a version, a withdrawal, hide or unhide)
    changed_at: datetime | None = None
    #: withdrawn by the source or hidden by an editor (SPEC §10): never shown
    retired: bool = False


ARTICLE_COLUMNS = (
    articles.c.source_key,
    articles.c.url,
    articles.c.title,
    articles.c.summary,
    articles.c.body,
    articles.c.author,
    articles.c.section,
    articles.c.tags,
    articles.c.image_url,
    articles.c.published_at,
    articles.c.updated_at,
)


def row_to_article(row: Row[Any]) -> Article:
    m = row._mapping
    return Article(
        source_key=m["source_key"],
        url=m["url"],
        title=m["title"],
        summary=m["summary"],
        body=m["body"],
        author=m["author"],
        section=m["section"],
        tags=tuple(m["tags"] or ()),
        image_url=m["image_url"],
        published_at=m["published_at"],
        updated_at=m["updated_at"],
    )


class Known(NamedTuple):
    """What we hold of one source key: enough to decide "new, newer, or already seen"."""

    id: int
    version: datetime
    source_cursor: datetime
    source_id: str | None
    withdrawn: bool = False  # the source has taken it back (``withdrawn_at`` is set)
    published_at: datetime | None = None  # as held (a future one: not shown yet)


def known_versions(conn: Connection, keys: Iterable[str]) -> dict[str, Known]:
    """``source_key →`` :class:`Known` for the keys we already hold."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = conn.execute(
        select(
            articles.c.source_key,
            articles.c.id,
            articles.c.version,
            articles.c.source_cursor,
            articles.c.source_id,
            articles.c.withdrawn_at,
            articles.c.published_at,
        ).where(articles.c.source_key.in_(wanted))
    ).tuples()
    return {
        key: Known(id_, version, cursor, sid, gone is not None, published)
        for key, id_, version, cursor, sid, gone, published in rows
    }


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where the cursor saw an article: the source row's cursor instant (UTC) and id."""

    cursor: datetime
    id: str


def _values(
    a: Article, search_text: str, at: SourcePosition, now: datetime, reason: str
) -> dict[str, Any]:
    return {
        "source_key": a.source_key,
        "version": a.version,
        "url": a.url,
        "title": a.title,
        "summary": a.summary,
        "body": a.body,
        "author": a.author,
        "section": a.section,
        "tags": list(a.tags),
        "image_url": a.image_url,
        "published_at": a.published_at,
        "updated_at": a.updated_at,
        "search_text": search_text,
        "source_cursor": at.cursor,
        "source_id": at.id,
        "last_changed_at": now,
        "withdrawn_at": now if a.withdrawn else None,
        "withdrawn_reason": reason if a.withdrawn else None,
    }


def insert_articles(
    conn: Connection,
    rows: Sequence[tuple[Article, str, SourcePosition]],
    now: datetime,
    withdraw_reason: str = "source",
) -> list[int]:
    """Insert ``(article, search text, position)`` rows (distinct keys) in one ``executemany``;
    their new ids, in order. A withdrawn article is stored withdrawn (``withdraw_reason``:
    ``articles.withdrawn_reason``), so it is known but never public.

    The ids are looked up by key afterwards rather than with ``RETURNING``: SQLite cannot
    promise ``RETURNING`` order for a multi-row insert, so SQLAlchemy falls back to one
    statement per row there, which cost more than the insert itself.

    This is the only code that inserts into ``articles``, so on SQLite it also writes the rows'
    archive search index entries, one statement for the batch (migration 0010 dropped the
    per-row trigger, whose cost was ~3.5x this). PostgreSQL's GIN index maintains itself.
    """
    if not rows:
        return []
    values = [
        _values(a, text_, at, now, withdraw_reason) | {"first_seen_at": now}
        for a, text_, at in rows
    ]
    conn.execute(insert(articles), values)
    keys = [a.source_key for a, _, _ in rows]
    ids = {
        key: int(id_)
        for start in range(0, len(keys), 500)
        for key, id_ in conn.execute(
            select(articles.c.source_key, articles.c.id).where(
                articles.c.source_key.in_(keys[start : start + 500])
            )
        ).tuples()
    }
    new_ids = [ids[key] for key in keys]
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (:id, :search_text)"),
            [{"id": id_, "search_text": t} for id_, (_, t, _) in zip(new_ids, rows, strict=True)],
        )
    return new_ids


_UPDATED = (
    "version",
    "url",
    "title",
    "summary",
    "body",
    "author",
    "section",
    "tags",
    "image_url",
    "published_at",
    "updated_at",
    "search_text",
    "source_cursor",
    "source_id",
    "last_changed_at",
)


def update_articles(
    conn: Connection,
    rows: Sequence[tuple[int, Article, str, SourcePosition]],
    now: datetime,
    withdraw_reason: str = "source",
) -> None:
    """A new version of held articles (``(id, article, search text, position)``), one
    ``executemany``; ``source_key``, ``first_seen_at`` and the editor's ``hidden_*`` stay. A
    withdrawal keeps its first time and reason while the source keeps saying so; a version
    that is not withdrawn clears them (the source published it again)."""
    if not rows:
        return
    withdrawn = bindparam("b_withdrawn_at", type_=articles.c.withdrawn_at.type)
    reason = bindparam("b_withdrawn_reason", type_=articles.c.withdrawn_reason.type)
    stmt = (
        update(articles)
        .where(articles.c.id == bindparam("b_id"))
        .values(
            {name: bindparam(f"b_{name}") for name in _UPDATED}
            | {
                "withdrawn_at": case(
                    (withdrawn.is_(None), None),
                    else_=func.coalesce(articles.c.withdrawn_at, withdrawn),
                ),
                "withdrawn_reason": case(
                    (reason.is_(None), None),
                    else_=func.coalesce(articles.c.withdrawn_reason, reason),
                ),
            }
        )
    )
    params = []
    for id_, a, text_, at in rows:
        values = _values(a, text_, at, now, withdraw_reason)
        names = (*_UPDATED, "withdrawn_at", "withdrawn_reason")
        params.append({"b_id": id_} | {f"b_{name}": values[name] for name in names})
    conn.execute(stmt, params)


def move_source_positions(conn: Connection, moves: Sequence[tuple[int, SourcePosition]]) -> None:
    """Record where re-read rows are now when their content did not change (so the overlap
    window stops finding them "unseen")."""
    if not moves:
        return
    stmt = (
        update(articles)
        .where(articles.c.id == bindparam("b_id"))
        .values(source_cursor=bindparam("b_cursor"), source_id=bindparam("b_sid"))
    )
    conn.execute(stmt, [{"b_id": id_, "b_cursor": at.cursor, "b_sid": at.id} for id_, at in moves])


def window_positions(conn: Connection, lo: datetime, hi: datetime) -> list[SourcePosition]:
    """Where the cursor saw the articles held in ``[lo, hi]`` (UTC, inclusive).

    ``None`` ids are articles stored before ``source_id`` was kept (migration 0003); they
    are returned as positions with an empty id, which the window comparison treats as "some
    row at this instant".
    """
    stmt = select(articles.c.source_cursor, articles.c.source_id).where(
        articles.c.source_cursor >= lo, articles.c.source_cursor <= hi
    )
    return [SourcePosition(ts, sid or "") for ts, sid in conn.execute(stmt).tuples()]


def count_articles(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


_STORED = (
    articles.c.id,
    articles.c.first_seen_at,
    articles.c.last_changed_at,
    retired_clause().label("retired"),
    *ARTICLE_COLUMNS,
)


def _stored(row: Row[Any]) -> StoredArticle:
    return StoredArticle(
        row.id, row_to_article(row), row.first_seen_at, row.last_changed_at, bool(row.retired)
    )


def latest_articles(conn: Connection, limit: int, until: datetime) -> list[StoredArticle]:
    """The newest articles published at/before ``until`` (aware UTC; a scheduled one is not
    there yet), withdrawn and hidden ones included but marked (``retired``)."""
    stmt = (
        select(*_STORED)
        .where(articles.c.published_at <= until)
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    return [_stored(row) for row in conn.execute(stmt)]


def topic_articles(conn: Connection, topic_id: int, limit: int, now: datetime) -> list[Article]:
    """A topic's newest matched articles public at ``now`` (aware UTC), newest first (feed
    order): never a scheduled, withdrawn or hidden one (SPEC §10)."""
    stmt = (
        select(*ARTICLE_COLUMNS)
        .join(article_topics, article_topics.c.article_id == articles.c.id)
        .where(article_topics.c.topic_id == topic_id, public_clause(now))
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    return [as_of(row_to_article(row), now) for row in conn.execute(stmt)]


def topic_article_counts(conn: Connection, now: datetime) -> dict[int, int]:
    """Matched articles public at ``now`` per topic id (topics without any are absent)."""
    stmt = (
        select(article_topics.c.topic_id, func.count())
        .join(articles, articles.c.id == article_topics.c.article_id)
        .where(public_clause(now))
        .group_by(article_topics.c.topic_id)
    )
    return {int(topic_id): int(n) for topic_id, n in conn.execute(stmt)}


def articles_by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, Article]:
    if not ids:
        return {}
    stmt = select(articles.c.id, *ARTICLE_COLUMNS).where(articles.c.id.in_(list(ids)))
    return {row.id: row_to_article(row) for row in conn.execute(stmt)}


def stored_articles(conn: Connection, ids: Sequence[int]) -> list[StoredArticle]:
    """The articles with these ids, in the order given (candidates come newest first);
    withdrawn and hidden ones are marked ``retired`` for the caller to leave out."""
    if not ids:
        return []
    stmt = select(*_STORED).where(articles.c.id.in_(list(ids)))
    found = {row.id: _stored(row) for row in conn.execute(stmt)}
    return [found[i] for i in ids if i in found]


def count_since(conn: Connection, since: datetime | None) -> int:
    """Stored articles published at or after ``since`` (all of them when None)."""
    stmt = select(func.count()).select_from(articles)
    if since is not None:
        stmt = stmt.where(articles.c.published_at >= since)
    return int(conn.execute(stmt).scalar_one())


def article_rows(conn: Connection, ids: Sequence[int]) -> Sequence[Row[Any]]:
    """Rows (``id`` + :data:`ARTICLE_COLUMNS`) of the articles with these ids, in no order."""
    columns = (articles.c.id, *ARTICLE_COLUMNS)
    return conn.execute(select(*columns).where(articles.c.id.in_(list(ids)))).all()


def article_rows_after(
    conn: Connection, last_id: int, since: datetime | None, limit: int
) -> Sequence[Row[Any]]:
    """Keyset paging in id order: up to ``limit`` rows (``id`` + :data:`ARTICLE_COLUMNS`) of
    articles with an id above ``last_id``, published at or after ``since`` (any when None)."""
    stmt = select(articles.c.id, *ARTICLE_COLUMNS).where(articles.c.id > last_id)
    if since is not None:
        stmt = stmt.where(articles.c.published_at >= since)
    return conn.execute(stmt.order_by(articles.c.id).limit(limit)).all()


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
