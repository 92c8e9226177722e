"""A PostgreSQL role that may not create tables in its schema is told the statements that let
it, and they work as typed.

A newcomer on PostgreSQL 15 makes the database as ``postgres`` (``CREATE DATABASE feedsvc;``)
and a role for feedsvc; since 15 only the database's owner may create in schema ``public``, so
the first ``feedsvc db upgrade`` (and ``run``) ended with "refused access (… permission
denied for schema public): grant the role in database.url the privileges it needs, or use a
role that has them" — which privileges, on what, was left to find. The line now gives the
``GRANT USAGE, CREATE ON SCHEMA …`` (and the ``ALTER DATABASE … OWNER TO …`` alternative) for
that role and schema; the test runs the GRANT it printed and the upgrade then succeeds. A
table's missing grant keeps the general advice (``tests/test_state_db_read_only.py``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from test_state_db_read_only import feedsvc

pytestmark = pytest.mark.postgres


@pytest.fixture
def admin(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(make_url(pg_url).set(query={}), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def no_create_role(pg_url: str, admin: Engine) -> Iterator[tuple[str, str, str]]:
    """A login role with USAGE on the test's schema and nothing more: (its URL, the role, the
    schema), as a role on PostgreSQL 15's ``public`` of a database it does not own."""
    url = make_url(pg_url)
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    role = f"nc_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
    try:
        yield url.set(username=role).render_as_string(hide_password=False), role, schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


@pytest.mark.parametrize(
    "argv", [["db", "upgrade"], ["run", "--no-http"], ["topics", "add", "a", "--title", "A",
                                                       "--query", "a"]]
)  # fmt: skip
def test_the_line_names_the_grant_for_that_role_and_schema(
    no_create_role: tuple[str, str, str], tmp_path: Path, argv: list[str]
) -> None:
    url, role, schema = no_create_role
    done = feedsvc(url, tmp_path, *argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.splitlines()
    assert f"permission denied for schema {schema}" in line, line
    assert f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}";' in line, line
    assert f'ALTER DATABASE "feedsvc_test" OWNER TO "{role}";' in line, line
    assert "then run `feedsvc db upgrade` again" in line
    assert "the privileges it needs" not in line  # the general words, which named nothing


def test_the_printed_grant_works_as_typed(
    no_create_role: tuple[str, str, str], admin: Engine, tmp_path: Path
) -> None:
    url, _role, _schema = no_create_role
    refused = feedsvc(url, tmp_path, "db", "upgrade")
    assert refused.returncode == 2, refused.stderr
    found = re.search(r"run (GRANT USAGE, CREATE ON SCHEMA [^;]+;)", refused.stderr)
    assert found is not None, refused.stderr
    with admin.connect() as conn:  # "as a superuser, in that database"
        conn.execute(text(found.group(1)))
    done = feedsvc(url, tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("database at revision "), done.stdout
