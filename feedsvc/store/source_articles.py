"""Writes to the built-in source table (``feedsvc import`` and the demo's generator)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from feedsvc.articles import Article
from feedsvc.db.schema import source_articles as t
from feedsvc.versions import replaces, takes_over


@dataclass(frozen=True, slots=True)
class NotApplied:
    """A takedown that did not happen: a ``"withdrawn": true`` record that does not win, while
    what wins is public. ``index`` is its position in the batch; ``held`` the winning version;
    ``winner_index`` the batch position of the record that wins (None: the stored row).

    Only takedowns: a stale record without ``withdrawn`` (an old export imported again after a
    takedown) is no request to publish, and stays "unchanged"."""

    index: int
    held: datetime
    winner_index: int | None = None


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    #: takedown records not applied (not counted above)
    not_applied: list[NotApplied] = field(default_factory=list)

    def add(self, other: UpsertCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.not_applied.extend(other.not_applied)


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


def upsert_source_articles(
    conn: Connection, batch: Sequence[Article], now: datetime
) -> UpsertCounts:
    """Insert new keys; update a key only when its record takes over the held one
    (:func:`feedsvc.versions.takes_over`: a newer version, or the held one far in the future,
    or the same version with the other ``withdrawn``, the rule ingest applies too).

    The last occurrence of a key within one batch wins, as it would in a file read top to bottom
    (:func:`latest_per_key`). A takedown not applied (an older version than a public winner) is
    in ``not_applied``, not counted unchanged: the caller says why per line.
    ``changed_at`` is the ingest cursor column: it moves on insert and update only, so an
    identical re-import costs ingest nothing.
    """
    latest, stale = latest_per_key(batch, now)
    counts = UpsertCounts(unchanged=len(batch) - len(latest) - len(stale), not_applied=stale)
    rows = conn.execute(
        select(t.c.source_key, t.c.published_at, t.c.updated_at, t.c.withdrawn).where(
            t.c.source_key.in_(list(latest))
        )
    ).tuples()
    existing = {
        key: (updated or published, bool(gone), published, updated is None)
        for key, published, updated, gone in rows
    }
    new_rows = []
    for key, index in latest.items():
        a = batch[index]
        held = existing.get(key)
        if held is None:
            new_rows.append({**_values(a), "changed_at": now})
        elif takes_over(
            a.version, a.withdrawn, held[0], held[1], now,
            new_published=a.published_at, held_published=held[2],
            new_unstamped=a.updated_at is None, held_unstamped=held[3],
        ):  # fmt: skip
            conn.execute(
                update(t).where(t.c.source_key == key).values(**_values(a), changed_at=now)
            )
            counts.updated += 1
        elif a.withdrawn and not held[1]:
            counts.not_applied.append(NotApplied(index, held[0]))
        else:
            counts.unchanged += 1
    if new_rows:
        conn.execute(insert(t), new_rows)
        counts.inserted += len(new_rows)
    return counts
