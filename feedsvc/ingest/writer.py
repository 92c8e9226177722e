"""Storing a batch of parsed source rows: a few set-wide statements, matching done beforehand.

Ingest used to build one ``INSERT`` per article and write its matches row by row (~300
articles/s on SQLite). Here a batch costs one ``executemany`` per kind of change (new, newer
version, moved), one for all matches and one ``DELETE`` for the matches being replaced.

Matching (the CPU-heavy part at thousands of topics) runs in :func:`matched`, *before* the
write transaction, so the write lock is held only for the SQL (``bench/ingest.py`` records the
longest hold). :func:`apply` re-reads what we hold inside the transaction and matches anything
that changed since (only another writer of ``articles`` could cause that; ingest has one
leader), so the decision "new, newer, already held" is always taken under the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.committed import say
from feedsvc.ingest import unapplied
from feedsvc.ingest.lookalikes import arriving_hides
from feedsvc.ingest.model import Change
from feedsvc.ingest.shared_ids import say_shared
from feedsvc.ingest.unapplied import SetAside, decide
from feedsvc.ingest.unapplied import own_row as _own_row
from feedsvc.keys import spelled
from feedsvc.source import SourceRow
from feedsvc.store import articles as article_store
from feedsvc.store import pending_hides, rekeyed
from feedsvc.store import unapplied as unapplied_store
from feedsvc.store.articles import Known, SourcePosition
from feedsvc.store.due import mark_released
from feedsvc.store.lifecycle import end_queued_deliveries, public_ids
from feedsvc.store.pending_hides import Waiting
from feedsvc.store.source_articles import differing
from feedsvc.store.topics import store_matches, topic_ids_of_articles
from feedsvc.topic_index import ArticleMatch, TopicIndex
from feedsvc.versions import ahead, public, takes_over

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Item:
    """One parsed row on its way in: where it is in the source, and its match (None when what
    we held at :func:`choose` time made it unnecessary). ``edited``: the held article's own
    row at its version with other content (a correction, :func:`feedsvc.versions.takes_over`);
    ``orphaned``: the held article's row is gone and this row carries its key (reconciliation's
    re-read): it takes over whatever its version."""

    row: SourceRow
    at: SourcePosition
    article: Article
    match: ArticleMatch | None
    edited: bool = False
    orphaned: bool = False
    #: the key was not held when :func:`choose` looked (a batch read ahead of the write of
    #: the one before): :func:`apply` checks it for a same-version correction under the lock
    unheld: bool = False
    #: the batch's other rows of the key, set aside by :func:`choose` (position, version):
    #: not applied, and recorded as such (:mod:`feedsvc.ingest.unapplied`)
    others: tuple[tuple[SourcePosition, datetime], ...] = ()
    #: read again after the mapping or zone changed (:mod:`feedsvc.ingest.remap`): as the
    #: held article's own row reading otherwise (``edited``), it replaces it whatever the
    #: versions, which are the old mapping's reading too (a zone moved east dates every row
    #: older than what is held)
    remapped: bool = False


def _needs_match(
    article: Article,
    known: Known | None,
    now: datetime | None,
    edited: bool = False,
    orphaned: bool = False,
    own: bool = False,
    other: bool = False,
) -> bool:
    """New, or a record that takes over the held one (:func:`feedsvc.versions.takes_over`, the
    rule ``feedsvc import`` applies too): a replacing version (newer, or the held one far in
    the future), or the same version the source now shows or hides (a CMS may send a row back
    to draft without touching ``updated_at``; SPEC §10), or shows with other content
    (``edited``), or another row of the key when the held one's is gone (``orphaned``); and
    from the held article's own row (``own``), a takedown whatever its version; from another
    row of the key (``other``), never a record that is not public over a public one (M2)."""
    if known is None:
        return True
    return takes_over(
        article.version, article.withdrawn, known.version, known.withdrawn, now,
        new_published=article.published_at, held_published=known.published_at,
        new_unstamped=article.updated_at is None, held_unstamped=known.unstamped,
        edited=edited, held_gone=orphaned, own_row=own, other_row=other,
        held_stored=known.stored_at,
    )  # fmt: skip


def _edited(
    conn: Connection,
    items: Sequence[tuple[SourcePosition, Article]],
    known: dict[str, Known],
    remapped: bool = False,
) -> set[str]:
    """Keys whose row is the held article's own, at its version, with other content: one read
    of the held articles, for those items only (an overlap re-read of an edited row). With
    ``remapped`` (:attr:`Item.remapped`), at any version: another version is other content."""
    same = [
        (at, a, k)
        for at, a in items
        if (k := known.get(a.source_key)) is not None
        and (remapped or a.version == k.version) and _own_row(k, at)
    ]  # fmt: skip
    if not same:
        return set()
    held = article_store.articles_by_ids(conn, [k.id for _, _, k in same])
    return {
        a.source_key for _, a, k in same
        if k.id in held and (a.version != k.version or differing(a, held[k.id]))
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Chosen:
    """A batch's items before matching (:func:`choose`) and which of them need a match."""

    items: list[Item]
    wanted: list[bool]


