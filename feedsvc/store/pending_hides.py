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

A hide applies to the article arriving under any key canonically equivalent to its own (the
same text in another Unicode form, :mod:`feedsvc.store.article_keys`): an editor types a
composed key, a CMS may send it decomposed, and a takedown recorded in one form that waited
forever for an exact match let the other form publish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, text, update

from feedsvc.db.schema import articles, pending_hides, source_articles
from feedsvc.keys import canonical, key_nfc
from feedsvc.store import article_keys
from feedsvc.store.article_keys import equivalent_clause, equivalent_keys
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


#: pending hides by the canonical form of their keys (:func:`feedsvc.keys.canonical`)
Waiting = Mapping[str, Sequence[PendingHide]]

_COLUMNS = (
    pending_hides.c.source_key,
    pending_hides.c.reason,
    pending_hides.c.hidden_by,
    pending_hides.c.hidden_at,
)


def _read(conn: Connection, keys: Sequence[str]) -> dict[str, list[PendingHide]]:
    """The hides of ``keys`` and of keys canonically equivalent to them, by canonical form
    (the keys themselves found by equality too, as before 0041, whatever the column holds)."""
    found: dict[str, dict[str, PendingHide]] = {}
    step = article_keys.CHUNK
    for start in range(0, len(keys), step):
        part = keys[start : start + step]
        clause = equivalent_clause(pending_hides, {canonical(k) for k in part}, part)
        for row in conn.execute(select(*_COLUMNS).where(clause)).tuples():
            found.setdefault(canonical(row[0]), {})[row[0]] = PendingHide(*row)
    return {form: list(hides.values()) for form, hides in found.items()}


def pending_hide(conn: Connection, source_key: str) -> PendingHide | None:
    """The hide recorded under exactly ``source_key``."""
    row = conn.execute(select(*_COLUMNS).where(pending_hides.c.source_key == source_key)).first()
    return None if row is None else PendingHide(*row)


def equivalent(conn: Connection, source_key: str) -> list[str]:
    """The keys of the hides waiting for a key canonically equivalent to ``source_key`` (it
    among them when recorded so): what an editor's typed key may mean here
    (:func:`feedsvc.store.article_keys.meant`)."""
    return equivalent_keys(conn, pending_hides, source_key)


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
                source_key=source_key,
                reason=reason,
                hidden_by=by,
                hidden_at=now,
                source_key_nfc=key_nfc(source_key),
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


def read_locked(conn: Connection, keys: Sequence[str]) -> Waiting:
    """The pending hides of ``keys`` (of keys canonically equivalent to them, by canonical
    form), read under the lock (:func:`serialize`), which this transaction then holds to its
    end: no hide can be recorded meanwhile, so what this returns stays true for the whole
    transaction (a batch stored row by row reads once, not per row)."""
    serialize(conn)
    return _read(conn, keys)


def take(
    conn: Connection, keys: Sequence[str], read: Waiting | None = None
) -> dict[str, PendingHide]:
    """The pending hide each of ``keys`` (articles this ingest transaction is about to insert)
    gets — recorded under the key or under one canonically equivalent to it (the one recorded
    under the key itself, else the first recorded) —, by key; the hides taken are deleted in
    the same transaction: committed together with the hidden article, or not at all (a crash
    in between leaves the record, and the next ingest applies it). Two new keys of one form in
    one batch both get it. ``read``: what :func:`read_locked` gave earlier in this
    transaction, for keys among its own."""
    if not keys:
        return {}
    found = read_locked(conn, keys) if read is None else read
    out: dict[str, PendingHide] = {}
    taken: set[str] = set()
    for key in keys:
        hides = found.get(canonical(key), ())
        if hides:
            exact = [h for h in hides if h.source_key == key]
            out[key] = exact[0] if exact else min(hides, key=lambda h: (h.hidden_at, h.source_key))
            taken.update(h.source_key for h in hides)
    held = sorted(taken)
    for start in range(0, len(held), CHUNK):
        conn.execute(
            delete(pending_hides).where(pending_hides.c.source_key.in_(held[start : start + CHUNK]))
        )
    return out


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


def pending_states(
    conn: Connection, source_keys: Sequence[str] | None, limit: int
) -> list[EditorState]:
    """Pending hides as the editors' tools list them (``pending``), newest hide first: those
    recorded under ``source_keys`` (exactly), or every one (at most ``limit``) when it is
    None. Title, link and time come from the built-in source table when it holds the key, or
    one canonically equivalent to it (an external CMS's are not read here: empty, no time)."""
    stmt = (
        select(*_COLUMNS)
        .order_by(pending_hides.c.hidden_at.desc(), pending_hides.c.source_key)
        .limit(limit)
    )
    if source_keys is not None:
        stmt = stmt.where(pending_hides.c.source_key.in_(list(source_keys)))
    hides = [PendingHide(*row) for row in conn.execute(stmt).tuples()]
    shown = _source_rows(conn, [h.source_key for h in hides])
    return [_state(h, shown.get(h.source_key)) for h in hides]


def _state(hide: PendingHide, row: tuple[str, str, datetime] | None) -> EditorState:
    """A pending hide as an editor's row: ``row``, the built-in source table's ``(title, url,
    published_at)`` of its key, when it holds it."""
    title, url, published = row or ("", "", None)
    return EditorState(
        0, hide.source_key, title, url, published, None, None, hide.hidden_at, hide.reason,
        hide.hidden_by, hidden_unpublic=True, pending=True,
    )  # fmt: skip


def _source_rows(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[str, str, datetime]]:
    """``(title, url, published_at)`` of the built-in source table's row of each key: its own,
    else the first of a key canonically equivalent to it."""
    if not keys:
        return {}
    src = source_articles
    forms = sorted({canonical(k) for k in keys})
    stmt = (
        select(src.c.source_key, src.c.title, src.c.url, src.c.published_at)
        .where(equivalent_clause(src, forms))
        .order_by(src.c.source_key)
    )
    rows = {key: (title, url, at) for key, title, url, at in conn.execute(stmt).tuples()}
    by_form: dict[str, tuple[str, str, datetime]] = {}
    for key, row in rows.items():
        by_form.setdefault(canonical(key), row)
    return {k: rows.get(k) or by_form[canonical(k)] for k in keys if canonical(k) in by_form}
