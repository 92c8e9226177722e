"""A CMS row whose cursor value moves *backwards* is not read again (README, "How it works").

An editor restores an old revision and the CMS writes it with its old ``modified``: the row now
sorts behind the cursor and its overlap window (``source.overlap_seconds``), so no tick reads
it, and the feeds keep what they showed — even when the row's ``updated_at`` is newer (here a
column of its own, ``edited``). Inside the window it is read, but an older version never
replaces a newer one. feedsvc has no command that re-reads a row; the README's remedy is
saving the row again in the CMS, so its cursor value is now: the next poll reads it as an edit.
This pins the behaviour the README describes (it is no fix: it passes before and after), seen
as an operator sees it, through ``feedsvc articles find``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from feedsvc.app import Roles, Service
from feedsvc.cli import cli
from feedsvc.config import load_config

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")  # the default source.timezone: naive CMS times in it
COLUMNS = {
    "cursor": "modified", "source_key": "slug", "url": "link", "title": "title",
    "published_at": "created", "updated_at": "edited",
}  # fmt: skip


def local(moment: datetime) -> str:
    return f"{moment.astimezone(HANOI):%Y-%m-%d %H:%M:%S}"


class Newsroom:
    """An SQLite CMS table ``posts`` and a service (ingest only) reading it."""

    def __init__(self, tmp_path: Path) -> None:
        self.cms = tmp_path / "cms.db"
        self.now = datetime.now(UTC)
        with sqlite3.connect(self.cms) as conn:
            conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                         " title TEXT, created TEXT, modified TEXT, edited TEXT)")  # fmt: skip
            old = local(self.now - timedelta(days=2))
            conn.execute("INSERT INTO posts VALUES (1, 'P-1', 'https://e.vn/1', 'Bản gốc', ?, ?,"
                         " ?)", (old, old, old))  # fmt: skip
        self.env = {"FEEDSVC_CONFIG": "/dev/null",
                    "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}"}  # fmt: skip
        settings = load_config(None, {
            "database": {"url": self.env["FEEDSVC_DATABASE__URL"]},
            "source": {"url": f"sqlite:///{self.cms}", "table": "posts", "columns": COLUMNS},
        })  # fmt: skip
        self.service = Service(settings, Roles(http=False, bot=False))
        self.service.prepare()

    def write(self, title: str, modified: datetime, edited: datetime) -> None:
        """The CMS saves post 1 with ``title``, cursor value ``modified`` and version
        ``edited``; a tick reads."""
        with sqlite3.connect(self.cms) as conn:
            conn.execute("UPDATE posts SET title = ?, modified = ?, edited = ? WHERE id = 1",
                         (title, local(modified), local(edited)))  # fmt: skip
        self.service.ingest_tick()

    def shown_title(self) -> str:
        found = CliRunner().invoke(cli, ["articles", "find", "P-1"], env=self.env)
        assert found.exit_code == 0, found.output
        return found.stdout.rstrip("\n").split("\t")[3]


@pytest.fixture
def newsroom(tmp_path: Path) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path)
    room.service.ingest_tick()
    assert room.shown_title() == "Bản gốc"
    edit = room.now - timedelta(minutes=1)
    room.write("Sửa lần hai", edit, edit)
    assert room.shown_title() == "Sửa lần hai"
    yield room
    room.service.close()


@pytest.mark.parametrize("back", [timedelta(days=2), timedelta(seconds=330)])
def test_a_row_moved_back_past_the_window_is_not_read(newsroom: Newsroom, back: timedelta) -> None:
    """Behind the cursor by more than ``source.overlap_seconds`` (300): never read again, not
    even with a newer ``updated_at`` that would replace the stored version if it were read."""
    moved = newsroom.now - timedelta(minutes=1) - back
    newsroom.write("Bản gốc", moved, datetime.now(UTC))
    newsroom.service.ingest_tick()
    assert newsroom.shown_title() == "Sửa lần hai"


def test_inside_the_window_it_is_read(newsroom: Newsroom) -> None:
    newsroom.write("Bản gốc", newsroom.now - timedelta(minutes=2), datetime.now(UTC))
    assert newsroom.shown_title() == "Bản gốc"


def test_inside_the_window_an_older_version_does_not_win(newsroom: Newsroom) -> None:
    """The restored revision's own old ``updated_at``: read, and older than the stored one."""
    old = newsroom.now - timedelta(days=2)
    newsroom.write("Bản gốc", newsroom.now - timedelta(minutes=2), old)
    assert newsroom.shown_title() == "Sửa lần hai"


def test_saving_it_again_now_is_the_remedy(newsroom: Newsroom) -> None:
    old = newsroom.now - timedelta(days=2)
    newsroom.write("Bản gốc", old, old)  # the old revision, its old times
    assert newsroom.shown_title() == "Sửa lần hai"
    now = datetime.now(UTC)
    newsroom.write("Bản gốc", now, now)  # "Update" in the CMS: both columns now
    assert newsroom.shown_title() == "Bản gốc"