def choose(
    db: Database,
    parsed: Sequence[tuple[SourceRow, Article]],
    now: datetime | None = None,
    orphaned: Collection[str] = frozenset(),
    remapped: bool = False,
) -> Chosen:
    """One item per source key (its newest version; among equal ones the held article's own
    row, else the first, as a row-by-row pass would keep; never another row's draft over a
    public row, :func:`feedsvc.versions.ahead`; the others go with it, in
    :attr:`Item.others`, to be recorded as not applied), and whether each needs a match: it
    is new or takes over what we hold. ``orphaned``: keys whose held article's row is gone
    (reconciliation): their newest remaining row takes over. ``remapped``: the rows are read
    again after a mapping change (:attr:`Item.remapped`). Matching is :func:`matched`'s,
    outside any transaction (a catch-up matches batch k+1 while k is written and k+2 chosen,
    :mod:`feedsvc.ingest.ahead`)."""
    with db.read() as conn:
        known = article_store.known_versions(conn, {a.source_key for _, a in parsed})
        chosen: dict[str, tuple[SourceRow, Article]] = {}
        others: dict[str, list[tuple[SourcePosition, datetime]]] = {}
        for row, article in parsed:
            key = article.source_key
            previous = chosen.get(key)
            if previous is None:
                chosen[key] = (row, article)
                continue
            held, first = known.get(key), previous[1]
            if ahead(
                article.version, public(article.withdrawn, article.published_at, now),
                first.version, public(first.withdrawn, first.published_at, now),
                new_own=_own_row(held, _at(row)), first_own=_own_row(held, _at(previous[0])),
            ):  # fmt: skip
                chosen[key], (row, article) = (row, article), previous
            others.setdefault(key, []).append((_at(row), article.version))
        edits = _edited(conn, [(_at(r), a) for r, a in chosen.values()], known, remapped)
    items = [
        Item(
            row, _at(row), article, None, key in edits, key in orphaned and key in known,
            key not in known, tuple(others.get(key, ())), remapped,
        )
        for key, (row, article) in chosen.items()
    ]  # fmt: skip
    return Chosen(items, [_takes(i, known.get(i.article.source_key), now) for i in items])


def matched(
    chosen: Chosen, match_all: Callable[[Sequence[Article]], list[ArticleMatch]]
) -> list[Item]:
    """The items of ``chosen``, those that need one with their match (``match_all``: one
    result per article, in order)."""
    items = chosen.items
    matches = iter(match_all([i.article for i, w in zip(items, chosen.wanted, strict=True) if w]))
    return [
        replace(i, match=next(matches)) if w else i
        for i, w in zip(items, chosen.wanted, strict=True)
    ]


def rematch(
    items: Sequence[Item], match_all: Callable[[Sequence[Article]], list[ArticleMatch]]
) -> list[Item]:
    """The matched ones of ``items`` matched again (the topics changed since)."""
    return matched(Chosen(list(items), [i.match is not None for i in items]), match_all)


