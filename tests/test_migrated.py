"""The test databases' own helper (``tests/migrated.py``): a PostgreSQL schema a test leaves
is only used again as a spare when nothing of that test can reach the next one: no rows,
sequences where the template had them, the same shape, and no way in through a connection
the test left open. A schema whose shape a test changed is dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import pg_schema
from migrated import _postgres, admin, copy_template
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from feedsvc.db import Database
from feedsvc.db.engine import current_revision
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = pytest.mark.postgres


def _template() -> object:
    (template,) = _postgres.values()
    return template


def _schema(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


def _exists(base: str, schema: str) -> bool:
    found = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
    return admin(base).execute(found, (schema,)).fetchone() is not None


def _write(url: str) -> None:
    """A topic stored the product's way, and a sequence moved on."""
    database = Database(url)
    with database.write() as conn:
        save_topic(conn, TopicSpec("x", "X", '"x"'), "test", database.now())
        conn.execute(text("SELECT setval('source_articles_id_seq', 500)"))
    database.dispose()


@pytest.fixture
def used() -> Iterator[str]:
    """The spare a test left: it wrote a row and moved a sequence on. Its name as a spare."""
    with pg_schema() as url:
        assert copy_template(url)
        _write(url)
    spares = _template().spares  # type: ignore[attr-defined]
    assert spares, "the schema was not kept"
    yield spares[-1]


def test_a_spare_comes_back_empty_at_head_with_its_sequences_reset(used: str) -> None:
    with pg_schema() as url:
        assert copy_template(url)
        assert used not in _template().spares  # type: ignore[attr-defined]
        assert not _exists(url.split("?", 1)[0], used)  # renamed to this test's schema
        engine = create_engine(url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM topics")).scalar() == 0
            assert conn.execute(text("SELECT nextval('topics_id_seq')")).scalar() == 1
            assert conn.execute(text("SELECT nextval('source_articles_id_seq')")).scalar() == 1
        engine.dispose()
        database = Database(url)
        assert current_revision(database) is not None
        database.dispose()


def test_each_use_of_a_spare_starts_empty() -> None:
    """Five tests in a row, each writing: the next always finds nothing."""
    for _ in range(5):
        with pg_schema() as url:
            assert copy_template(url)
            engine = create_engine(url)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM topics")).scalar() == 0
            engine.dispose()
            _write(url)
    assert _template().spares  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE topics ADD COLUMN extra integer",
        "ALTER TABLE topics ALTER COLUMN title SET DEFAULT 'x'",
        "CREATE INDEX ix_extra ON topics (title)",
        "ALTER SEQUENCE topics_id_seq INCREMENT BY 2",
        "DROP TABLE alembic_version",
        "CREATE TABLE extra (id integer)",
    ],
)
def test_a_schema_whose_shape_a_test_changed_is_dropped(change: str) -> None:
    with pg_schema() as url:
        assert copy_template(url)
        before = list(_template().spares)  # type: ignore[attr-defined]
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(change))
        engine.dispose()
        base, schema = url.split("?", 1)[0], _schema(url)
    assert _template().spares == before  # type: ignore[attr-defined]
    assert not _exists(base, schema)


def test_a_connection_left_open_cannot_reach_the_spare() -> None:
    """A test that never closed its engine: once its schema is a spare (renamed), the old
    connection finds no table, rather than writing into the next test's database."""
    with pg_schema() as url:
        assert copy_template(url)
        leftover = create_engine(url)
        with leftover.connect() as conn:
            conn.execute(text("SELECT count(*) FROM topics"))
        kept = leftover.connect()
    try:
        with pytest.raises(ProgrammingError, match="topics"):
            kept.execute(text("SELECT count(*) FROM topics"))
    finally:
        kept.close()
        leftover.dispose()
