"""An external CMS table for lifecycle tests (``posts``: cursor ``modified``, version
``edited``, ``visible`` = ``status = 'published'``), on the test's backend: a SQLite file, or a
table in the test's PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lifecycle_world import Clock
from sqlalchemy import Engine, create_engine, text

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.source import SqlSource, external_source

COLUMNS = SourceColumns(
    cursor="modified",
    source_key="slug",
    url="link",
    published_at="created",
    updated_at="edited",
    visible="status = 'published'",
)


@dataclass
class Cms:
    url: str
    engine: Engine
    clock: Clock

    def put(self, n: int, status: str | None, created: datetime, title: str = "") -> None:
        """Insert or update post ``n``; ``modified`` (the cursor) moves, ``edited`` stays."""
        stamp = self.clock().replace(tzinfo=None)
        values = {
            "n": n, "slug": f"TEST-{n:05d}", "link": f"https://example.vn/tin/{n}.html",
            "title": title or f"Công an Kiến Thụy tin số {n}", "status": status,
            "created": created.astimezone(UTC).replace(tzinfo=None), "now": stamp,
        }  # fmt: skip
        with self.engine.begin() as conn:
            done = conn.execute(
                text("UPDATE posts SET status = :status, title = :title, created = :created, "
                     "modified = :now WHERE id = :n"),
                values,
            ).rowcount  # fmt: skip
            if not done:
                conn.execute(
                    text("INSERT INTO posts VALUES (:n, :slug, :link, :title, :status, :created,"
                         " :now, :now)"),
                    values,
                )  # fmt: skip

    def row(self, n: int) -> dict[str, Any]:
        """Post ``n`` as stored (a saved copy, as a backup holds it)."""
        with self.engine.connect() as conn:
            found = conn.execute(text("SELECT * FROM posts WHERE id = :n"), {"n": n}).mappings()
            return dict(found.one())

    def insert(self, row: dict[str, Any]) -> None:
        """Insert a saved row back exactly as it was (a restore from backup)."""
        names = ", ".join(row)
        values = ", ".join(f":{k}" for k in row)
        with self.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO posts ({names}) VALUES ({values})"), row)

    def delete(self, *ns: int) -> None:
        with self.engine.begin() as conn:
            for n in ns:
                conn.execute(text("DELETE FROM posts WHERE id = :n"), {"n": n})

    def source(self, columns: SourceColumns = COLUMNS) -> SqlSource:
        return external_source(self.url, "posts", columns, UTC)


@contextmanager
def cms_table(db: Database, tmp_path: Path) -> Iterator[Cms]:
    url = f"sqlite:///{tmp_path / 'cms.db'}" if db.dialect == "sqlite" else str(db.url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug VARCHAR(100) NOT NULL, "
                "link VARCHAR(300) NOT NULL, title VARCHAR(300) NOT NULL, status VARCHAR(20), "
                "created TIMESTAMP NULL, modified TIMESTAMP NOT NULL, "
                "edited TIMESTAMP NOT NULL)"
            )
        )
        conn.execute(text("CREATE INDEX ix_posts_modified ON posts (modified, id)"))
        conn.execute(text("CREATE INDEX ix_posts_created ON posts (created)"))
    yield Cms(url, engine, Clock())
    engine.dispose()
