"""Outages: ingest backs off, says so in one line, and resumes as soon as the side answers.

Issue 18 §3 (the source) and §5 (the state DB). SQLite and PostgreSQL state DBs; the outages
are real connection failures (a closed loopback port, a path SQLite cannot open).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from factories import article, builtin_ingestor
from processes import answers_ok, free_port, get, start_feedsvc, wait_until
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
    assert " is unavailable: " in line.getMessage()  # the state DB outage's (db.outage) line
    caplog.clear()
    for _ in range(5):  # the scheduler keeps calling: backed off, silent
        assert ing.tick().skipped
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    ing.db.dispose()
    ing.db = db  # back: the probe sees it, ingest resumes without waiting out the step
    assert ing.tick().new == 1


# -- an SQLite CMS file that is not there (moved, a share not mounted) -------------------------

POSTS = (
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT NOT NULL, link TEXT NOT NULL, "
    "title TEXT NOT NULL, status TEXT, created TIMESTAMP NOT NULL, modified TIMESTAMP NOT NULL)"
)
MAPPING = (
    '[source.columns]\ncursor = "modified"\nsource_key = "slug"\nurl = "link"\n'
    'published_at = "created"\nvisible = "status = \'published\'"\n'
)


def sqlite_cms(path: Path, *slugs: str) -> None:
    """An SQLite CMS file at ``path`` with a published post per slug."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(POSTS)
        for n, slug in enumerate(slugs, 1):
            conn.execute(
                "INSERT INTO posts VALUES (?, ?, ?, ?, 'published', ?, ?)",
                (n, slug, f"https://e.vn/{n}", f"Kiến Thụy {n}", "2026-11-30 10:00:00",
                 f"2026-11-30 10:00:{n:02d}"),
            )  # fmt: skip
        conn.commit()


def test_an_sqlite_source_file_not_there_is_an_outage_and_never_created(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """F4 (tester): the file's absence refused every command; ingest must instead say the source
    does not answer, back off, never create the file (SQLite's default opening does), and take
    the rows once the file is back."""
    from feedsvc.config import SourceColumns
    from feedsvc.ingest import Ingestor
    from feedsvc.source import external_source
    from feedsvc.topic_index import TopicIndex

    cms = tmp_path / "share" / "cms.db"
    columns = SourceColumns(cursor="modified", source_key="slug", url="link",
                            published_at="created", visible="status = 'published'")  # fmt: skip
    source = external_source(f"sqlite:///{cms}", "posts", columns, UTC)
    ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=30, overlap_seconds=300,
                   batch_size=100)  # fmt: skip
    caplog.set_level(logging.INFO, logger="feedsvc")
    failed = ing.tick()
    said = f"the SQLite file {cms} does not exist (a source is read, never created)"
    assert failed.error is not None and said in failed.error
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "the source does not answer (1 in a row)" in line and said in line, line
    assert ing.tick().skipped  # backed off: the probe fails too
    assert not cms.parent.exists()  # nothing created, not even on the probes
    cms.parent.mkdir()
    assert ing.tick().skipped and not cms.exists()  # a directory for it, still no file
    with db.read() as conn:
        cursor = get_cursor(conn, source.name)
        assert cursor.failures == 1 and said in (cursor.last_error or "")
    sqlite_cms(cms, "P-1", "P-2")
    back = ing.tick()  # the probe answers: long before the 30 s step ends
    assert (back.skipped, back.new, back.error) == (False, 2, None)
    source.dispose()


def test_run_with_its_sqlite_source_file_missing_serves_and_ingests_when_it_is_back(
    tmp_path: Path,
) -> None:
    """F4: `run` (and a web-only replica) exited 2 "invalid configuration" while the CMS file
    was away; the README promises a CMS down at start only delays ingest."""
    cms = tmp_path / "ext" / "cms.db"
    cms.parent.mkdir()
    sqlite_cms(tmp_path / "ext" / "cms.moved", "P-1")
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[source]\nurl = "sqlite:///{cms}"\ntable = "posts"\n{MAPPING}', encoding="utf-8"
    )
    port, token = free_port(), "outage-admin-token-1234"
    env = {"FEEDSVC_CONFIG": str(config), "FEEDSVC_HTTP__PORT": str(port),
           "FEEDSVC_SOURCE__POLL_SECONDS": "1", "FEEDSVC_ADMIN__TOKEN": token}  # fmt: skip
    env |= {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}"}
    base, bearer = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    added = feedsvc_cli(env, tmp_path, "topics", "add", "kien-thuy", "--title", "Kiến Thụy",
                        "--query", "Kiến Thụy")  # fmt: skip
    assert added.returncode == 0, added.stderr
    feed = f"{base}/feeds/kien-thuy.rss"
    proc = start_feedsvc(["run"], env, tmp_path)
    try:
        wait_until(lambda: answers_ok(f"{base}/healthz"), 60, "/healthz")
        # /readyz does not follow the CMS: ready while ingest cannot read it
        wait_until(lambda: answers_ok(f"{base}/readyz"), 30, "/readyz")
        said = f"the SQLite file {cms} does not exist (a source is read, never created)"

        def ingest_says_so() -> bool:
            answer = get(f"{base}/readyz?ingest=1", **bearer)
            return answer is not None and said in (answer.json().get("last_error") or "")

        wait_until(ingest_says_so, 30, "/readyz?ingest=1 naming the missing file")
        status = feedsvc_cli(env, tmp_path, "status")
        assert status.returncode == 0, status.stderr
        assert re.search(r"^ingest_state +failing$", status.stdout, re.M), status.stdout
        assert re.search(rf"^last_ingest_error +.*{re.escape(said)}$", status.stdout, re.M)
        served = get(feed)
        assert served is not None and served.status_code == 200, served
        assert "P-1" not in served.text and "e.vn/1" not in served.text
        assert not cms.exists()  # never created by ingest or its probes
        (tmp_path / "ext" / "cms.moved").rename(cms)

        def ingested() -> bool:
            found = feedsvc_cli(env, tmp_path, "articles", "find", "P-1")
            return found.returncode == 0 and "P-1\tpublic" in found.stdout

        wait_until(ingested, 60, "P-1 ingested once the file is back")
        wait_until(lambda: "https://e.vn/1" in (get(feed) or httpx.Response(0)).text, 30,
                   "the feed showing it")  # fmt: skip
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, output
    assert f"the source does not answer (1 in a row), retrying in 1 s or as soon as it answers: " \
           f"OperationalError: {said}" in output, output  # fmt: skip
    assert "Traceback" not in output and "invalid configuration" not in output, output


def feedsvc_cli(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv], cwd=cwd, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
