"""A CMS table with content columns for the tests of rows re-read at the same version
(corrections without a new ``updated_at``) and keys carried by several rows: ``news`` (cursor
``modified``, version ``edited``, which may be unmapped, ``visible`` = ``status =
'published'``), on the test's backend (a SQLite file or the test's PostgreSQL schema) or, with
a SQLite state DB, on the machine's MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import mariadb_database
from lifecycle_world import Clock
from sqlalchemy import Engine, create_engine, text

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.source import SqlSource, external_source


def columns(stamped: bool = True) -> SourceColumns:
    """The mapping; ``stamped`` False: ``updated_at`` not mapped (the config allows it)."""
    return SourceColumns(
        cursor="modified", source_key="slug", url="link", title="title", summary="summary",
        body="body", published_at="created", updated_at="edited" if stamped else "",
        visible="status = 'published'",
    )  # fmt: skip


@dataclass
class News:
    url: str
    engine: Engine
    clock: Clock

    def put(self, n: int, slug: str | None = None, **values: Any) -> None:
        """Insert row ``n`` (key ``slug``, default ``k{n}``) or update the given columns of it;
        ``modified`` (the cursor) moves each time, ``edited`` only when given."""
        self.clock.advance(seconds=2)
        now = self.clock().replace(tzinfo=None)
        with self.engine.begin() as conn:
            exists = conn.execute(text("SELECT 1 FROM news WHERE id = :n"), {"n": n}).first()
            if exists:
                if slug is not None:
                    values["slug"] = slug
                values = {k: _naive(v) for k, v in values.items()} | {"modified": now}
                sets = ", ".join(f"{k} = :{k}" for k in values)
                conn.execute(text(f"UPDATE news SET {sets} WHERE id = :n"), values | {"n": n})
                return
            row = {
                "id": n, "slug": slug or f"k{n}", "link": f"https://example.vn/tin/{n}.html",
                "title": f"Công an Kiến Thụy tin số {n}", "summary": "tóm tắt", "body": "nội dung",
                "status": "published", "created": now - timedelta(minutes=30),
                "edited": now - timedelta(minutes=20), "modified": now,
            } | {k: _naive(v) for k, v in values.items()}  # fmt: skip
            names = ", ".join(row)
            conn.execute(
                text(f"INSERT INTO news ({names}) VALUES ({', '.join(':' + k for k in row)})"),
                row,
            )

    def delete(self, *ns: int) -> None:
        with self.engine.begin() as conn:
            for n in ns:
                conn.execute(text("DELETE FROM news WHERE id = :n"), {"n": n})

    def source(self, stamped: bool = True) -> SqlSource:
        return external_source(self.url, "news", columns(stamped), UTC)


def _naive(value: Any) -> Any:
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


_DDL = (
    "CREATE TABLE news (id INTEGER PRIMARY KEY, slug VARCHAR(100) NOT NULL, "
    "link VARCHAR(300) NOT NULL, title VARCHAR(300) NOT NULL, summary TEXT, body TEXT, "
    "status VARCHAR(20), created {ts} NOT NULL, modified {ts} NOT NULL, edited {ts} NULL)"
)


@contextmanager
def news_table(db: Database, tmp_path: Path, backend: str) -> Iterator[News]:
    """``backend``: "same" (the state DB's backend) or "mariadb"."""
    if backend == "mariadb":
        with mariadb_database("cmsrows") as url:
            yield from _made(url, "DATETIME(6)")
        return
    url = f"sqlite:///{tmp_path / 'cms.db'}" if db.dialect == "sqlite" else str(db.url)
    yield from _made(url, "TIMESTAMP")


@pytest.fixture(params=["same", "mariadb"])
def news(db: Database, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[News]:
    """The ``news`` table on each backend the state DB allows (MariaDB: SQLite state DB only;
    the other combination is deselected, ``conftest.pytest_collection_modifyitems``)."""
    with news_table(db, tmp_path, request.param) as table:
        yield table


def _made(url: str, ts: str) -> Iterator[News]:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(_DDL.format(ts=ts)))
        conn.execute(text("CREATE INDEX ix_news_modified ON news (modified, id)"))
        conn.execute(text("CREATE INDEX ix_news_created ON news (created)"))
    try:
        yield News(url, engine, Clock())
    finally:
        engine.dispose()
