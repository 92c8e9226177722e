"""A PostgreSQL database in ``SQL_ASCII`` (an old CMS's), as source and as state DB.

A tester's: with such a CMS, ``source check`` was a 132-line traceback ending ``TypeError:
cannot use a string pattern on a bytes-like object`` (psycopg handed SQLAlchemy's first
connect ``bytes``: the database answers in its own encoding when the client names none), and
``run`` said "the source does not answer" with the traceback every 5 s, for ever. Every
PostgreSQL connection now asks for UTF-8 unless the URL names an encoding
(``feedsvc.db.client_encoding``): the rows whose bytes are no UTF-8 are rejected one by one.
An error of such an unexpected class while connecting or reflecting is one line naming it
(``feedsvc.source.driver_failed``), as ingest's failure, not an outage of the source.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from conftest import PG_ADMIN_URL
from source_checks import run_check

from feedsvc.cli import cli
from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.ingest.backoff import Backoff
from feedsvc.ingest.failures import Failures
from feedsvc.ingest.model import TickResult
from feedsvc.source import external_source

pytestmark = pytest.mark.postgres

SERVER = PG_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]  # 127.0.0.1:5432
ADMIN = PG_ADMIN_URL.replace("+psycopg", "")
COLUMNS = {
    "id": "id", "cursor": "changed_at", "source_key": "source_key", "url": "url",
    "title": "title", "published_at": "published_at", "summary": "", "body": "", "author": "",
    "section": "", "tags": "", "image_url": "", "updated_at": "",
}  # fmt: skip
#: The tester's rows, oldest first: bytes that are no UTF-8 in a title and in a key, and good
#: ones (UTF-8 bytes: the newest 3, ``source check``'s sample, mix both).
ROWS = [
    ("A-1", "E'Nguy\\xean'"),
    ("A-4", "'Công an Kiến Thụy'"),
    ("A-\\xff4", "'Bản tin số 2'"),
    ("A-5", "'plain ASCII'"),
    ("A-3", "E'\\xc3\\x28'"),
]


@pytest.fixture(scope="module")
def ascii_db() -> Iterator[str]:
    """A fresh ``SQL_ASCII`` database holding the tester's ``news`` table (read only by the
    tests: one for the module); its name."""
    name = f"sqlascii_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0 "
            "LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    try:
        dsn = ADMIN.rsplit("/", 1)[0] + f"/{name}"
        with psycopg.connect(dsn, autocommit=True, client_encoding="utf8") as conn:
            conn.execute(
                "CREATE TABLE news (id SERIAL PRIMARY KEY, changed_at TIMESTAMP NOT NULL, "
                "source_key TEXT NOT NULL, url TEXT NOT NULL, title TEXT NOT NULL, "
                "published_at TIMESTAMP NOT NULL)"
            )
            for n, (key, title) in enumerate(ROWS, 1):
                raw_key = f"E'{key}'" if "\\" in key else f"'{key}'"
                conn.execute(
                    f"INSERT INTO news (changed_at, source_key, url, title, published_at) "
                    f"VALUES (now() - interval '{10 - n} min', {raw_key}, "
                    f"'https://example.vn/{n}', {title}, now() - interval '1 hour')"
                )
        yield name
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
def test_source_check_reads_it_and_rejects_the_bad_rows_one_by_one(
    ascii_db: str, tmp_path: Path, scheme: str
) -> None:
    result = run_check(tmp_path, f"{scheme}://postgres@{SERVER}/{ascii_db}", "news", COLUMNS)
    out = result.output
    assert "Traceback" not in out and not isinstance(result.exception, TypeError), out
    assert result.exit_code == 0, out
    rejected = [line for line in out.splitlines() if "REJECTED" in line]
    assert len(rejected) == 2 and all("CharacterNotInRepertoire" in x for x in rejected), out
    assert "A-5 | plain ASCII" in out, out
    assert out.rstrip().endswith("OK"), out


@pytest.mark.parametrize(
    "query", ["?client_encoding=sql_ascii", "?options=-c%20client_encoding%3DSQL_ASCII"]
)
def test_an_encoding_the_driver_cannot_work_with_is_named_in_one_line(
    ascii_db: str, tmp_path: Path, query: str
) -> None:
    """The URL's own encoding is kept (what it says wins); the driver's failure is one line
    naming its class, exit 1, never a traceback."""
    url = f"postgresql://postgres@{SERVER}/{ascii_db}{query}"
    result = run_check(tmp_path, url, "news", COLUMNS)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("feedsvc: ")]
    assert line.startswith("feedsvc: cannot read the source: TypeError: "), line
    assert "raised in the database driver" in line, line


def test_ingest_reads_the_good_rows_and_quarantines_the_others(
    ascii_db: str, tmp_path: Path
) -> None:
    from feedsvc.db import upgrade
    from feedsvc.ingest import Ingestor
    from feedsvc.topic_index import TopicIndex

    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    source = external_source(
        f"postgresql://postgres@{SERVER}/{ascii_db}", "news", SourceColumns(**_columns())
    )
    ingestor = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=0,
                        batch_size=100)  # fmt: skip
    try:
        result = ingestor.tick()
        assert result.error is None, result.error
        assert result.new == 2 and len(result.quarantined) == 3, result
    finally:
        source.dispose()
        db.dispose()


def test_ingest_names_the_drivers_failure_once_not_an_outage(
    ascii_db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``run``'s tick with the URL's own ``sql_ascii``: "failed", the error's class named, no
    traceback; the source answered, so no "does not answer"."""
    from feedsvc.db import upgrade

    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    url = f"postgresql://postgres@{SERVER}/{ascii_db}?client_encoding=sql_ascii"
    source = external_source(url, "news", SourceColumns(**_columns()))
    failures = Failures(db, source, Backoff(poll_seconds=1.0))
    caplog.set_level(logging.WARNING, logger="feedsvc.ingest.ingestor")
    try:
        try:
            source.bind()
        except Exception as exc:  # what a tick catches
            result = TickResult()
            failures.failed(result, exc)
        else:
            pytest.fail("bound a table the driver cannot read")
        assert failures.outage() is None
    finally:
        source.dispose()
        db.dispose()
    [record] = [r for r in caplog.records if r.name == "feedsvc.ingest.ingestor"]
    message = record.getMessage()
    assert "failed (1 in a row)" in message and "does not answer" not in message, message
    assert "TypeError: cannot use a string pattern" in message, message
    assert record.exc_info is None, message
    assert result.error is not None and "TypeError" in result.error


