"""An article with a huge vocabulary never stops ingest (a tester's finding 1).

PostgreSQL refuses a tsvector over 1 MiB (SQLSTATE 54000): one article of ~60,000 distinct
words — an exam-results list, a pasted data table, base64 pasted as text — failed every batch
holding it, as an outage, so nothing after it was ever stored. Now the archive search index
keeps an article's first :data:`~feedsvc.matching.normalize.SEARCH_TEXT_BYTES` of keys (the
matcher still reads all of it), and a row the server refuses for a program limit is
quarantined like any row the state DB refuses, the rest of its batch stored. Both backends.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import pytest
from factories import article, builtin_ingestor
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from feedsvc.db import Database
from feedsvc.db.errors import is_database_fault, is_row_error
from feedsvc.db.schema import article_topics, articles
from feedsvc.matching import document_from_text, normalize, search_keys
from feedsvc.matching.normalize import SEARCH_TEXT_BYTES, join_search_keys
from feedsvc.store import quarantine
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic


def exam_results(n: int) -> str:
    """A "tra cứu điểm thi" body: ``n`` candidate numbers with their marks, as a table."""
    rows = (f"<tr><td>{3100000 + i}</td><td>{i % 10},{i % 4}</td></tr>" for i in range(n))
    return "<table>" + "".join(rows) + "</table>"


def pasted_base64(size: int) -> str:
    """A blob pasted as text: ``size`` random bytes in base64 (its ``+``/``/`` split words)."""
    return base64.b64encode(random.Random(7).randbytes(size)).decode()


def words(n: int) -> str:
    return " ".join(f"x{i}" for i in range(n))


BODIES = {
    "exam-results": lambda: exam_results(45_000),  # ~90,000 distinct keys, ~1.8 MB of keys
    "base64": lambda: pasted_base64(750_000),  # 1 MB of text, ~2 MB of keys
    "words": lambda: words(80_000),  # the tester's x0 x1 …, fewer
}


TITLE = "Tra cứu điểm thi Kiến Thụy"
TITLE_KEYS = search_keys(document_from_text(TITLE))


def tick_with(db: Database, body: str) -> object:
    """Three rows in one batch, the middle one ``body`` (its last word "Tiên Lãng" after it);
    a topic on that last word. Returns the tick's result."""
    with db.write() as conn:
        save_topic(conn, TopicSpec("tien-lang", "Tiên Lãng", '"Tiên Lãng"'), "cli", db.now())
    items = [
        article(1),
        article(2, title=TITLE, body=f"<p>{body}</p><p>Tiên Lãng</p>"),
        article(3),
    ]
    with db.write() as conn:
        upsert_source_articles(conn, items, datetime.now(UTC))
    return builtin_ingestor(db, batch_size=50).tick()


@pytest.mark.parametrize("kind", list(BODIES))
def test_an_article_with_a_huge_vocabulary_is_stored_with_its_batch(
    db: Database, kind: str
) -> None:
    result = tick_with(db, BODIES[kind]())
    assert result.error is None, result.error  # type: ignore[attr-defined]
    with db.read() as conn:
        rows = conn.execute(select(articles.c.source_key, articles.c.search_text)).tuples()
        held = {key: keys for key, keys in rows}
        matched = conn.execute(select(article_topics.c.article_id)).scalars().all()
        listed = quarantine.newest(conn, 10)
        by_title = candidate_ids(conn, [TITLE_KEYS.split()], None)
        by_last_word = candidate_ids(
            conn, [search_keys(document_from_text("Tiên Lãng")).split()], None
        )
    assert sorted(held) == ["TEST-00001", "TEST-00002", "TEST-00003"] and listed == []
    stored = held["TEST-00002"]
    assert len(stored.encode()) <= SEARCH_TEXT_BYTES
    assert stored.startswith(TITLE_KEYS + " ")  # the title's keys first
    assert len(matched) == 1  # the matcher read the whole body: its last words match
    with db.read() as conn:
        (big,) = conn.execute(
            select(articles.c.id).where(articles.c.source_key == "TEST-00002")
        ).scalars()
    assert by_title == [big]
    assert by_last_word == []  # past the search index's bound: documented in README


@pytest.mark.postgres
def test_a_row_postgresql_finds_too_big_is_quarantined_not_an_outage(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the bound (the old code's search text), PostgreSQL's class 54 refusal is the
    row's: it is quarantined, its batch's other rows stored, the tick succeeds."""
    monkeypatch.setattr(normalize, "SEARCH_TEXT_BYTES", 10**9)
    result = tick_with(pg_db, pasted_base64(750_000))
    assert result.error is None, result.error  # type: ignore[attr-defined]
    with pg_db.read() as conn:
        held = conn.execute(select(articles.c.source_key)).scalars().all()
        (entry,) = quarantine.newest(conn, 10)
    assert sorted(held) == ["TEST-00001", "TEST-00003"]
    assert entry.row.stage == "store" and "too long for tsvector" in entry.row.reason


@pytest.mark.postgres
def test_the_bound_fits_postgresql_whatever_the_keys(pg_db: Database) -> None:
    """The worst case for a tsvector: the shortest distinct keys (one to three characters, 4
    bytes of tsvector each plus their own), as many as the bound lets in."""
    alphabet = "abcdefghijklmnopqrstuvwxyzàáâãèéêìíòóôõùúýăđĩũơư"
    keys = [a + b + c for a in alphabet for b in ["", *alphabet] for c in ["", *alphabet]]
    text_ = join_search_keys([(k,) for k in keys])
    assert len(text_.encode()) <= SEARCH_TEXT_BYTES < len(" ".join(keys).encode())
    with pg_db.read() as conn:
        size = conn.execute(text("SELECT pg_column_size(to_tsvector('simple', :t))"), {"t": text_})
        assert size.scalar_one() < 1024 * 1024


def test_the_bound_keeps_whole_keys_and_skips_one_too_long_to_be_looked_up() -> None:
    hex_dump = "f" * 300_000  # one "syllable" longer than the whole bound
    keys = [("kie1n", "kien"), (hex_dump,), *((f"k{i}",) for i in range(100_000))]
    got = join_search_keys(keys).split(" ")
    assert got[:3] == ["kie1n", "kien", "k0"] and hex_dump not in got
    assert len(" ".join(got).encode()) <= SEARCH_TEXT_BYTES
    assert all(k == f"k{i}" for i, k in enumerate(got[2:]))  # whole keys, in order
    assert join_search_keys([("an", "ninh"), ("an",)]) == "an ninh"  # small: as before


def test_a_program_limit_is_the_rows_fault_not_the_databases() -> None:
    class Refused(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    def error(sqlstate: str) -> OperationalError:
        return OperationalError("INSERT …", {}, Refused(sqlstate))

    for code in ("54000", "54001", "54011"):  # tsvector/index row too big, too complex
        assert is_row_error(error(code)) and not is_database_fault(error(code))
    for code in ("53300", "57P01", "08006", "55P03"):  # connections, shutdown, lost, locked
        assert is_database_fault(error(code))
