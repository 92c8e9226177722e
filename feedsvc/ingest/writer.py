"""Storing a batch of parsed source rows: a few set-wide statements, matching done beforehand.

Ingest used to build one ``INSERT`` per article and write its matches row by row (~300
articles/s on SQLite). Here a batch costs one ``executemany`` per kind of change (new, newer
version, moved), one for all matches and one ``DELETE`` for the matches being replaced.

Matching (the CPU-heavy part at thousands of topics) runs in :func:`prepare`, *before* the
write transaction, so the write lock is held only for the SQL (``bench/ingest.py`` records the
longest hold). :func:`apply` re-reads what we hold inside the transaction and matches anything
that changed since (only another writer of ``articles`` could cause that; ingest has one
leader), so the decision "new, newer, already held" is always taken under the lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.ingest.model import Change
from feedsvc.source import SourceRow
from feedsvc.store import articles as article_store
from feedsvc.store import pending_hides
from feedsvc.store.articles import Known, SourcePosition
from feedsvc.store.due import mark_released
from feedsvc.store.lifecycle import end_queued_deliveries
from feedsvc.store.topics import store_matches, topic_ids_of_articles
from feedsvc.topic_index import ArticleMatch, TopicIndex
from feedsvc.versions import takes_over


@dataclass(frozen=True, slots=True)
class Item:
    """One parsed row on its way in: where it is in the source, and its match (None when what
    we held at :func:`prepare` time made it unnecessary)."""

    row: SourceRow
    at: SourcePosition
    article: Article
    match: ArticleMatch | None


def _needs_match(article: Article, known: Known | None, now: datetime | None) -> bool:
    """New, or a record that takes over the held one (:func:`feedsvc.versions.takes_over`, the
    rule ``feedsvc import`` applies too): a replacing version (newer, or the held one far in
    the future), or the same version the source now shows or hides (a CMS may send a row back
    to draft without touching ``updated_at``; SPEC §10)."""
    if known is None:
        return True
    return takes_over(
        article.version, article.withdrawn, known.version, known.withdrawn, now,
        new_published=article.published_at, held_published=known.published_at,
        new_unstamped=article.updated_at is None, held_unstamped=known.unstamped,
    )  # fmt: skip


def prepare(
    db: Database,
    match_all: Callable[[Sequence[Article]], list[ArticleMatch]],
    parsed: Sequence[tuple[SourceRow, Article]],
    now: datetime | None = None,
) -> list[Item]:
    """One item per source key (its newest version; the first among equal ones, as a
    row-by-row pass would keep), matched when it is new or newer than what we hold.

    ``match_all`` matches a list of articles at once, one result per article in order (the
    ingestor's: in its match pool or in-process)."""
    chosen: dict[str, tuple[SourceRow, Article]] = {}
    for row, article in parsed:
        previous = chosen.get(article.source_key)
        if previous is None or article.version > previous[1].version:
            chosen[article.source_key] = (row, article)
    with db.read() as conn:
        known = article_store.known_versions(conn, list(chosen))
    wanted = [a for key, (_, a) in chosen.items() if _needs_match(a, known.get(key), now)]
    matches = iter(match_all(wanted))
    return [
        Item(
            row,
            SourcePosition(row.cursor_ts, str(row.id)),
            article,
            next(matches) if _needs_match(article, known.get(key), now) else None,
        )
        for key, (row, article) in chosen.items()
    ]


def apply(
    conn: Connection,
    index: TopicIndex,
    items: Sequence[Item],
    now: datetime,
    withdraw_reason: str = "source",
) -> list[Change]:
    """Store ``items`` in the caller's transaction; the changes (new and newer), in order.

    A new article an editor hid before ingest read it arrives hidden (its pending hide applied
    and deleted here). An item the source withdrew is stored withdrawn (``withdraw_reason``)
    and its queued deliveries end as ``withdrawn`` in this same transaction (SPEC §10)."""
    known = article_store.known_versions(conn, [i.article.source_key for i in items])
    new: list[Item] = []
    newer: list[tuple[Known, Item]] = []
    moved: list[tuple[int, SourcePosition]] = []
    for item in items:
        held = known.get(item.article.source_key)
        if not _needs_match(item.article, held, now):
            assert held is not None
            # already held at this version (an overlap re-read, a stale edit): only note
            # where the row is now, so the window check stops re-reading it
            if (held.source_cursor, held.source_id) != (item.at.cursor, item.at.id):
                moved.append((held.id, item.at))
            continue
        if item.match is None:  # changed since prepare() looked
            item = replace(item, match=index.match(item.article))
        if held is None:
            new.append(item)
        else:
            newer.append((held, item))
    # an editor's hide recorded before ingest read the key (store.pending_hides): applied with
    # the insert, before the hooks (the outbox reads the article hidden, never public), and its
    # record deleted, all in this transaction
    waiting = pending_hides.take(conn, [i.article.source_key for i in new])
    ids = article_store.insert_articles(
        conn, [(i.article, _search_text(i), i.at) for i in new], now, withdraw_reason
    )
    pending_hides.apply_hides(
        conn,
        {aid: waiting[i.article.source_key] for aid, i in zip(ids, new, strict=True)
         if i.article.source_key in waiting},
    )  # fmt: skip
    previous = article_store.articles_by_ids(conn, [k.id for k, _ in newer])
    article_store.update_articles(
        conn, [(k.id, i.article, _search_text(i), i.at) for k, i in newer], now, withdraw_reason
    )
    gone = [k.id for k, i in newer if i.article.withdrawn and not k.withdrawn]
    end_queued_deliveries(conn, gone, f"withdrawn:{withdraw_reason}", now)
    article_store.move_source_positions(conn, moved)
    before = topic_ids_of_articles(conn, [k.id for k, _ in newer])
    pairs = [(aid, i) for aid, i in zip(ids, new, strict=True)]
    pairs += [(k.id, i) for k, i in newer]
    store_matches(
        conn,
        {aid: _topics(i) for aid, i in pairs},
        now,
        replace=[k.id for k, _ in newer],
    )
    changes = [
        Change(aid, i.article, True, frozenset(_topics(i))) for aid, i in zip(ids, new, strict=True)
    ]
    changes += [
        Change(
            k.id,
            i.article,
            False,
            frozenset(_topics(i)),
            frozenset(before.get(k.id, ())),
            previous.get(k.id),
            revealed=_revealed(k, i.article, now),
        )
        for k, i in newer
    ]
    # released here (the outbox takes a reveal as new): the due check, whose overlap may still
    # cover its time, does not release it again (a second "became public", in any process)
    mark_released(conn, [c.article_id for c in changes if c.revealed], now)
    return changes


def _revealed(held: Known, article: Article, now: datetime) -> bool:
    """The source shows it again after a withdrawal, or moved a still-scheduled article's time
    to the past (it was never released by the due check): the outbox treats it as new, and
    it counts as released (``articles.released_at``)."""
    if article.withdrawn:
        return False
    was_scheduled = held.published_at is not None and held.published_at > now
    return held.withdrawn or (was_scheduled and article.published_at <= now)


def _search_text(item: Item) -> str:
    assert item.match is not None
    return item.match.search_text


def _topics(item: Item) -> dict[int, list[str]]:
    assert item.match is not None
    return item.match.topics
