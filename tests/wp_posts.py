"""A WordPress-shaped CMS table for the tests of drafts published by a status change alone
(``wp_posts``: ``ID``, ``post_name``, ``guid``, ``post_title``, ``post_status``,
``post_date_gmt``, ``post_modified_gmt``), on the test's backend: a SQLite file, or a table in
the test's PostgreSQL schema.

``wp_publish_post`` (``wp-includes/post.php``, what WP-cron's ``check_and_publish_future_post``
runs at a scheduled post's time) writes ``post_status = 'publish'`` and nothing else:
:meth:`WpPosts.cron_publish` does the same. ``wp_update_post`` (an editor's save, "switch to
draft") sets ``post_modified_gmt``: :meth:`WpPosts.save`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lifecycle_world import Clock
from sqlalchemy import Engine, create_engine, text

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.source import SqlSource, external_source

#: How an operator maps WordPress (`visible` on `post_status`, the cursor `post_modified_gmt`).
COLUMNS = SourceColumns(
    id="ID",
    cursor="post_modified_gmt",
    source_key="post_name",
    url="guid",
    title="post_title",
    published_at="post_date_gmt",
    updated_at="post_modified_gmt",
    visible="post_status = 'publish'",
)


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


@dataclass
class WpPosts:
    url: str
    engine: Engine
    clock: Clock

    def save(self, n: int, status: str, date: datetime, title: str = "") -> None:
        """``wp_insert_post``/``wp_update_post``: post ``n`` written whole, ``post_modified_gmt``
        (the cursor and version) set to now."""
        values = {
            "n": n, "name": f"tin-{n}", "guid": f"https://example.vn/tin/{n}.html",
            "title": title or f"Công an Kiến Thụy tin số {n}", "status": status,
            "date": _naive(date), "now": _naive(self.clock()),
        }  # fmt: skip
        with self.engine.begin() as conn:
            done = conn.execute(
                text('UPDATE wp_posts SET post_status = :status, post_title = :title, '
                     'post_date_gmt = :date, post_modified_gmt = :now WHERE "ID" = :n'),
                values,
            ).rowcount  # fmt: skip
            if not done:
                conn.execute(
                    text("INSERT INTO wp_posts VALUES (:n, :name, :guid, :title, :status, "
                         ":date, :now)"),
                    values,
                )  # fmt: skip

    def cron_publish(self, n: int, status: str = "publish") -> None:
        """``wp_publish_post``: the status alone, ``post_modified_gmt`` untouched."""
        with self.engine.begin() as conn:
            conn.execute(
                text('UPDATE wp_posts SET post_status = :status WHERE "ID" = :n'),
                {"status": status, "n": n},
            )

    def rename(self, old: str, new: str) -> None:
        """The table away (an outage every statement sees) or back."""
        with self.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    def source(self) -> SqlSource:
        return external_source(self.url, "wp_posts", COLUMNS, UTC)


@contextmanager
def wp_posts(db: Database, tmp_path: Path, clock: Clock | None = None) -> Iterator[WpPosts]:
    url = f"sqlite:///{tmp_path / 'wp.db'}" if db.dialect == "sqlite" else str(db.url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                'CREATE TABLE wp_posts ("ID" BIGINT PRIMARY KEY, post_name VARCHAR(200) NOT NULL, '
                "guid VARCHAR(255) NOT NULL, post_title TEXT NOT NULL, "
                "post_status VARCHAR(20) NOT NULL, post_date_gmt TIMESTAMP NOT NULL, "
                "post_modified_gmt TIMESTAMP NOT NULL)"
            )
        )
        conn.execute(text('CREATE INDEX ix_wp_modified ON wp_posts (post_modified_gmt, "ID")'))
    yield WpPosts(url, engine, clock or Clock())
    engine.dispose()
