"""Backfill: fill a topic's feed from the articles already stored (no alerts), e.g. after the
topic was created or its query changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from feedsvc.backfill_window import BACKFILL_DAYS, window_start
from feedsvc.db import Database
from feedsvc.matching import TopicMatcher, candidate_key_sets, document_from_article, references
from feedsvc.operations.errors import OperationError, query_invalid
from feedsvc.operations.topics import get_topic
from feedsvc.signal_hold import SignalHold
from feedsvc.store import article_reads
from feedsvc.store import topics as topic_store
from feedsvc.store.article_reads import count_since
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.articles import row_to_article
from feedsvc.store.lifecycle import public_ids


@dataclass(frozen=True)
class BackfillResult:
    """``scanned``: articles considered (published in the window); ``checked``: those the
    matcher looked at (index candidates, or all of them without usable key sets); ``matched``:
    those the topic's query matches now; ``added``: matches recorded; ``removed``: matches of
    the window's articles dropped because the query no longer matches them (a narrowed query,
    a referenced topic changed).

    ``matched`` and ``added`` count hidden, withdrawn and scheduled articles too: their
    matches are recorded so that they join the feed when public again (or when due). What
    readers see is ``in_feed`` (of ``matched``, those public when their batch was written) and
    ``added_to_feed`` (of ``added``); ``not_in_feed`` the rest. Every front end's "added to the
    feed" is those (a tester's: after hiding articles, a topic matching only them was saved
    with "12 match, 12 added to the feed" while its feed and the preview had none)."""

    scanned: int
    matched: int
    added: int
    checked: int = 0
    #: the topic's slug as stored (the one given may name it in another case)
    slug: str = ""
    removed: int = 0
    in_feed: int = 0
    added_to_feed: int = 0

    @property
    def not_in_feed(self) -> int:
        """Matched, but hidden, withdrawn or scheduled: not in the feed."""
        return self.matched - self.in_feed


def backfill_topic(
    db: Database,
    slug: str,
    days: int | None = BACKFILL_DAYS,
    batch: int = 2000,
    stopping: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BackfillResult:
    """Make a topic's matches among the stored articles of the last ``days`` (all when None)
    those of its current query: add the articles it matches, drop the ones it no longer does.

    When the query yields key sets, only the archive search index's candidates are matched
    (every one of them: a backfill must be complete, so nothing is capped), then the topic's
    other matches in the window (read before the first batch) are re-checked; otherwise every
    article of the window is matched, in id batches. Articles published before the window keep
    their matches. No alerts: deliveries are only ever created by ingest for new articles.
    Each batch is written under the topics' lock (:func:`~feedsvc.store.topics.serialize`),
    after checking that the queries it was judged by still stand: when the topic's query or
    one it references changed meanwhile, a backfill started before the change would drop what
    the new query matches (and the backfill started after it found them present and left
    them), so it stops there with ``backfill_topic_changed``; the batches written before stay.
    A topic deleted meanwhile (even if created again under its slug) stops it with
    ``backfill_topic_deleted``.
    When it changed the topic's matches, even if it stopped part-way, the topic's version
    (``updated_at``) moves on: every process serving its feeds renders them again with its own
    settings (a CLI's may differ from the service's: ``http.public_url``, ``site``), at its
    next feeds sync or start.
    A stop asked for stops it between batches, the batches done stored and counted, so the
    answer goes out within the HTTP server's grace period (SIGTERM to the service: ``stopping``,
    its ``interrupted``, raises ``backfill_stopped``; Ctrl-C or SIGTERM to the CLI: held while
    a batch runs, raised after it, :mod:`feedsvc.signal_hold`).
    ``progress(done, total)``, in articles, is told how far it got (the CLI's progress bar;
    this function prints nothing, the API and the admin pass none): ``(0, total)`` once the
    total is known, after each batch, ``(total, total)`` when it ran to its end; both only grow
    (:class:`_Progress`). It is called from this thread, with Ctrl-C and SIGTERM held.
    Raises ``OperationError`` (``not_found``, ``query_invalid``, ``backfill_topic_changed``,
    ``backfill_topic_deleted``, ``backfill_stopped``: kind ``unavailable``).
    """
    topic = get_topic(db, slug)
    slug = topic.slug  # as stored: ``slug`` may name it in another case
    with db.read() as conn:
        version = topic_store.topics_version(conn)
        known = {t.slug: t.query for t in topic_store.list_topics(conn)}
        identity = topic_store.identity(conn, slug)
    if slug not in known or identity is None or identity[0] != topic.id:
        raise _changed(slug)
    matcher = TopicMatcher.build({slug: known[slug]}, refs=known)
    if slug in matcher.errors:
        raise query_invalid(matcher.errors[slug])
    judged = db.now()  # matches recorded after this were judged by ingest, not here
    since = window_start(judged, days)
    plan = _plan(db, topic.id, candidate_key_sets(matcher.queries()[slug]), since, batch)
    basis = _Basis(slug, version, _reached(slug, known), identity)
    check = _Recheck(db, topic.id, basis, matcher, judged)
    _run(plan, check, batch, stopping, _Progress(progress, plan.total))
    scanned = plan.scanned if plan.ids is not None else check.checked
    return BackfillResult(
        scanned, check.matched, check.added, check.checked, slug, removed=check.removed,
        in_feed=check.in_feed, added_to_feed=check.added_to_feed,
    )  # fmt: skip


@dataclass(frozen=True)
class _Plan:
    """What a backfill goes through: ``ids``, the search index's candidates (None: every
    article of the window, a full scan from ``since``); ``others``, the topic's matches in the
    window that are no candidates (re-checked last, only to drop them; none for a scan, which
    judges every article); ``scanned``, the window's article count."""

    since: datetime | None
    ids: list[int] | None
    others: list[int]
    scanned: int

    @property
    def total(self) -> int:
        """Articles it will judge: the candidates and the other matches, or the window's."""
        return self.scanned if self.ids is None else len(self.ids) + len(self.others)


