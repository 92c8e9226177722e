"""``source check``'s "not unique" warning compares keys as ingest does: exactly.

A tester's: on MariaDB, whose default collation ``utf8mb4_general_ci`` ignores case and
accents, rows ``M-004`` and ``m-004`` were "one article" by the warning while ingest stored
two (keys are compared exactly). The database's grouping now only finds the candidates
(``feedsvc.source.recent.duplicate_keys``). Each backend's case-insensitive collation: MariaDB's
default, a PostgreSQL nondeterministic ICU collation, SQLite's ``NOCASE``; an exact duplicate
is still found on each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from conftest import PG_ADMIN_URL, mariadb_database
from source_checks import run_check
from sqlalchemy import create_engine, text

from feedsvc.config import SourceColumns
from feedsvc.source import external_source
from feedsvc.source.recent import duplicate_keys

#: The tester's keys and variants apart only by case or accents (one article each for
#: ingest), and one key given exactly twice.
KEYS = ["M-004", "m-004", "M-007", "m-007", "Đ-1", "đ-1", "e-1", "é-1", "X-1", "X-1"]
COLUMNS = {"cursor": "changed_at", "source_key": "source_key", "url": "url", "title": "title",
           "published_at": "published_at"}  # fmt: skip
ABSENT = dict.fromkeys(("summary", "body", "author", "section", "tags", "image_url",
                        "updated_at"), "")  # fmt: skip


def fill(url: str, key_type: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            f"CREATE TABLE news (id INTEGER PRIMARY KEY, changed_at TIMESTAMP NOT NULL, "
            f"source_key {key_type} NOT NULL, url VARCHAR(200) NOT NULL, "
            "title VARCHAR(200) NOT NULL, published_at TIMESTAMP NOT NULL)"
        ))  # fmt: skip
        for n, key in enumerate(KEYS, 1):
            conn.execute(
                text("INSERT INTO news VALUES (:n, :at, :key, :url, 'Tin', :at)"),
                {"n": n, "at": f"2026-12-0{1 + n % 5} 08:00:0{n % 10}", "key": key,
                 "url": f"https://example.vn/{n}"},
            )  # fmt: skip
    engine.dispose()


@contextmanager
def pg_database() -> Iterator[str]:
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    name = f"keycoll_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def table(backend: str, tmp_path: Path) -> Iterator[str]:
    """A ``news`` table whose key column compares case- and accent-insensitively."""
    if backend == "mariadb":
        with mariadb_database("keycoll") as url:  # utf8mb4, the server's default collation
            fill(url, "VARCHAR(100)")
            yield url
    elif backend == "postgresql":
        with pg_database() as url:
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text(
                    "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level1', "
                    "deterministic = false)"
                ))  # fmt: skip
            engine.dispose()
            fill(url, 'TEXT COLLATE "ci"')
            yield url
    else:
        url = f"sqlite:///{tmp_path / 'cms.db'}"
        fill(url, "TEXT COLLATE NOCASE")
        yield url


BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mysql),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_keys_apart_by_case_or_accents_are_not_one(backend: str, tmp_path: Path) -> None:
    with table(backend, tmp_path) as url:
        source = external_source(url, "news", SourceColumns(**COLUMNS, **dict.fromkeys(ABSENT)))
        try:
            assert duplicate_keys(source, 10) == ["X-1"]
        finally:
            source.dispose()


def test_source_check_on_mariadb_warns_of_the_exact_duplicate_only(tmp_path: Path) -> None:
    """The tester's command: the warning names X-1, never m-004 or M-007."""
    with table("mariadb", tmp_path) as url:
        result = run_check(tmp_path, url, "news", COLUMNS | ABSENT)
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.output.splitlines() if "not unique" in x]
    assert "carry the key X-1;" in line, line
