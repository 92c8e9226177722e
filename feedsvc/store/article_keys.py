"""**Which stored key a key means**: the one lookup of an article (a hide waiting for ingest, a
row of the built-in source table) by a key a person typed, and of a new key's lookalikes at
ingest. Used by :mod:`feedsvc.lifecycle.editors` (``articles hide|unhide|find``, the API's
``/api/articles``, the admin's articles page), :mod:`feedsvc.store.pending_hides`,
:mod:`feedsvc.store.source_articles` and :mod:`feedsvc.ingest.lookalikes`.

Why: keys are stored as the source sent them (:mod:`feedsvc.keys`), so a CMS's decomposed
``Tin-Kiến`` (``e`` + U+0302 + U+0301) and the composed one an editor types look the same and
compared unequal: the takedown found no article, and ``--pending`` recorded a hide for a key
that never arrives while the article stayed public. A typed key now means (:func:`meant`) the
stored key it is exactly, else the stored keys canonically equivalent to it (the same NFC,
:func:`feedsvc.keys.canonical`): one is that article; several (the CMS holds both forms as
distinct rows) are ambiguous — never guessed. The equivalents are found with an index probe on
each side of the ``source_key_nfc`` column (migration 0041: a key's NFC where it differs), and
checked here again in Python, so a key is only ever said equivalent by Python's NFC.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Table, case, func, or_, select

from feedsvc.db.schema import articles, source_articles
from feedsvc.keys import canonical

CHUNK = 250  # keys per statement: two IN lists of up to twice that, inside every backend


def equivalent_clause(
    table: Table, forms: Collection[str], exact: Collection[str] = ()
) -> ColumnElement[bool]:
    """Rows of ``table`` (one with ``source_key`` and ``source_key_nfc``) whose key's canonical
    form is among ``forms`` (canonical forms): the key is one, or its NFC column is; and the
    keys ``exact`` themselves (found whatever the column holds). Both sides indexed (the
    unique key, 0041's index)."""
    wanted = list(forms)
    keys = sorted({*wanted, *exact})
    return or_(table.c.source_key.in_(keys), table.c.source_key_nfc.in_(wanted))


def equivalent_keys(conn: Connection, table: Table, key: str) -> list[str]:
    """The keys stored in ``table`` canonically equivalent to ``key`` (``key`` itself among
    them when it is stored), in code point order."""
    form = canonical(key)
    stmt = select(table.c.source_key).where(equivalent_clause(table, [form], [key]))
    return sorted(k for k in conn.execute(stmt).scalars() if canonical(k) == form)


def equivalents_among(conn: Connection, table: Table, keys: Sequence[str]) -> dict[str, list[str]]:
    """For many keys at once (a batch): canonical form → the keys stored in ``table`` with it,
    for the forms of ``keys`` that any stored key has."""
    forms = sorted({canonical(k) for k in keys})
    found: dict[str, list[str]] = {}
    for start in range(0, len(forms), CHUNK):
        stmt = select(table.c.source_key).where(
            equivalent_clause(table, forms[start : start + CHUNK])
        )
        for stored in conn.execute(stmt).scalars():
            found.setdefault(canonical(stored), []).append(stored)
    return {form: sorted(set(stored)) for form, stored in found.items()}


@dataclass(frozen=True, slots=True)
class Meant:
    """What a typed key means among stored keys (:func:`meant`)."""

    #: the stored key to act on; None when there is none, or several (``ambiguous``)
    key: str | None
    #: other stored keys canonically equivalent to ``key`` (looking the same), not acted on
    lookalikes: tuple[str, ...] = ()
    #: several equivalent stored keys, none of them the key as typed: all of them
    ambiguous: tuple[str, ...] = ()


def meant(typed: str, stored: Sequence[str]) -> Meant:
    """The one rule (pure): ``stored``, the keys canonically equivalent to ``typed``
    (:func:`equivalent_keys`). The key as typed when it is stored (what a script or a paste
    of the stored key names: each of two distinct rows stays reachable), its other forms as
    ``lookalikes``; else the one equivalent; else none, or several: ``ambiguous``, never a
    guess (they are distinct CMS rows that look the same)."""
    if typed in stored:
        return Meant(typed, tuple(k for k in stored if k != typed))
    if len(stored) == 1:
        return Meant(stored[0])
    return Meant(None, ambiguous=tuple(stored))


def article_meant(conn: Connection, typed: str) -> Meant:
    """The stored article ``typed`` (trimmed) means: :func:`meant` among ``articles``."""
    return meant(typed, equivalent_keys(conn, articles, typed))


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A stored article whose key is canonically equivalent to a new key but not it: its key
    and an editor's hide of it (``hidden_at`` None when it is not hidden)."""

    source_key: str
    hidden_at: datetime | None
    hidden_reason: str | None
    hidden_by: str | None


def stored_lookalikes(conn: Connection, keys: Sequence[str]) -> dict[str, list[Lookalike]]:
    """For keys about to be stored as new articles: each one's stored lookalikes (other keys,
    the same canonical form), for the keys that have any. One statement per :data:`CHUNK`
    forms, on the indexes; a batch of keys that are all NFC probes the sparse NFC index only."""
    forms = sorted({canonical(k) for k in keys})
    by_form: dict[str, list[Lookalike]] = {}
    for start in range(0, len(forms), CHUNK):
        part = forms[start : start + CHUNK]
        stmt = select(
            articles.c.source_key, articles.c.hidden_at, articles.c.hidden_reason,
            articles.c.hidden_by,
        ).where(equivalent_clause(articles, part))  # fmt: skip
        for row in conn.execute(stmt).tuples():
            by_form.setdefault(canonical(row[0]), []).append(Lookalike(*row))
    out: dict[str, list[Lookalike]] = {}
    for key in keys:
        others = [a for a in by_form.get(canonical(key), []) if a.source_key != key]
        if others:
            out[key] = sorted(others, key=lambda a: a.source_key)
    return out


def near_keys(conn: Connection, typed: str, limit: int) -> list[str]:
    """Stored keys that begin with or contain ``typed`` (a key, trimmed; compared in NFC and
    in any case as the backend's ``lower`` folds it — SQLite: ASCII letters), among the
    articles and the built-in source table's rows (imported, not ingested yet): at most
    ``limit``, those that begin with it first, then the shortest, then in code point order.
    What an editor who typed part of a key is shown (a key is looked up whole: part of one
    found nothing, and the admin offered to hide that part ahead of ingest). ``%`` and ``_``
    are matched literally. Each table is read once (``LIMIT``: a scan, as a title search is,
    only when a search by key found nothing)."""
    form = canonical(typed)
    escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found: set[str] = set()
    for table in (articles, source_articles):
        shown = func.lower(func.coalesce(table.c.source_key_nfc, table.c.source_key))
        begins = case((shown.like(func.lower(escaped + "%"), escape="\\"), 0), else_=1)
        stmt = (
            select(table.c.source_key)
            .where(shown.like(func.lower("%" + escaped + "%"), escape="\\"))
            .order_by(begins, func.length(table.c.source_key), table.c.source_key)
            .limit(limit)
        )
        found.update(conn.execute(stmt).scalars())
    folded = form.lower()

    def rank(key: str) -> tuple[bool, int, str]:
        return (not canonical(key).lower().startswith(folded), len(key), key)

    return sorted(found, key=rank)[:limit]