def _plan(
    db: Database,
    topic_id: int,
    key_sets: list[list[str]] | None,
    since: datetime | None,
    batch: int,
) -> _Plan:
    """Read what a backfill will judge (:class:`_Plan`), before it judges anything. The
    other matches are read up front so that the total is known; a match recorded later is
    ingest's (newer than the judgement, kept by ``remove_topic_matches``) or a candidate's."""
    with db.read() as conn:
        ids = candidate_ids(conn, key_sets, None, since)
        scanned = count_since(conn, since)
    others = _matched_outside(db, topic_id, since, batch, set(ids)) if ids is not None else []
    return _Plan(since, ids, others, scanned)


def _run(
    plan: _Plan,
    check: _Recheck,
    batch: int,
    stopping: Callable[[], bool] | None,
    count: _Progress,
) -> None:
    """Judge ``plan``'s articles batch by batch, Ctrl-C and SIGTERM held during each batch and
    raised between batches (each then stored and counted), ``stopping`` asked before each;
    whenever matches changed, even part-way, the topic's version moves on."""
    db, slug = check.db, check.basis.slug
    hold = SignalHold()

    def before_batch() -> None:  # a signal noted during the batch before is raised here
        hold.deliver()
        if stopping is not None and stopping():
            raise _stopped(slug, check)

    hold.hold()
    try:
        count.advance(0)  # the total is known
        for rows in _backfill_batches(db, plan.ids, plan.since, batch):
            before_batch()
            check.batch(rows)
            count.advance(len(rows))
        for rows in _id_batches(db, plan.others, batch):  # matches that are no candidates
            before_batch()
            check.batch(rows, only_drop=True)
            count.advance(len(rows))
        count.finish()
    finally:  # also when it stopped part-way: the batches done are stored
        try:
            if check.added or check.removed:
                with db.write() as conn:
                    topic_store.touch(conn, check.topic_id, db.now())
        finally:
            hold.release()


@dataclass
class _Progress:
    """A backfill's progress, told to ``report`` as (done, total) articles when it changed.
    Both only grow: an article published into the window during a scan is judged too and
    raises the total; one deleted meanwhile is skipped, and counts as done at the end."""

    report: Callable[[int, int], None] | None
    total: int
    done: int = 0
    told: tuple[int, int] | None = None

    def advance(self, judged: int) -> None:
        """``judged`` more articles done (0: say where it stands)."""
        self.done += judged
        self.total = max(self.total, self.done)
        if self.report is not None and self.told != (self.done, self.total):
            self.told = (self.done, self.total)
            self.report(self.done, self.total)

    def finish(self) -> None:
        """Ran to its end: everything is done."""
        self.advance(self.total - self.done)


@dataclass
class _Basis:
    """What a backfill's verdicts rest on: the topics' version it read and the queries of the
    topic and of every topic it reaches by ``@slug`` (slug → query)."""

    slug: str
    version: tuple[object, ...]
    queries: dict[str, str | None]
    #: the topic's id and creation time: a topic deleted and created again under its slug
    #: (SQLite may even give it the same id) is another topic
    identity: tuple[int, datetime]

    def check(self, conn: Connection) -> None:
        """Raise ``backfill_topic_deleted`` when the topic is gone or was created again,
        ``backfill_topic_changed`` when one of :attr:`queries` changed since."""
        version = topic_store.topics_version(conn)
        if version == self.version:
            return
        if topic_store.identity(conn, self.slug) != self.identity:
            raise OperationError(
                "conflict",
                f"topic {self.slug} was deleted during the backfill",
                code="backfill_topic_deleted",
                params={"slug": self.slug},
            )
        known = {t.slug: t.query for t in topic_store.list_topics(conn)}
        if {slug: known.get(slug) for slug in self.queries} != self.queries:
            raise _changed(self.slug)
        self.version = version  # another topic changed: these verdicts still stand


