"""feedsvc's own copy of ingested articles: the row shape (:data:`ARTICLE_COLUMNS`,
:func:`row_to_article`) and what ingest reads and writes (known versions, inserts with SQLite's
search rows, new versions, source positions).

What readers, the admin and backfill read is :mod:`feedsvc.store.article_reads`; the archive
search index lookup, :mod:`feedsvc.store.article_search`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, bindparam, case, func, select, update

from feedsvc.articles import Article
from feedsvc.db.schema import articles
from feedsvc.keys import key_nfc
from feedsvc.store.bulk import BulkInsert

#: SQLite's archive search index (FTS5, external content over ``articles``; migration 0002;
#: ``detail=none`` since 0014).
FTS_TABLE = "articles_search"


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
    unstamped: bool = False  # held without ``updated_at`` (its version: its ``published_at``)
    #: when feedsvc last wrote it (``last_changed_at``): a version after it was dated by a
    #: clock running fast, believed only up to then (:func:`feedsvc.versions.newer`)
    stored_at: datetime | None = None


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
            articles.c.updated_at,
            articles.c.last_changed_at,
        ).where(articles.c.source_key.in_(wanted))
    ).tuples()
    return {
        key: Known(id_, version, cursor, sid, gone is not None, published, updated is None, at)
        for key, id_, version, cursor, sid, gone, published, updated, at in rows
    }


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where the cursor saw an article: the source row's cursor instant (UTC) and id."""

    cursor: datetime
    id: str


#: The columns ingest writes for an article, in :func:`_row`'s order (table order).
_WRITTEN = (
    "source_key",
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
    "withdrawn_at",
    "withdrawn_reason",
)


def _row(
    a: Article, search_text: str, at: SourcePosition, now: datetime, reason: str
) -> tuple[Any, ...]:
    """An article's :data:`_WRITTEN` values."""
    withdrawn = a.withdrawn
    return (
        a.source_key,
        a.version,
        a.url,
        a.title,
        a.summary,
        a.body,
        a.author,
        a.section,
        list(a.tags),
        a.image_url,
        a.published_at,
        a.updated_at,
        search_text,
        at.cursor,
        at.id,
        now,
        now if withdrawn else None,
        reason if withdrawn else None,
    )


#: ``insert_articles``' statement: every written column, when it was first seen, and the key's
#: NFC where it differs (``keys.key_nfc``, migration 0041: never changes, as the key does not)
_INSERT = BulkInsert(articles, (*_WRITTEN, "first_seen_at", "source_key_nfc"))


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
    _INSERT.execute(
        conn,
        [(*_row(a, t, at, now, withdraw_reason), now, key_nfc(a.source_key)) for a, t, at in rows],
    )
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
        conn.exec_driver_sql(  # the driver's own executemany: no per-row dict (issue 17 §2)
            f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (?, ?)",
            [(id_, t) for id_, (_, t, _) in zip(new_ids, rows, strict=True)],
        )
    return new_ids


#: What a new version rewrites: all but the key (``withdrawn_*`` are bound separately, below).
_UPDATED = _WRITTEN[1:-2]
assert _WRITTEN[-2:] == ("withdrawn_at", "withdrawn_reason")


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
    names = [f"b_{name}" for name in _WRITTEN[1:]]  # the key stays
    params = [
        {"b_id": id_} | dict(zip(names, _row(a, text_, at, now, withdraw_reason)[1:], strict=True))
        for id_, a, text_, at in rows
    ]
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


def articles_by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, Article]:
    if not ids:
        return {}
    stmt = select(articles.c.id, *ARTICLE_COLUMNS).where(articles.c.id.in_(list(ids)))
    return {row.id: row_to_article(row) for row in conn.execute(stmt)}
