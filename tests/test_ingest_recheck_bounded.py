"""The 10-minute re-check of quarantined rows reads them in the keyset read's bounded batches.

The re-check by id looked up every listed row at once (500 ids a statement) and held them all
until the check ended: 200 rows with 5 MB bodies, quarantined as too long, took ~1.1 GB at
every check against ~0.58 GB for their first ingest (``bench/recheck_memory.py``), growing with
the rows listed (up to 5,000): an out-of-memory kill of a small box every 10 minutes. Now the
lookups are bounded as the keyset read's batches are (:func:`feedsvc.ingest.isolate.by_id`: at
most ``source.batch_size`` ids, fewer after a batch of big rows, each batch's text within
``BATCH_TEXT``), and each batch is parsed and written before the next is read. What the
tests count: the source's lookups of whole rows by id (a SQLAlchemy ``before_execute`` hook on
the CMS engine: the ids each asks for) and the text of each write (the ingestor's after-commit
listeners); what they check: fixed rows are taken in, still-bad ones stay quarantined by id.
The same class, the same bound: rows committed late inside the overlap window were read and
written in one batch whatever their number, and ``Ingestor.reread`` (rows reconciliation
finds again, drafts published by status) looked every row up at once.

The CMS's backend is given one state DB backend per case, rotating (``backend_cases.on_backends``,
the start alternating between tests so each CMS backend meets each state DB backend): the bounds
are the ingestor's batching, the state DB's writes the same statements for either CMS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from backend_cases import on_backends
from sqlalchemy import Engine, event, text
from sqlalchemy.sql import Select
from test_ingest_cursor_edges import Cms, bounded_tick, cms_at, pg_cms_url
from test_ingest_quarantine import T, held
from test_ingest_recheck_many import first_check
from test_ingest_unordered import add_rows, entries

from feedsvc.articles import MAX_FIELD_LEN
from feedsvc.db import Database
from feedsvc.ingest import Ingestor

__all__ = ["cms_at", "pg_cms_url"]  # fixtures

BACKENDS = [("sqlite", "TEXT"), ("postgres", "TIMESTAMP")]
ROWS = 8  # rows with bodies over the article limit
BIG = "<p>" + "Kiến Thụy " * (MAX_FIELD_LEN // 10) + "</p>"  # 7 characters too long
ROW_TEXT = len(BIG) + 60  # a big row's text: body, title, key, link


def quarantined_big(db: Database, cms_at: Any, backend: str, ts: str) -> tuple[Cms, Ingestor]:
    """Rows 1..ROWS with bodies too long and row 100 two days on, ingested by batches of 3:
    the big rows quarantined (stage ``parse``), the cursor past them."""
    cms = cms_at(backend, ts)
    add_rows(cms, range(1, ROWS + 1))
    cms.post(100, at=T + timedelta(days=2))
    with cms.engine.begin() as conn:
        conn.execute(text(f"UPDATE posts SET body = :b WHERE id <= {ROWS}"), {"b": BIG})
    ing = cms.ingestor(db, batch_size=3)
    while bounded_tick(ing).read:
        pass
    assert held(db) == ["p-100"]
    assert {k: e.stage for k, e in entries(db).items()} == {str(n): "parse" for n in range(1, 9)}
    return cms, ing


def fix(cms: Cms, ids: str, body: str = "<p>Tin đã sửa</p>") -> None:
    with cms.engine.begin() as conn:
        conn.execute(text(f"UPDATE posts SET body = :b WHERE id IN ({ids})"), {"b": body})


class Lookups:
    """The ids of each lookup of whole rows by id the source runs (a list per statement)."""

    def __init__(self, engine: Engine) -> None:
        self.ids: list[list[Any]] = []
        self.engine = engine
        event.listen(engine, "before_execute", self._seen)

    def _seen(self, conn: Any, clause: Any, *_: Any) -> None:
        if not isinstance(clause, Select) or len(clause.selected_columns) <= 2:
            return  # not whole rows (positions, ids, counts)
        for value in clause.compile().params.values():
            if isinstance(value, list):  # an IN (...) list: a lookup by id
                self.ids.append(value)

    def close(self) -> None:
        event.remove(self.engine, "before_execute", self._seen)


Watch = Callable[[Ingestor], Lookups]
Budget = Callable[[int], None]


@pytest.fixture
def lookups() -> Iterator[Watch]:
    """Counts an ingestor's lookups by id from the call on (``lookups(ing)``: its ``Lookups``),
    until the test ends."""
    made: list[Lookups] = []

    def watch(ing: Ingestor) -> Lookups:
        made.append(Lookups(ing.source.engine))
        return made[-1]

    yield watch
    for seen in made:
        seen.close()


@pytest.fixture
def text_budget(monkeypatch: pytest.MonkeyPatch) -> Budget:
    """Sets the keyset read's text budget (``isolate.BATCH_TEXT``, characters) for the test."""
    from feedsvc.ingest import isolate

    return lambda chars: monkeypatch.setattr(isolate, "BATCH_TEXT", chars)