def _columns() -> dict[str, str | None]:
    return {k: (v or None) for k, v in COLUMNS.items()}


def test_a_state_db_in_sql_ascii_works(clean_cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state DB's engines (``db upgrade``) and the CLI's driver-only reads (``status``,
    ``topics list``) ask for UTF-8 too: each was the traceback."""
    name = f"stascii_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0 "
                     "LC_COLLATE 'C' LC_CTYPE 'C'")  # fmt: skip
    try:
        monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"postgresql://postgres@{SERVER}/{name}")
        for argv, code in ((["db", "upgrade"], 0), (["status"], 0), (["topics", "list"], 0)):
            result = CliRunner().invoke(cli, argv)
            assert not isinstance(result.exception, TypeError), (argv, result.exception)
            assert result.exit_code == code and "Traceback" not in result.output, result.output
        assert "no topic is stored" in result.output, result.output
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_wake_up_listeners_connection_asks_for_utf8_too() -> None:
    """Its parameters are built apart from the engine's: the same rule."""
    from feedsvc.db.client_encoding import client_encoding
    from feedsvc.wakeups import connect_params

    params = connect_params(f"postgresql://postgres@{SERVER}/db")
    assert client_encoding(params) == {"client_encoding": "utf8"}
    given = connect_params(f"postgresql://postgres@{SERVER}/db?client_encoding=latin1")
    assert client_encoding(given) == {}


@pytest.mark.parametrize(
    ("given", "added"),
    [
        ({}, {"client_encoding": "utf8"}),
        ({"sslmode": "disable"}, {"client_encoding": "utf8"}),
        ({"client_encoding": "latin1"}, {}),
        ({"options": "-c client_encoding=latin1"}, {}),
        ({"options": ("-c search_path=cms",)}, {"client_encoding": "utf8"}),
    ],
)
def test_the_rule(given: dict[str, object], added: dict[str, str]) -> None:
    from feedsvc.db.client_encoding import client_encoding

    assert client_encoding(given) == added
