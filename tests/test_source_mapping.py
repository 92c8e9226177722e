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
from sqlalchemy import create_engine, select, text
from test_ingest_quarantine import entries

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.topic_index import TopicIndex

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


# -- SQLite: a column's value read as stored, not through SQLAlchemy's type conversion ----------

SQLITE_COLUMNS = COLUMNS.model_copy(
    update={"cursor": "modified", "updated_at": "edited", "visible": "shown"}
)
#: (published_at, updated_at, shown) as a SQLite CMS may hold them in TIMESTAMP/BOOLEAN columns,
#: and the quarantine reason expected (None: ingested).
SQLITE_ROWS: list[tuple[object, object, object, str | None]] = [
    ("2026-11-30 10:00:00", None, 1, None),
    ("2026-02-30 10:00:00", None, 1, "published_at: no such date: '2026-02-30 10:00:00'"),
    (1764756000, None, 1, None),  # Unix seconds (NukeViet, Drupal): 2025-12-03 10:00 UTC
    (1764756000000, None, 1, "published_at: expected an ISO 8601 timestamp, got the number"),
    (42, None, 1, "published_at: expected an ISO 8601 timestamp, got the number"),  # an id?
    ("2026-11-30 10:00:00", 0, 1, None),  # NukeViet's "never edited"
    ("2026-11-30 10:00:00", "garbage", 1, "updated_at: not an ISO 8601 timestamp: 'garbage'"),
    ("2026-11-30 10:00:00", "0000-00-00 00:00:00", 1, None),  # MySQL's "never set"
    ("2026-11-30 10:00:00", "2026-11-00 00:00:00", 1, "updated_at: no such date"),
    ("2026-11-30", "2026-11-30 11:00:00.5", "t", None),
    ("2026-11-30 10:00:00+07:00", None, "true", None),
]
#: Legacy text booleans (a Rails CMS wrote 't'/'f'): SQLAlchemy's BOOLEAN read 'f' as True.
SQLITE_DRAFTS: list[object] = ["f", "false", 0, "0", "no"]


def test_sqlite_values_are_read_as_stored(db: Database, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cms.db'}"
    engine = create_engine(url)
    rows = [(*r[:3], r[3]) for r in SQLITE_ROWS] + [
        ("2026-11-30 10:00:00", None, shown, None) for shown in SQLITE_DRAFTS
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT,"
                " created TIMESTAMP, edited DATETIME, modified TIMESTAMP, shown BOOLEAN)"
            )
        )
        for n, (created, edited, shown, _) in enumerate(rows, 1):
            conn.execute(
                text(
                    "INSERT INTO posts VALUES (:n, :slug, :link, 'Tin Kiến Thụy', :created,"
                    " :edited, :modified, :shown)"
                ),
                {
                    "n": n, "slug": f"p-{n}", "link": f"https://e.vn/{n}", "created": created,
                    "edited": edited, "modified": f"2026-11-30 12:{n:02d}:00", "shown": shown,
                },
            )  # fmt: skip
    engine.dispose()
    source = external_source(url, "posts", SQLITE_COLUMNS, UTC)
    ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=60,
                   batch_size=50)  # fmt: skip
    try:
        assert ing.tick().error is None
    finally:
        source.dispose()
    with db.read() as conn:
        stmt = select(articles.c.source_key, articles.c.withdrawn_reason)
        held = {key: reason for key, reason in conn.execute(stmt)}
    bad = entries(db)
    for n, (_, _, _, reason) in enumerate(rows, 1):
        if reason is None:
            assert n <= len(SQLITE_ROWS) or held[f"p-{n}"] == "draft", (n, held)
            assert n > len(SQLITE_ROWS) or held[f"p-{n}"] is None, (n, held)
            assert str(n) not in bad
        else:
            assert f"p-{n}" not in held
            assert (bad[str(n)].stage, bad[str(n)].reason[: len(reason)]) == ("parse", reason)


