"""SQL of an editor's hide of a key ingest has not stored yet (``pending_hides``, migration
0023): recorded by :func:`feedsvc.lifecycle.editors.hide_article`, cancelled by an unhide,
applied and deleted by the ingest transaction that inserts the article
(:func:`feedsvc.ingest.writer.apply`), so the article arrives hidden and is never public.

Why a lock (:func:`serialize`): the hide looks for the article, finds none and records the
hide; ingest looks for a record, finds none and inserts the article. Under PostgreSQL's READ
COMMITTED the two can pass each other (each reading before the other commits), and the
article would be published with the record left behind. Both take one transaction-scoped
advisory lock first, so one waits for the other's commit and then sees what it wrote. SQLite's
writers are serialised already (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, text, update

from feedsvc.db.schema import articles, pending_hides, source_articles
from feedsvc.store.lifecycle import EditorState

LOCK = 0x6665656473766302  # pg_advisory_xact_lock key: "feedsvc" + 2 (engine's migrations: + 1)
CHUNK = 500  # keys per IN (...) list


@dataclass(frozen=True, slots=True)
class PendingHide:
    """A recorded hide waiting for its article: what the article gets when ingest stores it."""

    source_key: str
    reason: str | None
    hidden_by: str | None
    hidden_at: datetime


def serialize(conn: Connection) -> None:
    """Wait for any other transaction recording or applying a pending hide (see the module's
    docstring); held until this transaction ends. Nothing to do on SQLite."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})


def _read(conn: Connection, keys: Sequence[str]) -> dict[str, PendingHide]:
    found: dict[str, PendingHide] = {}
    for start in range(0, len(keys), CHUNK):
        stmt = select(
            pending_hides.c.source_key,
            pending_hides.c.reason,
            pending_hides.c.hidden_by,
            pending_hides.c.hidden_at,
        ).where(pending_hides.c.source_key.in_(list(keys[start : start + CHUNK])))
        for row in conn.execute(stmt).tuples():
            found[row[0]] = PendingHide(*row)
    return found


def pending_hide(conn: Connection, source_key: str) -> PendingHide | None:
    return _read(conn, [source_key]).get(source_key)


def record(
    conn: Connection, source_key: str, now: datetime, reason: str | None, by: str
) -> PendingHide:
    """Record (or renew) the pending hide of ``source_key``, as :func:`feedsvc.store.lifecycle.
    set_hidden` does an article's: a second hide keeps the first time; with a reason it
    replaces the reason and who hid it, without one it changes nothing. The caller holds
    :func:`serialize` and has found no article with this key."""
    held = pending_hide(conn, source_key)
    if held is None:
        conn.execute(
            insert(pending_hides).values(
                source_key=source_key, reason=reason, hidden_by=by, hidden_at=now
            )
        )
        return PendingHide(source_key, reason, by, now)
    if reason is None:
        return held
    conn.execute(
        update(pending_hides)
        .where(pending_hides.c.source_key == source_key)
        .values(reason=reason, hidden_by=by)
    )
    return PendingHide(source_key, reason, by, held.hidden_at)


def cancel(conn: Connection, source_key: str) -> PendingHide | None:
    """An unhide before ingest: the record goes (the article then ingests as any other); the
    record it was, or None when there was none."""
    held = pending_hide(conn, source_key)
    if held is not None:
        conn.execute(delete(pending_hides).where(pending_hides.c.source_key == source_key))
    return held


def read_locked(conn: Connection, keys: Sequence[str]) -> dict[str, PendingHide]:
    """The pending hides of ``keys``, read under the lock (:func:`serialize`), which this
    transaction then holds to its end: no hide can be recorded meanwhile, so what this returns
    stays true for the whole transaction (a batch stored row by row reads once, not per row)."""
    serialize(conn)
    return _read(conn, keys)


def take(
    conn: Connection, keys: Sequence[str], read: Mapping[str, PendingHide] | None = None
) -> dict[str, PendingHide]:
    """The pending hides of ``keys`` (articles this ingest transaction is about to insert),
    deleted in the same transaction: committed together with the hidden article, or not at
    all (a crash in between leaves the record, and the next ingest applies it). ``read``:
    what :func:`read_locked` gave earlier in this transaction, for keys among its own."""
    if not keys:
        return {}
    found = read_locked(conn, keys) if read is None else {k: read[k] for k in keys if k in read}
    held = list(found)
    for start in range(0, len(held), CHUNK):
        conn.execute(
            delete(pending_hides).where(pending_hides.c.source_key.in_(held[start : start + CHUNK]))
        )
    return found


def apply_hides(conn: Connection, hides: Mapping[int, PendingHide]) -> None:
    """Hide the just-inserted articles ``hides`` names (by article id) as the editor asked:
    the hide's time, reason and author, and ``hidden_unpublic`` — it was never public, so an
    unhide after its time releases it as its time would have
    (:func:`feedsvc.lifecycle.editors.first_public`)."""
    for article_id, hide in hides.items():
        conn.execute(
            update(articles)
            .where(articles.c.id == article_id)
            .values(
                hidden_at=hide.hidden_at,
                hidden_reason=hide.reason,
                hidden_by=hide.hidden_by,
                hidden_unpublic=True,
            )
        )


def pending_states(conn: Connection, source_key: str | None, limit: int) -> list[EditorState]:
    """Pending hides as the editors' tools list them (``pending``), newest hide first: the one
    of ``source_key``, or every one (at most ``limit``) when it is None. Title, link and time
    come from the built-in source table when it holds the key (an external CMS's are not read
    here: empty, no time)."""
    src = source_articles
    stmt = (
        select(
            pending_hides.c.source_key,
            src.c.title,
            src.c.url,
            src.c.published_at,
            pending_hides.c.hidden_at,
            pending_hides.c.reason,
            pending_hides.c.hidden_by,
        )
        .select_from(pending_hides.outerjoin(src, src.c.source_key == pending_hides.c.source_key))
        .order_by(pending_hides.c.hidden_at.desc(), pending_hides.c.source_key)
        .limit(limit)
    )
    if source_key is not None:
        stmt = stmt.where(pending_hides.c.source_key == source_key)
    return [
        EditorState(
            0,
            key,
            title or "",
            url or "",
            published,
            None,
            None,
            at,
            reason,
            by,
            hidden_unpublic=True,
            pending=True,
        )
        for key, title, url, published, at, reason, by in conn.execute(stmt)
    ]
