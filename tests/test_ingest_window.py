"""The overlap window cannot be fooled by changes that cancel out (issue 18 §2).

A count-only check missed a late commit whenever, in the same poll interval, another row of
the window was deleted, unpublished or moved out by an edit. Each case here fails that check.
SQLite and PostgreSQL state DBs, the built-in source; external sources in
``test_source_external.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from factories import article, builtin_ingestor, tick_changes
from sqlalchemy import delete, select, update

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.schema import articles, source_articles
from feedsvc.ingest import Ingestor
from feedsvc.store.source_articles import upsert_source_articles

T = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def add(db: Database, item: Article, at: datetime) -> None:
    with db.write() as conn:
        upsert_source_articles(conn, [item], at)


def drop(db: Database, *numbers: int) -> None:
    with db.write() as conn:
        keys = [article(n).source_key for n in numbers]
        conn.execute(delete(source_articles).where(source_articles.c.source_key.in_(keys)))


def held(db: Database) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(select(articles.c.source_key)).scalars())


def deleted_neighbour(db: Database) -> set[int]:
    """The issue's case: row 1 (row 2's neighbour) deleted, row 3 late behind the cursor."""
    drop(db, 1)
    add(db, article(3), T - timedelta(seconds=5))
    return {3}


def same_instant(db: Database) -> set[int]:
    """The late row lands on the deleted row's exact timestamp (a per-instant check fails)."""
    drop(db, 1)
    add(db, article(3), T - timedelta(seconds=10))
    return {3}


def edited_out(db: Database) -> set[int]:
    """Row 1 is edited (its cursor moves far ahead) while row 3 commits late."""
    first = article(1)
    edit = replace(first, title="Đính chính", updated_at=first.published_at + timedelta(days=1))
    add(db, edit, T + timedelta(seconds=400))
    add(db, article(3), T - timedelta(seconds=5))
    return {3}


CASES: dict[str, Callable[[Database], set[int]]] = {
    "deleted-neighbour": deleted_neighbour,
    "same-instant": same_instant,
    "edited-out": edited_out,
}


@pytest.mark.parametrize("case", list(CASES))
def test_late_commit_with_a_cancelling_change_is_ingested(db: Database, case: str) -> None:
    ing = builtin_ingestor(db)
    add(db, article(1), T - timedelta(seconds=10))
    add(db, article(2), T)
    assert ing.tick().new == 2
    late = CASES[case](db)
    result, changes = tick_changes(ing)
    assert result.error is None
    assert {c.article.source_key for c in changes if c.is_new} == {
        article(n).source_key for n in late
    }
    assert ing.tick().read == 0  # found once, then held: not re-read every tick


def test_two_deletes_and_two_late_inserts(db: Database) -> None:
    ing = builtin_ingestor(db)
    for n, seconds in ((1, 30), (2, 20), (3, 0)):
        add(db, article(n), T - timedelta(seconds=seconds))
    assert ing.tick().new == 3
    drop(db, 1, 2)
    add(db, article(4), T - timedelta(seconds=25))
    add(db, article(5), T - timedelta(seconds=15))
    assert {c.article.source_key for c in tick_changes(ing)[1]} == {"TEST-00004", "TEST-00005"}
    assert held(db) >= {"TEST-00004", "TEST-00005"}


def test_late_row_outside_the_window_is_not_reread(db: Database) -> None:
    """The window is bounded: older late rows stay a documented limit, and idle stays idle."""
    ing = builtin_ingestor(db, overlap_seconds=60)
    add(db, article(1), T)
    assert ing.tick().new == 1
    drop(db, 1)
    add(db, article(2), T - timedelta(seconds=120))
    result = ing.tick()
    assert (result.read, result.new) == (0, 0)


def test_rows_stored_before_ids_were_kept_are_not_reread(db: Database) -> None:
    """Articles from before migration 0003 have no source id: no endless re-reads of them."""
    ing = builtin_ingestor(db)
    add(db, article(1), T - timedelta(seconds=10))
    add(db, article(2), T)
    assert ing.tick().new == 2
    with db.write() as conn:
        conn.execute(update(articles).values(source_id=None))
    assert ing.tick().read == 0
    add(db, article(3), T - timedelta(seconds=5))  # a late row is still found among them
    assert [c.article.source_key for c in tick_changes(ing)[1]] == ["TEST-00003"]


def test_same_version_reread_moves_only_the_bookkeeping(db: Database) -> None:
    """A row whose cursor moved without a new version (e.g. a CMS touch) is recorded where it
    is now, so the window does not find it again; the copy itself is unchanged."""
    ing: Ingestor = builtin_ingestor(db)
    add(db, article(1), T - timedelta(seconds=10))
    add(db, article(2), T)
    assert ing.tick().new == 2
    with db.write() as conn:  # a late "touch": the cursor column moves back inside the window
        conn.execute(
            update(source_articles)
            .where(source_articles.c.source_key == "TEST-00001")
            .values(changed_at=T - timedelta(seconds=3))
        )
    first = ing.tick()
    assert (first.read, first.stored) == (1, 0)
    assert ing.tick().read == 0
