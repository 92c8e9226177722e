"""Migrations: up from empty on SQLite and PostgreSQL, idempotent, and matching the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from feedsvc.db import Database, upgrade
from feedsvc.db.engine import alembic_config, current_revision
from feedsvc.db.revision import LocationError, ensure_schema
from feedsvc.db.schema import include_object, metadata


def test_upgrade_from_empty_creates_every_table(db_url: str) -> None:
    db = Database(db_url)
    assert current_revision(db) is None
    upgrade(db)
    tables = set(inspect(db.engine).get_table_names())
    assert set(metadata.tables) <= tables
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert current_revision(db) == head
    upgrade(db)  # second run is a no-op, not an error
    assert current_revision(db) == head
    db.dispose()


def test_migrations_match_schema_module(db: Database) -> None:
    """The hand-written migration and schema.py describe the same database."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diffs = compare_metadata(context, metadata)
    # SQLite cannot report timezone-ness of DATETIME; ignore pure type-affinity noise there
    relevant = [d for d in diffs if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert relevant == []


def test_sqlite_runs_in_wal_mode_with_busy_timeout(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    upgrade(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_relative_sqlite_path_gets_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database("sqlite:///nested/dir/state.db")
    assert not (tmp_path / "nested").exists()  # opening it makes nothing: a reader may open it
    ensure_schema(db)
    assert (tmp_path / "nested" / "dir" / "state.db").is_file()


def test_an_absolute_sqlite_path_needs_its_directory(tmp_path: Path) -> None:
    """A typo or a volume not mounted: refused, not hidden by making the directories."""
    db = Database(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'state.db'}")
    with pytest.raises(LocationError, match=r"directory .*nested/dir does not exist"):
        ensure_schema(db)
    assert not (tmp_path / "nested").exists()


def test_the_cheap_head_revision_is_alembics_head() -> None:
    """db/revision.py reads the head from file names; it must agree with Alembic's view."""
    from alembic.script import ScriptDirectory

    from feedsvc.db.engine import alembic_config
    from feedsvc.db.revision import head_revision

    script = ScriptDirectory.from_config(alembic_config(Database("sqlite://")))
    assert script.get_heads() == [head_revision()]


def test_schema_status_and_ensure_schema(db_url: str) -> None:
    from feedsvc.db.revision import ensure_schema, head_revision, schema_status

    db = Database(db_url)
    status = schema_status(db)
    assert status.revision is None and "feedsvc db upgrade" in (status.problem() or "")
    ensure_schema(db)
    assert schema_status(db).current and schema_status(db).revision == head_revision()
    with db.write() as conn:  # a DB an older feedsvc left behind
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert "needs " + head_revision() in (schema_status(db).problem() or "")
    db.dispose()


def test_a_sqlite_upgrade_is_one_transaction(tmp_path: Path) -> None:
    """Alembic committed after each migration on SQLite (no transactional DDL in its eyes): a
    second process waiting for the write lock ran the next migration in between, and the first
    then ran it again ("table feed_watermark already exists", exit 1). One commit now, at the
    end, holding the write lock from the revision read to the head."""
    from sqlalchemy import event

    from feedsvc.db import upgrade

    db = Database(f"sqlite:///{tmp_path / 'one.db'}")
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))
    upgrade(db)
    assert len(commits) == 1
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert current_revision(db) == head
    db.dispose()


def test_two_processes_upgrading_a_new_sqlite_db_at_once_both_succeed(tmp_path: Path) -> None:
    """``run`` beside ``run --no-scheduler --no-bot`` (the README's SQLite web replica) on a new
    state DB: one of the two often exited 1 within a second, "database is locked" (both read
    the revision in a deferred transaction, then both wrote; WAL never waits for that). Four
    rounds: before, 4 of 6 failed."""
    import os
    import subprocess
    import sys

    for round_ in range(4):
        url = f"sqlite:///{tmp_path / f'race{round_}.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
        env["FEEDSVC_DATABASE__URL"] = url
        command = [sys.executable, "-m", "feedsvc", "db", "upgrade", "--config", "/dev/null"]
        pair = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=60)[0].decode() for p in pair]
        assert [p.returncode for p in pair] == [0, 0], outputs
        db = Database(url)
        head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
        assert current_revision(db) == head
        db.dispose()