def written(ing: Ingestor) -> list[int]:
    """The body text of each write the ingestor commits from now on."""
    texts: list[int] = []
    ing.after_commit.append(
        lambda changes: texts.append(sum(len(c.article.body or "") for c in changes))
    )
    return texts


@pytest.mark.parametrize(
    ("db_url", "backend", "ts"), on_backends(BACKENDS, start=0), indirect=["db_url"]
)
def test_the_recheck_reads_big_rows_in_bounded_lookups(
    db: Database, cms_at: Any, lookups: Watch, backend: str, ts: str
) -> None:
    """The shown input scaled down: rows quarantined as too long, two fixed since. Before:
    one lookup of all 8 ids (the whole set of bodies held at once)."""
    cms, ing = quarantined_big(db, cms_at, backend, ts)
    fix(cms, "2, 6")
    seen = lookups(ing)
    result = first_check(ing)
    assert (result.new, result.quarantined) == (2, [])  # taken in; the others quietly listed
    assert held(db) == ["p-100", "p-2", "p-6"]
    still = entries(db)
    assert sorted(still, key=int) == ["1", "3", "4", "5", "7", "8"]  # named by row id
    assert all("too long" in e.reason for e in still.values())
    sizes = [len(ids) for ids in seen.ids]
    assert max(sizes) <= 3, sizes  # source.batch_size: was one lookup of 8
    assert len(sizes) >= 3 and sum(sizes) >= ROWS, sizes  # every listed row looked at
    ing.source.dispose()


@pytest.mark.parametrize(
    ("db_url", "backend", "ts"), on_backends(BACKENDS, start=1), indirect=["db_url"]
)
def test_the_recheck_keeps_each_lookup_within_the_batch_text_budget(
    db: Database, cms_at: Any, lookups: Watch, text_budget: Budget, backend: str, ts: str
) -> None:
    """The keyset read's text budget (``BATCH_TEXT``, here 3 MB: one big row and some) bounds
    the lookups by id too: after a lookup of big rows the next asks for fewer ids, so no
    lookup but the first reads much more than the budget; nothing fixed, all stay listed."""
    _, ing = quarantined_big(db, cms_at, backend, ts)
    text_budget(3_000_000)
    seen = lookups(ing)
    result = first_check(ing)
    assert (result.new, result.quarantined) == (0, [])
    assert sorted(entries(db), key=int) == [str(n) for n in range(1, ROWS + 1)]
    texts = [len(ids) * ROW_TEXT for ids in seen.ids]
    assert max(texts[1:], default=0) <= 3_000_000 + ROW_TEXT, [len(i) for i in seen.ids]
    assert len(texts) >= ROWS // 2, [len(i) for i in seen.ids]  # was one lookup of 8
    assert held(db) == ["p-100"]
    ing.source.dispose()


