"""A bad source row never stops ingest (issue 12 §3): one test per class of fault.

Whatever makes one row fail — a value the parser rejects, a value the state DB refuses, a row
the CMS driver cannot even read — that row is quarantined (logged, counted, listed), the rows
on both sides of it are ingested, and the cursor moves on. Each test runs on SQLite and
PostgreSQL state DBs; the source is the built-in table where it can hold the bad value, an
external SQLite or PostgreSQL table where only a CMS can.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import pg_skip_reason
from factories import VN, article, builtin_ingestor
from sqlalchemy import Engine, create_engine, select, text

from feedsvc.config import SourceColumns
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import article_topics, articles
from feedsvc.ingest import Ingestor, TickResult
from feedsvc.source import external_source
from feedsvc.store import quarantine
from feedsvc.store.cursors import get_cursor
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.topic_index import TopicIndex

SOURCE_ID = "SELECT id FROM source_articles"
T = datetime(2026, 11, 26, 9, 0)  # naive CMS wall time (Vietnam)
COLUMNS = SourceColumns(
    cursor="modified",
    source_key="slug",
    url="link",
    title="title",
    body="body",
    published_at="created",
    updated_at="modified",
)


def held(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(select(articles.c.source_key)).scalars())


def entries(db: Database) -> dict[str, quarantine.Quarantined]:
    with db.read() as conn:
        return {e.row.source_id: e.row for e in quarantine.newest(conn, 100)}


def assert_around(db: Database, result: TickResult, good: list[str], bad_id: str) -> str:
    """The good rows are held, the bad one is quarantined alone; returns its stage."""
    assert result.error is None, result.error
    assert held(db) == good
    bad = entries(db)
    assert list(bad) == [bad_id], bad
    assert [q.source_id for q in result.quarantined] == [bad_id]
    return bad[bad_id].stage


# -- an external SQLite CMS table (text timestamps, any bytes) --------------------------------
class SqliteCms:
    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        self.engine: Engine = create_engine(self.url)
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT,"
                    " body TEXT, created TEXT, modified TEXT)"
                )
            )

    def post(self, n: int, **values: Any) -> None:
        at = (T + timedelta(minutes=n)).isoformat(sep=" ")
        row = {
            "id": n,
            "slug": f"p-{n}",
            "link": f"https://baohaiphong.vn/{n}.html",
            "title": f"Tin số {n}: giao thông Kiến Thụy",
            "body": "<p>Nội dung.</p>",
            "created": at,
            "modified": at,
            **values,
        }
        columns = ", ".join(row)
        marks = ", ".join(str(v.sql) if isinstance(v, Raw) else f":{k}" for k, v in row.items())
        params = {k: v for k, v in row.items() if not isinstance(v, Raw)}
        with self.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO posts ({columns}) VALUES ({marks})"), params)

    def ingestor(self, db: Database, batch_size: int = 100) -> Ingestor:
        return Ingestor(
            db,
            external_source(self.url, "posts", COLUMNS, VN),
            TopicIndex(),
            tz=VN,
            poll_seconds=1,
            overlap_seconds=3600,
            batch_size=batch_size,
        )


class Raw:
    """An SQL expression instead of a bound value (to store bytes no driver would send)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql


@pytest.fixture
def cms(tmp_path: Path) -> Iterator[SqliteCms]:
    source = SqliteCms(tmp_path / "cms.db")
    yield source
    source.engine.dispose()


# -- class 1: a value the parser rejects ------------------------------------------------------
def test_row_the_parser_rejects(db: Database) -> None:
    ing = builtin_ingestor(db, batch_size=2)
    now = datetime.now(UTC)
    rows = [article(1), article(2, url="ftp://cms.local/2"), article(3)]
    for i, item in enumerate(rows):
        with db.write() as conn:
            upsert_source_articles(conn, [item], now - timedelta(minutes=10 - i))
    result = ing.tick()
    with db.read() as conn:
        sid = str(
            conn.execute(text("SELECT id FROM source_articles WHERE url LIKE 'ftp%'")).scalar()
        )
    assert assert_around(db, result, ["TEST-00001", "TEST-00003"], sid) == "parse"
    assert "url" in entries(db)[sid].reason and entries(db)[sid].source_key == "TEST-00002"
    assert ing.tick().read == 0  # the window counts it as seen: not re-read every tick
    # fixed in the CMS (a new version): ingested, and released from quarantine
    with db.write() as conn:
        upsert_source_articles(
            conn, [article(2, updated_at=article(2).published_at + timedelta(hours=1))], now
        )
    assert ing.tick().new == 1 and entries(db) == {}


