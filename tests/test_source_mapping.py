"""`[source.columns]` SQL expressions as an operator writes them (``feedsvc.source.mapping``).

Every mapped column is selected on one line; an expression that ends in a line comment
(``-- …``, MySQL/MariaDB ``# …``) swallowed its own alias and every column mapped after it.
With ``updated_at = "edited -- the edit time"`` the ``visible`` expression was gone: every draft
of the CMS was published, without an error anywhere (``source check`` said OK).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cms_table import COLUMNS, Cms, cms_table
from conftest import mariadb_database
from lifecycle_world import make_world
from sqlalchemy import create_engine, text

from feedsvc.db import Database
from feedsvc.source import external_source

#: Comments after an expression, each on a field mapped before `visible`, and on `visible`.
COMMENTED = {
    "updated_at": {"updated_at": "edited -- the edit time"},
    "title": {"title": "title -- the headline"},
    "source_key": {"source_key": "TRIM(slug) -- keys are trimmed"},
    "visible": {"visible": "status = 'published' -- only published posts"},
    "two": {"published_at": "created --", "visible": "status = 'published'--"},
}


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


@pytest.mark.parametrize("change", list(COMMENTED), ids=list(COMMENTED))
def test_a_trailing_comment_hides_no_other_column(db: Database, cms: Cms, change: str) -> None:
    columns = COLUMNS.model_copy(update=COMMENTED[change])
    w = make_world(db, cms.clock, source=cms.source(columns))
    t0 = cms.clock()
    cms.put(1, "published", t0 - timedelta(minutes=10), title="Công an Kiến Thụy tin một")
    cms.put(2, "draft", t0 - timedelta(minutes=9))
    cms.put(3, None, t0 - timedelta(minutes=8))
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    assert [k for k, _, _ in w.deliveries()] == ["TEST-00001"]


def test_mariadb_hash_and_dash_comments(tmp_path: Path) -> None:
    """MariaDB's own line comment, ``#``, and ``-- `` end at the expression's end too."""
    with mariadb_database("feedsvc_mapcomment") as url:
        engine = create_engine(url)
        at = datetime(2026, 12, 3, 8, 0)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE posts (id INT PRIMARY KEY, slug VARCHAR(50), link VARCHAR(200),"
                    " title VARCHAR(200), status VARCHAR(20), created DATETIME,"
                    " modified DATETIME, edited DATETIME)"
                )
            )
            for n, status in ((1, "published"), (2, "draft")):
                conn.execute(
                    text("INSERT INTO posts VALUES (:n, :s, :l, 'Tin', :st, :at, :at, :at)"),
                    {"n": n, "s": f"K{n}", "l": f"https://e.vn/{n}", "st": status, "at": at},
                )
        engine.dispose()
        for updated in ("edited # the edit time", "edited -- the edit time"):
            columns = COLUMNS.model_copy(update={"updated_at": updated})
            source = external_source(url, "posts", columns, UTC)
            try:
                rows = {r.record["source_key"]: r.record for r in source.latest(10)}
            finally:
                source.dispose()
            assert rows["K1"]["withdrawn"] is False and rows["K2"]["withdrawn"] is True
            assert rows["K1"]["updated_at"] == at
