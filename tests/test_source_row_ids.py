"""A CMS table whose id column can be NULL or repeat (a view over a LEFT JOIN, a table without a
primary key), on the machine's real PostgreSQL and MariaDB (a tester's U1, U2).

U1: a row with a NULL id, last in a batch, became the cursor (``'None'``) and every tick failed
on ``int('None')``: ingest stopped for good, the good rows never stored. Mid-batch it was stored
as ``source_id = 'None'``, and a second such row withdrew the first one's article as re-keyed.
Now no read takes a row without an id; it is quarantined by its key (stage ``read``, field
``id``) and released once the CMS gives it one; ``source check`` warns of it.

U2: two live rows with one id were read as one row re-keyed: one article withdrawn. Now both are
kept, with a WARNING naming the id, both keys and ``source.columns.id``; ``source check`` warns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import mariadb_database, pg_schema
from sqlalchemy import Engine, create_engine, select, text

from feedsvc.config import SourceColumns
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles
from feedsvc.db.schema_ingest import ingest_quarantine
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.topic_index import TopicIndex

NOW = datetime(2026, 12, 7, 10, 0)
TABLE = "dupid"
DDL = {
    "postgres": f"CREATE TABLE {TABLE} (id int, changed_at timestamp, source_key text, "
    "url text, title text, published_at timestamp)",
    "mariadb": f"CREATE TABLE {TABLE} (id int, changed_at datetime(6), source_key varchar(100), "
    "url varchar(300), title varchar(300), published_at datetime(6), KEY (changed_at, id))",
}
TEXT_DDL = {
    "postgres": f"CREATE TABLE {TABLE}_t (id text, changed_at timestamp, source_key text, "
    "url text, title text, published_at timestamp)",
    "mariadb": f"CREATE TABLE {TABLE}_t (id varchar(40), changed_at datetime(6), source_key "
    "varchar(100), url varchar(300), title varchar(300), published_at datetime(6))",
}
COLUMNS = SourceColumns(visible=None)


@dataclass
class Cms:
    backend: str
    url: str
    writer: Engine

    def put(self, id_: object, key: str | None, minutes: int, table: str = TABLE) -> None:
        """A row ``minutes`` before NOW (changed and published then); ``id_`` None: NULL."""
        at = NOW - timedelta(minutes=minutes)
        with self.writer.begin() as conn:
            conn.execute(
                text(f"INSERT INTO {table} VALUES (:i, :at, :k, :u, :t, :at)"),
                {"i": id_, "at": at, "k": key, "u": f"https://example.vn/tin/{key}.html",
                 "t": f"Tin {key}"},
            )  # fmt: skip

    def sql(self, statement: str) -> None:
        with self.writer.begin() as conn:
            conn.execute(text(statement))


def _setup(backend: str, url: str) -> Cms:
    writer = create_engine(url)
    with writer.begin() as conn:
        conn.execute(text(DDL[backend]))
        conn.execute(text(TEXT_DDL[backend]))
    return Cms(backend, url, writer)


@pytest.fixture
def mariadb_cms() -> Iterator[Cms]:
    with mariadb_database("feedsvc_ids") as url:
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


def ingestor(state: Database, cms: Cms, batch: int = 100, table: str = TABLE) -> Ingestor:
    source = external_source(cms.url, table, COLUMNS, UTC)
    ing = Ingestor(
        state, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=300, batch_size=batch
    )
    ing.unordered_every = 0  # every tick checks for rows without an id (tests' setting)
    return ing


def stored(state: Database) -> dict[str, tuple[str, str | None]]:
    """key → (source_id, withdrawn_reason)."""
    with state.read() as conn:
        rows = conn.execute(
            select(articles.c.source_key, articles.c.source_id, articles.c.withdrawn_reason)
        ).all()
    return {k: (i, r) for k, i, r in rows}


def held(state: Database) -> dict[str, tuple[str | None, str, str]]:
    """The quarantine: source_id → (key, stage, reason)."""
    with state.read() as conn:
        rows = conn.execute(
            select(
                ingest_quarantine.c.source_id,
                ingest_quarantine.c.source_key,
                ingest_quarantine.c.stage,
                ingest_quarantine.c.reason,
            )
        ).all()
    return {i: (k, s, r) for i, k, s, r in rows}


def test_null_id_last_does_not_stop_ingest(state: Database, cms: Cms) -> None:
    """The tester's minimal case: G-1, then a newer NULL-id row (last of the batch)."""
    cms.put(1, "G-1", 10)
    cms.put(None, "G-NULL", 5)
    ing = ingestor(state, cms)
    result = ing.tick()
    assert result.error is None
    assert stored(state) == {"G-1": ("1", None)}
    entry = held(state)["(no id) G-NULL"]
    assert entry[:2] == ("G-NULL", "read")
    assert entry[2].startswith("id: is NULL (source.columns.id = 'id')")
    assert ing.tick().error is None  # and the next tick too
    cms.put(2, "G-2", 1)  # the cursor moves on past it
    assert ing.tick().error is None and "G-2" in stored(state)


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_null_id_anywhere_in_batches(state: Database, cms: Cms, where: str) -> None:
    """A NULL-id row first, in the middle or last, batches of 2: never stored, never the
    cursor; every good row is stored."""
    order = {"first": 0, "middle": 2, "last": 4}[where]
    keys = ["D-1", "D-2", "D-3", "D-4"]
    keys.insert(order, "D-N")
    for minutes, key in zip(range(50, 0, -10), keys, strict=True):
        cms.put(None if key == "D-N" else int(key[2:]), key, minutes)
    ing = ingestor(state, cms, batch=2)
    assert ing.tick().error is None
    assert sorted(stored(state)) == ["D-1", "D-2", "D-3", "D-4"]
    assert "None" not in {i for i, _ in stored(state).values()}
    assert list(held(state)) == ["(no id) D-N"]


