"""Concurrent topic edits never store a broken ``@slug`` reference (tester3 F10).

Each save or delete checks the references against the topics as it reads them, then writes.
On PostgreSQL two requests in flight each passed: ``ra`` → ``@rb`` beside ``rb`` → ``@ra``
stored a cycle, a topic created with ``@base`` while ``base`` was deleted a dangling reference,
and those topics then silently matched nothing (and ``topics export`` wrote a file ``topics
import`` refuses). The check and the write are now serialised (``store.topics.serialize``:
an advisory lock on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers).

The ``paired`` cases hold each operation, once its checks are done, just before its write until
the other one is there too (a barrier): what two requests in flight do at worst, every time.
Under the lock the second one never gets there while the first holds it, the barrier times out
and the first goes on. The ``rounds`` cases race the operations freely from a barrier, 20 times.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest

from feedsvc import operations as ops
from feedsvc.db import Database
from feedsvc.matching import QueryError, parse_chat_query, parse_query
from feedsvc.operations import OperationError
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.store.topics import TopicSpec

#: How long the first operation waits at the write for the second (which, serialised, waits
#: for the first's commit and never comes): a bound, not a synchronisation.
PAIR_SECONDS = 3.0


def _both(first: Callable[[], object], second: Callable[[], object]) -> list[object]:
    """Run the two at once (threads released together); each one's result or exception."""
    results: list[object] = [None, None]
    start = threading.Barrier(2)

    def run(i: int, work: Callable[[], object]) -> None:
        start.wait(timeout=10)
        try:
            results[i] = work()
        except BaseException as exc:  # reported by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


Race = Callable[[Callable[[], object], Callable[[], object]], list[object]]


@pytest.fixture
def paired(monkeypatch: pytest.MonkeyPatch) -> Race:
    """:func:`_both`, where each write of a topic (save, delete) or of a chat's subscription
    waits, checks done, for the other operation to reach its own write (at most
    :data:`PAIR_SECONDS`). Writes outside it (the set-up) do not wait."""
    meet = threading.Barrier(2, timeout=PAIR_SECONDS)
    armed = threading.Event()

    def held(write: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if armed.is_set():
                # broken: serialised, the other one waits for this one's commit
                with contextlib.suppress(threading.BrokenBarrierError):
                    meet.wait()
            return write(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(topic_store, "save_topic", held(topic_store.save_topic))
    monkeypatch.setattr(topic_store, "delete_topic", held(topic_store.delete_topic))
    monkeypatch.setattr(sub_store, "subscribe", held(sub_store.subscribe))

    def race(first: Callable[[], object], second: Callable[[], object]) -> list[object]:
        armed.set()
        try:
            return _both(first, second)
        finally:
            armed.clear()

    return race


def _consistent(db: Database) -> list[str]:
    """Every stored topic's query and chat query that no longer parses (should be none)."""
    with db.read() as conn:
        stored = {t.slug: t.query for t in topic_store.list_topics(conn)}
        chat_queries = [s.query for s in sub_store.list_subscriptions(conn) if s.query]
    broken = []
    for slug, query in stored.items():
        try:
            parse_query(query, stored.get)
        except QueryError as exc:
            broken.append(f"{slug}: {exc}")
    for query in chat_queries:
        try:
            parse_chat_query(query, stored.get)
        except QueryError as exc:
            broken.append(f"chat query {query}: {exc}")
    return broken


def _add(db: Database, slug: str, query: str) -> None:
    ops.save_topic(db, TopicSpec(slug, slug.upper(), query), "api", create_only=True)


def _edit(db: Database, slug: str, query: str) -> Callable[[], object]:
    return lambda: ops.save_topic(db, TopicSpec(slug, slug.upper(), query), "api")


def _codes(results: list[object]) -> list[str | None]:
    """Each result's error code, None for a success; anything else re-raised."""
    codes: list[str | None] = []
    for r in results:
        if isinstance(r, OperationError):
            codes.append(r.code)
        elif isinstance(r, BaseException):
            raise r
        else:
            codes.append(None)
    return codes


def test_two_edits_that_make_a_cycle_one_is_refused(db: Database, paired: Race) -> None:
    _add(db, "ra", "công")
    _add(db, "rb", "công")
    codes = _codes(paired(_edit(db, "ra", "@rb"), _edit(db, "rb", "@ra")))
    assert sorted(codes, key=str) == [None, "query_invalid"], codes
    assert _consistent(db) == []


def test_a_cycle_of_three_made_by_the_last_two_edits(db: Database, paired: Race) -> None:
    """``rc`` → ``@ra`` stored; ``ra`` → ``@rb`` ∥ ``rb`` → ``@rc``: a cycle through three."""
    _add(db, "ra", "an")
    _add(db, "rb", "an")
    _add(db, "rc", "@ra")
    codes = _codes(paired(_edit(db, "ra", "@rb hoặc x"), _edit(db, "rb", "@rc")))
    assert sorted(codes, key=str) == [None, "query_invalid"], codes
    assert _consistent(db) == []


def test_a_create_naming_a_topic_being_deleted(db: Database, paired: Race) -> None:
    _add(db, "base0", "an")
    create = lambda: _add(db, "user0", "@base0 an")  # noqa: E731
    delete = lambda: ops.delete_topic(db, "base0", with_subscriptions=True)  # noqa: E731
    codes = _codes(paired(create, delete))
    # either the delete first (the create: unknown topic) or the create (the delete: in use)
    assert codes in ([None, "topic_in_use"], ["query_invalid", None]), codes
    assert _consistent(db) == []


def test_an_edit_naming_a_topic_being_deleted(db: Database, paired: Race) -> None:
    _add(db, "base1", "an")
    _add(db, "user1", "công")
    delete = lambda: ops.delete_topic(db, "base1", with_subscriptions=True)  # noqa: E731
    codes = _codes(paired(_edit(db, "user1", "@base1"), delete))
    assert codes in ([None, "topic_in_use"], ["query_invalid", None]), codes
    assert _consistent(db) == []


def test_a_chat_query_naming_a_topic_being_deleted(db: Database, paired: Race) -> None:
    """A chat's own query (API, CLI ``subs add``) ``@base2`` while ``base2`` is deleted."""
    _add(db, "base2", "an")
    subscribe = lambda: ops.add_subscription(  # noqa: E731
        db, 555, "private", topic=None, query="@base2 công"
    )
    delete = lambda: ops.delete_topic(db, "base2", with_subscriptions=True)  # noqa: E731
    codes = _codes(paired(subscribe, delete))
    assert codes in ([None, "topic_in_chat_queries"], ["query_invalid", None]), codes
    assert _consistent(db) == []


def test_rounds_of_racing_edits_and_deletes(db: Database) -> None:
    """No hook: 20 rounds of the two races as requests would run them; never a broken
    reference stored, and in each round exactly one of the two refused."""
    for i in range(20):
        _add(db, f"xa{i}", "công")
        _add(db, f"xb{i}", "công")
        codes = _codes(_both(_edit(db, f"xa{i}", f"@xb{i}"), _edit(db, f"xb{i}", f"@xa{i}")))
        assert sorted(codes, key=str) == [None, "query_invalid"], (i, codes)
        _add(db, f"base{i}", "an")
        create = functools.partial(_add, db, f"user{i}", f"@base{i} an")
        delete = functools.partial(ops.delete_topic, db, f"base{i}", with_subscriptions=True)
        codes = _codes(_both(create, delete))
        assert codes in ([None, "topic_in_use"], ["query_invalid", None]), (i, codes)
    assert _consistent(db) == []
