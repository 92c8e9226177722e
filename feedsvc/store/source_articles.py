"""Writes to the built-in source table (``feedsvc import`` and the demo's generator)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from feedsvc.articles import Article, ArticleError, parse_article
from feedsvc.db.schema import source_articles as t
from feedsvc.keys import canonical, key_nfc
from feedsvc.store.article_keys import equivalent_keys, equivalents_among
from feedsvc.versions import replaces, takes_over


@dataclass(frozen=True, slots=True)
class NotApplied:
    """A record that does not win although it differs from the one that does, so the import
    says it rather than count it "unchanged" (the caller words it per line): a takedown
    (``"withdrawn": true``) while what wins is public; a public record while what wins is
    withdrawn (``held_withdrawn``: a takedown not undone, tester 2 F1); or, ``differs`` not
    empty, a record whose content differs in those fields — a corrected headline re-imported
    without a newer ``updated_at`` (tester F5), or with an older one (tester 2 F4: a correction
    behind a stored version a CMS dated hours ahead). ``index`` is its position in the batch;
    ``held`` the winning version; ``winner_index`` the batch position of the record that wins
    (None: the stored row).

    A record that does not win and is the winner's content and visibility (an old export
    imported again, nothing edited since) is no such thing: "unchanged"."""

    index: int
    held: datetime
    winner_index: int | None = None
    differs: tuple[str, ...] = ()
    held_withdrawn: bool = False


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A record inserted under a key canonically equivalent to other keys of the table (the
    same text in another Unicode form: ``Kiến`` composed and decomposed): its position in the
    batch and those keys. Stored as a row of its own — the source's keys are its identity,
    never merged —, said so its author learns that readers will see two articles."""

    index: int
    others: tuple[str, ...]


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    #: takedown records not applied (not counted above)
    not_applied: list[NotApplied] = field(default_factory=list)
    #: records inserted under a key that looks like another's (counted above)
    lookalikes: list[Lookalike] = field(default_factory=list)

    def add(self, other: UpsertCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.not_applied.extend(other.not_applied)
        self.lookalikes.extend(other.lookalikes)


def latest_per_key(
    batch: Sequence[Article], now: datetime | None = None
) -> tuple[dict[str, int], list[NotApplied]]:
    """Each key's winning record within ``batch`` (its index), read top to bottom: a later
    record of the same version, or of one that replaces the earlier one's
    (:func:`feedsvc.versions.replaces` at ``now``, the rule against the stored row; ``now``
    None: a newer one), replaces it. And the takedowns listed after a public winner (so of an
    older version): a stale takedown line, reported rather than counted unchanged."""
    latest: dict[str, int] = {}
    for i, a in enumerate(batch):
        prev = latest.get(a.source_key)
        if prev is None or _later_wins(a, batch[prev], now):
            latest[a.source_key] = i
    stale = []
    for i, a in enumerate(batch):
        won = latest[a.source_key]
        winner = batch[won]
        if i > won and a.withdrawn and not winner.withdrawn:
            stale.append(NotApplied(i, winner.version, won))
    return latest, stale


def _later_wins(later: Article, earlier: Article, now: datetime | None) -> bool:
    if later.version == earlier.version or now is None:
        return later.version >= earlier.version
    return replaces(
        later.version, earlier.version, now,
        new_published=later.published_at, held_published=earlier.published_at,
        new_unstamped=later.updated_at is None,
    )  # fmt: skip


def _values(a: Article) -> dict[str, object]:
    return {
        "source_key": a.source_key,
        "source_key_nfc": key_nfc(a.source_key),
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
        "withdrawn": a.withdrawn,
    }


#: The fields compared when a record has the version held (its ``updated_at`` or, without one,
#: its ``published_at``): its content. ``updated_at`` itself is the version rule's
#: (:func:`feedsvc.versions.takes_over`), ``withdrawn`` too.
CONTENT = ("url", "title", "summary", "body", "author", "section", "tags", "image_url",
           "published_at")  # fmt: skip


def differing(a: Article, b: Article) -> tuple[str, ...]:
    """The :data:`CONTENT` fields in which ``a`` and ``b`` differ (timestamps as instants)."""
    return tuple(name for name in CONTENT if getattr(a, name) != getattr(b, name))


@dataclass(slots=True)
class _Held:
    """What a key holds while a batch is read top to bottom: the stored row (``line`` None) or
    a record of this batch (``line`` its index). ``own``: written by this import (a line, or a
    row stored since the import began), so a later line of the same version replaces it (the
    last line of a file wins, whatever batch it falls in); ``article``: its content, parsed
    (None: a stored row not read, its version not met again)."""

    version: datetime
    withdrawn: bool
    published: datetime
    unstamped: bool
    own: bool
    line: int | None = None
    article: Article | None = None
    #: the stored row as read, until it is read as today (:func:`_today`)
    raw: dict[str, Any] | None = None


def _of_line(a: Article, index: int) -> _Held:
    return _Held(
        a.version, a.withdrawn, a.published_at, a.updated_at is None, True, index, a
    )  # fmt: skip


def upsert_source_articles(
    conn: Connection, batch: Sequence[Article], now: datetime, since: datetime | None = None
) -> UpsertCounts:
    """Insert new keys; update a key only when its record takes over the held one
    (:func:`feedsvc.versions.takes_over`: a newer version, or the held one far in the future,
    or the same version with ``withdrawn`` true over a public one, the rule ingest applies too;
    a line is ``may_be_stale``: the same version does not publish a stored takedown again).

    The batch is read top to bottom, each record counted for what it does to the one held at
    that point (stored, or an earlier record of the batch): inserted, updated, unchanged (it
    holds what is held: content and visibility), or in ``not_applied`` (the caller says why
    per line): it does not win but differs — a takedown while the winner is public, a public
    record while it is withdrawn, other content at the same or an older version. A stored row
    is held before the import (``since``: when it began; None, this batch alone is the
    import). A record a later one of its key in the batch wins over is never said (the file
    replaces it itself: a re-run of an append-only export). A later record of the same version
    as one the import wrote replaces it (the last line of a file wins; :func:`latest_per_key`).
    Only the final winner of a key is written.
    ``changed_at`` is the ingest cursor column: it moves on insert and update only, so an
    identical re-import costs ingest nothing.
    """
    lines: dict[str, list[int]] = {}
    for i, a in enumerate(batch):
        lines.setdefault(a.source_key, []).append(i)
    rows = conn.execute(
        select(
            t.c.source_key, t.c.published_at, t.c.updated_at, t.c.withdrawn, t.c.changed_at
        ).where(t.c.source_key.in_(list(lines)))
    ).tuples()
    stored = {
        key: _Held(updated or published, bool(gone), published, updated is None,
                   since is not None and changed >= since)
        for key, published, updated, gone, changed in rows
    }  # fmt: skip
    _read_content(conn, batch, lines, stored, now)
    winners, _ = latest_per_key(batch, now)
    counts = UpsertCounts()
    new_rows: dict[str, tuple[int, dict[str, object]]] = {}
    for key, indices in lines.items():
        first = stored.get(key)
        held = first
        for i in indices:
            held = _judge(batch, i, held, now, counts, superseded=winners[key] > i)
        assert held is not None
        if held is first or held.line is None:
            continue
        values = {**_values(batch[held.line]), "changed_at": now}
        if first is None:
            new_rows[key] = (held.line, values)
        else:
            conn.execute(update(t).where(t.c.source_key == key).values(**values))
    if new_rows:
        counts.lookalikes = _lookalikes(conn, {key: line for key, (line, _) in new_rows.items()})
        conn.execute(insert(t), [values for _, values in new_rows.values()])
    return counts


def _lookalikes(conn: Connection, new: dict[str, int]) -> list[Lookalike]:
    """The keys about to be inserted (key → batch position) that look like others: a key
    stored, or inserted by an earlier line of the batch, with the same canonical form."""
    stored = equivalents_among(conn, t, list(new))
    seen: dict[str, list[str]] = {}
    out = []
    for key, line in sorted(new.items(), key=lambda kv: kv[1]):
        form = canonical(key)
        others = [*stored.get(form, ()), *seen.get(form, ())]
        if others:
            out.append(Lookalike(line, tuple(others)))
        seen.setdefault(form, []).append(key)
    return out


def _judge(
    batch: Sequence[Article], i: int, held: _Held | None, now: datetime, counts: UpsertCounts,
    *, superseded: bool = False,
) -> _Held:  # fmt: skip
    """Count record ``i`` against what is ``held``; what is held after it. ``superseded``: a
    later record of its key in the batch wins over it (:func:`latest_per_key`): the file
    replaces it itself, so it is not said when it does not win ("unchanged": an append-only
    export of a line and its takedown, or of a line and its correction, imported again)."""
    a = batch[i]
    if held is None:
        counts.inserted += 1
        return _of_line(a, i)
    if _takes_over(a, held, now):
        counts.updated += 1
        return _of_line(a, i)
    # not taken: said when it would change something (content, or visibility), else unchanged
    differs = differing(a, held.article) if held.article is not None else ()
    if differs and held.raw is not None:  # written by an older feedsvc? read it as today
        today = _today(held)
        differs = differing(a, today) if today is not None else ()
    if held.own and a.version == held.version and (differs or a.withdrawn != held.withdrawn):
        counts.updated += 1  # an earlier line of this import, same version: the last line wins
        return _of_line(a, i)
    if (differs or a.withdrawn != held.withdrawn) and not superseded:
        counts.not_applied.append(
            NotApplied(i, held.version, held.line, differs, held_withdrawn=held.withdrawn)
        )
    else:
        counts.unchanged += 1
    return held


def _takes_over(a: Article, held: _Held, now: datetime) -> bool:
    """:func:`feedsvc.versions.takes_over` for a line over ``held``: a line may be a stale
    copy (``may_be_stale``), unless what is held is this import's own (the last line wins)."""
    return takes_over(
        a.version, a.withdrawn, held.version, held.withdrawn, now,
        new_published=a.published_at, held_published=held.published,
        new_unstamped=a.updated_at is None, held_unstamped=held.unstamped,
        may_be_stale=not held.own,
    )  # fmt: skip


def _read_content(
    conn: Connection, batch: Sequence[Article], lines: dict[str, list[int]],
    stored: dict[str, _Held], now: datetime,
) -> None:  # fmt: skip
    """The content of the stored rows a record of the batch does not take over (only those: a
    re-import of unchanged lines reads each body once more, a newer or new one reads none). A
    row that differs from a line is read again as :func:`feedsvc.articles.parse_article` reads
    a line (:func:`_today`): one stored by an older feedsvc (text not in NFC, a relative
    ``image_url``) is the same content as its line read today."""
    keys = [
        key for key, held in stored.items()
        if any(not _takes_over(batch[i], held, now) for i in lines[key])
    ]  # fmt: skip
    for start in range(0, len(keys), 500):
        rows = conn.execute(
            select(*(t.c[name] for name in _READ)).where(
                t.c.source_key.in_(keys[start : start + 500])
            )
        ).mappings()
        for row in rows:  # as stored (as read today for all but an older feedsvc's rows)
            held = stored[row["source_key"]]
            held.raw = dict(row)
            held.article = Article(
                **{name: row[name] for name in _READ if name not in ("tags", "withdrawn")},
                tags=tuple(row["tags"] or ()),
                withdrawn=bool(row["withdrawn"]),
            )


def _today(held: _Held) -> Article | None:
    """``held``'s stored row read as :func:`feedsvc.articles.parse_article` reads a line today
    (once, kept); None when no rule of today reads it (not compared: "unchanged", as before)."""
    raw, held.raw = held.raw, None
    try:
        held.article = parse_article(raw, UTC)
    except ArticleError:
        held.article = None
    return held.article


_READ = ("source_key", "url", "title", "summary", "body", "author", "section", "tags",
         "image_url", "published_at", "updated_at", "withdrawn")  # fmt: skip


def waiting_keys(conn: Connection, source_key: str) -> dict[str, bool]:
    """The keys of the built-in source table canonically equivalent to ``source_key`` (it
    among them when it is there: the one rule, :mod:`feedsvc.store.article_keys`), each with
    whether its row is withdrawn."""
    keys = equivalent_keys(conn, t, source_key)
    if not keys:
        return {}
    rows = conn.execute(select(t.c.source_key, t.c.withdrawn).where(t.c.source_key.in_(keys)))
    return {key: bool(withdrawn) for key, withdrawn in rows.tuples()}


def waiting_state(conn: Connection, source_key: str) -> bool | None:
    """Whether the built-in source table holds ``source_key`` — or a key canonically
    equivalent to it: an editor types a CMS's decomposed key composed — withdrawn (True: all
    of them) or not (False), or None when it holds none: what an editor's hide of a key that
    is not (yet) an article says (:func:`feedsvc.lifecycle.editors.hide_article`)."""
    found = waiting_keys(conn, source_key)
    if not found:
        return None
    return found[source_key] if source_key in found else all(found.values())