def test_two_null_ids_never_withdraw_each_other(state: Database, cms: Cms) -> None:
    """The tester's (b): a second NULL-id row took the first one's article as re-keyed."""
    cms.put(1, "D-1", 40)
    cms.put(None, "D-N1", 30)
    cms.put(2, "D-2", 20)
    cms.put(None, "D-N2", 10)
    cms.put(3, "D-3", 5)
    ing = ingestor(state, cms)
    assert ing.tick().error is None
    assert stored(state) == {"D-1": ("1", None), "D-2": ("2", None), "D-3": ("3", None)}
    assert sorted(held(state)) == ["(no id) D-N1", "(no id) D-N2"]
    # the CMS gives one an id: ingested, released from the quarantine
    cms.sql(f"UPDATE {TABLE} SET id = 9, changed_at = '{NOW:%Y-%m-%d %H:%M:%S}' "
            "WHERE source_key = 'D-N1'")  # fmt: skip
    assert ing.tick().error is None
    assert stored(state)["D-N1"] == ("9", None)
    assert sorted(held(state)) == ["(no id) D-N2"]


def test_null_id_and_null_key_and_null_cursor(state: Database, cms: Cms) -> None:
    """A row with no id and no key, and one with no id and no cursor value (no read takes it,
    nor the check of rows without a cursor value: it was listed there as 'None', and its
    re-check raised int('None'))."""
    cms.put(1, "G-1", 10)
    cms.put(None, None, 5)
    cms.put(None, "G-NC", 3)
    cms.sql(f"UPDATE {TABLE} SET changed_at = NULL WHERE source_key = 'G-NC'")
    cms.put(2, "G-2", 1)
    ing = ingestor(state, cms)
    for _ in range(2):
        assert ing.tick().error is None
    assert sorted(stored(state)) == ["G-1", "G-2"]
    entries = held(state)
    assert len(entries) == 2 and "(no id) G-NC" in entries
    assert any(i.startswith("(no id) (no key) 2026-12-07 09:55:00") for i in entries), entries
    assert all(s == "read" and r.startswith("id: is NULL") for _, s, r in entries.values())


def test_empty_text_id_is_no_id(state: Database, cms: Cms) -> None:
    """In a text id column the empty string names no row either."""
    table = f"{TABLE}_t"
    cms.put("a", "T-1", 10, table)
    cms.put("", "T-E", 5, table)
    ing = ingestor(state, cms, table=table)
    assert ing.tick().error is None
    assert stored(state) == {"T-1": ("a", None)}
    assert held(state)["(no id) T-E"][2].startswith("id: is the empty string")


def test_float_id_column_is_a_mapping_problem(state: Database, cms: Cms) -> None:
    from feedsvc.source import SourceError

    cms.sql(f"CREATE TABLE {TABLE}_f (id double precision, changed_at timestamp(6) NULL, "
            "source_key text, url text, title text, published_at timestamp(6) NULL)")  # fmt: skip
    source = external_source(cms.url, f"{TABLE}_f", COLUMNS, UTC)
    with pytest.raises(SourceError) as err:
        source.bind()
    assert err.value.problems[0][0] == "source.columns.id"
    assert "floating point" in err.value.problems[0][1]


def test_duplicate_id_in_one_batch_keeps_both(
    state: Database, cms: Cms, caplog: pytest.LogCaptureFixture
) -> None:
    """The tester's U2: (1, D-1) and (1, D-2), both public."""
    cms.put(1, "D-1", 10)
    cms.put(1, "D-2", 5)
    ing = ingestor(state, cms)
    with caplog.at_level(logging.INFO):
        assert ing.tick().error is None
    assert stored(state) == {"D-1": ("1", None), "D-2": ("1", None)}
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "rows with id=1 carry the keys D-1 and D-2: source.columns.id is not unique" in m
        for m in said
    ), said
    assert not any("handed over" in r.getMessage() for r in caplog.records)


