"""Many rows the state DB refused, fixed at once: taken within a few ticks, not one check per 500.

The re-check by id writes at most ``STORE_WRITTEN`` (500) stage ``store`` rows per check, every
``CHECK_EVERY`` (10 minutes). A newsroom fixing 1,200 such rows at once waited
``ceil(1200 / 500) * 10`` = 30 minutes for the last of them. Now a check that took rows and left
more waiting runs again at the next tick, still 500 at most per tick (one short write
transaction per ``source.batch_size`` rows); a pass that takes none ends the run, so rows still
refused are looked at once per 10 minutes, as before. No test here moves a clock by 10 minutes:
``unordered_every`` stays at ``CHECK_EVERY`` after the first check.

The fixed-at-once figures are given one state DB backend each, rotating
(``backend_cases.on_backends``): they change how many rows a check takes and how it splits them
into batches, arithmetic the same on both backends, whose statements are the same for any count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from backend_cases import on_backends
from sqlalchemy import text
from test_ingest_cursor_edges import Cms, bounded_tick, cms_at, pg_cms_url
from test_ingest_quarantine import T, held
from test_ingest_recheck_store import refuse_word
from test_ingest_unordered import add_rows, entries

from feedsvc.db import Database
from feedsvc.ingest import Ingestor, unordered

__all__ = ["cms_at", "pg_cms_url"]  # fixtures


def refused_cms(db: Database, cms_at: Any, refused: int, batch: int) -> tuple[Cms, Ingestor]:
    """``refused`` CMS rows the state DB refused (3 rows in 4: a batch all refused would be a
    systemic failure), all ingested but those, and a row two days on (the cursor ends past
    them: no read takes them again)."""
    refuse_word(db)
    cms = cms_at("sqlite", "TEXT")
    rows = refused * 4 // 3
    add_rows(cms, range(1, rows + 1))
    cms.post(rows + 100, at=T + timedelta(days=2))
    with cms.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE posts SET title = 'Tin CẤM ' || id WHERE id % 4 != 0 AND id <= {rows}")
        )
    ing = cms.ingestor(db, batch_size=batch)
    while bounded_tick(ing).read:
        pass
    assert len(entries(db)) == refused
    return cms, ing


def fix(cms: Cms, where: str) -> None:
    with cms.engine.begin() as conn:
        conn.execute(text(f"UPDATE posts SET title = 'Tin ' || id WHERE {where}"))


def checks(ing: Ingestor, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets one entry per re-check by id (how many rows it looked up by id)."""
    seen: list[int] = []
    real: Callable[..., unordered.Found] = unordered.find

    def counted(*args: Any) -> unordered.Found:
        found = real(*args)
        seen.append(len(found.fixed) + len(found.still) + len(found.left) + len(found.gone))
        return found

    monkeypatch.setattr(unordered, "find", counted)
    return seen


def first_check(ing: Ingestor) -> Any:
    """The 10-minute check comes due once (as after 10 minutes), then waits 10 minutes again."""
    ing.unordered_every = 0
    result = bounded_tick(ing)
    ing.unordered_every = unordered.CHECK_EVERY
    assert result.error is None, result.error
    return result


#: (refused, written per check, source batch): 1,200 and 1,002 at 500 a check (the report's
#: figures: three ticks, the last taking 200 or 2) scaled down tenfold, batches too, so a
#: check is still five write transactions; ingesting 1,600 rows 3 in 4 refused (row by row)
#: took 15-38 s a case for the same arithmetic.
FIXED_AT_ONCE = [(120, 50, 10), (102, 50, 10), (30, 4, 100)]


@pytest.mark.parametrize(
    ("db_url", "refused", "written", "batch"), on_backends(FIXED_AT_ONCE), indirect=["db_url"]
)
def test_refused_rows_fixed_at_once_are_all_ingested_within_a_few_ticks(
    db: Database,
    cms_at: Any,
    monkeypatch: pytest.MonkeyPatch,
    refused: int,
    written: int,
    batch: int,
) -> None:
    monkeypatch.setattr(unordered, "STORE_WRITTEN", written)
    cms, ing = refused_cms(db, cms_at, refused, batch=batch)
    fix(cms, "title LIKE 'Tin CẤM%'")
    news = [first_check(ing).new]
    ticks = math.ceil(refused / written)
    for _ in range(ticks):  # no clock moved: the 10-minute check is not due again
        result = bounded_tick(ing)
        assert result.error is None, result.error
        assert result.read <= written  # bounded per tick: one check's rows at most
        news.append(result.new)
    assert sum(news) == refused, news  # was `written`: one check per 10 minutes
    assert news[:ticks] == [written] * (ticks - 1) + [refused - written * (ticks - 1)]
    assert entries(db) == {} and len(held(db)) == refused * 4 // 3 + 1
    ing.source.dispose()


def test_rows_still_refused_are_not_rechecked_every_tick(
    db: Database, cms_at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,200 rows the state DB still refuses: one check writes 500 of them, refused again, and
    the next ticks do not check (they would write 500 rows each poll for nothing). Scaled
    down tenfold (120 rows, 50 a check), as above."""
    monkeypatch.setattr(unordered, "STORE_WRITTEN", 50)
    _, ing = refused_cms(db, cms_at, 120, batch=10)
    seen = checks(ing, monkeypatch)
    assert first_check(ing).new == 0
    for _ in range(4):
        result = bounded_tick(ing)
        assert (result.error, result.new, result.read) == (None, 0, 0)
    assert seen == [50]
    assert len(entries(db)) == 120
    ing.source.dispose()


def test_a_run_of_checks_ends_at_the_first_that_takes_none(
    db: Database, cms_at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some fixed among many still refused: the run goes on while a check takes a row, and
    stops at the first check that takes none, whatever still waits."""
    monkeypatch.setattr(unordered, "STORE_WRITTEN", 5)
    cms, ing = refused_cms(db, cms_at, 30, batch=10)
    order = sorted(entries(db), key=int)  # the check order: longest unchecked, then by entry
    fix(cms, f"id IN ({order[0]}, {order[7]})")  # one in the first check's 5, one in the second
    seen = checks(ing, monkeypatch)
    news = [first_check(ing).new] + [bounded_tick(ing).new for _ in range(5)]
    assert sum(news) == 2, news
    assert seen == [5, 5, 5]  # took one, took one, took none: the run ends
    assert len(entries(db)) == 28
    ing.source.dispose()


def test_no_run_when_a_check_writes_every_refused_row(
    db: Database, cms_at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No more waiting than one check writes: all taken, the next tick does not check again."""
    cms, ing = refused_cms(db, cms_at, 30, batch=10)
    fix(cms, "title LIKE 'Tin CẤM%'")
    seen = checks(ing, monkeypatch)
    assert first_check(ing).new == 30
    assert [bounded_tick(ing).read for _ in range(2)] == [0, 0]
    assert seen == [30]
    ing.source.dispose()
