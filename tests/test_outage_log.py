"""The one rule for a state-DB outage (:mod:`feedsvc.db.outage`): which errors are one, and
a log that says it once — a start, a summary a minute, an end — whatever the failure rate
(tester 3, F6: ~150 tracebacks every 90 s). The real outages are in ``test_state_outage.py``."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from feedsvc.db.outage import Outage, is_outage


def _operational(message: str) -> Exception:
    return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def test_what_is_an_outage() -> None:
    """Down, refused, timed out, locked, unopenable: an outage (503, one line). Bad SQL or a
    refused row: a bug (500 with its traceback)."""
    assert is_outage(_operational("unable to open database file"))
    assert is_outage(sa_exc.TimeoutError("QueuePool limit of size 4 overflow 4 reached"))
    assert is_outage(sqlite3.OperationalError("database is locked"))
    integrity = sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed"))
    assert not is_outage(integrity)
    programming = sa_exc.ProgrammingError("SELEC", {}, sqlite3.ProgrammingError("syntax"))
    assert not is_outage(programming)
    assert not is_outage(_operational("no such table: deliveries"))  # PostgreSQL: Programming
    assert not is_outage(ValueError("a bug"))


def test_outage_log_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    """10,000 failures over five minutes: the start, one summary a minute, the end."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    now = [1000.0]
    outage = Outage("state DB x", clock=lambda: now[0])
    outage.answered()  # no outage: nothing said
    for i in range(10_000):
        now[0] = 1000.0 + i * 0.03
        outage.failed(_operational("connection refused"), "web" if i % 2 else "dispatcher")
    assert outage.down
    now[0] += 1
    outage.answered()
    outage.answered()
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 6, said  # start + 4 summaries (at 60, 120, 180, 240 s) + end
    assert "is unavailable: OperationalError: connection refused" in said[0]
    assert all("still unavailable" in line and "web" in line for line in said[1:-1])
    assert "available again after 301 s (10000 failure(s)" in said[-1]
    assert not outage.down and not any(r.exc_info for r in caplog.records)


def test_flapping_database_is_one_line_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    """Reads answer, writes fail (a read-only file): the outage starts and ends at every
    write. Within a minute of its last line a new start is counted, not logged."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    now = [0.0]
    outage = Outage("state DB x", clock=lambda: now[0])
    for _ in range(100):
        now[0] += 0.5
        outage.failed(_operational("attempt to write a readonly database"), "web")
        outage.answered()
    assert len(caplog.records) <= 2 + 2 * (50 // 60 + 1), [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO articles VALUES (1)", True),
        ("  update chats SET paused = 1", True),
        ("\nDELETE FROM leases", True),
        ("BEGIN IMMEDIATE", False),  # a read-only file takes it: no proof that writes work
        ("begin  exclusive", False),
        ("BEGIN", False),
        ("SELECT * FROM topics", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("", False),
    ],
)
def test_which_statements_write(statement: str, writes: bool) -> None:
    """Only a committed write ends an outage in which reads never failed
    (``outage.watch_answers``)."""
    from feedsvc.db.outage import is_write

    assert is_write(statement) is writes


def test_a_rollback_on_a_connection_cut_mid_statement_says_nothing_and_raises_nothing(
    tmp_path: Path,
) -> None:
    """CI's: the outage's rollback listener read ``Connection.info`` of a connection a signal
    had invalidated mid-transaction; that tried to reconnect and raised PendingRollbackError
    inside the rollback, which left SQLite's write lock held ("database is locked" for the
    next command). The listener now leaves such a connection alone."""
    from sqlalchemy import text

    from feedsvc.db import Database, upgrade

    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(text("DELETE FROM topics WHERE 0"))
        conn.invalidate()  # what a statement cut by Ctrl-C or SIGTERM leaves
        raise RuntimeError("stopped")
    with db.write() as conn:  # the lock was released: the next write goes through
        conn.execute(text("DELETE FROM topics WHERE 0"))
    db.dispose()
