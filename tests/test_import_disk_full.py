"""`feedsvc import` on a full disk (issue #18 §5): a clear message, what was committed, exit 1.

Three real ways to fill the state DB's storage:

* SQLite's ``PRAGMA max_page_count``: SQLite itself answers SQLITE_FULL ("database or disk is
  full"), exactly the code its VFS returns on ENOSPC. Runs everywhere.
* A 12 MB tmpfs mounted for the test, holding the SQLite file (needs root; skipped otherwise):
  the kernel's ENOSPC under the real CLI process.
* The same tmpfs as a PostgreSQL tablespace holding ``source_articles`` (needs root and the
  local server): PostgreSQL's own ``53100 disk_full``.
"""

from __future__ import annotations

import json
import os
import pwd
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PG_ADMIN_URL, PG_TEST_DB, pg_skip_reason
from sqlalchemy import create_engine, event, func, select, text
from tmpfs import tmpfs

from feedsvc.articles import DEFAULT_TZ
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import source_articles
from feedsvc.importer import BATCH, ImportAborted, import_articles
from feedsvc.jsonlines import read_jsonl

WORDS = "công an xã huyện bắt giữ đối tượng trộm cắp tài sản tai nạn Kiến Thụy".split()  # noqa: SIM905


def corpus(n: int, seed: int = 7) -> bytes:
    """``n`` JSON lines with ~3 KB of poorly compressible text each (TOAST compresses).

    The words in one ``choices`` call and 20 random bits a number (0-1,048,575, as long and
    as incompressible as ``randrange(10**6)``'s): 350 ``choice`` and ``randrange`` calls a line
    were half the CPU of the tests here (5.5 s for 8,000 lines, now 2.6 s)."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        body = " ".join(f"{w}{rng.getrandbits(20)}" for w in rng.choices(WORDS, k=350))
        record = {
            "source_key": f"D{i:05d}",
            "url": f"https://example.vn/tin/{i}.html",
            "title": f"Bài số {i}",
            "body": f"<p>{body}</p>",
            "published_at": "2024-05-01T10:00:00+07:00",
        }
        lines.append(json.dumps(record, ensure_ascii=False).encode())
    return b"\n".join(lines) + b"\n"


def count(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(source_articles)).scalar_one())
    finally:
        db.dispose()


def test_sqlite_page_limit_stops_import_and_reports_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batches by size alone (the test checks whole batches); a loaded machine's slow read
    # would otherwise close a batch on BATCH_SECONDS
    monkeypatch.setattr("feedsvc.importer.BATCH_SECONDS", float("inf"))
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)

    @event.listens_for(db.engine, "connect")
    def _limit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA max_page_count = 2500")  # 4 KB pages: ~10 MB

    db.engine.dispose()  # reconnect with the limit
    data = corpus(3 * BATCH)
    with pytest.raises(ImportAborted) as caught:
        import_articles(
            db, read_jsonl(data.splitlines(), DEFAULT_TZ), now=lambda: datetime.now(UTC)
        )
    exc = caught.value
    assert exc.disk_full, exc.reason
    assert "database or disk is full" in exc.reason
    committed = exc.report.committed_through
    assert committed % BATCH == 0 and committed < 3 * BATCH
    assert exc.first_line == committed + 1
    assert exc.report.counts.inserted == committed
    with db.read() as conn:
        stored = conn.execute(select(func.count()).select_from(source_articles)).scalar_one()
    assert stored == committed
    db.dispose()


@pytest.fixture
def small_fs() -> Iterator[Path]:
    """A fresh 12 MB tmpfs (root only), readable by the postgres user; unmounted afterwards."""
    with tmpfs("12m", prefix="feedsvc-full-") as mount:
        yield mount


def run_cli(url: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "import", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def check_stopped(done: subprocess.CompletedProcess[str], stored: int, url: str) -> None:
    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert "Traceback" not in err and "[SQL" not in err and "parameters" not in err, err
    assert len(err) < 1000, err  # a message, not a dump
    # which database, and what to do (feedsvc.db.errors.explain)
    from feedsvc.db.urls import shown_db

    assert f"the state DB {shown_db(url)} is out of disk space (" in err, err
    assert "free space on " in err, err
    assert f"lines 1-{stored} are stored (inserted {stored}," in err
    assert f"stopped at line {stored + 1}" in err


def test_cli_import_on_a_full_tmpfs_sqlite(small_fs: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{small_fs / 'state.db'}"
    data = tmp_path / "articles.jsonl"
    data.write_bytes(corpus(4 * BATCH))
    done = run_cli(url, data)
    stored = count(url)
    assert 0 < stored < 4 * BATCH
    check_stopped(done, stored, url)
    # Freed space: the same import again finishes, the stored lines count as unchanged.
    subprocess.run(["mount", "-o", "remount,size=96m", str(small_fs)], check=True)
    again = run_cli(url, data)
    assert again.returncode == 0, again.stderr
    assert f"inserted {4 * BATCH - stored}, updated 0, unchanged {stored}" in again.stdout


@pytest.fixture
def pg_on_small_fs(small_fs: Path, pg_url: str) -> Iterator[str]:
    """``pg_url`` whose source table lives in a tablespace on ``small_fs``."""
    if pg_skip_reason():
        pytest.skip(pg_skip_reason() or "")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no local postgres user (server not on this machine?)")
    os.chown(small_fs, owner.pw_uid, owner.pw_gid)
    space = f"full_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_TEST_DB}", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE TABLESPACE {space} LOCATION '{small_fs}'"))
    db = Database(pg_url)
    upgrade(db)
    with db.write() as conn:
        conn.execute(text(f"ALTER TABLE source_articles SET TABLESPACE {space}"))
    db.dispose()
    try:
        yield pg_url
    finally:
        schema = pg_url.rsplit("%3D", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))  # pg_url's teardown drops it again
            conn.execute(text(f"DROP TABLESPACE IF EXISTS {space}"))
        admin.dispose()


@pytest.mark.postgres
def test_cli_import_on_a_full_postgres_tablespace(pg_on_small_fs: str, tmp_path: Path) -> None:
    data = tmp_path / "articles.jsonl"
    data.write_bytes(corpus(4 * BATCH))
    done = run_cli(pg_on_small_fs, data)
    stored = count(pg_on_small_fs)
    assert 0 < stored < 4 * BATCH, done.stderr
    check_stopped(done, stored, pg_on_small_fs)
    assert "DiskFull" in done.stderr
