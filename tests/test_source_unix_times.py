"""A CMS that stores times as Unix seconds in integer columns (NukeViet's ``publtime`` and
``edittime``, Drupal's ``created``/``changed``): mapped as they are, read as the instants they
are, whatever the site's zone (a tester's: refused with "expected an ISO 8601 timestamp, got
the number 1796458330"; ``FROM_UNIXTIME(publtime)``, the way round, read 7 hours early and
turned reconciliation off). 0 is "never" (a NukeViet article never edited); milliseconds are
refused naming the number. The CMS table on the state DB's backend (a SQLite file, or
PostgreSQL, whose ``NUMERIC`` the driver gives as ``Decimal``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from lifecycle_world import Clock, World, make_world
from source_checks import run_check
from sqlalchemy import Engine, create_engine, select, text

from feedsvc.article_errors import ArticleError
from feedsvc.articles import parse_article
from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.source import external_source
from feedsvc.source.values import field_record
from feedsvc.store import quarantine

COLUMNS = SourceColumns(
    cursor="edittime", source_key="alias", url="link", title="title",
    published_at="publtime", updated_at="edittime",
)  # fmt: skip


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'cms.db'}" if db.dialect == "sqlite" else str(db.url)
    number = "INTEGER" if db.dialect == "sqlite" else "NUMERIC(20)"  # PG: Decimal values
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            f"CREATE TABLE nv_rows (id INTEGER PRIMARY KEY, alias VARCHAR(100) NOT NULL, "
            f"link VARCHAR(300) NOT NULL, title VARCHAR(300) NOT NULL, publtime {number} "
            f"NOT NULL, edittime {number} NOT NULL)"
        ))  # fmt: skip
    yield url, engine
    engine.dispose()


def put(engine: Engine, n: int, publtime: int, edittime: int) -> None:
    row = {"n": n, "alias": f"TEST-{n:05d}", "link": f"https://example.vn/tin/{n}.html",
           "title": f"Công an Kiến Thụy tin số {n}", "p": publtime, "e": edittime}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO nv_rows VALUES (:n, :alias, :link, :title, :p, :e)"), row)


def stored(db: Database) -> dict[str, tuple[object, object]]:
    with db.read() as conn:
        stmt = select(articles.c.source_key, articles.c.published_at, articles.c.updated_at)
        return {key: (p, u) for key, p, u in conn.execute(stmt)}


def world(db: Database, url: str, clock: Clock) -> World:
    return make_world(db, clock, source=external_source(url, "nv_rows", COLUMNS, UTC))


def test_unix_seconds_are_the_instants_they_say(db: Database, cms: tuple[str, Engine]) -> None:
    url, engine = cms
    clock = Clock()
    w = world(db, url, clock)
    now = int(clock().timestamp())
    put(engine, 1, now - 600, now - 60)  # published 10 minutes ago, edited a minute ago
    put(engine, 2, now - 300, 0)  # never edited: NukeViet's 0
    w.poll()
    times = stored(db)
    one, two = times["TEST-00001"], times["TEST-00002"]
    assert one == (clock() - timedelta(seconds=600), clock() - timedelta(seconds=60))
    assert two == (clock() - timedelta(seconds=300), None)  # the version: its publication
    assert w.feed_keys("rss") == ["2.html", "1.html"]


@pytest.mark.parametrize("publtime", ["ms", "negative", "small"])
def test_a_number_that_is_no_unix_seconds_is_refused_naming_it(
    db: Database, cms: tuple[str, Engine], publtime: str
) -> None:
    url, engine = cms
    clock = Clock()
    w = world(db, url, clock)
    now = int(clock().timestamp())
    value = {"ms": now * 1000, "negative": -5, "small": 42}[publtime]  # small: an id mapped?
    put(engine, 1, value, now - 60)
    w.poll()
    with db.read() as conn:
        [entry] = quarantine.newest(conn, 10)
    assert entry.row.stage == "parse" and str(value) in entry.row.reason
    assert "published_at" in entry.row.reason


def test_source_check_takes_integer_time_columns(tmp_path: Path) -> None:
    cms = tmp_path / "cms.db"
    engine = create_engine(f"sqlite:///{cms}")
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE nv_rows (id INTEGER PRIMARY KEY, alias TEXT NOT NULL, link TEXT NOT "
            "NULL, title TEXT NOT NULL, publtime INTEGER NOT NULL, edittime INTEGER NOT NULL)"
        ))  # fmt: skip
    now = int(Clock()().timestamp())
    put(engine, 1, now - 600, now - 60)
    engine.dispose()
    result = run_check(tmp_path, f"sqlite:///{cms}", "nv_rows", {
        "cursor": "edittime", "source_key": "alias", "url": "link", "title": "title",
        "published_at": "publtime", "updated_at": "edittime",
    })  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "REJECTED" not in result.output and "expected an ISO 8601" not in result.output


@pytest.mark.parametrize(
    "value",
    [5e11, 253_402_300_800, Decimal("NaN"), Decimal("Infinity"), float("nan"), float("inf"), -1],
)
def test_a_number_no_datetime_holds_is_handed_on_never_raised(value: object) -> None:
    """A reviewer's: 5e11 (the year 17814) and PostgreSQL's NUMERIC 'NaN' raised out of the
    read of the whole batch (a row then quarantined at stage ``read`` without its number)."""
    record, problem = field_record([(0, "published_at")], [value])
    assert problem is None and record["published_at"] is value
    with pytest.raises(ArticleError, match="published_at"):
        parse_article({"source_key": "k", "url": "https://e.vn/1", "title": "t", **record}, UTC)
