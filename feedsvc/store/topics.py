"""Topics and their matches. The state DB is the one source of truth for topics."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, select, text, update

from feedsvc.db.schema import (
    article_topics,
    articles,
    deleted_file_topics,
    deleted_topics,
    topics,
)
from feedsvc.slugs import slug_forms
from feedsvc.store.bulk import BulkInsert
from feedsvc.store.records import Topic as Topic
from feedsvc.store.records import TopicSpec as TopicSpec
from feedsvc.store.upsert import insert_missing
from feedsvc.topics_sync import REMOVED

#: pg_advisory_xact_lock key: "feedsvc" + 3 (migrations + 1, pending hides + 2).
LOCK = 0x6665656473766303


def serialize(conn: Connection) -> None:
    """Wait for any other transaction that checks ``@slug`` references and writes (a topic
    saved or deleted, a chat's own query subscribed, a topics file applied); held until this
    transaction ends. Call it first, before the reads the check is made on.

    Why: each such transaction validates against the topics as they are when it reads them;
    on PostgreSQL two of them in flight each passed (``ra`` → ``@rb`` beside ``rb`` → ``@ra``:
    a cycle; a topic created with ``@base`` while ``base`` was deleted: a dangling reference,
    tester3 F10), and the topics then silently matched nothing. Under the lock the second one
    reads what the first committed (READ COMMITTED: each statement sees the latest commit).
    SQLite needs nothing: a writer's ``BEGIN IMMEDIATE`` (:mod:`feedsvc.db.engine`) already
    takes the database's one write lock before the transaction's first read."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})


def hold_topics(conn: Connection) -> None:
    """Keep the topics as they are until this transaction ends: no topic is saved, enabled,
    disabled or deleted meanwhile (a shared hold of :func:`serialize`'s lock; ingest's batch
    write takes it before it checks :func:`topics_version`).

    Why: on PostgreSQL a batch checked the topics' version, then a topic was created (or its
    query changed) and committed, then the batch committed its matches made with the old
    topics: articles ingested after the topic's save never matched it (SPEC §2), and a topic
    deleted meanwhile left the batch's match rows pointing at no topic. Every writer of the
    topics takes :func:`serialize` (the store's functions below do), so it waits for the
    batch's commit, or the batch sees its commit and is matched again. SQLite: the one write
    lock already orders them."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": LOCK})


def list_topics(conn: Connection, *, enabled_only: bool = False) -> list[Topic]:
    stmt = select(topics).order_by(topics.c.slug)
    if enabled_only:
        stmt = stmt.where(topics.c.enabled.is_(True))
    return [_topic(row._mapping) for row in conn.execute(stmt)]


def topics_version(conn: Connection) -> tuple[object, ...]:
    """Changes whenever a topic is added, removed or saved (count, latest ``updated_at``)."""
    row = conn.execute(
        select(func.count(), func.max(topics.c.updated_at)).select_from(topics)
    ).one()
    return tuple(row)


def get_topic(conn: Connection, slug: str) -> Topic | None:
    row = conn.execute(select(topics).where(topics.c.slug == slug)).first()
    return _topic(row._mapping) if row else None


def find_topic(conn: Connection, name: str) -> Topic | None:
    """The topic ``name`` names as people type a slug (:func:`feedsvc.slugs.slug_forms`: any
    case, stray spaces or zero-width characters), else None. Every lookup of a topic by what a
    reader or an admin typed goes through here; :func:`get_topic` is for stored slugs."""
    for slug in slug_forms(name):
        if (topic := get_topic(conn, slug)) is not None:
            return topic
    return None


def get_topic_by_id(conn: Connection, topic_id: int) -> Topic | None:
    row = conn.execute(select(topics).where(topics.c.id == topic_id)).first()
    return _topic(row._mapping) if row else None


def _topic(m: RowMapping) -> Topic:
    return Topic(
        id=int(m["id"]),
        slug=str(m["slug"]),
        title=str(m["title"]),
        description=str(m["description"] or ""),
        query=str(m["query"]),
        enabled=bool(m["enabled"]),
        origin=str(m["origin"]),
        updated_at=m["updated_at"],
    )


def save_topic(conn: Connection, spec: TopicSpec, origin: str, now: datetime) -> str:
    """Create or update by slug; returns ``created``, ``updated`` or ``unchanged``. Takes
    :func:`serialize`'s lock (held to the commit) if the caller did not."""
    serialize(conn)
    current = get_topic(conn, spec.slug)
    values = {
        "title": spec.title,
        "description": spec.description,
        "query": spec.query,
        "enabled": spec.enabled,
    }
    if current is None:  # replicas importing topics.toml on start may race: no error
        stmt = insert_missing(conn, topics).values(
            slug=spec.slug, origin=origin, created_at=now, updated_at=now, **values
        )
        if conn.execute(stmt.returning(topics.c.id)).first() is not None:
            _take_back_file_entry(conn, spec.slug)
            conn.execute(delete(deleted_topics).where(deleted_topics.c.slug == spec.slug))
            return "created"
        current = get_topic(conn, spec.slug)  # the other writer's, committed meanwhile
        assert current is not None
    if current.spec == spec:
        return "unchanged"
    conn.execute(update(topics).where(topics.c.id == current.id).values(updated_at=now, **values))
    return "updated"


def identity(conn: Connection, slug: str) -> tuple[int, datetime] | None:
    """``slug``'s topic as (id, created_at), None when there is none: a topic deleted and
    created again under its slug is another topic, even where SQLite gave it the same id."""
    row = conn.execute(
        select(topics.c.id, topics.c.created_at).where(topics.c.slug == slug)
    ).first()
    return (int(row[0]), row[1]) if row else None


def touch(conn: Connection, topic_id: int, now: datetime) -> None:
    """The topic's articles changed with no edit of it (a backfill): a new version
    (``updated_at``), so every process serving its feeds renders them again, with its own
    settings, at its next feeds sync or start. A topic deleted meanwhile: nothing."""
    conn.execute(update(topics).where(topics.c.id == topic_id).values(updated_at=now))


def file_entries(conn: Connection) -> dict[str, str | None]:
    """slug → the topics file's entry last applied to that topic (its fingerprint, ``removed``,
    or None: never recorded), for every topic."""
    stmt = select(topics.c.slug, topics.c.file_entry)
    return {str(slug): entry for slug, entry in conn.execute(stmt)}


def set_file_entry(conn: Connection, slug: str, entry: str) -> None:
    """Record ``entry`` as the file's entry last applied to ``slug`` (the topic is unchanged:
    ``updated_at`` stays, no feed renders for it)."""
    conn.execute(update(topics).where(topics.c.slug == slug).values(file_entry=entry))


def set_enabled(conn: Connection, slug: str, enabled: bool, now: datetime) -> bool:
    """Enable or disable ``slug``; True when that changed it. Takes :func:`serialize`'s lock
    (an ingest batch in flight commits first: :func:`hold_topics`)."""
    serialize(conn)
    result = conn.execute(
        update(topics)
        .where(topics.c.slug == slug, topics.c.enabled.is_(not enabled))
        .values(enabled=enabled, updated_at=now)
    )
    return result.rowcount > 0


@dataclass(frozen=True)
class Deleted:
    """A topic :func:`delete_topic` deleted; ``kept_deleted``: it was a topics-file topic, whose
    entry is now recorded, so every start keeps it deleted while that entry is unchanged (what
    each front end says, worded by :func:`feedsvc.topics_file.stays_deleted`)."""

    kept_deleted: bool


def delete_topic(conn: Connection, slug: str, now: datetime) -> Deleted | None:
    """Delete a topic and its matches (None: there is no such topic), and record its slug as
    deleted at ``now`` (``deleted_topics``: its feeds answer 410 Gone, :func:`deleted_slugs`). A
    topic the topics file applied an entry to has that entry recorded in
    ``deleted_file_topics`` in the same transaction: the next start must not take the deletion
    for a new entry and create the topic again (it did: the entry was kept in the deleted
    row). Every front end (CLI, API, admin) deletes through here. Takes :func:`serialize`'s
    lock (:func:`hold_topics`)."""
    serialize(conn)
    row = conn.execute(select(topics.c.id, topics.c.file_entry).where(topics.c.slug == slug))
    found = row.first()
    if found is None:
        return None
    topic_id, entry = found
    conn.execute(delete(article_topics).where(article_topics.c.topic_id == topic_id))
    conn.execute(delete(topics).where(topics.c.id == topic_id))
    conn.execute(delete(deleted_file_topics).where(deleted_file_topics.c.slug == slug))
    kept = entry is not None and entry != REMOVED
    if kept:
        conn.execute(deleted_file_topics.insert().values(slug=slug, file_entry=entry))
    conn.execute(delete(deleted_topics).where(deleted_topics.c.slug == slug))
    conn.execute(deleted_topics.insert().values(slug=slug, deleted_at=now))
    return Deleted(kept_deleted=kept)


def deleted_slugs(conn: Connection) -> frozenset[str]:
    """The slugs of topics deleted and not created again: what the feeds answer 410 Gone for
    (``publish``'s served state reads them with the topics)."""
    return frozenset(str(slug) for slug in conn.execute(select(deleted_topics.c.slug)).scalars())


def was_deleted(conn: Connection, slug: str) -> bool:
    """Whether a topic under exactly ``slug`` was deleted and not created again (its feeds
    answer 410): the one record telling a topic deleted from a slug no topic ever had, since
    migration 0034."""
    stmt = select(deleted_topics.c.slug).where(deleted_topics.c.slug == slug)
    return conn.execute(stmt).first() is not None


def deleted_at(conn: Connection, slug: str) -> datetime | None:
    """When the topic under exactly ``slug`` was last deleted (:func:`delete_topic`'s ``now``,
    the state DB's clock), None when it was not or was created again since: a new-topic form
    opened before that moment may be the one that had created it (the browser's Back, then
    Save: ``operations.topic_checks.deleted_since``)."""
    stmt = select(deleted_topics.c.deleted_at).where(deleted_topics.c.slug == slug)
    found = conn.execute(stmt).scalar()
    return found if isinstance(found, datetime) else None


def deleted_file_entries(conn: Connection) -> dict[str, str]:
    """slug → the file entry last applied to a file topic deleted in the state DB since."""
    stmt = select(deleted_file_topics.c.slug, deleted_file_topics.c.file_entry)
    return {str(slug): str(entry) for slug, entry in conn.execute(stmt)}


def forget_deleted(conn: Connection, slugs: Iterable[str]) -> None:
    """Drop the deletion records of ``slugs`` (their entries left the file)."""
    chosen = sorted(slugs)
    for start in range(0, len(chosen), 500):
        chunk = chosen[start : start + 500]
        conn.execute(delete(deleted_file_topics).where(deleted_file_topics.c.slug.in_(chunk)))


def _take_back_file_entry(conn: Connection, slug: str) -> None:
    """A topic just created under a slug whose file topic was deleted takes that topic's file
    entry back: to a start it is the file topic edited in the state DB (kept while the entry is
    unchanged, the file's version when it changes), never a new entry to apply over it."""
    stmt = select(deleted_file_topics.c.file_entry).where(deleted_file_topics.c.slug == slug)
    entry = conn.execute(stmt).scalar()
    if entry is None:
        return
    conn.execute(update(topics).where(topics.c.slug == slug).values(file_entry=entry))
    conn.execute(delete(deleted_file_topics).where(deleted_file_topics.c.slug == slug))


def store_matches(
    conn: Connection,
    matched: Mapping[int, Mapping[int, Sequence[str]]],
    now: datetime,
    *,
    replace: Sequence[int] = (),
) -> None:
    """Record which topics articles match (``article_id → topic_id → matched terms``), in one
    statement for the whole batch.

    ``replace`` lists articles whose old matches are dropped first: an edited article can leave
    a topic.
    """
    for start in range(0, len(replace), 500):
        chunk = list(replace[start : start + 500])
        conn.execute(delete(article_topics).where(article_topics.c.article_id.in_(chunk)))
    _insert_matches(
        conn,
        ((aid, tid, terms) for aid, hits in matched.items() for tid, terms in hits.items()),
        now,
    )


def add_topic_matches(
    conn: Connection, topic_id: int, hits: Mapping[int, Sequence[str]], now: datetime
) -> None:
    """Record many articles (``article_id → matched terms``) as matching one topic, in one
    statement: a backfill adds thousands per batch, and a round trip each dominated its time."""
    _insert_matches(conn, ((aid, topic_id, terms) for aid, terms in hits.items()), now)


def matched_among(conn: Connection, topic_id: int, article_ids: Sequence[int]) -> set[int]:
    """Which of ``article_ids`` already match the topic: asks about these ids only (a topic may
    hold 100k+ matches, and a backfill batch needs to know about its own rows)."""
    stmt = select(article_topics.c.article_id).where(
        article_topics.c.topic_id == topic_id, article_topics.c.article_id.in_(list(article_ids))
    )
    return set(conn.execute(stmt).scalars())


def matched_after(
    conn: Connection, topic_id: int, last_id: int, since: datetime | None, limit: int
) -> list[int]:
    """Keyset paging over a topic's matches: up to ``limit`` ids of the articles it matches,
    above ``last_id`` in id order, published at or after ``since`` (any when None). A backfill
    re-checks these against the topic's current query (a narrowed query leaves some)."""
    stmt = (
        select(article_topics.c.article_id)
        .join(articles, articles.c.id == article_topics.c.article_id)
        .where(article_topics.c.topic_id == topic_id, article_topics.c.article_id > last_id)
    )
    if since is not None:
        stmt = stmt.where(articles.c.published_at >= since)
    return list(conn.execute(stmt.order_by(article_topics.c.article_id).limit(limit)).scalars())


def remove_topic_matches(
    conn: Connection, topic_id: int, article_ids: Sequence[int], before: datetime
) -> int:
    """Drop the topic's matches of ``article_ids`` recorded before ``before`` (aware UTC);
    returns how many went. ``before`` is when the caller read the query it judged them by: a
    match ingest recorded since then (an article edited meanwhile, matched by the same query)
    is newer than that judgement and stays."""
    gone = 0
    for start in range(0, len(article_ids), 500):
        chunk = list(article_ids[start : start + 500])
        result = conn.execute(
            delete(article_topics).where(
                article_topics.c.topic_id == topic_id,
                article_topics.c.article_id.in_(chunk),
                article_topics.c.matched_at < before,
            )
        )
        gone += result.rowcount
    return gone


#: ``article_topics`` rows, for :func:`_insert_matches`.
_MATCH_INSERT = BulkInsert(article_topics, ("article_id", "topic_id", "terms", "matched_at"))
#: The same on PostgreSQL: the batch's rows in one JSON document, one statement. psycopg's
#: ``executemany`` adapts and sends each row on its own: ~7 µs of this process per row, 90 per
#: article at 5,000 topics (arrays through ``unnest``: still 3 per row); a JSON text cast to
#: ``json`` is stored as given, so each row's ``terms`` are the text the insert would store.
_MATCH_DOCUMENT = (
    "INSERT INTO article_topics (article_id, topic_id, terms, matched_at) "
    "SELECT (e->>0)::bigint, (e->>1)::integer, (e->>2)::json, %s "
    "FROM json_array_elements(%s::json) AS e"
)


def _insert_matches(
    conn: Connection, rows: Iterable[tuple[int, int, Sequence[str]]], now: datetime
) -> None:
    """Insert ``(article_id, topic_id, terms)`` rows matched at ``now`` in one statement.

    At thousands of topics an article matches ~12-25 of them, and SQLAlchemy's per-row bind
    processing (a JSON dump and two datetime conversions per row) cost about three times the
    insert itself (issue 17 §2, ``bench/ingest.py``). So the values go through the columns' own
    bind processors (:class:`~feedsvc.store.bulk.BulkInsert`: stored exactly as SQLAlchemy
    stores them) once for ``now`` and once per distinct term list.
    """
    dialect = conn.dialect
    at = _MATCH_INSERT.converter(dialect, "matched_at")(now)
    to_json = _MATCH_INSERT.converter(dialect, "terms")
    dumped: dict[tuple[str, ...], Any] = {}
    params = []
    for aid, tid, terms in rows:
        key = tuple(terms)
        value = dumped.get(key)
        if value is None:
            value = dumped[key] = to_json(list(key))
        params.append((aid, tid, value, at))
    if not params:
        return
    if dialect.name == "postgresql":  # terms are JSON text (BulkInsert.converter)
        document = json.dumps([row[:3] for row in params])
        conn.exec_driver_sql(_MATCH_DOCUMENT, (at, document))
    else:
        _MATCH_INSERT.execute(conn, params, converted=True)


def topic_ids_of_articles(conn: Connection, article_ids: Sequence[int]) -> dict[int, set[int]]:
    """``article_id → topic ids`` it matches now (articles without matches are absent)."""
    found: dict[int, set[int]] = {}
    for start in range(0, len(article_ids), 500):
        chunk = list(article_ids[start : start + 500])
        rows = conn.execute(
            select(article_topics.c.article_id, article_topics.c.topic_id).where(
                article_topics.c.article_id.in_(chunk)
            )
        ).tuples()
        for aid, tid in rows:
            found.setdefault(aid, set()).add(tid)
    return found