def _at(row: SourceRow) -> SourcePosition:
    return SourcePosition(row.cursor_ts, str(row.id))


def _takes(item: Item, known: Known | None, now: datetime | None) -> bool:
    """Whether ``item`` is stored over ``known`` (:func:`_needs_match` with its flags; an
    orphaned item only from another row than the held one's)."""
    orphaned = item.orphaned and known is not None and known.source_id != item.at.id
    remapped = item.remapped and item.edited and _own_row(known, item.at)
    own = _own_row(known, item.at)
    other = known is not None and not own
    return _needs_match(item.article, known, now, item.edited, orphaned or remapped, own, other)


def apply(
    conn: Connection,
    index: TopicIndex,
    items: Sequence[Item],
    now: datetime,
    source: str,
    withdraw_reason: str = "source",
    pending: Waiting | None = None,
    carried: Collection[tuple[str, str]] = frozenset(),
) -> tuple[list[Change], list[SetAside]]:
    """Store ``items`` in the caller's transaction; the changes (new and newer), in order, and
    the rows not applied that are to be said once committed (:mod:`feedsvc.ingest.unapplied`:
    every row of the batch that does not end up holding its article is recorded, for
    ``source``, so the overlap window does not take it for a late commit).

    A new article an editor hid before ingest read it arrives hidden (its pending hide applied
    and deleted here; ``pending``: the hides :func:`feedsvc.store.pending_hides.read_locked`
    read for these items earlier in this transaction, else they are read here). An item the
    source withdrew is stored withdrawn (``withdraw_reason``) and its queued deliveries end as
    ``withdrawn`` in this same transaction (SPEC §10). ``carried``: ``(row id, key)`` pairs
    some source row carries now (:func:`feedsvc.ingest.shared_ids.carried_now`): an article
    held under such a pair is never handed over as re-keyed (:func:`_hand_over`)."""
    known = article_store.known_versions(conn, [i.article.source_key for i in items])
    # a correction choose() found is checked again under the lock (only those items, and
    # those not held then: a batch read before the one holding them committed)
    checked = [i for i in items if i.edited or i.unheld]
    still = _edited(conn, [(i.at, i.article) for i in checked if not i.remapped], known)
    still |= _edited(conn, [(i.at, i.article) for i in checked if i.remapped], known, True)
    new: list[Item] = []
    newer: list[tuple[Known, Item]] = []
    moved: list[tuple[int, SourcePosition]] = []
    aside: list[SetAside] = []
    for item in items:
        held = known.get(item.article.source_key)
        if item.edited != (item.article.source_key in still):
            item = replace(item, edited=not item.edited)
        taken = _takes(item, held, now)
        rows = [(item.at, item.article.version), *item.others]
        orphaned = item.orphaned and held is not None and held.source_id != item.at.id
        fate = decide(item.article.source_key, rows, held, taken, orphaned)
        aside += fate.aside
        if taken:
            unapplied.say_ahead(item.at, item.article, now)
        if not taken:
            assert held is not None
            # already held at this version (an overlap re-read, a stale edit): only note
            # where its own row is now, so the window check stops re-reading it; another row
            # of the key (not unique) does not take the held article's place (reconciliation
            # ties the article to its row): recorded as not applied
            if fate.moved is not None:
                moved.append((held.id, fate.moved))
            continue
        if item.match is None:  # changed since choose() looked
            item = replace(item, match=index.match(item.article))
        if held is None:
            new.append(item)
        else:
            newer.append((held, item))
    # an editor's hide recorded before ingest read the key (store.pending_hides), in this key's
    # Unicode form or another, or of a stored lookalike (ingest.lookalikes): applied with the
    # insert, before the hooks (the outbox reads the article hidden, never public), and a
    # recorded hide deleted, all in this transaction
    waiting = arriving_hides(conn, [i.article.source_key for i in new], pending, now)
    ids = article_store.insert_articles(
        conn, [(i.article, _search_text(i), i.at) for i in new], now, withdraw_reason
    )
    pending_hides.apply_hides(
        conn,
        {aid: waiting[i.article.source_key] for aid, i in zip(ids, new, strict=True)
         if i.article.source_key in waiting},
    )  # fmt: skip
    handed, was_public = _hand_over(
        conn, [*zip(ids, new, strict=True), *((k.id, i) for k, i in newer)], now,
        {*carried, *((i.at.id, i.article.source_key) for i in items)},
    )  # fmt: skip
    previous = article_store.articles_by_ids(conn, [k.id for k, _ in newer] + [*handed.values()])
    handed_topics = topic_ids_of_articles(conn, list(handed.values()))
    article_store.update_articles(
        conn, [(k.id, i.article, _search_text(i), i.at) for k, i in newer], now, withdraw_reason
    )
    gone = [k.id for k, i in newer if i.article.withdrawn and not k.withdrawn]
    end_queued_deliveries(conn, gone, f"withdrawn:{withdraw_reason}", now)
    article_store.move_source_positions(conn, moved)
    said = unapplied.record(conn, source, aside, now)
    holding = [i.at.id for i in new] + [i.at.id for _, i in newer] + [at.id for _, at in moved]
    unapplied_store.release(conn, source, holding)
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
        Change(
            aid, i.article, True, frozenset(_topics(i)),
            frozenset(handed_topics.get(handed[aid], ())) if aid in handed else frozenset(),
            previous.get(handed[aid]) if aid in handed else None,
            carries_on=handed.get(aid) in was_public,
        )  # a re-keyed row's article: the old key's version is its previous one
        for aid, i in zip(ids, new, strict=True)
    ]  # fmt: skip
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
    return changes, said


