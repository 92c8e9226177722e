"""The hour a CMS's local clock shows twice (daylight saving time ends) loses no row.

A CMS writing its cursor column in local time without a zone (WordPress's ``post_modified``)
under ``source.timezone = "Europe/Berlin"`` writes 02:00-02:59 twice on the last Sunday of
October: in summer time, then an hour later in winter time. The second pass's rows sort behind
the first pass's in the column, so once the cursor had taken a row at 02:50 (first pass), the
rows written at 02:05-02:44 in the second pass were behind it and outside the overlap window,
which was counted in wall time (02:45-02:50): never read, never alerted, no error. And on
PostgreSQL a horizon in the second pass (02:00 winter time) bounded the reads at that wall
time, so first-pass rows written an hour before were held back as "after now".

Now the window behind a wall-time cursor reaches back to the start of a repeated hour it meets
(``feedsvc.source.folds``), and a horizon in that hour bounds reads at its end. Zones without
daylight saving time (``Asia/Ho_Chi_Minh``, the default) are unchanged.

The zone and the CMS's backend and column type are crossed (the fold's length meets each
backend's reading of wall times and its horizon in SQL); the state DB, which stores the cursor
and the alerts the same way whatever the CMS holds, is each-choice
(``backend_cases.on_backends``): each zone and each CMS still meets both state DBs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from backend_cases import on_backends
from conftest import mariadb_database
from factories import VN
from sqlalchemy import Engine, create_engine, text
from test_ingest_quarantine import COLUMNS, held, pg_cms_url
from test_ingest_recheck_store import queued, subscribed
from test_ingest_unordered import entries

from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.outbox import Outbox
from feedsvc.source import external_source
from feedsvc.source.cursor import CursorCodec
from feedsvc.topic_index import TopicIndex

__all__ = ["pg_cms_url"]  # a fixture

CHAT = 501
#: (zone, the first wall time shown twice, how long the clocks go back)
FOLDS = {
    "Europe/Berlin": (datetime(2026, 10, 25, 2, 0), timedelta(hours=1)),
    "America/New_York": (datetime(2026, 11, 1, 1, 0), timedelta(hours=1)),
    "Australia/Lord_Howe": (datetime(2026, 4, 5, 1, 30), timedelta(minutes=30)),
}
TS = {"sqlite": "TIMESTAMP", "sqlite-text": "TEXT", "postgres": "TIMESTAMP", "mariadb": "DATETIME"}


def cms_id(value: object) -> str:
    """A case's id for a value: the CMS's backend as ``cms-…`` (the state DB's comes first)."""
    return f"cms-{value}" if value in TS else str(value)


class Cms:
    """A CMS table ``posts`` whose cursor ``modified`` holds local wall times."""

    def __init__(self, url: str, ts: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug VARCHAR(50), "
                    f"link VARCHAR(200), title VARCHAR(200), body TEXT, created {ts}, "
                    f"modified {ts})"
                )
            )

    def post(self, n: int, wall: datetime) -> None:
        values = {
            "n": n, "s": f"p-{n}", "l": f"https://baohaiphong.vn/{n}.html",
            "t": f"Tin số {n}: Kiến Thụy", "at": wall.isoformat(sep=" "),
        }  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO posts VALUES (:n, :s, :l, :t, '<p>.</p>', :at, :at)"), values
            )

    def ingestor(self, db: Database, zone: str, overlap: float = 300) -> Ingestor:
        tz = ZoneInfo(zone)
        ing = Ingestor(
            db,
            external_source(self.url, "posts", COLUMNS, tz),
            TopicIndex(),
            tz=tz,
            poll_seconds=1,
            overlap_seconds=overlap,
            batch_size=2,
        )
        ing.hooks.append(Outbox(timedelta(days=3650)))  # the fold's rows are months old
        return ing


@pytest.fixture(params=list(TS))
def cms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cms]:
    backend = request.param
    if backend.startswith("sqlite"):
        made = Cms(f"sqlite:///{tmp_path / 'cms.db'}", TS[backend])
        yield made
    elif backend == "postgres":
        made = Cms(request.getfixturevalue("pg_cms_url"), TS[backend])
        yield made
    else:
        with mariadb_database("feedsvc_fold") as url:
            made = Cms(url, TS[backend])
            yield made
            made.engine.dispose()
        return
    made.engine.dispose()


def at(zone: str, fold: int, minutes: float) -> datetime:
    """The real instant ``minutes`` into the repeated hour's first (0) or second (1) showing."""
    first, _ = FOLDS[zone]
    wall = (first + timedelta(minutes=minutes)).replace(tzinfo=ZoneInfo(zone), fold=fold)
    return wall.astimezone(UTC)


