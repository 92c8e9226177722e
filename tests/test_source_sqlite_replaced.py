"""A CMS's SQLite file replaced by a rename (an rsync, a restore, an atomic deploy): the next
poll reads the new file (a tester's: a pooled connection kept the old file open, so the new
rows were never read, even after the old file was deleted, while ``status`` said all was
well). The CMS file is SQLite; the state DB is each backend.

Whether the old file is kept is given one state DB backend per case
(``backend_cases.on_backends``): it is about the CMS's SQLite file, whatever the state DB."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backend_cases import on_backends
from cms_table import COLUMNS
from lifecycle_world import Clock, World, make_world
from sqlalchemy import create_engine, text

from feedsvc.db import Database
from feedsvc.source import external_source

DDL = (
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug VARCHAR(100) NOT NULL, "
    "link VARCHAR(300) NOT NULL, title VARCHAR(300) NOT NULL, status VARCHAR(20), "
    "created TIMESTAMP NULL, modified TIMESTAMP NOT NULL, edited TIMESTAMP NOT NULL)"
)


def add(path: Path, n: int, at: datetime) -> None:
    """Post ``n``, published, into the CMS file at ``path``."""
    engine = create_engine(f"sqlite:///{path}")
    stamp = at.astimezone(UTC).replace(tzinfo=None)
    row = {
        "n": n, "slug": f"TEST-{n:05d}", "link": f"https://example.vn/tin/{n}.html",
        "title": f"Công an Kiến Thụy tin số {n}", "created": stamp - timedelta(minutes=10),
        "now": stamp,
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO posts VALUES (:n, :slug, :link, :title, 'published', :created, :now,"
            " :now)"
        ), row)  # fmt: skip
    engine.dispose()


@pytest.fixture
def cms_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "cms.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text(DDL))
    engine.dispose()
    yield path


def world(db: Database, path: Path, clock: Clock) -> World:
    return make_world(db, clock, source=external_source(f"sqlite:///{path}", "posts", COLUMNS))


@pytest.mark.parametrize(
    ("db_url", "old_file"), on_backends(["kept", "deleted"]), indirect=["db_url"]
)
def test_a_cms_file_replaced_by_a_rename_is_read_at_the_next_poll(
    db: Database, cms_file: Path, old_file: str
) -> None:
    clock = Clock()
    w = world(db, cms_file, clock)
    add(cms_file, 1, clock())
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    fresh = cms_file.with_name("cms.db.new")  # a copy, a row added to it, renamed over
    shutil.copy(cms_file, fresh)
    clock.advance(seconds=5)
    add(fresh, 2, clock())
    os.replace(cms_file, cms_file.with_name("cms.db.away"))
    os.replace(fresh, cms_file)
    if old_file == "deleted":
        cms_file.with_name("cms.db.away").unlink()
    w.poll()
    assert w.feed_keys("rss") == ["2.html", "1.html"]
