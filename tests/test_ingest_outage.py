"""Outages: ingest backs off, says so in one line, and resumes as soon as the side answers.

Issue 18 §3 (the source) and §5 (the state DB). SQLite and PostgreSQL state DBs; the outages
are real connection failures (a closed loopback port, a path SQLite cannot open).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import article, builtin_ingestor
from processes import free_port
from sqlalchemy import create_engine

from feedsvc.db import Database
from feedsvc.store.cursors import get_cursor
from feedsvc.store.source_articles import upsert_source_articles

LOGGER = "feedsvc.ingest"


def add(db: Database, n: int) -> None:
    with db.write() as conn:
        upsert_source_articles(conn, [article(n)], datetime.now(UTC) - timedelta(minutes=n))


def unreachable(db: Database, tmp_path: Path) -> Database:
    """A state DB of the same kind that cannot be reached."""
    if db.dialect == "sqlite":
        (tmp_path / "not-a-file.db").mkdir()
        return Database(f"sqlite:///{tmp_path / 'not-a-file.db'}")
    return Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")


def test_source_back_after_outage_is_retried_at_once(db: Database) -> None:
    ing = builtin_ingestor(db, poll_seconds=30)  # backoff steps of 30 s, 60 s, ...
    add(db, 1)
    assert ing.tick().new == 1
    good = ing.source.engine
    ing.source.engine = create_engine(
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
        connect_args={"connect_timeout": 2},
    )
    add(db, 2)
    for _ in range(3):
        result = ing.tick()
        assert result.skipped or "OperationalError" in (result.error or "")
    assert ing.tick().skipped  # still down: the probe fails, the step is not over
    with db.read() as conn:
        assert get_cursor(conn, "builtin").failures == 1
    ing.source.engine = good  # the source answers again, long before the 30 s step ends
    back = ing.tick()
    assert (back.skipped, back.new, back.error) == (False, 1, None)
    with db.read() as conn:
        assert get_cursor(conn, "builtin").failures == 0


def test_failure_while_everything_answers_waits_its_step(db: Database) -> None:
    """A probe would succeed at once here, so the backoff alone decides (no retry storm)."""
    ing = builtin_ingestor(db, poll_seconds=30)
    add(db, 1)
    ing.source.columns = ing.source.columns.model_copy(update={"title": "no_such_column"})
    ing.source._b = None  # re-bind with the broken mapping
    ing.source.columns.model_fields_set.add("title")
    first = ing.tick()
    assert first.error is not None and "no_such_column" in first.error
    assert ing.tick().skipped


def test_state_db_outage_logs_one_line_per_failure_and_backs_off(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ing = builtin_ingestor(db, poll_seconds=30)
    add(db, 1)
    ing.db = unreachable(db, tmp_path)
    caplog.set_level(logging.INFO, logger="feedsvc")
    failed = ing.tick()  # must not raise, whatever fails first (the DB clock, a read, ...)
    assert failed.error is not None
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1, [r.getMessage() for r in problems]
    line = problems[0]
    assert line.exc_info is None and "\n" not in line.getMessage()
    assert "state database does not answer" in line.getMessage()
    caplog.clear()
    for _ in range(5):  # the scheduler keeps calling: backed off, silent
        assert ing.tick().skipped
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    ing.db.dispose()
    ing.db = db  # back: the probe sees it, ingest resumes without waiting out the step
    assert ing.tick().new == 1
