"""An external CMS table as the source, on the machine's real MariaDB and PostgreSQL (and a SQLite
file with text timestamps): column mapping, tags from a join table, naive times, a late commit
inside the overlap window, and the CMS going down. The state DB is SQLite: only the source varies.

Each test creates its own database (MariaDB) or schema (PostgreSQL) and drops it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import mariadb_database, pg_schema
from factories import VN, tick_changes
from processes import free_port
from sqlalchemy import Connection, Engine, create_engine, select, text

from feedsvc.config import SourceColumns
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles
from feedsvc.ingest import Ingestor
from feedsvc.source import SourceError, external_source
from feedsvc.store.cursors import get_cursor
from feedsvc.topic_index import TopicIndex

TAGS_SQL = {
    "mariadb": "(SELECT GROUP_CONCAT(t.name ORDER BY t.name SEPARATOR ',') FROM article_tags x "
    "JOIN tags t ON t.id = x.tag_id WHERE x.article_id = news_articles.id)",
    "postgres": "(SELECT string_agg(t.name, ',' ORDER BY t.name) FROM article_tags x "
    "JOIN tags t ON t.id = x.tag_id WHERE x.article_id = news_articles.id)",
}
DDL = {
    "mariadb": [
        "CREATE TABLE news_articles (id INT PRIMARY KEY, slug VARCHAR(100) NOT NULL, "
        "link VARCHAR(300) NOT NULL, tieu_de VARCHAR(300) NOT NULL, tom_tat TEXT NULL, "
        "ngay_dang DATETIME NOT NULL, ngay_sua DATETIME NOT NULL, KEY ix_sua (ngay_sua, id)) "
        "CHARSET=utf8mb4",
        "CREATE TABLE tags (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL) CHARSET=utf8mb4",
        "CREATE TABLE article_tags (article_id INT NOT NULL, tag_id INT NOT NULL, "
        "PRIMARY KEY (article_id, tag_id))",
    ],
    "postgres": [
        "CREATE TABLE news_articles (id INT PRIMARY KEY, slug VARCHAR(100) NOT NULL, "
        "link VARCHAR(300) NOT NULL, tieu_de VARCHAR(300) NOT NULL, tom_tat TEXT NULL, "
        "ngay_dang TIMESTAMP NOT NULL, ngay_sua TIMESTAMP NOT NULL)",
        "CREATE INDEX ix_sua ON news_articles (ngay_sua, id)",
        "CREATE TABLE tags (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)",
        "CREATE TABLE article_tags (article_id INT NOT NULL, tag_id INT NOT NULL, "
        "PRIMARY KEY (article_id, tag_id))",
    ],
}
TAGS = {1: "An ninh - Trật tự", 2: "Giao thông", 3: "Hải Phòng"}
NOW = datetime.now(VN).replace(tzinfo=None, microsecond=0)  # naive wall time in Vietnam


def mapping(backend: str) -> SourceColumns:
    return SourceColumns(
        id="id",
        cursor="ngay_sua",
        source_key="slug",
        url="link",
        title="tieu_de",
        summary="tom_tat",
        tags=TAGS_SQL[backend],
        published_at="ngay_dang",
        updated_at="ngay_sua",
    )


@dataclass
class Cms:
    backend: str
    url: str
    writer: Engine

    def add(self, conn: Connection, n: int, at: datetime, tags: tuple[int, ...] = (1,)) -> None:
        """Insert one article (and its tags) in the caller's transaction."""
        conn.execute(
            text(
                "INSERT INTO news_articles (id, slug, link, tieu_de, tom_tat, ngay_dang, ngay_sua)"
                " VALUES (:id, :slug, :link, :title, :summary, :at, :at)"
            ),
            {
                "id": n,
                "slug": f"cms-{n}",
                "link": f"https://baohaiphong.vn/tin/{n}.html",
                "title": f"Công an quận Lê Chân điều tra vụ việc số {n}",
                "summary": "Người dân phản ánh sự việc lúc sáng sớm.",
                "at": at,
            },
        )
        for tag in tags:
            conn.execute(text("INSERT INTO article_tags VALUES (:a, :t)"), {"a": n, "t": tag})

    def insert(self, n: int, at: datetime, tags: tuple[int, ...] = (1,)) -> None:
        with self.writer.begin() as conn:
            self.add(conn, n, at, tags)


