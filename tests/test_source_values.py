"""A `[source.columns] visible` value as the CMS driver returns it (``feedsvc.source.values``).

``visible = "status"`` on a text column of ``'published'``/``'draft'``, or an expression giving
a MySQL/MariaDB ``BIT`` (PyMySQL returns ``b'\\x01'``; SQLAlchemy converts only a plain ``BIT``
column) or a float: every row read as "not visible", so every article was silently withdrawn
(alerts deleted, feeds emptied) and ``source check`` said OK. A value that says true or false
is read so; any other is the row's problem, named by row id and field, and the row is
quarantined: what was public stays public until the mapping is fixed. The MariaDB columns
(``BIT(1)``, ``DOUBLE``, ``ENUM``) were read right before and stay so.

The MariaDB tests' column kinds are given one state DB backend each, rotating
(``backend_cases.on_backends``): the kind picks what PyMySQL returns from the CMS, read in
Python; the state DB then stores the same article, public or not, whatever the kind was.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from backend_cases import on_backends
from conftest import mariadb_database
from factories import VN
from sqlalchemy import create_engine, select, text
from test_ingest_quarantine import entries

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.source.values import field_record, is_visible
from feedsvc.topic_index import TopicIndex

SHOWN: list[Any] = [
    True, 1, 2, -1, Decimal("1"), 1.0, 0.5, b"\x01", b"\xff", b"\x00\x01", b"1", bytearray(b"1"),
    "1", "t", "TRUE", " yes ", "Y", "on", "7",
]  # fmt: skip
HIDDEN: list[Any] = [
    None, False, 0, Decimal("0"), 0.0, b"\x00", b"\x00\x00", b"0", "0", "f", "False", "n", "N",
    "no", "off", "", "  ",
]  # fmt: skip
#: Values that say neither: a status text, a date, a NaN, long binary that is no text.
UNCLEAR: list[Any] = [
    "published", "draft", "Đã xuất bản", b"published", float("nan"), datetime(2026, 1, 1),
    b"\xff" * 9, "yes please",
]  # fmt: skip


@pytest.mark.parametrize("value", SHOWN, ids=repr)
def test_true_values_are_shown(value: Any) -> None:
    assert is_visible(value) is True
    assert field_record([(0, "visible")], (value,)) == ({"withdrawn": False}, None)


@pytest.mark.parametrize("value", HIDDEN, ids=repr)
def test_false_values_are_not_shown(value: Any) -> None:
    assert is_visible(value) is False
    assert field_record([(0, "visible")], (value,)) == ({"withdrawn": True}, None)


@pytest.mark.parametrize("value", UNCLEAR, ids=repr)
def test_a_value_that_says_neither_is_the_rows_problem(value: Any) -> None:
    with pytest.raises(ValueError, match="is not true or false"):
        is_visible(value)
    record, problem = field_record([(0, "title"), (1, "visible")], ("Tin", value))
    assert record == {"title": "Tin"}  # no `withdrawn` guessed
    assert problem is not None and problem.startswith("visible is not true or false: got ")


COLUMNS = SourceColumns(
    cursor="modified", source_key="slug", url="link", title="title", published_at="created"
)
T = datetime(2026, 11, 26, 9, 0)


@pytest.fixture
def cms_url() -> Iterator[str]:
    with mariadb_database("feedsvc_visible") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE posts (id INT PRIMARY KEY, slug VARCHAR(50), link VARCHAR(200),"
                    " title VARCHAR(200), status VARCHAR(20), flag BIT(1), score DOUBLE,"
                    " yn ENUM('Y','N'), created DATETIME, modified DATETIME)"
                )
            )
            for n, on in ((1, True), (2, False), (3, True)):
                conn.execute(
                    text(
                        "INSERT INTO posts VALUES (:n, :slug, :link, 'Tin Kiến Thụy', :status,"
                        " :flag, :score, :yn, :at, :at)"
                    ),
                    {
                        "n": n, "slug": f"p-{n}", "link": f"https://baohaiphong.vn/{n}.html",
                        "status": "published" if on else "draft", "flag": int(on),
                        "score": float(on), "yn": "Y" if on else "N", "at": T,
                    },
                )  # fmt: skip
        engine.dispose()
        yield url


def states(db: Database) -> dict[str, bool]:
    with db.read() as conn:
        rows = conn.execute(select(articles.c.source_key, articles.c.withdrawn_reason))
        return {key: reason is None for key, reason in rows}


@pytest.mark.parametrize(
    ("db_url", "column"), on_backends(["flag", "score", "yn"], start=1), indirect=["db_url"]
)
def test_mariadb_boolean_columns_are_read_by_value(db: Database, cms_url: str, column: str) -> None:
    source = external_source(cms_url, "posts", COLUMNS.model_copy(update={"visible": column}), VN)
    ing = Ingestor(
        db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=3600, batch_size=10
    )
    try:
        assert ing.tick().error is None
    finally:
        source.dispose()
    assert states(db) == {"p-1": True, "p-2": False, "p-3": True}
    assert entries(db) == {}


def test_a_text_status_column_as_visible_withdraws_nothing(db: Database, cms_url: str) -> None:
    """Mapped right first, then ``visible = "status"``: nothing is taken down; each row is
    quarantined by id, naming ``visible`` and its value."""
    right = COLUMNS.model_copy(update={"visible": "status = 'published'"})
    source = external_source(cms_url, "posts", right, VN)
    ing = Ingestor(
        db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=3600, batch_size=10
    )
    assert ing.tick().error is None
    source.dispose()
    assert states(db) == {"p-1": True, "p-2": False, "p-3": True}

    engine = create_engine(cms_url)
    with engine.begin() as conn:  # every row edited: read again under the new mapping
        conn.execute(text("UPDATE posts SET modified = modified + INTERVAL 1 MINUTE"))
    engine.dispose()
    wrong = COLUMNS.model_copy(update={"visible": "status"})
    source = external_source(cms_url, "posts", wrong, VN)
    ing = Ingestor(
        db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=3600, batch_size=10
    )
    try:
        assert ing.tick().error is None
    finally:
        source.dispose()
    assert states(db) == {"p-1": True, "p-2": False, "p-3": True}
    bad = entries(db)
    assert sorted(bad) == ["1", "2", "3"]
    assert bad["1"].stage == "read"
    assert bad["1"].reason.startswith('visible is not true or false: got the string "published"')


# -- MySQL/MariaDB's zero date in `updated_at`: "never set" -------------------------------------

ZERO_DATES = ["0000-00-00 00:00:00", "0000-00-00", "0000-00-00 00:00:00.000000", " 0000-00-00 "]
NOT_ZERO = ["2026-00-00 00:00:00", "0000-00-00 10:00:00", "0000-01-01 00:00:00"]


@pytest.mark.parametrize("value", ZERO_DATES)
def test_a_zero_updated_at_is_no_updated_at(value: str) -> None:
    assert field_record([(0, "updated_at")], (value,)) == ({"updated_at": None}, None)


@pytest.mark.parametrize("value", NOT_ZERO)
def test_other_impossible_dates_are_kept_for_the_parser_to_name(value: str) -> None:
    assert field_record([(0, "updated_at")], (value,)) == ({"updated_at": value}, None)
    assert field_record([(0, "published_at")], (ZERO_DATES[0],)) == (
        {"published_at": ZERO_DATES[0]},
        None,
    )


@pytest.mark.parametrize(
    ("db_url", "kind"), on_backends(["DATETIME", "DATETIME(6)", "DATE"]), indirect=["db_url"]
)
def test_a_legacy_mysql_schema_never_edited_rows_are_published(db: Database, kind: str) -> None:
    """``edited DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00'``: every row never edited was
    quarantined ("updated_at: no such date … (year 0000)") and never published."""
    with mariadb_database("feedsvc_zero") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("SET SESSION sql_mode = ''"))
            conn.execute(
                text(
                    "CREATE TABLE posts (id INT PRIMARY KEY, slug VARCHAR(50), link VARCHAR(200),"
                    f" title VARCHAR(200), created DATETIME, edited {kind} NOT NULL"
                    " DEFAULT '0000-00-00', modified DATETIME)"
                )
            )
            for n in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO posts (id, slug, link, title, created, modified) VALUES"
                        " (:n, :slug, :link, 'Tin Kiến Thụy', :at, :at)"
                    ),
                    {"n": n, "slug": f"p-{n}", "link": f"https://e.vn/{n}", "at": T},
                )
        columns = COLUMNS.model_copy(update={"updated_at": "edited"})
        source = external_source(url, "posts", columns, VN)
        ing = Ingestor(db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=3600,
                       batch_size=10)  # fmt: skip
        try:
            assert ing.tick().error is None
            assert states(db) == {"p-1": True, "p-2": True} and entries(db) == {}
            with engine.begin() as conn:  # an edit now stamps a real time: a correction
                conn.execute(
                    text(
                        "UPDATE posts SET title = 'Tin Kiến Thụy (sửa)', edited = :e,"
                        " modified = :e WHERE id = 2"
                    ),
                    {"e": T + timedelta(days=1)},
                )
            assert ing.tick().error is None
            with db.read() as conn:
                stmt = select(articles.c.source_key, articles.c.title)
                titles = {key: title for key, title in conn.execute(stmt)}
            assert titles == {"p-1": "Tin Kiến Thụy", "p-2": "Tin Kiến Thụy (sửa)"}
        finally:
            source.dispose()
            engine.dispose()
