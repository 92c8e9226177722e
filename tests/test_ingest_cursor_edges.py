"""Cursor values that are no moment never stop ingest, cost a read each tick, or loop (#12 §4).

The cursor follows one column of the CMS table. Values found there that are no point in time:

- PostgreSQL ``'infinity'`` and a year past 9999 (psycopg refuses to convert them): such a row
  was held back, but every tick that had new rows read the batch, failed on it, logged a
  warning and read the batch again in parts. Now the read stops at the horizon in SQL and the
  row is named by id with its value read as text: no failing query, no warning per tick.
- PostgreSQL ``'-infinity'`` and BC dates: the first sync failed on every tick for good (the
  positions read in parts failed too), nothing was ever ingested.
- NULL (a nullable column): where NULLs sort first (SQLite, MariaDB) a first sync whose batch
  ended on one went back to the table's start, batch after batch, for ever; where they sort
  last (PostgreSQL) the cursor became NULL and every tick re-read the whole table.
- ``NaN`` in a PostgreSQL numeric (Unix seconds) column sorts after every number: taken, it
  was a cursor no later row is after; every row written afterwards was never read.

Rows with no place in the order (NULL, ``'-infinity'``, BC) are quarantined (stage ``read``,
named by id) at the first sync and the rows around them ingested; rows after every readable
value (``'infinity'``, ``NaN``) are held back (stage ``ahead``) as future-dated rows are. A
``'-infinity'`` in a *text* column is ordinary text that sorts first: the row is read (and
quarantined by the parser when the same column is its ``updated_at``), the cursor moves on.

The CMS's backend, column type and value are crossed with where the bad rows sit (they
interact: where each backend sorts the value decides what a batch ends on); the state DB's
backend, which only stores the quarantine entries and the cursor the same way whatever the CMS
held, is each-choice (``backend_cases.on_backends``): each value and each position still meets
both state DBs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backend_cases import on_backends
from conftest import mariadb_database
from factories import VN
from sqlalchemy import Engine, create_engine, event, text
from test_ingest_quarantine import COLUMNS, T, entries, held, pg_cms_url

from feedsvc.db import Database
from feedsvc.ingest import Ingestor, TickResult
from feedsvc.source import external_source
from feedsvc.store.cursors import get_cursor
from feedsvc.topic_index import TopicIndex

__all__ = ["pg_cms_url"]  # a fixture, shared with test_ingest_quarantine


class Cms:
    """A CMS table ``posts`` on one backend, its cursor column ``modified`` of type ``ts``."""

    def __init__(self, url: str, ts: str, epoch: bool = False) -> None:
        self.url = url
        self.epoch = epoch
        self.engine: Engine = create_engine(url)
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug VARCHAR(50), "
                    "link VARCHAR(200), title VARCHAR(200), body TEXT, created TIMESTAMP NULL, "
                    f"modified {ts} NULL)"
                )
            )

    def post(self, n: int, modified: str | None = None, at: datetime | None = None) -> None:
        """Row ``n``; ``modified`` is SQL (``'infinity'``, ``NULL``), else dated ``at``."""
        at = at or T + timedelta(minutes=n)
        params: dict[str, Any] = {
            "n": n, "s": f"p-{n}", "l": f"https://baohaiphong.vn/{n}.html",
            "t": f"Tin số {n}: Kiến Thụy", "at": at,
            "m": int(at.replace(tzinfo=VN).timestamp()) if self.epoch else at,
        }  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(
                text(f"INSERT INTO posts VALUES (:n, :s, :l, :t, NULL, :at, {modified or ':m'})"),
                params,
            )

    def ingestor(self, db: Database, batch_size: int = 2) -> Ingestor:
        columns = COLUMNS
        if self.epoch:  # Unix seconds are no article date: updated_at from `created`
            columns = COLUMNS.model_copy(update={"updated_at": "created"})
        return Ingestor(
            db,
            external_source(self.url, "posts", columns, VN),
            TopicIndex(),
            tz=VN,
            poll_seconds=1,
            overlap_seconds=3600,
            batch_size=batch_size,
        )


@pytest.fixture
def cms_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """``cms_at(backend, column type)``: a fresh CMS table; disposed after the test."""
    made: list[Cms] = []
    stack: list[Any] = []

    def make(backend: str, ts: str, epoch: bool = False) -> Cms:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'cms.db'}"
        elif backend == "postgres":
            url = request.getfixturevalue("pg_cms_url")
        else:
            context = mariadb_database("feedsvc_cursor")
            url = context.__enter__()
            stack.append(context)
        made.append(Cms(url, ts, epoch))
        return made[-1]

    yield make
    for cms in made:
        cms.engine.dispose()
    for context in stack:
        context.__exit__(None, None, None)


def bounded_tick(ing: Ingestor) -> TickResult:
    """A tick that must end by itself: one that loops for ever fails the test (and is stopped
    between batches) instead of hanging it."""
    out: list[TickResult] = []
    worker = threading.Thread(target=lambda: out.append(ing.tick()), daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():
        ing.request_stop()
        worker.join(60)
        pytest.fail("the tick did not end: it went round the same rows again and again")
    return out[0]


class SourceStatements:
    """Statements run on the source, and the ones that failed."""

    def __init__(self, engine: Engine) -> None:
        self.run = self.failed = 0
        event.listen(engine, "before_cursor_execute", self._run)
        event.listen(engine, "handle_error", self._failed)

    def _run(self, *_: Any) -> None:
        self.run += 1

    def _failed(self, *_: Any) -> None:
        self.failed += 1


# -- after every readable value: held back, at no cost per tick --------------------------------
@pytest.mark.parametrize(
    ("db_url", "ts", "value"),
    on_backends(
        [
            ("TIMESTAMP", "'infinity'"),
            ("TIMESTAMP", "'10000-01-01 00:00:00'"),
            ("TIMESTAMPTZ", "'infinity'"),
            ("TIMESTAMPTZ", "'12026-05-01 00:00+07'"),
        ]
    ),
    indirect=["db_url"],
)
def test_a_held_row_the_driver_cannot_read_costs_no_failing_read(
    db: Database, cms_at: Any, ts: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    cms = cms_at("postgres", ts)
    for n in range(1, 6):
        cms.post(n, value if n == 3 else None)
    ing = cms.ingestor(db)
    statements = SourceStatements(ing.source.engine)
    caplog.set_level(logging.WARNING, logger="feedsvc.ingest")
    assert bounded_tick(ing).error is None
    assert held(db) == ["p-1", "p-2", "p-4", "p-5"]
    assert {k: e.stage for k, e in entries(db).items()} == {"3": "ahead"}
    assert value.strip("'")[:5] in entries(db)["3"].reason  # its value, read as text
    caplog.clear()
    listed: list[str] = []  # the held row's quarantine entry written again (was: each tick)
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda *a: listed.append(a[2]) if "ingest_quarantine" in a[2].split("(")[0] else None,
    )
    for n in range(6, 9):  # ticks with new rows, then an idle one
        cms.post(n)
        result = bounded_tick(ing)
        assert (result.error, result.new) == (None, 1)
    assert bounded_tick(ing).read == 0
    assert held(db) == ["p-1", "p-2", "p-4", "p-5", "p-6", "p-7", "p-8"]
    assert statements.failed == 0  # was one failing read per tick, and a warning
    assert [q for q in listed if q.lstrip().startswith(("INSERT", "UPDATE"))] == []
    assert "cannot be read" not in caplog.text and "held back" not in caplog.text
    ing.source.dispose()


@pytest.mark.parametrize(
    ("db_url", "nan"), on_backends(["'NaN'", "'Infinity'"]), indirect=["db_url"]
)
def test_a_nan_epoch_never_becomes_the_cursor(db: Database, cms_at: Any, nan: str) -> None:
    """PostgreSQL sorts ``NaN`` after every number: a cursor at ``NaN`` hid every row after."""
    cms = cms_at("postgres", "NUMERIC", epoch=True)
    for n in range(1, 6):
        cms.post(n, nan if n == 3 else None)
    ing = cms.ingestor(db)
    assert bounded_tick(ing).error is None
    assert held(db) == ["p-1", "p-2", "p-4", "p-5"]
    assert {k: e.stage for k, e in entries(db).items()} == {"3": "ahead"}
    cms.post(6, at=datetime.now(VN).replace(tzinfo=None) - timedelta(minutes=1))
    assert bounded_tick(ing).error is None
    assert "p-6" in held(db)
    ing.source.dispose()


# -- no place in the order: quarantined at the first sync, the rest goes on --------------------
NO_MOMENT = [
    ("postgres", "TIMESTAMP", "'-infinity'", "read"),
    ("postgres", "TIMESTAMP", "'0044-03-15 BC'", "read"),
    ("postgres", "TIMESTAMPTZ", "'-infinity'", "read"),
    ("postgres", "TIMESTAMP", "NULL", "read"),
    ("sqlite", "TEXT", "NULL", "read"),
    ("sqlite", "DATETIME", "NULL", "read"),
    ("mariadb", "DATETIME", "NULL", "read"),
    ("sqlite", "TEXT", "'-infinity'", "parse"),  # text: read, refused as its updated_at
]


BAD = {"first": (1, 2), "middle": (3,), "last": (5, 6)}


def _where(value: object) -> str:
    """A case's id for a value: the CMS's backend as ``cms-…``, the bad rows by position."""
    if value in ("sqlite", "postgres", "mariadb"):
        return f"cms-{value}"
    return next((name for name, bad in BAD.items() if bad == value), str(value))


@pytest.mark.parametrize(
    ("db_url", "backend", "ts", "value", "stage", "bad"),
    on_backends([(*case, bad) for case in NO_MOMENT for bad in BAD.values()], label=_where),
    indirect=["db_url"],
)
def test_a_cursor_value_with_no_place_in_the_order_is_quarantined(
    db: Database, cms_at: Any, backend: str, ts: str, value: str, stage: str, bad: tuple[int]
) -> None:
    cms = cms_at(backend, ts)
    for n in range(1, 7):
        cms.post(n, value if n in bad else None)
    ing = cms.ingestor(db, batch_size=2)
    result = bounded_tick(ing)
    good = [f"p-{n}" for n in range(1, 7) if n not in bad]
    assert result.error is None, result.error
    assert held(db) == good
    assert {k: e.stage for k, e in entries(db).items()} == {str(n): stage for n in bad}
    assert sorted(q.source_id for q in result.quarantined) == [str(n) for n in bad]
    with db.read() as conn:
        native, id_ = json.loads(get_cursor(conn, ing.source.name).id or "null")
    assert (native is not None, id_) == (True, good[-1][2:])  # moved on, past the good rows
    assert bounded_tick(ing).read == 0  # never read again (was: the whole table, each tick)
    cms.post(7, at=T + timedelta(hours=1))
    assert bounded_tick(ing).new == 1 and held(db) == [*good, "p-7"]
    ing.source.dispose()
