"""A backfill brings a topic's stored matches to its current query: it adds what the query
matches and drops what it no longer matches (a narrowed query, a referenced topic changed, the
query rewritten), in the window it was asked for. Before, a backfill only ever added: a topic
narrowed from ``"an ninh" OR "công an"`` to ``"an ninh"`` kept every "công an" article in its
feed for good.

Runs on SQLite and PostgreSQL (the ``db`` fixture); the index path (queries with key sets) and
the full scan (no key sets: ``NOT NOT …``) both. The narrowed queries are given one backend each,
rotating (``backend_cases.on_backends``): a query picks which candidates the matcher reads
(the index path and the full scan each still run on both backends), while adding and dropping
matches is the same SQL for every query. A signal's cases keep both backends: where a write is
interrupted, and its rollback, is the backend's transaction handling.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from backend_cases import on_backends
from factories import article
from sqlalchemy import delete, select, update

from feedsvc.articles import Article
from feedsvc.cli import terminate
from feedsvc.db import Database
from feedsvc.db.schema import article_topics
from feedsvc.matching import document_from_article, search_keys
from feedsvc.operations import OperationError, backfill_topic
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

TITLES = {
    1: "Công an Kiến Thụy bắt đối tượng trộm cắp",
    2: "Bảo đảm an ninh trật tự dịp lễ hội",
    3: "Công an và an ninh: hội nghị tổng kết",
    4: "Đồ Sơn đón khách du lịch",
    5: "Núi Đối mở hội xuân",
}


def store(db: Database, items: list[Article]) -> dict[int, int]:
    """Store articles as ingest would; ``n → article id`` by the key's number."""
    with db.write() as conn:
        rows = [
            (a, search_keys(document_from_article(a)), SourcePosition(a.published_at, a.source_key))
            for a in items
        ]
        ids = insert_articles(conn, rows, db.now())
    return {int(a.source_key.rsplit("-", 1)[1]): i for a, i in zip(items, ids, strict=True)}


def plain(n: int, **over: object) -> Article:
    """An article whose whole text is its title (no boilerplate that would match anything)."""
    values: dict[str, object] = {
        "title": TITLES[n],
        "summary": "",
        "body": "",
        "tags": (),
        "section": "Tin tức",
    }
    values.update(over)
    return article(n, **values)


def define(db: Database, slug: str, query: str) -> None:
    with db.write() as conn:
        save_topic(conn, TopicSpec(slug, slug, query), "api", db.now())


def matched(db: Database, slug: str) -> set[int]:
    with db.read() as conn:
        topic = get_topic(conn, slug)
        assert topic is not None
        stmt = select(article_topics.c.article_id).where(article_topics.c.topic_id == topic.id)
        return set(conn.execute(stmt).scalars())


@pytest.fixture
def archive(db: Database) -> dict[int, int]:
    return store(db, [plain(n, published_at=db.now() - timedelta(days=n)) for n in TITLES])


def _query_label(value: Any) -> str:
    if isinstance(value, set):
        return "kept-" + ("-".join(map(str, sorted(value))) or "none")
    return str(value)


@pytest.mark.parametrize(
    ("db_url", "wide", "narrow", "kept"),
    on_backends(
        [
            ('"an ninh" OR "công an"', '"an ninh"', {2, 3}),  # the public-security topic
            ('"an ninh" OR "công an"', '"công an" AND "an ninh"', {3}),
            ('"an ninh" OR "công an"', '"an ninh" -"công an"', {2}),
            ('"Đồ Sơn" OR "Núi Đối" OR "công an"', '"Đồ Sơn"', {4}),
            ('"an ninh" OR "công an"', '"Kiến Thụy"', {1}),  # rewritten: other candidates
            ('"an ninh" OR "công an"', '"Hải Phòng"', set()),  # matches nothing any more
            ("NOT NOT hội", "NOT NOT (hội AND xuân)", {5}),  # no key sets: the full scan
            ('"công an" OR "Đồ Sơn"', "NOT NOT (công AND tổng)", {3}),  # from the index to a scan
        ],
        label=_query_label,
    ),
    indirect=["db_url"],
)
def test_a_narrowed_query_leaves_what_it_no_longer_matches(
    db: Database, archive: dict[int, int], wide: str, narrow: str, kept: set[int]
) -> None:
    define(db, "t", wide)
    first = backfill_topic(db, "t", days=None)
    assert first.added == len(matched(db, "t")) > len(kept) and first.removed == 0
    define(db, "t", narrow)
    result = backfill_topic(db, "t", days=None)
    assert matched(db, "t") == {archive[n] for n in kept}
    assert result.removed == first.added - len(kept)
    assert (result.matched, result.added) == (len(kept), 0)
    again = backfill_topic(db, "t", days=None)  # nothing left to do
    assert (again.added, again.removed, again.matched) == (0, 0, len(kept))


