"""A new connection never writes through a ``-wal`` SQLite made anew while ``state.db*`` was
being moved (``feedsvc.db.wal_sides``, ``feedsvc.db.sqlite_file.kept_file``).

A CI run's ``test_served_db_identity`` found a ``state.db-wal`` at the path after ``mv
state.db* elsewhere/`` and ``mv elsewhere/state.db .`` under a running service, and a script
that did the same just after a service's start met it once in six starts: the service's new
connection passed the checks made before SQLite opened anything, the files moved, and the
connection's first read opened (made) a ``-wal`` by name beside the file, then wrote 41 KB to
it while the service's other connections wrote to the moved one. Here the moves happen at
each point of a new connection's opening, in-process, while another connection of the same
engine stays open (as a service's pooled ones do)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import OperationalError

from feedsvc.db import Database, sqlite_reading, upgrade
from feedsvc.db.sqlite_file import SameFile

Move = Callable[[], None]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "var" / "state.db"
    path.parent.mkdir()
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


def away(state: Path) -> Path:
    """``mv var/state.db* elsewhere/`` then ``mv elsewhere/state.db var/``: the file back
    without its ``-wal`` and ``-shm``; the directory they are in."""
    moved = state.parent.parent / "elsewhere"
    moved.mkdir(exist_ok=True)
    for p in sorted(state.parent.glob(f"{state.name}*")):
        p.rename(moved / p.name)
    (moved / state.name).rename(state)
    return moved


def all_back(state: Path, moved: Path) -> None:
    """``mv elsewhere/state.db* var/``: the sides back over whatever is at the path."""
    for p in sorted(moved.glob(f"{state.name}*")):
        p.rename(state.with_name(p.name))


def once(action: Move) -> Move:
    done: list[bool] = []

    def run() -> None:
        if not done:
            done.append(True)
            action()

    return run


@dataclass
class Held:
    """A state DB with one connection open (a service's pooled ones hold the
    ``-wal`` and map the ``-shm``), and the ids of the rows written so far."""

    db: Database
    conn: Connection
    rows: list[int]

    def write_refused(self, row: int) -> None:
        """A write on a new connection (the open one is in use) is an outage, not a row."""
        with pytest.raises(OperationalError, match="-wal"), self.db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (:id)"), {"id": row})

    def write_on_the_open_one(self, row: int) -> None:
        self.conn.execute(text("INSERT INTO t VALUES (:id)"), {"id": row})
        self.conn.commit()
        self.rows.append(row)

    def whole_after_all_back(self, state: Path, moved: Path | None) -> None:
        """Once ``state.db*`` is back together (``moved``: from there) and closed, every row
        written is in the file and it is whole: nothing was written to a second WAL."""
        if moved is not None:
            all_back(state, moved)
        self.conn.close()
        self.db.dispose()
        with closing(sqlite3.connect(state)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert [r[0] for r in conn.execute("SELECT id FROM t ORDER BY id")] == self.rows


@contextmanager
def held(state: Path) -> Iterator[Held]:
    """:class:`Held` on ``state``, made after a test's patches (``kept_file`` binds
    ``heap_index`` when the engine is made)."""
    db = Database(f"sqlite:///{state}")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    other = db.engine.connect()
    other.execute(text("SELECT count(*) FROM t")).scalar_one()
    other.commit()  # its -wal open and its -shm mapped, no snapshot held
    try:
        yield Held(db, other, [1])
    finally:
        other.close()
        db.dispose()


def stray_wal_is_empty(state: Path) -> None:
    """What SQLite made at the path, if anything, holds nothing (closed before it wrote)."""
    wal = state.with_name(f"{state.name}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def before_the_first_read(monkeypatch: pytest.MonkeyPatch, action: Move) -> list[bool]:
    """``action`` once, as a new connection is about to make its first read (which opens the
    ``-wal`` by name): after every check made before it, in this version and the last. Only
    once the list returned holds something (the test's own connections opened first)."""
    real = sqlite_reading.heap_index
    run = once(action)
    armed: list[bool] = []

    def moving(conn: Any, target: Any) -> None:
        if armed:
            run()
        real(conn, target)

    monkeypatch.setattr(sqlite_reading, "heap_index", moving)
    return armed


def test_moved_after_the_check_before_the_open_is_refused_before_any_read(state: Path) -> None:
    where: list[Path] = []
    move = once(lambda: where.append(away(state)))
    with held(state) as h:
        event.listen(h.db.engine, "do_connect", lambda *_args: move())  # after kept_file's
        h.write_refused(2)
        assert not state.with_name(f"{state.name}-wal").exists()  # refused before SQLite made it
        h.write_on_the_open_one(3)
        h.whole_after_all_back(state, where[0])


def test_moved_just_before_the_first_read_is_closed_before_it_writes(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where: list[Path] = []
    armed = before_the_first_read(monkeypatch, lambda: where.append(away(state)))
    with held(state) as h:
        armed.append(True)
        h.write_refused(2)
        stray_wal_is_empty(state)
        h.write_refused(3)  # and no later connection takes it either
        h.write_on_the_open_one(4)  # the open connection, on the moved WAL, writes as ever
        h.whole_after_all_back(state, where[0])


def test_moved_away_and_back_within_the_opening_is_closed_too(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mv state.db* away/``, ``mv away/state.db .``, then ``mv away/state.db* .`` within one
    connection's opening: the path holds the right files again, but the connection's ``-wal``
    is the one SQLite made meanwhile, deleted since; it is closed."""
    where: list[Path] = []
    armed = before_the_first_read(monkeypatch, lambda: where.append(away(state)))
    real_check = getattr(SameFile, "opened_problem", lambda _same: None)
    back = once(lambda: all_back(state, where[0]))

    def moved_back(same: SameFile) -> str | None:  # after the first read, before its check
        if where:
            back()
        return real_check(same)

    monkeypatch.setattr(SameFile, "opened_problem", moved_back, raising=False)
    with held(state) as h:
        armed.append(True)
        h.write_refused(2)
        monkeypatch.undo()
        with h.db.write() as conn:  # everything is back: a new connection writes
            conn.execute(text("INSERT INTO t VALUES (3)"))
        h.rows.append(3)
        h.write_on_the_open_one(4)
        h.whole_after_all_back(state, None)


def test_another_database_of_the_same_name_elsewhere_is_no_stray(tmp_path: Path) -> None:
    """Two state DBs named ``state.db`` in two directories, open in one process (in-process
    services, a test's): neither one's ``-wal`` is taken for the other's."""
    dbs = []
    for name in ("a", "b"):
        path = tmp_path / name / "state.db"
        path.parent.mkdir()
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        dbs.append(db)
    held = [db.engine.connect() for db in dbs]
    for conn in held:
        conn.execute(text("SELECT 1")).scalar_one()
    for db in dbs:
        fresh = db.engine.connect()  # a new connection beside the held one
        assert fresh.execute(text("SELECT count(*) FROM topics")).scalar_one() == 0
        fresh.close()
    for conn in held:
        conn.close()
    for db in dbs:
        db.dispose()


def test_another_engines_record_of_a_deleted_side_is_no_stray(state: Path) -> None:
    """Two ``Database`` objects on one file in one process (in-process services, a
    command's): the first one's pool closed (SQLite deleted the sides) keeps its record's
    ``O_PATH`` descriptor of the deleted ``-wal``; the second one's connections are no second
    WAL for it."""
    first = Database(f"sqlite:///{state}")
    with first.read() as conn:
        conn.execute(text("SELECT 1")).scalar_one()
    first.engine.dispose()  # the last connection's close deleted the -wal and -shm
    second = Database(f"sqlite:///{state}")
    held_one = second.engine.connect()
    held_one.execute(text("SELECT count(*) FROM topics")).scalar_one()
    held_one.commit()
    with second.engine.connect() as fresh:  # a new connection beside the held one
        assert fresh.execute(text("SELECT count(*) FROM topics")).scalar_one() == 0
    held_one.close()
    second.dispose()
    first.dispose()