@pytest.mark.parametrize(
    ("db_url", "backend", "ts"), on_backends(BACKENDS, start=0), indirect=["db_url"]
)
def test_fixed_big_rows_are_written_in_batches_within_the_text_budget(
    db: Database, cms_at: Any, text_budget: Budget, backend: str, ts: str
) -> None:
    """Six rows fixed to 1.5 MB bodies (within the article limit), ``BATCH_TEXT`` 2 MB: each
    write holds one of them, as the keyset read's would; before, batches of
    ``source.batch_size`` (3: 4.5 MB in one write transaction)."""
    cms, ing = quarantined_big(db, cms_at, backend, ts)
    text_budget(2_000_000)
    body = "<p>" + "Công an Hải Phòng " * 83_000 + "</p>"  # ~1.5 MB
    fix(cms, "1, 2, 3, 5, 6, 8", body)
    texts = written(ing)
    result = first_check(ing)
    assert (result.new, result.quarantined) == (6, [])
    assert held(db) == ["p-1", "p-100", "p-2", "p-3", "p-5", "p-6", "p-8"]
    assert sorted(entries(db), key=int) == ["4", "7"]
    assert max(texts) <= 2_000_000 + len(body), texts  # one row past the budget at most
    assert sum(texts) == 6 * len(body)
    ing.source.dispose()


# -- the other reads of rows by id: late commits in the overlap window, rows read again ------
FAIR = "<p>" + "Công an Hải Phòng " * 83_000 + "</p>"  # ~1.5 MB: within the article limit


def fair_rows(cms: Cms, numbers: range, minute: int | None = None) -> None:
    """Rows ``numbers`` with ~1.5 MB bodies (dated ``minute`` minutes after T when given)."""
    add_rows(cms, numbers)
    with cms.engine.begin() as conn:
        low, high = numbers.start, numbers.stop - 1
        where = f"id BETWEEN {low} AND {high}"
        conn.execute(text(f"UPDATE posts SET body = :b WHERE {where}"), {"b": FAIR})
        if minute is not None:
            at = T + timedelta(minutes=minute)
            conn.execute(text(f"UPDATE posts SET modified = :m WHERE {where}"), {"m": at})


@pytest.mark.parametrize(
    ("db_url", "backend", "ts"), on_backends(BACKENDS, start=1), indirect=["db_url"]
)
def test_late_commits_in_the_overlap_window_are_written_within_the_text_budget(
    db: Database, cms_at: Any, text_budget: Budget, backend: str, ts: str
) -> None:
    """Six big rows committed late, behind the cursor inside the overlap window: they were
    read and written in one batch, whatever their number or size (9 MB here)."""
    cms = cms_at(backend, ts)
    add_rows(cms, range(1, 4))
    ing = cms.ingestor(db, batch_size=3)
    assert bounded_tick(ing).new == 3
    text_budget(2_000_000)
    fair_rows(cms, range(10, 16), minute=2)  # between rows 2 and 3: behind the cursor
    texts = written(ing)
    result = bounded_tick(ing)
    assert (result.error, result.new) == (None, 6)
    assert max(texts) <= 2_000_000 + len(FAIR), texts  # was one write of 6 rows
    assert sum(texts) == 6 * len(FAIR)
    ing.source.dispose()


@pytest.mark.parametrize(
    ("db_url", "backend", "ts"), on_backends(BACKENDS, start=0), indirect=["db_url"]
)
def test_rows_read_again_by_id_are_read_and_written_in_bounded_batches(
    db: Database, cms_at: Any, lookups: Watch, text_budget: Budget, backend: str, ts: str
) -> None:
    """``Ingestor.reread`` (rows reconciliation finds again, drafts published by status):
    every row was looked up at once, then written ``batch_size`` at a time."""
    cms = cms_at(backend, ts)
    fair_rows(cms, range(1, 7))
    ing = cms.ingestor(db, batch_size=3)
    text_budget(2_000_000)
    seen = lookups(ing)
    texts = written(ing)
    assert ing.reread([str(n) for n in range(1, 7)]) == 6
    assert held(db) == [f"p-{n}" for n in range(1, 7)]
    assert max(len(ids) for ids in seen.ids) <= 3, seen.ids  # was one lookup of 6
    assert max(texts) <= 2_000_000 + len(FAIR), texts  # was 3 rows a write
    ing.source.dispose()
