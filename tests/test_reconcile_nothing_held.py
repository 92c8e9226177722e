"""A reconciliation pass reads the source even when the state DB holds no article of it.

``source reconcile`` before the first ingest said "0 rows in the source" without reading the
table — even one that does not exist (a tester's): ``Reconciler.run`` returned at once when
nothing was held. It reads the window now: the rows counted are the table's, and a table or
column the mapping names that is not there raises the mapping's ``SourceError`` (the CLI's
exit 2, as ``source check``), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cms_table import COLUMNS, Cms, cms_table

from feedsvc.db import Database
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.source import SourceError
from feedsvc.source.engine import external_source


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


@pytest.mark.parametrize("rows", [0, 1, 3])
def test_nothing_held_counts_the_rows_read(db: Database, cms: Cms, rows: int) -> None:
    for n in range(1, rows + 1):
        cms.put(n, "published", cms.clock() - timedelta(hours=n))
    cms.put(9, "published", cms.clock() - timedelta(days=30))  # outside the 7-day window
    source = external_source(cms.url, "posts", COLUMNS)
    try:
        done = Reconciler(db, source, days=7, clock=cms.clock).run()
    finally:
        source.dispose()
    assert (done.held, done.seen, done.withdrawn, done.refused) == (0, rows, (), None)


@pytest.mark.parametrize(
    ("table", "mapped", "key"),
    [
        ("postz", {}, "source.table"),  # mistyped, or renamed/dropped in the CMS
        ("posts", {"cursor": "modifed"}, "source.columns.cursor"),
        ("posts", {"published_at": "publishd"}, "source.columns.published_at"),
    ],
)
def test_nothing_held_still_finds_a_mapping_error(
    db: Database, cms: Cms, table: str, mapped: dict[str, str], key: str
) -> None:
    cms.put(1, "published", cms.clock() - timedelta(hours=1))
    source = external_source(cms.url, table, COLUMNS.model_copy(update=mapped))
    try:
        with pytest.raises(SourceError) as refused:
            Reconciler(db, source, days=7, clock=cms.clock).run()
    finally:
        source.dispose()
    assert key in [k for k, _ in refused.value.problems], refused.value.problems