def _hand_over(
    conn: Connection,
    stored: Sequence[tuple[int, Item]],
    now: datetime,
    carried: Collection[tuple[str, str]],
) -> tuple[dict[int, int], set[int]]:
    """Articles held from these items' rows under a key the row no longer carries (a CMS row
    re-keyed, tester 3 F7) handed over to the stored one (:mod:`feedsvc.store.rekeyed`: alerts,
    hide, the old one withdrawn as ``re-keyed``). Returns ``stored article id → old id`` and
    the old ids that were public until now (the new key carries them on: not news).

    Not when a source row of that id still carries the old key (``carried``: this batch's
    rows, and the source asked before the write): the id is not unique (a CMS view over a
    join, a table without a primary key), two live rows, not one row re-keyed. Both articles
    are kept, as the CMS shows both: withdrawing one dropped a live story from every feed, and
    an edit of either row then flipped them back and forth (a tester's U2); quarantining the
    newcomer would hide a live story too. A WARNING names the id and both keys
    (:func:`feedsvc.ingest.shared_ids.say_shared`)."""
    rows = {i.at.id: i.article.source_key for _, i in stored if i.at.id}
    held = rekeyed.held_from_rows(conn, rows)
    for sid, kept in held.items():
        if (sid, kept.source_key) in carried:
            say_shared(conn, sid, kept.source_key, rows[sid])
    held = {sid: h for sid, h in held.items() if (sid, h.source_key) not in carried}
    was_public = public_ids(conn, [old.id for old in held.values()], now) if held else set()
    handed: dict[int, int] = {}
    for aid, item in stored:
        old = held.get(item.at.id)
        if old is None or old.id == aid:
            continue
        rekeyed.hand_over(conn, old.id, aid, now)
        handed[aid] = old.id
        say(
            conn, log, logging.INFO,
            "ingest: row id=%s now carries key %s: article %s handed over to it (withdrawn as "
            "re-keyed, its alerts moved)",
            item.at.id, spelled(item.article.source_key), spelled(old.source_key),
        )  # fmt: skip
    end_queued_deliveries(conn, list(handed.values()), f"withdrawn:{rekeyed.REKEYED}", now)
    return handed, was_public


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
