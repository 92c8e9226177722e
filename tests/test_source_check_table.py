"""``feedsvc source check`` with a ``source.table`` the database does not have names the tables
it has.

A mistyped column was told with the table's columns; a mistyped table (``baiviet`` for the
sample CMS's ``bai_viet``, ``news`` for ``news_articles``) or a ``source.url`` naming the wrong
database said only "table 'baiviet' not found", exit 2, and the operator had to open a DB
client to see what was there. The tables and views the source's user sees are listed now (in
the schema of a ``schema.table``), at most 30, and a database or schema with none says so;
`feedsvc run`'s ingest, which logged ``NoSuchTableError: baiviet`` at each retry, says the same.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import pytest
from click.testing import Result
from conftest import mariadb_database
from source_checks import run_check
from sqlalchemy import Engine, create_engine

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.source.mapping import SourceError
from feedsvc.store.cursors import get_cursor
from feedsvc.topic_index import TopicIndex

MAPPING = {
    "cursor": "modified", "source_key": "slug", "url": "link", "title": "title",
    "published_at": "created",
}  # fmt: skip


def check(tmp_path: Path, url: str, table: str) -> Result:
    return run_check(tmp_path, url, table, MAPPING)


def sqlite_cms(tmp_path: Path, *tables: str, views: tuple[str, ...] = ()) -> str:
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        for name in tables:
            conn.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, slug TEXT)")
        for name in views:
            conn.execute(f"CREATE VIEW {name} AS SELECT 1 AS id")
    return f"sqlite:///{cms}"


def problem_line(result: Result) -> str:
    [line] = [ln for ln in result.output.splitlines() if ln.startswith("  source.table:")]
    return line


def test_a_mistyped_table_is_told_with_the_tables_there(tmp_path: Path) -> None:
    url = sqlite_cms(tmp_path, "news_articles", "tags", views=("published_news",))
    result = check(tmp_path, url, "news")
    assert result.exit_code == 2, result.output
    assert problem_line(result) == (
        "  source.table: table 'news' not found "
        "(tables and views: news_articles, published_news, tags)"
    )


def test_many_tables_are_cut_with_a_count(tmp_path: Path) -> None:
    url = sqlite_cms(tmp_path, *(f"t{n:02d}" for n in range(40)))
    line = problem_line(check(tmp_path, url, "news"))
    assert "t00, t01" in line and "t29" in line and "t30" not in line
    assert line.endswith(", and 10 more)")


def test_an_empty_database_says_it_may_be_the_wrong_one(tmp_path: Path) -> None:
    url = sqlite_cms(tmp_path)
    line = problem_line(check(tmp_path, url, "news"))
    assert line == (
        "  source.table: table 'news' not found: the database in source.url has no table or "
        "view its user can see (is it the CMS's?)"
    )


@pytest.mark.mysql
def test_the_sample_cms_table_mistyped_on_mariadb(tmp_path: Path) -> None:
    with mariadb_database("feedsvc_notable") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bai_viet (id INT PRIMARY KEY, ma_bai TEXT)")
            conn.exec_driver_sql("CREATE TABLE chuyen_muc (id INT PRIMARY KEY, ten TEXT)")
        engine.dispose()
        result = check(tmp_path, url, "baiviet")
    assert result.exit_code == 2, result.output
    assert problem_line(result) == (
        "  source.table: table 'baiviet' not found (tables and views: bai_viet, chuyen_muc)"
    )


@pytest.mark.postgres
def test_a_schema_table_is_told_with_its_schemas_tables(pg_url: str, tmp_path: Path) -> None:
    """``schema.table`` on PostgreSQL: the tables of that schema; a schema with none (a typo
    in the schema's name) is said to have none."""
    schema = pg_url.rsplit("search_path%3D", 1)[1]
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE news_articles (id INT PRIMARY KEY, slug TEXT)")
        conn.exec_driver_sql("CREATE VIEW published AS SELECT id FROM news_articles")
    engine.dispose()
    line = problem_line(check(tmp_path, pg_url, f"{schema}.news"))
    assert line == (
        f"  source.table: table '{schema}.news' not found "
        "(tables and views: news_articles, published)"
    )
    line = problem_line(check(tmp_path, pg_url, "nosuchschema.news"))
    assert line == (
        "  source.table: table 'nosuchschema.news' not found: schema 'nosuchschema' has no "
        "table or view its user can see (is it the CMS's?)"
    )


def test_ingest_says_the_same_and_takes_the_table_once_it_is_there(
    lite_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`feedsvc run`'s ingest logged ``NoSuchTableError: news`` and `status` showed it as the
    last error: the same words as `source check` now, in the log line and the recorded error;
    a table created later (a view added for feedsvc) is read at the next tick."""
    url = sqlite_cms(tmp_path, "posts_old")
    columns = SourceColumns(cursor="modified", source_key="slug", url="link", title="title",
                            published_at="created")  # fmt: skip
    source = external_source(url, "news", columns, UTC)
    ing = Ingestor(lite_db, source, TopicIndex(), tz=UTC, poll_seconds=30, overlap_seconds=300,
                   batch_size=100)  # fmt: skip
    caplog.set_level(logging.INFO, logger="feedsvc")
    said = "source.table: table 'news' not found (tables and views: posts_old)"
    failed = ing.tick()
    assert failed.error is not None and said in failed.error, failed.error
    assert "NoSuchTableError" not in failed.error
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert said in line and "failed (1 in a row)" in line, line
    with lite_db.read() as conn:
        assert said in (get_cursor(conn, source.name).last_error or "")
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("CREATE TABLE news (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, "
                     "title TEXT, created TEXT, modified TEXT)")  # fmt: skip
        conn.execute("INSERT INTO news VALUES (1, 'N-1', 'https://e.vn/1', 'Tin', "
                     "'2026-11-30 10:00:00', '2026-11-30 10:00:00')")  # fmt: skip
    ing.backoff.retry_at = None  # the backoff step (30 s) over
    assert ing.tick().new == 1
    source.dispose()


POSTS = (
    "CREATE TABLE posts (id INT PRIMARY KEY, slug VARCHAR(50), link TEXT, title TEXT,"
    " created DATETIME, modified DATETIME)"
)


@contextmanager
def mariadb_reader(*statements: str) -> Iterator[tuple[Engine, dict[str, str], str]]:
    """A fresh MariaDB database with ``posts`` and a reader user, ``statements`` run as root
    after them (``{db}``, ``{user}`` filled in: its grants, views): (root's engine, those
    fillers, the reader's URL). The user is dropped afterwards."""
    user, password = f"fv_{uuid.uuid4().hex[:8]}", "reader-pw-123"
    with mariadb_database("feedsvc_reader") as url:
        admin = create_engine(url)
        names = {"db": url.rsplit("/", 1)[1].split("?")[0], "user": f"'{user}'@'%%'"}
        try:
            with admin.begin() as conn:
                conn.exec_driver_sql(POSTS)
                conn.exec_driver_sql(f"CREATE USER {names['user']} IDENTIFIED BY '{password}'")
                for statement in statements:
                    conn.exec_driver_sql(statement.format(**names))
            yield admin, names, url.replace("root@", f"{user}:{password}@")
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP USER {names['user']}")
            admin.dispose()


@pytest.mark.parametrize("command", ["source check", "ingest"])
def test_a_view_without_show_view_says_which_grant(tmp_path: Path, command: str) -> None:
    """A MariaDB view as ``source.table``, its reader user given ``GRANT SELECT`` as for a
    table: describing a view needs ``SHOW VIEW`` (error 1142), which `source check` reported
    as "cannot connect to the source" (exit 1) and ingest retried for good (a tester's). Both
    now name the grant to add; with it, the view is read."""
    view = "CREATE VIEW news AS SELECT * FROM posts"
    with mariadb_reader(view, "GRANT SELECT ON {db}.news TO {user}") as (admin, names, reader):
        if command == "source check":
            result = check(tmp_path, reader, "news")
            assert result.exit_code == 2, result.output
            said = problem_line(result)
        else:
            columns = SourceColumns(**MAPPING)
            with pytest.raises(SourceError) as caught:
                external_source(reader, "news", columns, UTC).bind()
            said = str(caught.value)
        assert "news is a view" in said and "GRANT SELECT, SHOW VIEW ON" in said, said
        with admin.begin() as conn:
            conn.exec_driver_sql("GRANT SHOW VIEW ON {db}.news TO {user}".format(**names))
        assert check(tmp_path, reader, "news").exit_code == 0


FAULTS = {
    "no grant on the table": (
        ("CREATE TABLE other (id INT PRIMARY KEY)", "GRANT SELECT ON {db}.other TO {user}"),
        "posts", "the user in source.url may not read posts: GRANT SELECT",
    ),
    "a view over a dropped table": (
        ("CREATE VIEW news AS SELECT * FROM posts", "GRANT SELECT, SHOW VIEW ON {db}.* TO {user}",
         "DROP TABLE posts"),
        "news", "news is a view that refers to a table or column that is gone",
    ),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_table_the_user_may_not_read_or_a_broken_view_is_named(
    tmp_path: Path, fault: str
) -> None:
    """MariaDB's 1142 on a table the reader was given no SELECT on, and 1356 for a view whose
    table was dropped, read "cannot connect to the source" (exit 1; a verifier's). Each now
    says what is wrong and what to do, exit 2."""
    statements, table, said = FAULTS[fault]
    with mariadb_reader(*statements) as (_, _, reader):
        result = check(tmp_path, reader, table)
    assert result.exit_code == 2, result.output
    assert said in problem_line(result), result.output
    assert "cannot connect" not in result.output
