"""A catch-up's last line counts what it read and what it holds back, in the same words.

A tester's: a MariaDB CMS with one row whose ``modified`` was '9999-12-31' logged ``ingest from
external:news: caught up, 19 / 20 rows (95.0%)``: caught up, yet 5 % short, and nothing said
that the missing row was held back for its time, not lost. Now: ``caught up, 19 rows, …; 1 row
held back, dated ahead of now (read when its time comes)``. Real sources: the built-in table on
both state DBs, and the tester's MariaDB table.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import mariadb_database
from factories import VN, article, builtin_ingestor
from sqlalchemy import create_engine, text

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.topic_index import TopicIndex


def caught_up(caplog: pytest.LogCaptureFixture) -> str:
    [line] = [r.getMessage() for r in caplog.records if "caught up" in r.getMessage()]
    return line


@pytest.mark.parametrize(("ahead", "held"), [(1, "1 row held back"), (3, "3 rows held back")])
def test_rows_held_back_are_said_as_such_not_as_a_shortfall(
    db: Database, caplog: pytest.LogCaptureFixture, ahead: int, held: str
) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        for n in range(1, 20):
            upsert_source_articles(conn, [article(n)], now - timedelta(minutes=n))
        for n in range(20, 20 + ahead):  # a CMS clock far ahead, a date typed wrong
            upsert_source_articles(conn, [article(n)], now + timedelta(days=400 * n))
    caplog.set_level(logging.INFO, logger="feedsvc.ingest")
    result = builtin_ingestor(db, batch_size=5, overlap_seconds=0).tick()
    assert (result.new, result.error) == (19, None)
    line = caught_up(caplog)
    assert "caught up, 19 rows, " in line, line
    assert f"; {held}, dated ahead of now (read when" in line, line
    assert " / " not in line and "%" not in line, line


def test_nothing_held_back_says_nothing_of_it(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        for n in range(1, 13):
            upsert_source_articles(conn, [article(n)], now - timedelta(minutes=n))
    caplog.set_level(logging.INFO, logger="feedsvc.ingest")
    builtin_ingestor(db, batch_size=5).tick()
    line = caught_up(caplog)
    assert line.endswith(" rows/s") and "caught up, 12 rows, " in line, line


def test_the_testers_mariadb_row_dated_9999(
    lite_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with mariadb_database("fops_held") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(
                "CREATE TABLE news (id INT PRIMARY KEY, slug VARCHAR(100) NOT NULL, "
                "link VARCHAR(300) NOT NULL, title VARCHAR(300) NOT NULL, "
                "created DATETIME NOT NULL, modified DATETIME NOT NULL)"
            ))  # fmt: skip
            for n in range(1, 21):
                modified = "9999-12-31 00:00:00" if n == 7 else f"2026-01-01 10:{n:02d}:00"
                conn.execute(
                    text("INSERT INTO news VALUES (:n, :slug, :link, :title, :c, :m)"),
                    {"n": n, "slug": f"S-{n}", "link": f"https://example.vn/{n}.html",
                     "title": f"Tin số {n}", "c": "2026-01-01 09:00:00", "m": modified},
                )  # fmt: skip
        engine.dispose()
        columns = SourceColumns(
            cursor="modified", source_key="slug", url="link", published_at="created"
        )
        source = external_source(url, "news", columns, VN)
        caplog.set_level(logging.INFO, logger="feedsvc.ingest")
        ing = Ingestor(lite_db, source, TopicIndex(), tz=VN, poll_seconds=1, batch_size=5,
                       overlap_seconds=0)  # fmt: skip
        result = ing.tick()
        source.engine.dispose()
    assert (result.new, result.error) == (19, None)
    line = caught_up(caplog)
    assert "from external:news: caught up, 19 rows, " in line, line
    assert "; 1 row held back, dated ahead of now (read when its time comes)" in line, line
    assert "19 / 20" not in line and "95.0%" not in line