def test_a_widened_query_adds_and_a_narrowed_one_removes_in_one_pass(
    db: Database, archive: dict[int, int]
) -> None:
    define(db, "t", '"Đồ Sơn" OR "Núi Đối"')
    backfill_topic(db, "t", days=None)
    define(db, "t", '"Núi Đối" OR "Kiến Thụy"')
    result = backfill_topic(db, "t", days=None, batch=1)  # one article per batch
    assert (result.added, result.removed, result.matched) == (1, 1, 2)
    assert matched(db, "t") == {archive[1], archive[5]}


def test_a_referenced_topic_narrowed_narrows_its_users_at_their_backfill(
    db: Database, archive: dict[int, int]
) -> None:
    define(db, "security", '"an ninh" OR "công an"')
    define(db, "local", '@security OR ~"nui doi"')
    backfill_topic(db, "local", days=None)
    assert matched(db, "local") == {archive[n] for n in (1, 2, 3, 5)}
    define(db, "security", '"an ninh"')
    result = backfill_topic(db, "local", days=None)
    assert result.removed == 1 and matched(db, "local") == {archive[n] for n in (2, 3, 5)}


def test_articles_before_the_window_keep_their_matches(
    db: Database, archive: dict[int, int]
) -> None:
    old = store(db, [plain(1, source_key="TEST-00011", published_at=db.now() - timedelta(days=90))])
    define(db, "t", '"an ninh" OR "công an"')
    backfill_topic(db, "t", days=None)
    define(db, "t", '"an ninh"')
    result = backfill_topic(db, "t", days=30)  # the window: the last 30 days
    assert result.removed == 1  # article 1 (a day old), not its 90-day-old twin
    assert matched(db, "t") == {archive[2], archive[3], old[11]}


def test_a_match_recorded_after_the_judgement_stays(db: Database, archive: dict[int, int]) -> None:
    """Ingest may record a match (an article edited, matched by the same new query) between a
    backfill's reading of the query and its delete: that newer judgement wins."""
    from feedsvc.store.topics import remove_topic_matches

    define(db, "t", '"công an"')
    backfill_topic(db, "t", days=None)
    judged = db.now()
    with db.write() as conn:
        topic = get_topic(conn, "t")
        assert topic is not None
        later = judged + timedelta(seconds=1)
        conn.execute(
            update(article_topics)
            .where(article_topics.c.article_id == archive[1])
            .values(matched_at=later)
        )
        gone = remove_topic_matches(conn, topic.id, [archive[1], archive[3]], judged)
    assert gone == 1 and matched(db, "t") == {archive[1]}


def test_other_topics_keep_their_matches(db: Database, archive: dict[int, int]) -> None:
    define(db, "t", '"an ninh" OR "công an"')
    define(db, "u", '"an ninh" OR "công an"')
    backfill_topic(db, "t", days=None)
    backfill_topic(db, "u", days=None)
    define(db, "t", '"Đồ Sơn"')
    backfill_topic(db, "t", days=None)
    assert matched(db, "t") == {archive[4]}
    assert matched(db, "u") == {archive[n] for n in (1, 2, 3)}