# -- class 2: a value the state DB refuses ----------------------------------------------------
def refuse_titles_containing(db: Database, word: str) -> None:
    """A rule of the state DB that no parser knows about (an operator's constraint)."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(
                text(
                    f"ALTER TABLE articles ADD CONSTRAINT no_word CHECK (title NOT LIKE '%{word}%')"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER no_word BEFORE INSERT ON articles "
                    f"WHEN new.title LIKE '%{word}%' BEGIN SELECT RAISE(ABORT, 'no {word}'); END"
                )
            )


def test_row_the_state_db_refuses(db: Database) -> None:
    refuse_titles_containing(db, "CẤM")
    with db.write() as conn:
        save_topic(conn, TopicSpec("giao-thong", "Giao thông", '"Kiến Thụy"'), "cli", db.now())
    ing = builtin_ingestor(db, batch_size=50)
    now = datetime.now(UTC)
    items = [
        article(n, title=f"Kiến Thụy {'CẤM' if n == 5 else 'tin'} số {n}") for n in range(1, 10)
    ]
    with db.write() as conn:
        upsert_source_articles(conn, items, now)
    result = ing.tick()
    with db.read() as conn:
        sid = str(
            conn.execute(text("SELECT id FROM source_articles WHERE title LIKE '%CẤM%'")).scalar()
        )
        matched = conn.execute(select(article_topics.c.article_id)).all()
        cursor = get_cursor(conn, "builtin")
    good = [f"TEST-0000{n}" for n in range(1, 10) if n != 5]
    assert assert_around(db, result, good, sid) == "store"
    assert len(matched) == 8  # matches (and the outbox) of the good rows committed with them
    assert cursor.id is not None and cursor.id.endswith(f'"{9}"]')


@pytest.mark.postgres
@pytest.mark.parametrize(
    "body",
    [
        "RAISE EXCEPTION 'operator rule: no %', NEW.title",  # P0001 (verifier P3)
        "ASSERT NEW.title NOT LIKE '%CẤM%', 'operator rule'",  # P0004
        "RAISE EXCEPTION USING MESSAGE = 'operator rule', ERRCODE = 'P0003'",
    ],
)
def test_a_plpgsql_trigger_refusing_a_row_quarantines_it(pg_url: str, body: str) -> None:
    """A PL/pgSQL trigger's refusal (SQLSTATE class P0, which psycopg files under
    ``ProgrammingError``) is the row's: quarantined alone, the rest stored, the cursor past it
    (it was taken for a database fault: every tick failed at that row, for good)."""
    db = Database(pg_url)
    upgrade(db)
    guard = "IF NEW.title LIKE '%CẤM%' THEN " if body.startswith("RAISE") else "IF TRUE THEN "
    with db.write() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION refuse_word() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"{guard}{body}; END IF; RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse_word BEFORE INSERT ON articles "
                "FOR EACH ROW EXECUTE FUNCTION refuse_word()"
            )
        )
    ing = builtin_ingestor(db, batch_size=50)
    items = [
        article(n, title=f"Kiến Thụy {'CẤM' if n == 5 else 'tin'} số {n}") for n in range(1, 10)
    ]
    with db.write() as conn:
        upsert_source_articles(conn, items, datetime.now(UTC))
    result = ing.tick()
    assert result.error is None, result.error
    with db.read() as conn:
        sid = str(
            conn.execute(text("SELECT id FROM source_articles WHERE title LIKE '%CẤM%'")).scalar()
        )
        cursor = get_cursor(conn, "builtin")
    good = [f"TEST-0000{n}" for n in range(1, 10) if n != 5]
    assert assert_around(db, result, good, sid) == "store"
    assert cursor.id is not None and cursor.id.endswith(f'"{9}"]')
    db.dispose()


def test_a_write_path_refusing_every_row_quarantines_nothing(db: Database) -> None:
    """A fault that refuses every row (a broken constraint, trigger or hook) is the write
    path's, not the rows': the tick fails and backs off, nothing is quarantined and the cursor
    stays, so every row is ingested once the fault is mended (none is skipped for good)."""
    refuse_titles_containing(db, "Kiến")  # every article of this batch
    ing = builtin_ingestor(db, batch_size=50)
    items = [article(n, title=f"Kiến Thụy tin số {n}") for n in range(1, 6)]
    with db.write() as conn:
        upsert_source_articles(conn, items, datetime.now(UTC))
    result = ing.tick()
    assert result.error is not None and "could be stored" in result.error
    assert held(db) == [] and entries(db) == {} and result.quarantined == []
    with db.read() as conn:
        assert get_cursor(conn, "builtin").id is None
    with db.write() as conn:  # the operator mends the fault
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE articles DROP CONSTRAINT no_word"))
        else:
            conn.execute(text("DROP TRIGGER no_word"))
    ing.backoff.retry_at = None  # skip the wait (the backoff itself is tested elsewhere)
    assert ing.tick().new == 5 and held(db) == [f"TEST-0000{n}" for n in range(1, 6)]


def test_nul_byte_in_a_body(db: Database, cms: SqliteCms) -> None:
    """PostgreSQL refuses NUL in text (SQLite stores it): the rows around it are held."""
    cms.post(1)
    cms.post(2, body=Raw("'<p>Giá vàng' || char(0) || 'tăng</p>'"))
    cms.post(3)
    result = cms.ingestor(db, batch_size=10).tick()
    assert result.error is None
    with db.read() as conn:
        bodies = dict(conn.execute(select(articles.c.source_key, articles.c.body)).tuples().all())
    assert {"p-1", "p-3"} <= set(bodies)
    if db.dialect == "postgresql" or "p-2" not in bodies:
        assert "p-2" not in bodies and list(entries(db)) == ["2"]


@pytest.mark.parametrize("key", ["K\u202e1gnp.exe", "p\u2066x\u2069", "\u202bq", "a\u200fb\u202c"])
def test_a_key_holding_a_bidi_control_is_quarantined(
    db: Database, cms: SqliteCms, key: str
) -> None:
    """A tester's: ingest stored a key with U+202E that every front end refuses
    (``articles hide``, the API, the admin): the article could not be taken down, and the
    key read backwards where shown ("Kexe.png1"). Refused as import refuses it."""
    cms.post(1)
    cms.post(2, slug=key)
    cms.post(3)
    result = cms.ingestor(db).tick()
    assert assert_around(db, result, ["p-1", "p-3"], "2") == "parse"
    assert "source_key: contains a control character" in entries(db)["2"].reason


def test_placeholder_date_that_overflows_in_utc(db: Database, cms: SqliteCms) -> None:
    """``0001-01-01 00:00:00`` at +07:00 is before the first representable UTC instant."""
    cms.post(1)
    cms.post(2, created="0001-01-01 00:00:00")
    cms.post(3)
    result = cms.ingestor(db).tick()
    assert assert_around(db, result, ["p-1", "p-3"], "2") in ("parse", "store")
    assert cms.ingestor(db).tick().read == 0


# -- class 3: a row the driver cannot read -----------------------------------------------------
def test_row_the_sqlite_driver_cannot_read(db: Database, cms: SqliteCms) -> None:
    """Invalid UTF-8 in a text column: sqlite3 raises while fetching the batch."""
    for n in range(1, 12):
        cms.post(n, title=Raw("CAST(X'54696e20C3' AS TEXT)") if n == 6 else f"Tin số {n}")
    ing = cms.ingestor(db, batch_size=4)
    result = ing.tick()
    good = sorted(f"p-{n}" for n in range(1, 12) if n != 6)
    assert assert_around(db, result, good, "6") == "read"
    assert "decode" in entries(db)["6"].reason.lower()
    assert ing.tick().read == 0


@pytest.fixture
def pg_cms_url() -> Iterator[str]:
    reason = pg_skip_reason()
    if reason:
        pytest.skip(reason)
    base = "postgresql+psycopg://postgres@127.0.0.1:5432/feedsvc_test"
    schema = f"cms_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _posts(url: str, bad: str = "'infinity'") -> None:
    """A CMS table of 5 posts, the third created at ``bad`` (SQL), which psycopg cannot read."""
    writer = create_engine(url)
    with writer.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE posts (id INT PRIMARY KEY, slug TEXT, link TEXT, title TEXT, "
                "body TEXT, created TIMESTAMP, modified TIMESTAMP)"
            )
        )
        for n in range(1, 6):
            conn.execute(
                text(
                    "INSERT INTO posts VALUES (:n, :s, :l, :t, NULL, "
                    + (bad if n == 3 else ":at")
                    + ", :at)"
                ),
                {
                    "n": n,
                    "s": f"p-{n}",
                    "l": f"https://baohaiphong.vn/{n}.html",
                    "t": f"Tin số {n}",
                    "at": T + timedelta(minutes=n),
                },
            )
    writer.dispose()


def test_row_the_postgres_driver_cannot_read(db: Database, pg_cms_url: str) -> None:
    """``'infinity'`` is a valid PostgreSQL timestamp that psycopg refuses to convert."""
    _posts(pg_cms_url)
    ing = Ingestor(
        db,
        external_source(pg_cms_url, "posts", COLUMNS, VN),
        TopicIndex(),
        tz=VN,
        poll_seconds=1,
        overlap_seconds=3600,
        batch_size=10,
    )
    result = ing.tick()
    assert assert_around(db, result, ["p-1", "p-2", "p-4", "p-5"], "3") == "read"
    assert ing.tick().read == 0
    ing.source.dispose()


# -- what the operator sees --------------------------------------------------------------------
def test_quarantine_is_counted_and_listed(db_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from feedsvc import metrics
    from feedsvc.app import Roles, Service
    from feedsvc.cli import cli
    from feedsvc.config import load_config
    from feedsvc.status import collect_status

    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[topics]\nimport_on_start = false\n', encoding="utf-8"
    )
    service = Service(load_config(config), Roles(scheduler=False, bot=False, http=False))
    service.prepare()
    with service.db.write() as conn:
        upsert_source_articles(
            conn, [article(1), article(2, url="javascript:alert(1)"), article(3)], datetime.now(UTC)
        )
    parse_failures = metrics.QUARANTINED.labels("parse")._value.get()
    assert service.ingest_tick().new == 2
    assert metrics.QUARANTINED.labels("parse")._value.get() == parse_failures + 1
    facts = collect_status(service)
    assert facts["ingest_quarantined"] == 1
    [line] = facts["quarantined_rows"]
    assert "builtin row" in line and "(TEST-00002), parse: url:" in line
    service.close()
    out = CliRunner().invoke(cli, ["status", "--config", str(config)])
    assert out.exit_code == 0, out.output
    assert "ingest_quarantined" in out.output and "(TEST-00002), parse: url:" in out.output


def test_status_says_the_quarantine_list_is_the_newest_of_more(tmp_path: Path) -> None:
    """22 rows quarantined, 20 listed: ``feedsvc status`` headed the list "20" right under
    ``ingest_quarantined 22``; it now says "newest 20 of 22". A list of all says its length."""
    from click.testing import CliRunner

    from feedsvc.app import Roles, Service
    from feedsvc.cli import cli
    from feedsvc.config import load_config

    config = tmp_path / "feedsvc.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
                      "[topics]\nimport_on_start = false\n", encoding="utf-8")  # fmt: skip
    service = Service(load_config(config), Roles(scheduler=False, bot=False, http=False))
    service.prepare()
    with service.db.write() as conn:
        bad = [article(i, url="javascript:alert(1)") for i in range(1, 3)]
        upsert_source_articles(conn, [article(30), *bad], datetime.now(UTC))
    service.ingest_tick()
    out = CliRunner().invoke(cli, ["status", "--config", str(config)])
    assert re.search(r"^quarantined_rows +2$", out.output, re.M), out.output
    with service.db.write() as conn:
        bad = [article(i, url="javascript:alert(1)") for i in range(3, 23)]
        upsert_source_articles(conn, bad, datetime.now(UTC))
    service.ingest_tick()
    service.close()
    out = CliRunner().invoke(cli, ["status", "--config", str(config)])
    assert re.search(r"^ingest_quarantined +22$", out.output, re.M), out.output
    assert re.search(r"^quarantined_rows +newest 20 of 22$", out.output, re.M), out.output


@pytest.mark.parametrize("control", ["\n", "\t", "\r", "\x1b", "\u2028", "\x85"])
def test_status_shows_a_quarantined_key_on_one_line(tmp_path: Path, control: str) -> None:
    """A CMS row's key holding a line break was printed raw by ``feedsvc status``: the row
    forged a status line of its own (``…row 99 (OK), parse: forged``). Every value it prints
    shows control characters as escapes now (``cli.common.cell``), as the log does."""
    from click.testing import CliRunner

    from feedsvc.app import Roles, Service
    from feedsvc.cli import cli
    from feedsvc.config import load_config
    from feedsvc.db.schema import source_articles

    config = tmp_path / "feedsvc.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
                      "[topics]\nimport_on_start = false\n", encoding="utf-8")  # fmt: skip
    service = Service(load_config(config), Roles(scheduler=False, bot=False, http=False))
    service.prepare()
    key = f"NL-A{control}builtin row 99 (OK), parse: forged"
    now = datetime.now(UTC)
    with service.db.write() as conn:
        conn.execute(source_articles.insert().values(
            source_key=key, url="https://e.vn/1", title="t", tags=[], published_at=now,
            changed_at=now,
        ))  # fmt: skip
    service.ingest_tick()
    service.close()
    out = CliRunner().invoke(cli, ["status", "--config", str(config)])
    assert out.exit_code == 0, out.output
    lines = out.output.split("\n")
    shown = [line for line in lines if "NL-A" in line]
    assert len(shown) == 1 and "row 99 (OK), parse: forged" in shown[0], out.output
    assert control == "\n" or control not in out.output  # the lines' own ends aside
    assert not any("row 99" in x for x in lines if x not in shown)


@pytest.mark.parametrize("bad", ["'infinity'", "'-infinity'", "'10000-01-01'", "'0044-03-15 BC'"])
def test_source_check_names_the_row_the_driver_cannot_read(
    tmp_path: Path, pg_cms_url: str, bad: str
) -> None:
    """One such value among the sampled rows made ``source check`` say "1 mapping problem(s):
    sample query fails" and exit 2, naming neither row nor value, while ``run`` quarantines
    the row and ingests the rest. It now lists the row by id as ``run`` will hold it back."""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    _posts(pg_cms_url, bad)
    config = tmp_path / "feedsvc.toml"
    columns = "\n".join(f'{k} = "{v}"' for k, v in COLUMNS.model_dump(exclude_unset=True).items())
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        f'[source]\nurl = "{pg_cms_url}"\ntable = "posts"\ntimezone = "Asia/Ho_Chi_Minh"\n'
        f"[source.columns]\n{columns}\n[topics]\nimport_on_start = false\n",
        encoding="utf-8",
    )
    out = CliRunner().invoke(cli, ["source", "check", "--config", str(config)])
    assert out.exit_code == 0, out.output
    assert "mapping problem" not in out.output and "sample query fails" not in out.output
    # read field by field, as ingest reads it: the field named, the key read too
    said = r"^  id=3 cursor=[^:]+:\d\d:\d\d: REJECTED published_at: cannot be read: "
    assert re.search(said, out.output, re.M), out.output
    assert all(f"→ p-{n} |" in out.output for n in (4, 5)), out.output
    assert out.output.index("id=5 ") < out.output.index("id=4 ") < out.output.index("id=3 ")
    # every sampled row unreadable is still the mapping's problem
    rows = CliRunner().invoke(cli, ["source", "check", "--config", str(config), "--rows", "1"])
    assert "id=5" in rows.output and rows.exit_code == 0, rows.output