def _setup(backend: str, url: str) -> Cms:
    writer = create_engine(url)
    with writer.begin() as conn:
        for ddl in DDL[backend]:
            conn.execute(text(ddl))
        for id_, name in TAGS.items():
            conn.execute(text("INSERT INTO tags VALUES (:i, :n)"), {"i": id_, "n": name})
    return Cms(backend, url, writer)


@pytest.fixture
def mariadb_cms() -> Iterator[Cms]:
    with mariadb_database("feedsvc_cms") as url:
        cms = _setup("mariadb", url)
        yield cms
        cms.writer.dispose()


@pytest.fixture
def postgres_cms() -> Iterator[Cms]:
    with pg_schema() as url:
        cms = _setup("postgres", url)
        yield cms
        cms.writer.dispose()


@pytest.fixture(params=["mariadb", "postgres"])
def cms(request: pytest.FixtureRequest) -> Cms:
    return request.getfixturevalue(f"{request.param}_cms")  # type: ignore[no-any-return]


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    yield db
    db.dispose()


def make_ingestor(state: Database, cms: Cms, url: str | None = None) -> Ingestor:
    source = external_source(url or cms.url, "news_articles", mapping(cms.backend), VN)
    return Ingestor(
        state, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=300, batch_size=2
    )


def stored(state: Database) -> dict[str, tuple[str, tuple[str, ...], datetime, str | None]]:
    with state.read() as conn:
        rows = conn.execute(
            select(
                articles.c.source_key,
                articles.c.title,
                articles.c.tags,
                articles.c.published_at,
                articles.c.body,
            )
        ).all()
    return {r[0]: (r[1], tuple(r[2] or ()), r[3], r[4]) for r in rows}


def test_mapping_tags_and_naive_times(state: Database, cms: Cms) -> None:
    cms.insert(1, NOW - timedelta(minutes=5), tags=(1, 3))
    cms.insert(2, NOW - timedelta(minutes=4), tags=())
    cms.insert(3, NOW - timedelta(minutes=3), tags=(2,))
    ingestor = make_ingestor(state, cms)
    result = ingestor.tick()
    assert (result.new, result.rejected, result.error) == (3, 0, None)
    rows = stored(state)
    title, tags, published, body = rows["cms-1"]
    assert title == "Công an quận Lê Chân điều tra vụ việc số 1"
    assert tags == ("An ninh - Trật tự", "Hải Phòng")
    assert rows["cms-2"][1] == () and rows["cms-3"][1] == ("Giao thông",)
    assert body is None  # `body` is not a column of this CMS: absent → null
    # a naive DATETIME is Vietnam wall time: the same instant, stored in UTC
    assert published == (NOW - timedelta(minutes=5)).replace(tzinfo=VN)
    assert published.utcoffset() == timedelta(0)
    with state.read() as conn:
        cursor = get_cursor(conn, "external:news_articles")
    native, id_ = ingestor.source.codec.decode(cursor.ts, cursor.id)
    assert (native, id_) == (NOW - timedelta(minutes=3), "3")  # the CMS's own naive value
    assert cursor.ts == (NOW - timedelta(minutes=3)).replace(tzinfo=VN)
    assert ingestor.tick().read == 0  # idle: nothing re-read, nothing 7 hours off


def test_out_of_order_commit_is_picked_up(state: Database, cms: Cms) -> None:
    ingestor = make_ingestor(state, cms)
    cms.insert(1, NOW - timedelta(seconds=60))
    with cms.writer.connect() as slow:
        tx = slow.begin()  # a long CMS transaction with an earlier timestamp ...
        cms.add(slow, 2, NOW - timedelta(seconds=40))
        cms.insert(3, NOW - timedelta(seconds=20))  # ... while a later row commits first
        assert {c.article.source_key for c in tick_changes(ingestor)[1]} == {"cms-1", "cms-3"}
        tx.commit()
    late = tick_changes(ingestor)[1]
    assert [c.article.source_key for c in late] == ["cms-2"]
    assert late[0].is_new
    assert ingestor.tick().stored == 0  # and never twice
    assert sorted(stored(state)) == ["cms-1", "cms-2", "cms-3"]