def test_a_backfill_whose_query_changed_meanwhile_stops_before_dropping(
    db: Database, archive: dict[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's race: backfill B1 of a narrowed query is under way, the admin widens the query
    again and backfill B2 finds the wide matches present, then B1 dropped them by the query it
    had read: the topic lacked matches its query makes, and both backfills said success."""
    from feedsvc.operations import OperationError
    from feedsvc.operations import backfill as module

    wide = '"an ninh" OR "công an"'
    define(db, "t", wide)
    backfill_topic(db, "t", days=None)
    define(db, "t", '"an ninh"')
    batches = module._backfill_batches

    def widened_after_the_first(*args: Any) -> Iterator[Any]:
        for n, rows in enumerate(batches(*args)):
            yield rows
            if n == 0:  # between B1's batches: widened again, and B2 runs to its end
                monkeypatch.setattr(module, "_backfill_batches", batches)  # B2 is plain
                define(db, "t", wide)
                assert backfill_topic(db, "t", days=None).matched == 3

    monkeypatch.setattr(module, "_backfill_batches", widened_after_the_first)
    with pytest.raises(OperationError) as stopped:
        backfill_topic(db, "t", days=None, batch=1)
    assert stopped.value.code == "backfill_topic_changed" and stopped.value.kind == "conflict"
    monkeypatch.undo()
    assert matched(db, "t") == {archive[n] for n in (1, 2, 3)}  # what the query matches now


def test_an_edit_of_another_topic_does_not_stop_a_backfill(
    db: Database, archive: dict[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedsvc.operations import backfill as module

    define(db, "t", '"an ninh" OR "công an"')
    define(db, "other", '"Đồ Sơn"')
    batches = module._backfill_batches

    def other_edited(*args: Any) -> Iterator[Any]:
        for rows in batches(*args):
            yield rows
            define(db, "other", f'"Đồ Sơn" OR "Núi Đối" OR "{len(rows)}x"')

    monkeypatch.setattr(module, "_backfill_batches", other_edited)
    assert backfill_topic(db, "t", days=None, batch=1).added == 3


def test_two_backfills_at_once_neither_fails_nor_adds_twice(db: Database) -> None:
    """Two admins (or the button and "backfill on save") filling one topic at once: one of
    them failed on the unique match key (IntegrityError, exit 1) after its first batches."""
    items = [
        plain(1, source_key=f"TEST-{n:05d}", published_at=db.now() - timedelta(minutes=n))
        for n in range(1, 301)
    ]
    ids = store(db, items)
    define(db, "t", '"công an"')
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            backfill_topic(db, "t", days=None, batch=7)
        except BaseException as exc:
            errors.append(exc)

    for _round in range(3):
        with db.write() as conn:
            conn.execute(article_topics.delete())
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert matched(db, "t") == set(ids.values())


@pytest.mark.parametrize("again", [False, True], ids=["deleted", "deleted-and-created-again"])
def test_a_backfill_whose_topic_was_deleted_meanwhile_stops(
    db: Database, archive: dict[int, int], monkeypatch: pytest.MonkeyPatch, again: bool
) -> None:
    """A tester's race: the topic deleted (and created again under its slug, with the same
    query) while its backfill ran. On PostgreSQL the next batch failed on the foreign key
    (exit 1, a database error); on SQLite, which gave the new topic the old one's id, the
    backfill said success while the batches written before the delete had gone with it."""
    from feedsvc.operations import OperationError, delete_topic
    from feedsvc.operations import backfill as module

    query = '"an ninh" OR "công an"'
    define(db, "t", query)
    batches = module._backfill_batches

    def deleted_after_the_first(*args: Any) -> Iterator[Any]:
        for n, rows in enumerate(batches(*args)):
            if n == 1:
                delete_topic(db, "t")
                if again:
                    define(db, "t", query)
            yield rows

    monkeypatch.setattr(module, "_backfill_batches", deleted_after_the_first)
    with pytest.raises(OperationError) as stopped:
        backfill_topic(db, "t", days=None, batch=1)
    assert stopped.value.code == "backfill_topic_deleted" and stopped.value.kind == "conflict"
    if again:
        assert matched(db, "t") == set()  # none half-done: the new topic's own backfill fills it
        monkeypatch.undo()
        assert backfill_topic(db, "t", days=None).added == 3


def test_a_backfill_that_changed_matches_moves_the_topic_version_on(
    db: Database, archive: dict[int, int]
) -> None:
    """Every process serving the feeds renders them again, with its own settings."""
    define(db, "t", '"Đồ Sơn"')
    with db.read() as conn:
        before = get_topic(conn, "t")
    backfill_topic(db, "t", days=None)
    with db.read() as conn:
        after = get_topic(conn, "t")
    assert before is not None and after is not None and after.updated_at > before.updated_at
    backfill_topic(db, "t", days=None)  # nothing changed: no new version
    with db.read() as conn:
        again = get_topic(conn, "t")
    assert again is not None and again.updated_at == after.updated_at


@pytest.mark.parametrize("query", ['"an ninh"', 'NOT NOT "an ninh"'], ids=["index", "scan"])
def test_an_article_edited_while_its_batch_was_judged_is_judged_as_it_is_now(
    db: Database, archive: dict[int, int], monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """A tester's reading: a batch judged rows it had read, then ingest stored an edit of one
    of them (no longer matching: ingest dropped its match) and the backfill wrote the match
    back from the old text. Variants: an edit that makes an article match (ingest matched
    it), and an article deleted."""
    from feedsvc.db.schema import articles
    from feedsvc.operations import backfill as module
    from feedsvc.store.topics import add_topic_matches

    define(db, "t", query)
    batches = module._backfill_batches

    def edited_after_the_read(*args: Any) -> Iterator[Any]:
        for rows in batches(*args):
            with db.write() as conn:  # as ingest stores the edits, matching them itself
                later, topic = db.now(), get_topic(conn, "t")
                assert topic is not None
                for n, title in ((2, "Lễ hội xuân"), (1, "Công an và an ninh Kiến Thụy")):
                    conn.execute(
                        update(articles)
                        .where(articles.c.id == archive[n])
                        .values(title=title, last_changed_at=later)
                    )
                gone = article_topics.c.article_id.in_([archive[2], archive[3]])
                conn.execute(article_topics.delete().where(gone))
                add_topic_matches(conn, topic.id, {archive[1]: ["an ninh"]}, later)
                conn.execute(articles.delete().where(articles.c.id == archive[3]))
            yield rows

    monkeypatch.setattr(module, "_backfill_batches", edited_after_the_read)
    result = backfill_topic(db, "t", days=None, batch=100)
    assert matched(db, "t") == {archive[1]}  # 2 no longer matches, 1 now does, 3 is gone
    assert result.added == 0


#: Where a signal is handled (the CLI's handler, the hold): no signal is raised from there.
HANDLERS = ("feedsvc/cli/terminate.py", "feedsvc/signal_hold.py", "feedsvc/entry.py")


def _matches_after_a_signal(
    db: Database, signum: int, at: int, every: int = 0
) -> tuple[str, set[int]]:
    """Run a backfill in batches of 4 and raise ``signum`` in this process at its ``at``-th
    traced line (anywhere: our code, SQLAlchemy's, the pool's reset); what it ended as and the
    matches stored. Before, a signal inside a batch's write or its counting left the write
    uncounted (no new version) or a SQLite connection holding the lock (the cleanup's write
    failed "database is locked")."""
    seen, raised = 0, 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal seen, raised
        if event != "line" or frame.f_code.co_filename.endswith(HANDLERS):
            return tracer  # not inside a signal's own handling
        seen += 1
        again = every and seen > at and (seen - at) % every == 0 and raised < 4
        if seen == at or again:  # ``every``: three more (Ctrl-C pressed again and again)
            raised += 1
            signal.raise_signal(signum)
        return tracer

    sys.settrace(tracer)
    try:
        backfill_topic(db, "t", days=None, batch=4)
        ended = "done"
    except KeyboardInterrupt as exc:  # SIGINT's, or the CLI's SIGTERM one (Terminated)
        ended = type(exc).__name__
    except Exception:
        # Raised inside SQLAlchemy's own commit bookkeeping, the signal's exception was
        # replaced by that library's ``assert not self.is_active`` (CI, once): the root command
        # reports the signal that came instead (``terminate.received``/``lost``), as here.
        if not terminate.received():
            raise
        ended = type(terminate.lost()).__name__
    finally:
        sys.settrace(None)
    return ended, matched(db, "t")


#: Each-choice (on each backend): SIGTERM and SIGINT raise through the same handler and hold
#: (``terminate``, ``signal_hold``), once or repeated alike; only the exception's class differs.
@pytest.mark.parametrize(
    ("signum", "every"),
    [(signal.SIGTERM, 0), (signal.SIGINT, 97)],
    ids=["SIGTERM-once", "SIGINT-repeated"],
)
def test_a_signal_anywhere_in_a_backfill_stops_it_between_batches(
    db: Database, signum: int, every: int
) -> None:
    """Ctrl-C or SIGTERM (the CLI's handler: ``terminate.Terminated``) at any point: the
    backfill stops at a batch's edge, every batch written is whole, the topic's version moves
    on when one was, and the state DB takes a write at once."""
    titles = {n: f"Đồ Sơn đón khách, đợt {n}" for n in range(1, 13)}
    blank = {"summary": "", "body": "", "tags": (), "section": "Tin tức"}
    store(db, [article(n, title=title, **blank) for n, title in titles.items()])
    define(db, "t", '"Đồ Sơn"')
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        total = _count_lines(lambda: backfill_topic(db, "t", days=None, batch=4))
        for at in range(1, total, max(1, total // 40)):
            _unmatch(db)
            with db.read() as conn:
                before = get_topic(conn, "t")
            restore = terminate.install()  # each run a command: its first signal raises
            try:
                ended, stored = _matches_after_a_signal(db, signum, at, every)
            finally:
                restore()
            assert ended in {"done", "Terminated", "KeyboardInterrupt"}, (at, ended)
            assert len(stored) % 4 == 0 or len(stored) == len(titles), (at, stored)
            with db.write() as conn:  # no lock left behind: SQLite would wait, then fail
                after = get_topic(conn, "t")
            assert before is not None and after is not None
            assert (after.updated_at > before.updated_at) == bool(stored), (at, ended)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _count_lines(run: Any) -> int:
    """Traced lines of ``run()`` (the tracer's whole reach), to spread the signals over."""
    seen = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal seen
        seen += event == "line"
        return tracer

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return seen


def _unmatch(db: Database) -> None:
    with db.write() as conn:
        conn.execute(delete(article_topics))


def test_a_stop_asked_for_ends_the_backfill_between_batches(db: Database) -> None:
    """The service stopping (``stopping``: its ``interrupted``) ends a backfill before its
    next batch, with ``backfill_stopped`` (503 in the API): the batches done are stored and the
    topic's version moves on; a stop asked for after the last batch changes nothing."""
    blank = {"summary": "", "body": "", "tags": (), "section": "Tin tức"}
    store(db, [article(n, title=f"Đồ Sơn đón khách, đợt {n}", **blank) for n in range(1, 11)])
    define(db, "t", '"Đồ Sơn"')
    asked = iter([False, False, True])  # before batches 1, 2 and 3
    with db.read() as conn:
        before = get_topic(conn, "t")
    with pytest.raises(OperationError) as stopped:
        backfill_topic(db, "t", days=None, batch=4, stopping=lambda: next(asked))
    assert (stopped.value.kind, stopped.value.code) == ("unavailable", "backfill_stopped")
    assert stopped.value.params == {"slug": "t", "checked": 8}
    assert len(matched(db, "t")) == 8
    with db.read() as conn:
        after = get_topic(conn, "t")
    assert before is not None and after is not None and after.updated_at > before.updated_at
    asked = iter([False, False, False])  # three batches, never asked: a whole run
    assert backfill_topic(db, "t", days=None, batch=4, stopping=lambda: next(asked)).added == 2