def test_duplicate_id_across_batches_and_edits_keeps_both(state: Database, cms: Cms) -> None:
    """Batches of one: D-2 arrives after D-1 is stored; then each row is edited in turn (an
    edit of either flipped the two back and forth)."""
    cms.put(1, "D-1", 10)
    cms.put(1, "D-2", 5)
    ing = ingestor(state, cms, batch=1)
    assert ing.tick().error is None
    assert stored(state) == {"D-1": ("1", None), "D-2": ("1", None)}
    for key, minutes in (("D-1", 1), ("D-2", 0)):
        at = NOW - timedelta(minutes=minutes)
        cms.sql(f"UPDATE {TABLE} SET changed_at = '{at:%Y-%m-%d %H:%M:%S}', title = 'Sửa {key}' "
                f"WHERE source_key = '{key}'")  # fmt: skip
        assert ing.tick().error is None
        assert stored(state) == {"D-1": ("1", None), "D-2": ("1", None)}


def test_a_real_re_key_is_still_handed_over(state: Database, cms: Cms) -> None:
    """The row's old key is gone from the source: a re-key (tester 3 F7) as before."""
    cms.put(1, "R-1", 10)
    ing = ingestor(state, cms)
    assert ing.tick().error is None
    cms.sql(f"UPDATE {TABLE} SET source_key = 'R-1-fixed', changed_at = "
            f"'{NOW:%Y-%m-%d %H:%M:%S}' WHERE id = 1")  # fmt: skip
    assert ing.tick().error is None
    assert stored(state) == {"R-1": ("1", "re-keyed"), "R-1-fixed": ("1", None)}


def _config(tmp_path: Path, cms: Cms) -> str:
    lines = [
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"',
        f'[source]\nurl = "{cms.url}"\ntable = "{TABLE}"\ntimezone = "UTC"',
        "[source.columns]",
        *(f'{k} = ""' for k in ("summary", "body", "author", "section", "tags", "image_url",
                                "updated_at")),
        "[topics]\nimport_on_start = false",
    ]  # fmt: skip
    path = tmp_path / "feedsvc.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def test_source_check_warns_of_null_and_repeated_ids(tmp_path: Path, cms: Cms) -> None:
    from click.testing import CliRunner

    from feedsvc.cli import cli

    cms.put(1, "D-1", 10)
    cms.put(2, "D-2", 8)
    runner = CliRunner()
    config = _config(tmp_path, cms)
    clean = runner.invoke(cli, ["source", "check", "--config", config])
    assert clean.exit_code == 0 and "warning" not in clean.output, clean.output
    cms.put(1, "D-1b", 6)
    cms.put(None, "D-N", 4)
    out = runner.invoke(cli, ["source", "check", "--config", config])
    assert out.exit_code == 0 and out.output.rstrip().endswith("OK"), out.output
    assert (
        "warning: 1 row has no id (source.columns.id = 'id' is NULL or empty): key D-N; ingest "
        "quarantines such rows"
    ) in out.output
    assert "warning: source.columns.id = 'id' is not unique: several of the newest" in out.output
    assert "carry the id 1;" in out.output
    assert "id=None" not in out.output  # never sampled as a row


def test_source_check_all_rows_without_id_is_a_problem(tmp_path: Path, cms: Cms) -> None:
    from click.testing import CliRunner

    from feedsvc.cli import cli

    cms.put(None, "D-N1", 6)
    cms.put(None, "D-N2", 4)
    out = CliRunner().invoke(cli, ["source", "check", "--config", _config(tmp_path, cms)])
    assert out.exit_code == 2, out.output
    assert "source.columns.id: 2 rows have no id" in out.output


def test_reconcile_with_repeated_ids_and_an_id_kept_as_none(state: Database, cms: Cms) -> None:
    """Reconciliation keeps both rows of an id given twice, and an article an earlier feedsvc
    stored as ``source_id = 'None'`` no longer fails the pass (``int('None')`` in the lookup
    by id): its row is looked for by key, as any row gone by id."""
    from sqlalchemy import update

    from feedsvc.lifecycle.reconcile import Reconciler

    cms.put(1, "D-1", 10)
    cms.put(1, "D-2", 8)
    cms.put(2, "D-3", 6)
    ing = ingestor(state, cms)
    assert ing.tick().error is None
    with state.write() as conn:
        conn.execute(
            update(articles).where(articles.c.source_key == "D-3").values(source_id="None")
        )
    rec = Reconciler(state, ing.source, days=7, clock=lambda: NOW.replace(tzinfo=UTC),
                     reread=ing.reread)  # fmt: skip
    rec.run()
    kept = stored(state)
    assert kept["D-1"] == ("1", None) and kept["D-2"] == ("1", None)
    assert kept["D-3"][1] is None  # its row (id 2) still carries the key: not deleted