def test_late_commit_behind_a_deleted_row_is_picked_up(state: Database, cms: Cms) -> None:
    """Issue 18 §2 on naive DATETIME cursors: a delete and a late commit in one interval (at
    the deleted row's very second) do not cancel out."""
    ingestor = make_ingestor(state, cms)
    cms.insert(1, NOW - timedelta(seconds=60))
    cms.insert(2, NOW - timedelta(seconds=30))
    assert ingestor.tick().new == 2
    with cms.writer.begin() as conn:
        conn.execute(text("DELETE FROM article_tags WHERE article_id = 1"))
        conn.execute(text("DELETE FROM news_articles WHERE id = 1"))
    cms.insert(3, NOW - timedelta(seconds=60))
    late = tick_changes(ingestor)[1]
    assert [c.article.source_key for c in late] == ["cms-3"]
    assert ingestor.tick().read == 0


def test_cms_down_backs_off_keeps_cursor_and_recovers(state: Database, cms: Cms) -> None:
    cms.insert(1, NOW - timedelta(minutes=2))
    ingestor = make_ingestor(state, cms)
    assert ingestor.tick().new == 1
    with state.read() as conn:
        before = get_cursor(conn, "external:news_articles")
    good = ingestor.source.engine
    down = cms.url.replace(":3306/", f":{free_port()}/").replace(":5432/", f":{free_port()}/")
    ingestor.source.engine = create_engine(down, connect_args={"connect_timeout": 2})
    cms.insert(2, NOW - timedelta(minutes=1))
    failed = ingestor.tick()
    assert failed.error is not None and "OperationalError" in failed.error
    assert ingestor.tick().skipped  # backing off, not hammering the CMS
    with state.read() as conn:
        after = get_cursor(conn, "external:news_articles")
    assert (after.ts, after.id) == (before.ts, before.id)
    assert after.failures == 1 and after.last_error
    ingestor.source.engine = good  # back: the backoff probe sees it at the next tick
    assert ingestor.tick().new == 1
    with state.read() as conn:
        assert get_cursor(conn, "external:news_articles").failures == 0


def test_cms_down_at_boot_is_retried_not_fatal(state: Database, cms: Cms) -> None:
    cms.insert(1, NOW - timedelta(minutes=2))
    port = free_port()
    down = cms.url.replace(":3306/", f":{port}/").replace(":5432/", f":{port}/")
    ingestor = make_ingestor(state, cms, url=down)  # reflection is lazy: no error here
    failed = ingestor.tick()
    assert failed.error is not None and "OperationalError" in failed.error
    ingestor.source.engine = make_ingestor(state, cms).source.engine  # the CMS is back
    assert ingestor.tick().new == 1


def test_source_sessions_are_read_only(cms: Cms) -> None:
    source = make_ingestor(Database("sqlite://"), cms).source
    with pytest.raises(Exception, match=r"(?i)read.only"), source.engine.connect() as conn:
        conn.execute(text("DELETE FROM tags"))
    source.dispose()


def test_mapping_errors_name_their_keys(state: Database, cms: Cms) -> None:
    cols = mapping(cms.backend).model_copy(update={"title": "tieu_de_x", "author": "tac_gia"})
    cols.model_fields_set.update({"title", "author"})
    source = external_source(cms.url, "news_articles", cols, VN)
    with pytest.raises(SourceError) as info:
        source.bind()
    keys = [key for key, _ in info.value.problems]
    assert keys == ["source.columns.title", "source.columns.author"]
    assert 'column "tieu_de_x" not in table news_articles' in info.value.problems[0][1]
    source.dispose()
    # the tick reports it as an error (backed off), it does not crash the service
    ingestor = Ingestor(
        state, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=60, batch_size=10
    )
    assert "tieu_de_x" in (ingestor.tick().error or "")


