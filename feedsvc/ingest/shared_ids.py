"""An id several live source rows carry: told apart from one row re-keyed (a tester's U2).

A CMS row that now carries another key is handed over (:mod:`feedsvc.store.rekeyed`): the
article held under its old key is withdrawn as ``re-keyed``. That reading is right only when
the id names one row. A view over a join, or a table without a primary key, can give two live
rows one id: ``(1, 'D-1')`` and ``(1, 'D-2')`` read as "row 1 re-keyed", and D-1 left every
feed though the CMS shows it. Before a batch is written, :func:`carried_now` asks the source
(one lookup by id, only for the batch's rows whose id holds an article under another key)
which of those old keys a row of that id still carries; the writer then keeps both articles
and :func:`say_shared` warns (:func:`feedsvc.ingest.writer._hand_over` says why both are kept).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection

from feedsvc.db import Database
from feedsvc.db.committed import say
from feedsvc.keys import spelled
from feedsvc.source import SqlSource
from feedsvc.source.row_ids import carried
from feedsvc.store import rekeyed

log = logging.getLogger(__name__)


def carried_now(
    db: Database, source: SqlSource, rows: Sequence[tuple[str, str]]
) -> frozenset[tuple[str, str]]:
    """``(row id, key)`` pairs of articles held from ``rows``' ids (``(row id, the key the
    row carries now)``) under another key that a source row still carries: not re-keyed. One
    indexed read of the state DB; the source is asked only when such an article is held (a
    re-key, or an id given twice), one lookup by id for all of them. Raises the source's or
    the state DB's error."""
    batch = set(rows)
    with db.read() as conn:
        held = rekeyed.held_pairs(conn, sorted({sid for sid, _ in rows}))
    # every article held from these ids under a key no row of the batch carries: one lookup
    pairs = sorted(held - batch)
    return frozenset(carried(source, pairs)) if pairs else frozenset()


def say_shared(conn: Connection, row_id: str, held_key: str, key: str) -> None:
    """The WARNING for an id two live rows carry, said once the batch commits."""
    say(
        conn, log, logging.WARNING,
        "ingest: rows with id=%s carry the keys %s and %s: source.columns.id is not unique "
        "(a view over a join, a table without a primary key?); both articles are kept, none "
        "taken for a re-key. Map an id column that names one row",
        row_id, spelled(held_key), spelled(key),
    )  # fmt: skip
