"""Rows the CMS driver cannot read whole (``feedsvc.ingest.isolate.read_isolated``).

PostgreSQL keeps ``'infinity'``, ``'-infinity'`` and years BC in a timestamp; psycopg refuses
to convert them. Such a row was quarantined as ``DataError: timestamp too large …`` without
the field, and a batch holding only such rows (an editor's two posts given ``infinity``, with
nothing written after them) was taken for a systemic failure: ingest failed tick after tick,
backing off, until another row came. Each field is now tried alone: the row is quarantined
naming its field, the cursor moves on; a failure that no field explains stays systemic.

The unreadable rows' cases (the value, and whether good rows came first) are given one state DB
backend each, rotating (``backend_cases.on_backends``; each value still meets both backends): the
value is refused by the CMS's driver before anything reaches the state DB, which stores the same
quarantine entry (a text reason) and cursor for every case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

import pytest
from backend_cases import on_backends
from factories import VN
from processes import free_port
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from test_ingest_quarantine import COLUMNS, held, pg_cms_url  # noqa: F401

from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.ingest.isolate import SystemicError, read_isolated, row_alone
from feedsvc.ingest.unordered import placed
from feedsvc.source import SqlSource, external_source
from feedsvc.source.recent import read_alone
from feedsvc.store import quarantine
from feedsvc.topic_index import TopicIndex

T = TypeVar("T")
AT = datetime(2026, 11, 26, 9, 0)
WITH_UPDATED = COLUMNS.model_copy(update={"updated_at": "edited"})
#: (created, edited) SQL of the rows the driver cannot read, and the field each names.
BAD = {
    "pub-infinity": ("'infinity'", "NULL", "published_at", "'infinity'"),
    "pub-bc": ("'0044-03-15 00:00 BC'", "NULL", "published_at", "BC"),
    "upd-minus-infinity": (":at", "'-infinity'", "updated_at", "'-infinity'"),
    "both": ("'infinity'", "'infinity'", "published_at", "'infinity'"),
}


class Posts:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.n = 0
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE posts (id INT PRIMARY KEY, slug TEXT, link TEXT, title TEXT,"
                    " body TEXT, created TIMESTAMP, edited TIMESTAMP, modified TIMESTAMP)"
                )
            )

    def add(self, created: str = ":at", edited: str = "NULL") -> str:
        self.n += 1
        n = self.n
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO posts VALUES (:n, :s, :l, :t, NULL, {created}, {edited}, :at)"
                ),
                {"n": n, "s": f"p-{n}", "l": f"https://baohaiphong.vn/{n}.html",
                 "t": f"Tin số {n}", "at": AT + timedelta(minutes=n)},
            )  # fmt: skip
        return str(n)

    def source(self) -> SqlSource:
        return external_source(self.url, "posts", WITH_UPDATED, VN)


@pytest.fixture
def posts(pg_cms_url: str) -> Iterator[Posts]:  # noqa: F811
    table = Posts(pg_cms_url)
    yield table
    table.engine.dispose()


def reasons(db: Database) -> dict[str, tuple[str, str]]:
    with db.read() as conn:
        return {e.row.source_id: (e.row.stage, e.row.reason) for e in quarantine.newest(conn, 50)}


def _sync_label(value: object) -> str:
    if isinstance(value, bool):
        return "first-sync" if value else "after-good-rows"
    return str(value)


@pytest.mark.parametrize(
    ("db_url", "case", "first"),
    [
        param
        for i, case in enumerate(BAD)
        for param in on_backends([(case, True), (case, False)], start=i, label=_sync_label)
    ],
    indirect=["db_url"],
)
def test_a_batch_of_only_unreadable_rows_is_quarantined_by_field(
    db: Database, posts: Posts, case: str, first: bool
) -> None:
    created, edited, field, shown = BAD[case]
    source = posts.source()
    ing = Ingestor(db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=0,
                   batch_size=10)  # fmt: skip
    try:
        good = [] if first else [posts.add(), posts.add()]
        if good:
            assert ing.tick().new == 2
        bad = [posts.add(created, edited), posts.add(created, edited)]
        result = ing.tick()
        assert result.error is None, result.error
        found = reasons(db)
        for id_ in bad:
            stage, reason = found[id_]
            assert stage == "read"
            assert reason.startswith(f"{field}: cannot be read: DataError: "), reason
            assert shown in reason, reason
        after = posts.add()  # ingest goes on at once: the next row is not held up
        result = ing.tick()
        assert (result.error, result.new) == (None, 1)
        assert held(db) == sorted(f"p-{n}" for n in [*good, after])
    finally:
        source.dispose()


def test_a_failure_no_field_explains_stays_systemic(posts: Posts) -> None:
    """Every part of the batch failing while each field of each row reads alone (a statement
    timeout, a lock): the source's fault, nothing is quarantined."""
    source = posts.source()
    try:
        for _ in range(3):
            posts.add()
        keys = source.positions_after(None, None, 10)

        def refuse(*args: object, **kwargs: object) -> None:
            raise OperationalError("SELECT …", {}, Exception("canceling statement"))

        source.rows_by_ids = refuse  # type: ignore[method-assign, assignment]
        with pytest.raises(SystemicError, match="no row of 3 could be read"):
            read_isolated(source, keys)
    finally:
        source.dispose()


