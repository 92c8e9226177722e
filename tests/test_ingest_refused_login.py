"""A source that answers with a refusal — a user and password it refuses, a database it does
not have — is logged as such with what to do, not as a source that "does not answer" (a
tester's: ``the source does not answer (1 in a row) … (1045, "Access denied …")``, while
``source check`` said "the server refused the user and password in source.url"). MariaDB and
PostgreSQL sources; the state DB is each backend."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC

import pytest
from conftest import MARIADB_ADMIN, mariadb_database
from sqlalchemy import create_engine, select

from feedsvc.config import SourceColumns
from feedsvc.db import Database
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.ingest import Ingestor
from feedsvc.source import external_source
from feedsvc.topic_index import TopicIndex

COLUMNS = SourceColumns(cursor="modified", source_key="slug", url="link", published_at="created")
PG_HOST = "127.0.0.1:5432"


def tick_log(db: Database, url: str, caplog: pytest.LogCaptureFixture) -> str:
    source = external_source(url, "posts", COLUMNS)
    ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=60,
                   batch_size=50)  # fmt: skip
    try:
        with caplog.at_level(logging.WARNING, logger="feedsvc.ingest"):
            assert ing.tick().error is not None
    finally:
        source.dispose()
    [line] = [r.getMessage() for r in caplog.records if "ingest from" in r.getMessage()]
    return line


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (
            f"postgresql+psycopg://no_such_role_x@{PG_HOST}/postgres",
            "refused the user and password",
        ),
        (f"postgresql+psycopg://postgres@{PG_HOST}/no_such_db_x", "correct the database name"),
    ],
)
def test_a_postgresql_source_refusing_is_said_so(
    db: Database, caplog: pytest.LogCaptureFixture, url: str, said: str
) -> None:
    line = tick_log(db, url, caplog)
    assert "the source refuses the connection" in line and said in line, line
    assert "does not answer" not in line


def test_a_mariadb_source_refusing_a_password_is_said_so(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with mariadb_database("refused") as url:
        wrong = url.replace("root@", "root:not-the-password@", 1)
        assert wrong != url, (url, MARIADB_ADMIN)
        line = tick_log(db, wrong, caplog)
    assert "the source refuses the connection" in line, line
    assert "the server refused the user and password in source.url" in line
    assert "not-the-password" not in line
    with db.read() as conn:  # `status`' last error says what to do as well (a verifier's)
        [shown] = conn.execute(select(source_cursors.c.last_error)).scalars()
    assert "the server refused the user and password in source.url" in shown
    assert "not-the-password" not in shown


def test_a_source_nothing_answers_at_still_does_not_answer(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    line = tick_log(db, "postgresql+psycopg://postgres@127.0.0.1:9/postgres", caplog)
    assert "the source does not answer" in line, line


def test_a_user_refused_the_database_is_not_told_its_password_is_wrong(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """MariaDB's 1044 (the login succeeded, the database is not the user's) and PostgreSQL's
    CONNECT refused were worded as a refused user and password (a tester's): the operator
    re-typed a correct password. Now: the user was accepted, the database refused, the grant."""
    user, password = f"fa_{uuid.uuid4().hex[:8]}", "pw-ok-123"
    with mariadb_database("noaccess") as url:
        admin = create_engine(url)
        with admin.begin() as conn:  # a user with no grant at all on the database
            conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{password}'")
        try:
            line = tick_log(db, url.replace("root@", f"{user}:{password}@", 1), caplog)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP USER '{user}'@'%%'")
            admin.dispose()
    assert "accepted the user in source.url but refuses it that database" in line, line
    assert "GRANT SELECT ON <database>.* TO <user>" in line
    assert "refused the user and password" not in line and password not in line


def test_a_postgresql_role_without_connect_is_told_so(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    role, name = f"fa_{uuid.uuid4().hex[:8]}", f"fa_db_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"postgresql+psycopg://postgres@{PG_HOST}/postgres",
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
        conn.exec_driver_sql(f"REVOKE CONNECT ON DATABASE {name} FROM PUBLIC")
    try:
        line = tick_log(db, f"postgresql+psycopg://{role}@{PG_HOST}/{name}", caplog)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()
    assert "refuses it that database" in line and "GRANT CONNECT ON DATABASE" in line, line