def test_sqlite_text_timestamps_keep_native_cursor(state: Database, tmp_path: Path) -> None:
    """FIELD-NOTES: a text timestamp turned into a datetime and bound back skipped a row."""
    url = f"sqlite:///{tmp_path / 'cms.db'}"
    writer = create_engine(url)
    with writer.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT, "
                "created TEXT, modified TEXT)"
            )
        )
    stamp = "2026-11-26 10:00:00"

    def post(n: int, at: str) -> None:
        with writer.begin() as conn:
            conn.execute(
                text("INSERT INTO posts VALUES (:n, :s, :l, :t, :a, :a)"),
                {"n": n, "s": f"p-{n}", "l": f"https://e.vn/{n}", "t": f"Tin số {n}", "a": at},
            )

    post(1, stamp)
    cols = SourceColumns(
        cursor="modified",
        source_key="slug",
        url="link",
        published_at="created",
        updated_at="modified",
    )
    ingestor = Ingestor(
        state,
        external_source(url, "posts", cols, VN),
        TopicIndex(),
        tz=VN,
        poll_seconds=1,
        overlap_seconds=300,
        batch_size=10,
    )
    assert ingestor.tick().new == 1
    post(2, stamp)  # same second, higher id: only a native text comparison finds it
    assert ingestor.tick().new == 1
    post(3, "2026-11-26 09:59:30")  # a late commit inside the window
    assert ingestor.tick().new == 1
    with writer.begin() as conn:  # a delete and a late commit in one interval do not cancel
        conn.execute(text("DELETE FROM posts WHERE id = 3"))
    post(4, "2026-11-26 09:59:30")
    assert [c.article.source_key for c in tick_changes(ingestor)[1]] == ["p-4"]
    with state.read() as conn:
        cursor = get_cursor(conn, "external:posts")
    assert ingestor.source.codec.decode(cursor.ts, cursor.id) == (stamp, "2")
    assert cursor.ts == datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    writer.dispose()


#: A session time zone per whole-hour offset: PostgreSQL's by name (its POSIX '+07' is UTC-7),
#: MariaDB's as an offset (named zones need its zone tables loaded).
PG_ZONES = {0: "UTC", 7: "Asia/Ho_Chi_Minh", 8: "Asia/Shanghai"}


def session_zone(cms: Cms, hours: int) -> str:
    """The CMS's URL with its session time zone at UTC+``hours`` (what NOW() reads there)."""
    if cms.backend == "postgres":
        return f"{cms.url}%20-ctimezone%3D{PG_ZONES[hours]}"
    return f"{cms.url}&init_command=SET%20time_zone%3D%27%2B{hours:02d}%3A00%27"


def _config(tmp_path: Path, cms: Cms, *, zone: int = 7, **columns: str) -> str:
    """A config on the CMS, ``source.timezone`` Vietnam; the CMS's clock in UTC+``zone`` (as
    a CMS writing Vietnam's wall time has it: ``source check`` compares the two)."""
    cols = mapping(cms.backend).model_dump(exclude_unset=True) | columns
    url = session_zone(cms, zone)
    lines = [
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"',
        f'[source]\nurl = "{url}"\ntable = "news_articles"\ntimezone = "Asia/Ho_Chi_Minh"',
        "[source.columns]",
        *(f'{key} = "{value}"' for key, value in cols.items()),
        "[topics]\nimport_on_start = false",
    ]
    path = tmp_path / "feedsvc.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def test_source_check_cli(tmp_path: Path, cms: Cms) -> None:
    from click.testing import CliRunner

    from feedsvc.cli import cli

    cms.insert(1, NOW - timedelta(minutes=2), tags=(1, 2))
    cms.insert(2, NOW - timedelta(minutes=1))
    runner = CliRunner()
    ok = runner.invoke(cli, ["source", "check", "--config", _config(tmp_path, cms)])
    assert ok.exit_code == 0, ok.output
    assert "title        tieu_de (VARCHAR(300))" in ok.output
    assert "body         (absent: null, no column 'body')" in ok.output
    assert "cms-1 | Công an quận Lê Chân" in ok.output and "'Giao thông'" in ok.output
    assert "compared as naive" in ok.output

    bad = _config(tmp_path, cms, title="tieu_de_x", author="tac_gia", tags="(SELECT nope())")
    out = runner.invoke(cli, ["source", "check", "--config", bad])
    assert out.exit_code == 2, out.output
    assert 'source.columns.title: column "tieu_de_x" not in table news_articles (' in out.output
    assert 'source.columns.author: column "tac_gia" not in table' in out.output

    expr = _config(tmp_path, cms, tags="(SELECT nope())")
    out = runner.invoke(cli, ["source", "check", "--config", expr])
    assert (
        out.exit_code == 2
        and 'source.columns.tags: the SQL expression "(SELECT nope())" fails:' in out.output
    )

    port = free_port()
    down = _config(tmp_path, cms)
    text_ = Path(down).read_text(encoding="utf-8")
    Path(down).write_text(
        text_.replace(":3306/", f":{port}/").replace(":5432/", f":{port}/"), encoding="utf-8"
    )
    out = runner.invoke(cli, ["source", "check", "--config", down])
    assert out.exit_code == 1 and "cannot connect to the source" in out.output