def _reached(slug: str, known: dict[str, str]) -> dict[str, str | None]:
    """``slug``'s query and those of the topics it references at any depth."""
    found: dict[str, str | None] = {}
    todo = [slug]
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = known.get(name)
            todo.extend(references(known.get(name) or ""))
    return found


def _changed(slug: str) -> OperationError:
    return OperationError(
        "conflict",
        f"the query of topic {slug} (or of a topic it references) changed during the "
        "backfill; what was done before stays: run the backfill again",
        code="backfill_topic_changed",
        params={"slug": slug},
    )


def _stopped(slug: str, check: _Recheck) -> OperationError:
    return OperationError(
        "unavailable",
        f"the service is stopping: the backfill of {slug} stopped after {check.checked} articles"
        f" ({check.added} added, {check.removed} removed, stored); run it again once the"
        " service is back",
        code="backfill_stopped",
        params={"slug": slug, "checked": check.checked},
    )


@dataclass
class _Recheck:
    """One backfill's matcher and counts: :meth:`batch` judges rows by the topic's query and
    writes what changed in one short transaction per batch."""

    db: Database
    topic_id: int
    basis: _Basis
    matcher: TopicMatcher
    judged: datetime
    checked: int = 0
    matched: int = 0
    added: int = 0
    removed: int = 0
    in_feed: int = 0
    added_to_feed: int = 0

    def batch(self, rows: Sequence[Row[Any]], *, only_drop: bool = False) -> None:
        """Match ``rows`` (article rows); record new matches, drop stale ones. ``only_drop``:
        the rows are the topic's own matches outside the candidates, counted only if dropped.
        What the topic holds is read in the write, under the lock: two backfills at once
        neither insert one match twice nor act on the other's stale reading. An article that
        changed since it was read (an edit ingest stored, which matched it itself) is judged
        again as it is now, in the write: a verdict on its old text would undo ingest's."""
        verdicts = {row.id: self._judge(row) for row in rows}
        read = {row.id: row.last_changed_at for row in rows}
        with self.db.write() as conn:
            topic_store.serialize(conn)  # ingest's batch writes hold it too (hold_topics)
            self.basis.check(conn)
            if changed := article_reads.changed_since_read(conn, read):
                for i in changed:
                    verdicts.pop(i)
                for row in article_reads.article_rows(conn, changed):  # none when deleted
                    verdicts[row.id] = self._judge(row)
            have = topic_store.matched_among(conn, self.topic_id, list(verdicts))
            hits = {i: t for i, t in verdicts.items() if t is not None and i not in have}
            stale = [i for i, t in verdicts.items() if t is None and i in have]
            now = self.db.now()
            topic_store.add_topic_matches(conn, self.topic_id, hits, now)
            gone = topic_store.remove_topic_matches(conn, self.topic_id, stale, self.judged)
            matching = [i for i, terms in verdicts.items() if terms is not None]
            public = public_ids(conn, matching, now)  # what readers see of them, as written
        if not only_drop:
            self.checked += len(verdicts)
            self.matched += len(matching)
            self.in_feed += len(public)
        self.added += len(hits)
        self.added_to_feed += len(public.intersection(hits))
        self.removed += gone

    def _judge(self, row: Row[Any]) -> Any:
        """The topic's match of an article row (its terms), None when it does not match."""
        document = document_from_article(row_to_article(row))
        return self.matcher.match(document).get(self.basis.slug)


def _matched_outside(
    db: Database, topic_id: int, since: datetime | None, batch: int, skip: set[int]
) -> list[int]:
    """Ids of the topic's matches published since ``since``, but those in ``skip`` (the
    candidates, judged anyway): keyset paging, ``batch`` ids per short read. Few in practice
    (what the query no longer reaches), so they are held; the pages are not."""
    found: list[int] = []
    last_id = 0
    while True:
        with db.read() as conn:
            page = topic_store.matched_after(conn, topic_id, last_id, since, batch)
        if not page:
            return found
        found.extend(i for i in page if i not in skip)
        last_id = page[-1]


def _backfill_batches(
    db: Database, ids: list[int] | None, since: datetime | None, batch: int
) -> Iterator[Sequence[Row[Any]]]:
    """Article rows to match, ``batch`` at a time: the given candidate ids, or (None) every
    article published since ``since`` in id order (keyset paging, one short read each)."""
    if ids is not None:
        yield from _id_batches(db, ids, batch)
        return
    last_id = 0
    while True:
        with db.read() as conn:
            rows = article_reads.article_rows_after(conn, last_id, since, batch)
        if not rows:
            return
        last_id = rows[-1].id
        yield rows


def _id_batches(db: Database, ids: list[int], batch: int) -> Iterator[Sequence[Row[Any]]]:
    """Article rows of ``ids``, ``batch`` ids at a time (an article deleted meanwhile has
    none), each read in its own short transaction: no connection held while they are judged."""
    for start in range(0, len(ids), batch):
        with db.read() as conn:
            rows = article_reads.article_rows(conn, ids[start : start + batch])
        if rows:
            yield rows
