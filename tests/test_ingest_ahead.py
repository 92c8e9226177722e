"""A source row whose cursor value lies in the future never moves the cursor past it.

The cursor only moves forward: taking a row dated ``9999-12-31`` (a placeholder), tomorrow (a
CMS clock ahead, an edit stamped with the publication time of a scheduled post), ``'garbage'``
in a text column (it sorts after every digit) or PostgreSQL's ``'infinity'`` (which psycopg
cannot even read) used to move the cursor past every row written afterwards: those rows were
never ingested, with ``feedsvc status`` saying ``ok``. Such a row is now held back, named in
the log and the quarantine list (stage ``ahead``), and taken once its time comes or the CMS
fixes it; the rows around it, and the ones written later, are ingested as usual.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from factories import VN, builtin_ingestor
from sqlalchemy import Column, create_engine, insert, select, text
from sqlalchemy.types import DateTime, Integer, String
from test_ingest_quarantine import COLUMNS, SqliteCms, T, cms, entries, held, pg_cms_url

from feedsvc.db import Database
from feedsvc.db.schema import articles, source_articles
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.source.cursor import CursorCodec
from feedsvc.topic_index import TopicIndex

__all__ = ["cms", "pg_cms_url"]  # fixtures, shared with test_ingest_quarantine

NOW_VN = datetime.now(VN).replace(tzinfo=None, microsecond=0)  # naive CMS wall time


AHEAD = {
    "placeholder": lambda: "9999-12-31 00:00:00",
    "garbage": lambda: "garbage",
    "tomorrow": lambda: (NOW_VN + timedelta(days=1)).isoformat(sep=" "),
    "in-2-hours-T": lambda: (NOW_VN + timedelta(hours=2)).isoformat(),  # the other ISO shape
}


@pytest.mark.parametrize("case", AHEAD)
def test_a_row_dated_in_the_future_does_not_hide_later_rows(
    db: Database, cms: SqliteCms, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    value = AHEAD[case]()
    for n in range(1, 6):
        cms.post(n, modified=value) if n == 3 else cms.post(n)
    ing = cms.ingestor(db, batch_size=2)
    caplog.set_level(logging.WARNING, logger="feedsvc.ingest")
    result = ing.tick()
    assert result.error is None, result.error
    assert held(db) == ["p-1", "p-2", "p-4", "p-5"]
    assert {k: e.stage for k, e in entries(db).items()} == {"3": "ahead"}
    assert "row id=3 held back" in caplog.text
    # written after the first tick, dated now: the old cursor (at `value`) was past it
    cms.post(6, modified=(NOW_VN - timedelta(minutes=1)).isoformat(sep=" "))
    assert ing.tick().error is None
    assert held(db) == ["p-1", "p-2", "p-4", "p-5", "p-6"]
    assert ing.tick().read == 0  # held back rows are not counted as read again and again
    # the CMS fixes the row: it is taken, and leaves the quarantine list
    with cms.engine.begin() as conn:
        conn.execute(text("UPDATE posts SET modified = :m WHERE id = 3"), {"m": str(NOW_VN)})
    assert ing.tick().error is None
    assert held(db) == ["p-1", "p-2", "p-3", "p-4", "p-5", "p-6"]
    assert entries(db) == {}


@pytest.mark.parametrize("value", ["'infinity'", "'9999-12-31 00:00:00'", ":tomorrow"])
def test_a_typed_cursor_column_ahead_of_now(db: Database, pg_cms_url: str, value: str) -> None:
    """PostgreSQL ``timestamp``: ``'infinity'`` cannot be read by the driver at all (the batch
    it ended used to fail every tick, stopping ingest for good), a far or near future can."""
    writer = create_engine(pg_cms_url)
    insert = "INSERT INTO posts VALUES (:n, :s, :l, :t, NULL, :at, {})"
    with writer.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE posts (id INT PRIMARY KEY, slug TEXT, link TEXT, title TEXT, "
                "body TEXT, created TIMESTAMP, modified TIMESTAMP)"
            )
        )
        for n in range(1, 7):
            conn.execute(
                text(insert.format(value if n == 3 else ":at")),
                {
                    "n": n,
                    "s": f"p-{n}",
                    "l": f"https://baohaiphong.vn/{n}.html",
                    "t": f"Tin số {n}",
                    "at": T + timedelta(minutes=n),
                    "tomorrow": NOW_VN + timedelta(days=1),
                },
            )
    ing = Ingestor(
        db,
        external_source(pg_cms_url, "posts", COLUMNS, VN),
        TopicIndex(),
        tz=VN,
        poll_seconds=1,
        overlap_seconds=3600,
        batch_size=3,
    )
    result = ing.tick()
    assert result.error is None, result.error
    assert held(db) == ["p-1", "p-2", "p-4", "p-5", "p-6"]
    assert {k: e.stage for k, e in entries(db).items()} == {"3": "ahead"}
    with writer.begin() as conn:
        conn.execute(text(insert.format(":at")), {
            "n": 7, "s": "p-7", "l": "https://baohaiphong.vn/7.html", "t": "Tin số 7",
            "at": NOW_VN - timedelta(minutes=1),
        })  # fmt: skip
    assert ing.tick().error is None
    assert "p-7" in held(db)
    writer.dispose()
    ing.source.dispose()


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "value", "ahead"),
    [
        ("aware", datetime(9999, 12, 31, tzinfo=UTC), True),
        ("aware", NOW + timedelta(seconds=1), True),
        ("aware", NOW, False),
        ("naive", datetime(9999, 12, 31, 23, 59), True),  # at +07:00: past datetime's range
        ("naive", datetime(2026, 11, 30, 19, 0), False),  # 12:00 UTC in Vietnam
        ("naive", datetime(2026, 11, 30, 19, 1), True),
        ("naive", "0000-00-00 00:00:00", False),  # a MySQL zero date sorts first there
        ("epoch", 10**15, True),  # beyond datetime's range, still a number
        ("epoch", Decimal(int(NOW.timestamp())), False),
        ("epoch", Decimal("NaN"), True),  # PostgreSQL sorts NaN after every number
        ("epoch", float("nan"), True),
        ("text", "garbage", True),
        ("text", "2026-11-30 garbage", True),  # sorts after every time of that day
        ("text", "0000-00-00", False),
        ("text", "", False),
        ("text", "2026-11-30T19:00:00", False),
        ("text", "2026-11-30 19:00:01", True),
        ("text", "2026-11-30T12:00:01Z", True),
    ],
)
def test_which_cursor_values_are_ahead(kind: str, value: Any, ahead: bool) -> None:
    types = {"aware": DateTime(timezone=True), "naive": DateTime(), "epoch": Integer()}
    codec = CursorCodec.for_column(Column("c", types.get(kind, String())), "postgresql", VN)
    assert codec.kind == kind
    assert codec.ahead(value, NOW) is ahead


@pytest.mark.parametrize(
    ("ahead", "believed"),
    [(timedelta(days=63000), False), (timedelta(days=2), False), (timedelta(hours=1), True)],
)
def test_an_edit_dated_in_the_future_does_not_lock_out_corrections(
    db: Database, ahead: timedelta, believed: bool
) -> None:
    """``updated_at`` is the article's version: one from the future (a placeholder, a wrong
    zone) stored once made every later correction look older, ignored without a word. More
    than a day ahead it is not believed: the article is stored, and the correction lands."""
    now = datetime.now(UTC)

    def row(n: int, **over: Any) -> dict[str, Any]:
        return {
            "source_key": f"K-{n}", "url": f"https://baohaiphong.vn/{n}.html",
            "title": f"Tin {n}", "body": "", "tags": [], "published_at": now - timedelta(days=1),
            "changed_at": now - timedelta(minutes=10 - n), "updated_at": None, **over,
        }  # fmt: skip

    with db.write() as conn:
        conn.execute(insert(source_articles), [row(1), row(2, updated_at=now + ahead), row(3)])
    ing = builtin_ingestor(db)
    assert ing.tick().error is None
    with db.read() as conn:
        assert sorted(conn.execute(select(articles.c.source_key)).scalars()) == [
            "K-1", "K-2", "K-3"
        ]  # fmt: skip
    with db.write() as conn:  # the CMS corrects it (and its date)
        conn.execute(
            source_articles.update()
            .where(source_articles.c.source_key == "K-2")
            .values(title="Tin 2 (sửa)", updated_at=now, changed_at=datetime.now(UTC))
        )
    result = ing.tick()
    assert result.error is None and result.new == 0
    with db.read() as conn:
        title = conn.execute(select(articles.c.title).where(articles.c.source_key == "K-2"))
        assert title.scalar_one() == ("Tin 2" if believed else "Tin 2 (sửa)")
    with db.write() as conn:  # re-read at its (now credible) version: nothing changes
        conn.execute(
            source_articles.update()
            .where(source_articles.c.source_key == "K-2")
            .values(changed_at=datetime.now(UTC))
        )
    assert ing.tick().updated == 0