def wall(zone: str, minutes: float) -> datetime:
    return FOLDS[zone][0] + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("db_url", "cms", "zone"),
    on_backends([(backend, zone) for backend in TS for zone in FOLDS], label=cms_id),
    indirect=["db_url", "cms"],
)
def test_rows_written_in_the_second_showing_of_the_hour_are_ingested_and_alerted(
    db: Database, cms: Cms, zone: str
) -> None:
    length = FOLDS[zone][1].total_seconds() / 60
    ing = cms.ingestor(db, zone)
    subscribed(db, CHAT)
    cms.post(1, wall(zone, -10))
    ing.clock = lambda: at(zone, 0, -5)
    assert ing.tick().new == 1  # one row: no backlog, so no first sync (it alerts)
    # the first showing: rows up to 5 minutes before the hour ends, the cursor on the last
    for n, m in ((2, length * 0.5), (3, length - 5)):
        cms.post(n, wall(zone, m))
    ing.clock = lambda: at(zone, 0, length - 2)
    result = ing.tick()
    assert (result.error, result.new) == (None, 2)
    # the second showing: the clocks went back; rows sort behind the cursor's row
    ing.clock = lambda: at(zone, 1, length * 0.6)
    for n, m in ((4, 1), (5, length * 0.25), (6, length * 0.55)):
        cms.post(n, wall(zone, m))
    result = ing.tick()
    assert (result.error, result.new, result.quarantined) == (None, 3, [])
    # after the hour: the cursor moves on past it; a last late row of the second showing
    cms.post(7, wall(zone, length - 1))
    cms.post(8, wall(zone, length + 2))
    ing.clock = lambda: at(zone, 1, length + 3)
    result = ing.tick()
    assert (result.error, result.new, result.quarantined) == (None, 2, [])
    assert held(db) == [f"p-{n}" for n in range(1, 9)] and entries(db) == {}
    assert queued(db) == [(f"p-{n}", CHAT) for n in range(1, 9)]  # each once
    assert ing.tick().new == 0 and len(queued(db)) == 8
    ing.source.dispose()


@pytest.mark.parametrize(("db_url", "cms"), on_backends(list(TS), label=cms_id), indirect=True)
def test_first_showing_rows_are_not_held_back_when_now_is_the_second(
    db: Database, cms: Cms
) -> None:
    """A tick in the second showing of the hour reads the rows of the first showing, written
    up to an hour before: they are not "after now plus the overlap window"."""
    zone = "Europe/Berlin"
    ing = cms.ingestor(db, zone, overlap=60)
    cms.post(1, wall(zone, -30))
    for n, m in ((2, 20), (3, 50)):
        cms.post(n, wall(zone, m))
    ing.clock = lambda: at(zone, 1, 5)
    result = ing.tick()
    assert (result.error, result.new, result.quarantined) == (None, 3, [])
    assert entries(db) == {}
    ing.source.dispose()


@pytest.mark.parametrize(
    ("zone", "cursor", "lower"),
    [
        ("Europe/Berlin", datetime(2026, 10, 25, 2, 50), datetime(2026, 10, 25, 2, 0)),
        ("Europe/Berlin", datetime(2026, 10, 25, 3, 2), datetime(2026, 10, 25, 2, 0)),
        ("Europe/Berlin", datetime(2026, 10, 25, 3, 10), datetime(2026, 10, 25, 3, 5)),
        ("Europe/Berlin", datetime(2026, 10, 25, 1, 58), datetime(2026, 10, 25, 1, 53)),
        ("Europe/Berlin", datetime(2026, 3, 29, 3, 2), datetime(2026, 3, 29, 2, 57)),
        ("Asia/Ho_Chi_Minh", datetime(2026, 10, 25, 2, 50), datetime(2026, 10, 25, 2, 45)),
        ("UTC", datetime(2026, 10, 25, 2, 50), datetime(2026, 10, 25, 2, 45)),
    ],
)
def test_the_window_behind_a_wall_time_reaches_the_start_of_a_repeated_hour(
    zone: str, cursor: datetime, lower: datetime
) -> None:
    """Only a window that meets the repeated hour grows; the spring's missing hour, a zone
    without daylight saving time and UTC keep the plain overlap."""
    tz = ZoneInfo(zone)
    assert CursorCodec("naive", tz).minus(cursor, 300) == lower
    text_codec = CursorCodec("text", tz)
    assert text_codec.minus(cursor.isoformat(sep=" "), 300) == lower.isoformat(sep=" ")
    assert text_codec.minus(cursor.isoformat(), 300) == lower.isoformat()
    # a value with its own offset is no wall time: the plain overlap
    aware = cursor.replace(tzinfo=UTC).isoformat()
    assert (
        text_codec.minus(aware, 300)
        == (cursor - timedelta(minutes=5)).replace(tzinfo=UTC).isoformat()
    )
    assert CursorCodec("naive", VN).minus(cursor, 300) == cursor - timedelta(minutes=5)
