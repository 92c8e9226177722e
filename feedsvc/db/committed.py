"""Log lines that say what a write transaction did, told only once it has committed.

Code inside a transaction (the outbox, corrections, a delivery's record, a re-keyed article's
hand-over) knows what it wrote before the commit. Logged there, ``outbox: 20 alert(s) queued for
20 article(s)`` was read by the operator when the commit then failed (an SQLite state DB on a
full disk: "database or disk is full") and nothing was queued (a tester's); and a dispatcher's
batch record that failed and was written again row by row said each of its lines twice.

:func:`say` keeps such a line with the connection's transaction; :meth:`feedsvc.db.Database.write`
tells them once its transaction has committed (:func:`told_after_commit`) and drops them when
it rolls back — :func:`savepoint` drops those of a savepoint rolled back. A connection no
``Database.write`` opened (a test's own transaction, a migration) has no commit to wait for
here: its line is logged at once, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True, slots=True)
class _Line:
    logger: logging.Logger
    level: int
    msg: str
    args: tuple[Any, ...]


#: The lines said in each open ``Database.write`` transaction, by its connection.
_pending: WeakKeyDictionary[Connection, list[_Line]] = WeakKeyDictionary()
_lock = threading.Lock()  # connections of several threads at once


def say(conn: Connection, logger: logging.Logger, level: int, msg: str, *args: Any) -> None:
    """Log ``msg % args`` at ``level`` on ``logger`` once ``conn``'s transaction commits
    (never if it rolls back); at once when ``conn`` is no ``Database.write``'s."""
    line = _Line(logger, level, msg, args)
    with _lock:
        lines = _pending.get(conn)
        if lines is not None:
            lines.append(line)
            return
    _tell([line])


@contextmanager
def told_after_commit(conn: Connection) -> Iterator[None]:
    """Around a transaction of ``conn`` (its ``begin()`` block inside): the lines :func:`say`
    kept for it are logged when the block ends without an error — the commit went through —
    and dropped otherwise."""
    with _lock:
        _pending[conn] = []
    try:
        yield
    except BaseException:
        with _lock:
            _pending.pop(conn, None)
        raise
    with _lock:
        lines = _pending.pop(conn, [])
    _tell(lines)


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """``conn.begin_nested()``, dropping the lines said inside when it rolls back (a row of
    an ingest batch refused alone: its alerts were never queued)."""
    with _lock:
        lines = _pending.get(conn)
        mark = None if lines is None else len(lines)
    try:
        with conn.begin_nested():
            yield
    except BaseException:
        if lines is not None and mark is not None:
            with _lock:
                del lines[mark:]
        raise


def _tell(lines: list[_Line]) -> None:
    for line in lines:
        line.logger.log(line.level, line.msg, *line.args)