# -- a connection that fails mid-read is never a row's fault ------------------------------------
def raised_by(call: Callable[[], object], otherwise: str) -> Exception:
    """The ``OperationalError`` ``call()`` raises (an ``AssertionError`` saying ``otherwise``
    when it raises none)."""
    try:
        call()
    except OperationalError as exc:
        return exc
    raise AssertionError(otherwise)


def refused(_posts: Posts) -> Exception:
    """The driver's real error for a connection refused (nothing listens on the port)."""
    closed = external_source(f"postgresql+psycopg://x@127.0.0.1:{free_port()}/none", "posts",
                             WITH_UPDATED, VN)  # fmt: skip
    try:
        return raised_by(closed.engine.connect, "a closed port answered")
    finally:
        closed.dispose()


def lost(posts: Posts) -> Exception:
    """The driver's real error for a session the server ended (an administrator, a restart)."""
    source = posts.source()  # its engine, as ingest's
    try:
        with source.engine.connect() as conn, posts.engine.connect() as other:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            other.execute(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
            return raised_by(lambda: conn.execute(text("SELECT 1")), "an ended session answered")
    finally:
        source.dispose()


def no_connection_in_time(_posts: Posts) -> Exception:
    """SQLAlchemy's pool with none to give in time (its own words)."""
    return PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out")


FAILURES: dict[str, Callable[[Posts], Exception]] = {
    "refused": refused, "lost": lost, "pool": no_connection_in_time,
}  # fmt: skip


def failing(error: Exception) -> Callable[..., NoReturn]:
    def read(*_: object, **__: object) -> NoReturn:
        raise error

    return read


def flapping(read: Callable[..., T], error: Exception) -> Callable[..., T]:
    """``read`` failing with ``error`` at its first two calls, then every other one: a
    batch's read fails, so does its first read in parts (both rows), then of its halves the
    first fails and the second reads (every part failing was never quarantined: systemic).
    A part read once more after a lost connection reads at its third call."""
    calls = [0]

    def flap(*args: object, **kwargs: object) -> T:
        calls[0] += 1
        if calls[0] <= 2 or calls[0] % 2:
            raise error
        return read(*args, **kwargs)

    return flap


def lost_once(read: Callable[..., T], error: Exception) -> Callable[..., T]:
    """``read`` failing with ``error`` at its first call only."""
    calls = [0]

    def once(*args: object, **kwargs: object) -> T:
        calls[0] += 1
        if calls[0] == 1:
            raise error
        return read(*args, **kwargs)

    return once


@pytest.mark.parametrize(
    ("db_url", "failure"), on_backends(list(FAILURES)), indirect=["db_url"]
)  # fmt: skip
def test_a_connection_failing_mid_read_blames_no_row(
    db: Database, posts: Posts, failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flapping database: the batch's read and its reads in parts meet a connection's
    failure every other call while ``check_statement``, on another connection, answers (a CI
    run's: PostgreSQL refusing new connections while a session kept from before answered).
    The batch's good rows were quarantined ("read: OperationalError: connection failed …")
    until the 10-minute re-check, one WARNING each. Now no row is blamed: a read that had no
    connection fails the tick as an outage does, one whose connection was lost is read once
    more; every row is in by the next tick."""
    source = posts.source()
    ing = Ingestor(db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=0,
                   batch_size=10)  # fmt: skip
    now = [1000.0]
    ing.backoff.clock = lambda: now[0]
    try:
        rows = [posts.add(), posts.add()]
        monkeypatch.setattr(source, "_rows", flapping(source._rows, FAILURES[failure](posts)))
        first = ing.tick()
        assert (first.error is not None) == (failure != "lost"), first
        assert reasons(db) == {}, reasons(db)
        monkeypatch.undo()
        now[0] += 600  # the backoff waited out
        assert first.new + ing.tick().new == len(rows)
        assert reasons(db) == {}
    finally:
        source.dispose()


#: Failures in which no connection was had: never a row's.
NOT_HAD = ("refused", "pool")


@pytest.mark.parametrize("failure", NOT_HAD)
def test_a_part_read_without_a_connection_is_raised_not_quarantined(
    posts: Posts, failure: str
) -> None:
    """The same rule where ingest reads rows in parts or by id (``read_isolated``, and
    ``unordered.placed``, the re-check of rows without a place in the order): one row's
    read that had no connection raises, it is not that row's reason."""
    source = posts.source()
    try:
        ids = [posts.add()]
        keys = source.positions_after(None, None, 10)
        error = FAILURES[failure](posts)
        source.rows_by_ids = failing(error)  # type: ignore[method-assign]
        source.placed_rows = failing(error)  # type: ignore[method-assign]
        with pytest.raises(type(error)):
            read_isolated(source, keys)
        with pytest.raises(type(error)):
            placed(source, ids)
    finally:
        source.dispose()


def test_a_part_whose_connection_is_lost_is_read_once_more(posts: Posts) -> None:
    """A one-row part whose connection was lost once (a session ended) is read again and
    taken; lost every time (a row whose read the server cannot finish: MariaDB past its
    ``max_allowed_packet`` drops the connection), it is that row's, and quarantined as a row
    the driver cannot read, so ingest goes on."""
    source = posts.source()
    try:
        ids = [posts.add()]
        keys = source.positions_after(None, None, 10)
        error = lost(posts)
        by_ids, placed_rows = source.rows_by_ids, source.placed_rows
        source.rows_by_ids = lost_once(by_ids, error)  # type: ignore[method-assign]
        source.placed_rows = lost_once(placed_rows, error)  # type: ignore[method-assign]
        assert [str(r.id) for r in read_isolated(source, keys)[0]] == ids
        found, unreadable = placed(source, ids)
        assert ([str(r.id) for r in found], unreadable) == (ids, set())
        source.rows_by_ids = failing(error)  # type: ignore[method-assign]
        source.placed_rows = failing(error)  # type: ignore[method-assign]
        good, bad = read_isolated(source, keys)
        assert (good, [q.source_id for q in bad]) == ([], ids)
        assert "terminating connection" in bad[0].reason, bad[0].reason
        assert placed(source, ids) == ([], set(ids))
    finally:
        source.dispose()


class DownAfter:
    """``engine`` whose connects fail with ``error`` from the ``after``-th one on (a source
    going down while a row is read field by field), or only that one (``once``); anything
    else is the engine's."""

    def __init__(self, engine: Any, after: int, error: Exception, once: bool = False) -> None:
        self._engine, self._left, self._error, self._once = engine, after, error, once

    def connect(self) -> Any:
        self._left -= 1
        if self._left < 0 and not (self._once and self._left < -1):
            raise self._error
        return self._engine.connect()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


@pytest.mark.parametrize("failure", list(FAILURES))
def test_the_field_by_field_read_never_names_a_field_for_a_connection(
    posts: Posts, failure: str
) -> None:
    """A row the driver cannot read whole (``'infinity'``) is read one field at a time to
    name the field at fault; the source going down after its first field had the others
    named as the row's faults ("title: cannot be read: OperationalError: connection failed")
    and the row quarantined by them, its ``visible`` unread. A connection not had is raised
    (the tick fails, the row is diagnosed at the next); one lost once is read again."""
    source = posts.source()
    engine = source.engine
    try:
        bad = posts.add("'infinity'")
        [at] = source.positions_after(None, None, 10)
        error = FAILURES[failure](posts)
        if failure in NOT_HAD:
            source.engine = DownAfter(engine, 1, error)  # type: ignore[assignment]
            with pytest.raises(type(error)):
                read_alone(source, bad, at)
            source.engine = DownAfter(engine, 1, error)  # type: ignore[assignment]
            with pytest.raises(type(error)):
                row_alone(source, bad, DataError("SELECT …", {}, Exception("infinity")), at)
        else:
            source.engine = DownAfter(engine, 1, error, once=True)  # type: ignore[assignment]
            row, faults = read_alone(source, bad, at)
            assert row is not None and [name for name, _ in faults] == ["published_at"], faults
    finally:
        source.engine = engine
        source.dispose()