def test_the_builtin_table_keeps_its_own_utc_times(db: Database) -> None:
    """The built-in table is feedsvc's own (``UTCDateTime``: naive UTC text on SQLite, read
    back as UTC): its times are never read raw, which would take them for ``site.timezone``'s
    wall time, 7 hours off in Vietnam, and show a scheduled article early."""
    from factories import article

    from feedsvc.source import builtin_source
    from feedsvc.store.source_articles import upsert_source_articles

    at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    with db.write() as conn:
        upsert_source_articles(conn, [article(1, published_at=at, updated_at=at)], at)
    source = builtin_source(db.engine)
    [row] = source.latest(1)
    assert row.record["published_at"] == at and row.record["updated_at"] == at


@pytest.mark.parametrize("tags", [("An ninh - Trật tự",), ("Thể thao", "Bóng đá"), ()])
def test_the_builtin_tables_tags_stay_a_list(db: Database, tags: tuple[str, ...]) -> None:
    """Its ``tags`` (a JSON list) read raw on SQLite were one tag, the JSON text
    (``'["An ninh - Tr\\u1eadt t\\u1ef1"]'``), in every feed's categories."""
    from factories import article

    from feedsvc.source import builtin_source
    from feedsvc.store.source_articles import upsert_source_articles

    at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    with db.write() as conn:
        upsert_source_articles(conn, [article(1, published_at=at, tags=tags)], at)
    [row] = builtin_source(db.engine).latest(1)
    assert list(row.record["tags"] or []) == list(tags)


def test_an_external_sqlite_json_column_is_read_as_a_list(db: Database, tmp_path: Path) -> None:
    """A CMS's ``JSON`` column of tags is parsed, as before the values were read raw."""
    url = f"sqlite:///{tmp_path / 'cms.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT,"
            " created TIMESTAMP, modified TIMESTAMP, labels JSON)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO posts VALUES (1, 'p-1', 'https://e.vn/1', 'Tin', '2026-11-30 10:00:00',"
            " '2026-11-30 12:00:00', '[\"An ninh\", \"Hải Phòng\"]')"
        ))  # fmt: skip
    engine.dispose()
    columns = SourceColumns(
        cursor="modified", source_key="slug", url="link", published_at="created", tags="labels",
        summary=None, body=None, author=None, section=None, image_url=None, updated_at=None,
    )  # fmt: skip
    source = external_source(url, "posts", columns, UTC)
    try:
        [row] = source.latest(1)
    finally:
        source.dispose()
    assert list(row.record["tags"]) == ["An ninh", "Hải Phòng"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("cursor", "COALESCE(updated, created)"),  # a tester's: said as a missing column
        ("cursor", "max(updated, created)"),
        ("id", "CAST(nid AS TEXT)"),
        ("cursor", "post-modified"),  # a typo'd name: a missing column, as before
    ],
)
def test_an_expression_for_the_cursor_or_id_is_said_so(
    tmp_path: Path, key: str, value: str
) -> None:
    import sqlite3

    from source_checks import run_check

    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE news2 (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title TEXT, created TEXT, updated TEXT)")  # fmt: skip
    mapping = {"cursor": "created", "id": "id", key: value}
    mapping |= {"source_key": "slug", "url": "link", "title": "title", "published_at": "created"}
    result = run_check(tmp_path, f"sqlite:///{cms}", "news2", mapping)
    assert result.exit_code == 2, result.output
    if "(" in value:
        said = f'"{value}" is an expression, not a column of table news2: {key} must be a column'
        assert said in result.output and "not in table" not in result.output
    else:
        assert f'column "{value}" not in table news2' in result.output
    checked = run_check(tmp_path, f"sqlite:///{cms}", "news2", mapping, command="config")
    assert checked.exit_code == 0
    assert checked.output.endswith(  # the command, with the --config given (test_cli_hints_config)
        " source check` tries it)\n"
    )
