"""A CMS id column of any key type is read past its first batch (``SqlSource.native_id``).

feedsvc keeps a row's id as text (``articles.source_id``, the cursor, the quarantine) and binds
it back in every keyset read, window and look-up by id. Only integer ids were turned back into
the column's own value; the text was bound as it was otherwise. A PostgreSQL ``NUMERIC`` id
(a schema migrated from Oracle) then failed every read after the first batch ("operator does
not exist: numeric <= character varying"), and a MariaDB ``UUID`` id (10.7+) raised inside
SQLAlchemy ("'str' object has no attribute 'hex'", logged as a bug with its traceback): one
batch was ingested, then nothing, for good. On SQLite, SQLAlchemy read a ``NUMERIC``/``DECIMAL``
id through a float: 64-bit ids came back rounded, several rows as one id
(``4611686018427387904.0000000000``), and the tick re-read the same rows, batch after batch,
for ever. Each case runs on SQLite and PostgreSQL state DBs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import mariadb_database
from factories import VN
from sqlalchemy import Engine, create_engine, text
from test_ingest_cursor_edges import bounded_tick
from test_ingest_quarantine import COLUMNS, T, held, pg_cms_url
from test_ingest_unordered import entries

from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.source.recent import existing_ids
from feedsvc.topic_index import TopicIndex

__all__ = ["pg_cms_url"]  # a fixture

#: (backend, id column type, the id of row n): row n's id sorts after row n - 1's
CASES: list[tuple[str, str, Callable[[int], Any]]] = [
    ("postgres", "UUID", lambda n: str(uuid.UUID(int=n * 7919))),
    ("postgres", "NUMERIC(20,0)", lambda n: 10**19 + n),
    ("postgres", "NUMERIC(12,2)", lambda n: f"{n}.50"),
    ("mariadb", "UUID", lambda n: str(uuid.UUID(int=n * 7919))),
    ("mariadb", "DECIMAL(20,0)", lambda n: 10**19 + n),
    ("mariadb", "BIGINT UNSIGNED", lambda n: 2**64 - 100 + n),
    ("sqlite", "NUMERIC", lambda n: 2**62 + n),
    ("sqlite", "DECIMAL(20,0)", lambda n: 1000 + n),
    ("sqlite", "TEXT", lambda n: str(uuid.UUID(int=n * 7919))),
]


class Cms:
    def __init__(self, url: str, id_type: str, ids: Callable[[int], Any]) -> None:
        self.url, self.ids = url, ids
        self.engine: Engine = create_engine(url)
        ts = "TIMESTAMP" if url.startswith("postgresql") else "DATETIME"
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE TABLE posts (id {id_type} PRIMARY KEY, slug VARCHAR(50), "
                    f"link VARCHAR(200), title VARCHAR(200), body TEXT, created {ts}, "
                    f"modified {ts})"
                )
            )

    def post(self, n: int, minute: int, title: str = "") -> None:
        at = T + timedelta(minutes=minute)
        values = {
            "id": self.ids(n), "s": f"p-{n}", "l": f"https://baohaiphong.vn/{n}.html",
            "t": title or f"Tin số {n}: Kiến Thụy", "at": at,
        }  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO posts VALUES (:id, :s, :l, :t, '<p>.</p>', :at, :at)"), values
            )

    def set_title(self, n: int, title: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE posts SET title = :t WHERE slug = :s"), {"t": title, "s": f"p-{n}"}
            )

    def ingestor(self, db: Database) -> Ingestor:
        ing = Ingestor(
            db,
            external_source(self.url, "posts", COLUMNS, VN),
            TopicIndex(),
            tz=VN,
            poll_seconds=1,
            overlap_seconds=3600,
            batch_size=2,
        )
        ing.unordered_every = 0  # the look-up by id of quarantined rows at every tick
        return ing


@pytest.fixture(params=CASES, ids=[f"{b}-{t}" for b, t, _ in CASES])
def cms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cms]:
    backend, id_type, ids = request.param
    if backend == "sqlite":
        made = Cms(f"sqlite:///{tmp_path / 'cms.db'}", id_type, ids)
        yield made
    elif backend == "postgres":
        made = Cms(request.getfixturevalue("pg_cms_url"), id_type, ids)
        yield made
    else:
        with mariadb_database("feedsvc_ids") as url:
            made = Cms(url, id_type, ids)
            yield made
            made.engine.dispose()
        return
    made.engine.dispose()


def test_every_batch_window_and_look_up_by_id_reads_the_id_type(db: Database, cms: Cms) -> None:
    # seven rows, three per minute: batches of two end inside a tie of the cursor column
    for n in range(1, 8):
        cms.post(n, n // 3, title="   " if n == 4 else "")
    ing = cms.ingestor(db)
    result = bounded_tick(ing)
    assert result.error is None, result.error
    assert held(db) == [f"p-{n}" for n in (1, 2, 3, 5, 6, 7)]
    assert [(q.source_key, q.stage) for q in entries(db).values()] == [("p-4", "parse")]
    # a late commit behind the cursor (the window), and the refused row fixed in place (the
    # quarantine's look-up by id)
    cms.post(8, 1)
    cms.set_title(4, "Tin số 4: Kiến Thụy")
    result = bounded_tick(ing)
    assert (result.error, result.new) == (None, 2), result.error
    assert held(db) == [f"p-{n}" for n in range(1, 9)] and entries(db) == {}
    assert bounded_tick(ing).new == 0
    # reconciliation's look-up of ids that still exist, as ingest keeps them
    with db.read() as conn:
        kept = sorted(conn.execute(text("SELECT source_id FROM articles")).scalars())
    assert kept == sorted(str(cms.ids(n)) for n in range(1, 9))  # each id as the CMS has it
    assert existing_ids(ing.source, kept) == set(kept)
    ing.source.dispose()