@pytest.mark.parametrize(("field", "column"), [("published_at", "id"), ("url", "slug")])
def test_source_check_fails_when_every_sample_row_is_rejected(
    tmp_path: Path, cms: Cms, field: str, column: str
) -> None:
    """A field mapped to the wrong column (an integer for ``published_at``, a slug for
    ``url``) made every sample row REJECTED, and the check still ended "OK", exit 0, while
    ingest would quarantine every row. All rows rejected is a mapping problem: exit 2, naming
    the key. One bad row among good ones is the row's problem (quarantined): still OK."""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    cms.insert(1, NOW - timedelta(minutes=2))
    cms.insert(2, NOW - timedelta(minutes=1))
    runner = CliRunner()
    out = runner.invoke(cli, ["source", "check", "--config",
                              _config(tmp_path, cms, **{field: column})])  # fmt: skip
    assert out.exit_code == 2, out.output
    assert f"source.columns.{field}: every one of the newest 2 row(s) is rejected" in out.output
    assert "OK" not in out.output.splitlines()

    with cms.writer.begin() as conn:  # one row's link broken: that row's problem only
        conn.execute(text("UPDATE news_articles SET link = 'không phải URL' WHERE id = 1"))
    out = runner.invoke(cli, ["source", "check", "--config", _config(tmp_path, cms)])
    assert out.exit_code == 0, out.output
    assert "REJECTED source.columns.url" in out.output and out.output.splitlines()[-1] == "OK"


def test_source_check_warns_of_rows_ingest_will_not_take(tmp_path: Path, cms: Cms) -> None:
    """A NULL cursor value (not ingested until set) and one dated ahead (held back) are named
    by id with their value, on stderr; the mapping is fine, so the exit stays 0 and OK is said.
    Every NULL row is counted, not only the five named."""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    null_cursor = {
        "postgres": "ALTER TABLE news_articles ALTER COLUMN ngay_sua DROP NOT NULL",
        "mariadb": "ALTER TABLE news_articles MODIFY ngay_sua DATETIME NULL",
    }[cms.backend]
    with cms.writer.begin() as conn:
        conn.execute(text(null_cursor))
    for n in range(1, 4):
        cms.insert(n, NOW - timedelta(minutes=n))
    runner = CliRunner()
    config = _config(tmp_path, cms)
    clean = runner.invoke(cli, ["source", "check", "--config", config])
    assert clean.exit_code == 0 and "warning" not in clean.output, clean.output

    cms.insert(4, NOW + timedelta(days=400))
    cms.insert(5, datetime(9999, 12, 31, 23, 59))
    with cms.writer.begin() as conn:
        conn.execute(text("UPDATE news_articles SET ngay_sua = NULL WHERE id IN (2, 3)"))
    out = runner.invoke(cli, ["source", "check", "--config", config])
    assert out.exit_code == 0 and out.output.rstrip().endswith("OK"), out.output
    assert (
        "warning: 2 rows with no cursor value (source.columns.cursor = 'ngay_sua': NULL or no "
        "moment) are not ingested until the CMS sets it (listed in quarantine): id=2 (NULL), "
        "id=3 (NULL); the CMS must set it on every write"
    ) in out.output
    assert "warning: 2 rows dated after now (source.columns.cursor = 'ngay_sua') wait" in out.output
    assert "id=4 (" in out.output and "id=5 (9999-12-31" in out.output

    for n in range(6, 13):
        cms.insert(n, NOW + timedelta(days=n))
    out = runner.invoke(cli, ["source", "check", "--config", config])
    assert "warning: more than 5 rows dated after now" in out.output, out.output
    ahead = next(line for line in out.output.splitlines() if "dated after now" in line)
    assert ahead.count(" id=") == 5, ahead  # the first five named, no more
    with cms.writer.begin() as conn:
        conn.execute(text("UPDATE news_articles SET ngay_sua = NULL WHERE id BETWEEN 1 AND 9"))
    out = runner.invoke(cli, ["source", "check", "--config", config])
    nulls = next(line for line in out.output.splitlines() if "no cursor value" in line)
    assert nulls.startswith("warning: 9 rows with no cursor value"), nulls  # was: "more than 5"
    assert nulls.count(" id=") == 5 and "id=5 (NULL), and 4 more;" in nulls, nulls
