"""Text that is not UTF-8 in a CMS row is quarantined with its row id, never altered (#12 polish).

Drivers hand binary columns (SQLite ``BLOB``, PostgreSQL ``bytea``, MariaDB ``VARBINARY``) to
feedsvc as bytes; old CMSs keep article text in such columns. Bytes that decode are ingested
exactly; bytes that do not were "repaired" with U+FFFD and published silently altered. Now the
row is held back (stage ``read``, the field named in the reason) and the rows around it go on.
Each test runs on SQLite and PostgreSQL state DBs. The ways a row is not UTF-8 are given one
state DB backend each, rotating (``backend_cases.on_backends``), for every CMS backend: the bytes
are decoded (and refused) in Python before anything reaches the state DB, which then stores the
same quarantine entry, an ASCII reason, whatever the bytes were.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from backend_cases import on_backends
from conftest import mariadb_database
from factories import VN
from sqlalchemy import Engine, create_engine, select, text
from test_ingest_quarantine import COLUMNS, T, entries, held, pg_cms_url  # noqa: F401

from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.source.values import field_record, record_fields, row_record
from feedsvc.topic_index import TopicIndex

GOOD = "<p>Giá vàng tăng mạnh ở TP. Hải Phòng</p>"
#: Not UTF-8, each in its own way: Windows-1258 (a Vietnamese legacy code page), a cut-off
#: multi-byte sequence, a lone continuation byte, an overlong "/" and a UTF-16 surrogate.
BAD = [
    "Gi\xe1 v\xe0ng".encode("cp1258"),
    "Giá vàng".encode() + b"\xe1\xba",
    b"Gi\x80 v\xe0ng",
    b"<p>\xc0\xaf</p>",
    b"<p>\xed\xa0\x80</p>",
]
TABLE = (
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug {t}, link VARCHAR(200), title {t}, "
    "body {t}, created {ts}, modified {ts})"
)


class Cms:
    """A CMS table whose text columns are binary (``blob``), on one backend."""

    def __init__(self, url: str, blob: str, ts: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        with self.engine.begin() as conn:
            conn.execute(text(TABLE.format(t=blob, ts=ts)))

    def post(self, n: int, **values: bytes) -> None:
        at = T + timedelta(minutes=n)
        row = {
            "id": n,
            "slug": f"p-{n}".encode(),
            "link": f"https://baohaiphong.vn/{n}.html",
            "title": f"Tin số {n}: Kiến Thụy".encode(),
            "body": GOOD.encode(),
            "created": at,
            "modified": at,
            **values,
        }
        with self.engine.begin() as conn:
            conn.execute(
                text(f"INSERT INTO posts ({', '.join(row)}) VALUES (:{', :'.join(row)})"), row
            )

    def ingestor(self, db: Database) -> Ingestor:
        source = external_source(self.url, "posts", COLUMNS, VN)
        return Ingestor(
            db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=3600, batch_size=4
        )


@pytest.fixture(params=["sqlite", "postgres", "mariadb"], ids=lambda name: f"cms-{name}")
def cms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cms]:
    if request.param == "sqlite":
        source = Cms(f"sqlite:///{tmp_path / 'cms.db'}", "BLOB", "DATETIME")
        yield source
    elif request.param == "postgres":
        source = Cms(request.getfixturevalue("pg_cms_url"), "BYTEA", "TIMESTAMP")
        yield source
    else:
        with mariadb_database("feedsvc_utf8") as url:
            source = Cms(url, "VARBINARY(2000)", "DATETIME")
            yield source
            source.engine.dispose()
        return
    source.engine.dispose()


BAD_NAMES = ["cp1258", "cut", "continuation", "overlong", "surrogate"]


def _bad_label(value: object) -> str:
    return BAD_NAMES[BAD.index(value)] if isinstance(value, bytes) else str(value)


@pytest.mark.parametrize(
    ("db_url", "field", "bad"),
    on_backends(
        list(zip(["body", "title", "slug", "body", "title"], BAD, strict=True)), label=_bad_label
    ),
    indirect=["db_url"],
)
def test_a_row_that_is_not_utf8_is_quarantined_not_altered(
    db: Database, cms: Cms, field: str, bad: bytes
) -> None:
    for n in range(1, 8):
        cms.post(n, **({field: bad} if n == 5 else {}))
    ing = cms.ingestor(db)
    result = ing.tick()
    assert result.error is None, result.error
    assert held(db) == [f"p-{n}" for n in range(1, 8) if n != 5]
    quarantined = entries(db)
    assert list(quarantined) == ["5"] and quarantined["5"].stage == "read"
    reason = quarantined["5"].reason
    mapped = {"slug": "source_key"}.get(field, field)
    assert reason.startswith(f"{mapped} is not valid UTF-8 (byte "), reason
    assert quarantined["5"].source_key == (None if field == "slug" else "p-5")
    with db.read() as conn:
        texts = conn.execute(select(articles.c.title, articles.c.body)).all()
    assert all("\ufffd" not in f"{title}{body}" for title, body in texts)
    assert ing.tick().read == 0  # counted as seen: not re-read every tick
    ing.source.dispose()


def test_valid_utf8_in_a_binary_column_is_ingested_exactly(db: Database, cms: Cms) -> None:
    cms.post(1, title="Công an TP.HCM: “Kiến Thụy” 🚓".encode(), body=GOOD.encode())
    ing = cms.ingestor(db)
    assert ing.tick().new == 1 and entries(db) == {}
    with db.read() as conn:
        row = conn.execute(select(articles.c.title, articles.c.body)).one()
    assert tuple(row) == ("Công an TP.HCM: “Kiến Thụy” 🚓", GOOD)
    ing.source.dispose()


def test_row_record_names_every_bad_field() -> None:
    record, problem = row_record(
        {"c_ts": datetime(2026, 1, 1), "f_title": b"\xff", "f_body": b"ok", "f_url": b"a\xe1"}
    )
    assert record == {"body": "ok"}
    assert problem == ("title is not valid UTF-8 (byte 0: ff); url is not valid UTF-8 (byte 1: e1)")
    assert row_record({"f_title": memoryview("Kiến".encode())}) == ({"title": "Kiến"}, None)


def test_a_result_row_reads_as_its_mapping_does() -> None:
    """The source reads result tuples (:func:`field_record`, issue 17 §2): the same record as
    the row's mapping, text and NULL kept as they are, everything else converted."""
    mapping = {
        "c_ts": datetime(2026, 1, 1),
        "f_source_key": 42,
        "f_title": "Kiến Thụy",
        "c_id": 7,
        "f_summary": None,
        "f_body": Decimal("1.5"),
        "f_url": b"https://a.vn/\xe1",
        "f_published_at": date(2026, 1, 2),
        "f_tags": ["a"],
        "f_visible": "t",
    }
    fields = record_fields(mapping.keys())
    assert field_record(fields, tuple(mapping.values())) == row_record(mapping)
    assert row_record(mapping) == (
        {
            "source_key": "42",
            "title": "Kiến Thụy",
            "summary": None,
            "body": "1.5",
            "published_at": datetime(2026, 1, 2),
            "tags": ["a"],
            "withdrawn": False,
        },
        "url is not valid UTF-8 (byte 13: e1)",
    )
