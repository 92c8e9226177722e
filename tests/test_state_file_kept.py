"""An SQLite state DB moved, deleted or replaced under a running feedsvc is an outage, never a
new empty file (a tester's: ``mv var/state.db var/state.db.moved`` under ``feedsvc run``; the
next ``/readyz`` created an empty ``state.db``, whose close deleted the service's live
``state.db-wal``: the rows written since were lost and the same articles alerted again at the
next start; one 500, "no such table: articles", was all the log said).

Real files and real connections: the engines keep pooled connections to the file moved away
(nothing disposed here), as a running service does.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from processes import wait_until
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from test_state_outage import AUTH, check_outage, client_of, service_on

from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.outage import is_outage
from feedsvc.engines import service_databases

GONE = "does not exist (moved or deleted while feedsvc uses it?)"
OTHER = "is no longer the file this process opened"


def other_db(path: Path) -> None:
    """Another SQLite database at ``path`` (someone's file put where the state DB was)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (n INTEGER)")
        conn.commit()


def copy_of(file: Path, to: Path) -> None:
    """A copy of the SQLite DB ``file`` by SQLite's backup (its WAL included): the same data,
    another file (a restore by copy)."""
    with closing(sqlite3.connect(file)) as src, closing(sqlite3.connect(to)) as dst:
        src.backup(dst)


def moved(file: Path) -> None:
    file.rename(file.with_name("state.db.moved"))


def replaced_by_another_db(file: Path) -> None:
    other_db(file.with_name("other.db"))
    file.with_name("other.db").rename(file)


def replaced_by_a_copy(file: Path) -> None:
    copy_of(file, file.with_name("copy.db"))
    file.with_name("copy.db").rename(file)


def replaced_by_a_text_file(file: Path) -> None:
    file.with_name("t").write_text("not a database\n")
    file.with_name("t").rename(file)


#: What is done to the state DB file while the engines use it, and what the error then says.
ACTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "moved": (moved, GONE),
    "deleted": (Path.unlink, GONE),
    "replaced_by_another_db": (replaced_by_another_db, OTHER),
    "replaced_by_a_copy": (replaced_by_a_copy, OTHER),
    "replaced_by_a_text_file": (replaced_by_a_text_file, OTHER),
}


def count_topics(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM topics")).scalar_one())


def add_topic(db: Database, slug: str) -> None:
    from feedsvc.store.topics import TopicSpec, save_topic

    with db.write() as conn:
        save_topic(conn, TopicSpec(slug, slug, f'"{slug}"', ""), "cli", datetime.now(UTC))


@pytest.mark.parametrize("act", list(ACTS))
def test_every_engine_refuses_and_creates_nothing(tmp_path: Path, act: str) -> None:
    """The jobs' and the web's engines (one pooled connection each to the file first
    opened): every read and write is an outage naming the file; nothing is made at the path,
    nothing is written into a file put there, and the service's -wal stays."""
    file = tmp_path / "state.db"
    db, web = service_databases(load_config(None, {"database": {"url": f"sqlite:///{file}"}}))
    upgrade(db)
    add_topic(db, "before")
    assert count_topics(db) == count_topics(web) == 1  # both pools hold a connection now
    wal = file.with_name("state.db-wal")
    assert wal.exists()
    do, said = ACTS[act]
    do(file)
    there = file.read_bytes() if file.exists() else None
    for engine in (db, web, db):
        with pytest.raises(sa_exc.OperationalError) as read:
            count_topics(engine)
        with pytest.raises(sa_exc.OperationalError) as write:
            add_topic(engine, "during")
        for refused in (read.value, write.value):
            assert is_outage(refused), refused
            assert said in str(refused) and str(file) in str(refused), refused
    assert (file.read_bytes() if file.exists() else None) == there  # not created, not written
    if act != "deleted":
        assert wal.exists()  # the service's own WAL: never deleted under it
    if act == "moved":
        file.with_name("state.db.moved").rename(file)
        assert count_topics(db) == count_topics(web) == 1  # whole again: the row before
        add_topic(web, "after")
        assert count_topics(db) == 2
    db.dispose()
    web.dispose()


def test_a_file_put_back_is_used_again(tmp_path: Path) -> None:
    """The shown input's end: the file moved back under its name is the same file, and every
    row committed before the move is there (its WAL beside the path was never deleted)."""
    file = tmp_path / "state.db"
    db = Database(f"sqlite:///{file}")
    upgrade(db)
    for n in range(3):
        add_topic(db, f"t{n}")
    file.rename(tmp_path / "state.db.moved")
    with pytest.raises(sa_exc.OperationalError):
        count_topics(db)
    assert not file.exists()
    (tmp_path / "state.db.moved").rename(file)
    assert count_topics(db) == 3
    db.dispose()  # the last close checkpoints: the file alone holds every row
    assert not file.with_name("state.db-wal").exists()
    with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as conn:
        assert conn.execute("SELECT count(*) FROM topics").fetchone()[0] == 3


def test_upgrade_still_creates_a_new_state_db(tmp_path: Path) -> None:
    """Creating is `db upgrade`'s (and a writer's start): the one place a file is made."""
    file = tmp_path / "new.db"
    db = Database(f"sqlite:///{file}")
    with pytest.raises(sa_exc.OperationalError) as refused:
        count_topics(db)
    assert GONE in str(refused.value) and not file.exists()
    upgrade(db)
    assert count_topics(db) == 0
    db.dispose()


@pytest.mark.parametrize("act", ["moved", "deleted", "replaced_by_a_copy"])
def test_routes_are_503_and_readyz_too_never_a_new_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, act: str
) -> None:
    """Search feeds, `?limit=` feeds, the API, the admin and /readyz: 503
    ``state_db_unavailable``, one WARNING naming the file, no traceback, no 500, no file made;
    the file put back (moved) answers again."""
    caplog.set_level(logging.INFO)
    file = tmp_path / "state.db"
    service = service_on(f"sqlite:///{file}")
    with client_of(service) as client:
        # a connection in the web's pool (a search cached now would be served from memory)
        assert client.get("/api/topics", headers=AUTH).status_code == 200
        assert client.get("/readyz").status_code == 200
        do, said = ACTS[act]
        do(file)
        there = file.read_bytes() if file.exists() else None
        check_outage(client, caplog)
        # the probe's answer is reused for a second (health.PROBE_FRESH): polled
        wait_until(lambda: client.get("/readyz").status_code == 503, 30, "/readyz 503")
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any(said in line and str(file) in line for line in warned), warned
        assert (file.read_bytes() if file.exists() else None) == there
        if act == "moved":
            file.with_name("state.db.moved").rename(file)
            assert client.get("/api/topics", headers=AUTH).status_code == 200
            wait_until(lambda: client.get("/readyz").status_code == 200, 30, "/readyz 200")


def test_ingest_while_the_file_is_away_writes_nowhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ingest from a CMS while the state DB is moved: an outage that names the file, nothing
    created; the file back, the new row is ingested into it, once."""
    from test_ingest_outage import sqlite_cms

    from feedsvc.config import SourceColumns
    from feedsvc.ingest import Ingestor
    from feedsvc.source import external_source
    from feedsvc.topic_index import TopicIndex

    file = tmp_path / "state.db"
    db = Database(f"sqlite:///{file}")
    upgrade(db)
    cms = tmp_path / "cms.db"
    sqlite_cms(cms, "P-1")
    columns = SourceColumns(cursor="modified", source_key="slug", url="link",
                            published_at="created", visible="status = 'published'")  # fmt: skip
    source = external_source(f"sqlite:///{cms}", "posts", columns, UTC)
    ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=30, overlap_seconds=300,
                   batch_size=100)  # fmt: skip
    assert ing.tick().new == 1
    file.rename(tmp_path / "state.db.moved")
    with closing(sqlite3.connect(cms)) as conn:
        conn.execute("INSERT INTO posts VALUES (2, 'P-2', 'https://e.vn/2', 'Kiến Thụy 2', "
                     "'published', '2026-11-30 10:01:00', '2026-11-30 10:01:00')")  # fmt: skip
        conn.commit()
    caplog.set_level(logging.INFO, logger="feedsvc")
    failed = ing.tick()
    assert failed.error is not None and GONE in failed.error, failed
    assert ing.tick().skipped
    assert not file.exists()
    (tmp_path / "state.db.moved").rename(file)
    back = ing.tick()
    assert (back.skipped, back.new, back.error) == (False, 1, None)
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar_one() == 2
    source.dispose()
    db.dispose()


def test_dispatch_claim_while_the_file_is_away_is_an_outage(tmp_path: Path) -> None:
    """The dispatcher's claim (a write on the jobs' engine) while the file is moved: an
    outage, never a claim on a new empty DB."""
    from datetime import timedelta

    from feedsvc.store import deliveries

    file = tmp_path / "state.db"
    db = Database(f"sqlite:///{file}")
    upgrade(db)
    with db.write() as conn:
        assert deliveries.claim(conn, "me", datetime.now(UTC), 10, timedelta(seconds=60)) == []
    moved(file)
    with pytest.raises(sa_exc.OperationalError) as refused, db.write() as conn:
        deliveries.claim(conn, "me", datetime.now(UTC), 10, timedelta(seconds=60))
    assert is_outage(refused.value) and GONE in str(refused.value)
    assert not file.exists()
    db.dispose()


def test_moved_wal_is_kept_beside_the_path(tmp_path: Path) -> None:
    """Sanity of the premise: after the move, a write through an old connection is refused by
    SQLite itself (SQLITE_READONLY_DBMOVED) or by the check: the WAL holds only what was
    committed before, and is not deleted by any close."""
    file = tmp_path / "state.db"
    db = Database(f"sqlite:///{file}")
    upgrade(db)
    add_topic(db, "a")
    file.rename(tmp_path / "state.db.moved")
    db.dispose()  # every close on a moved file: no checkpoint, no delete
    assert file.with_name("state.db-wal").exists()
    shutil.move(tmp_path / "state.db.moved", file)
    assert count_topics(Database(f"sqlite:///{file}")) == 1
    assert os.path.exists(file)


def test_run_with_its_state_db_moved_alerts_each_article_once(tmp_path: Path) -> None:
    """The shown input end to end: `run` (SQLite state DB, an SQLite CMS, an Apprise
    subscription), `mv state.db state.db.moved` after the start, a new CMS row meanwhile:
    /readyz 503, no `state.db` made, the -wal kept; the file put back, the row is alerted
    once; after SIGTERM and a new start, no article is alerted again."""
    from processes import answers_ok, free_port, get, start_feedsvc, wait_until
    from receiver import Receiver
    from test_ingest_outage import MAPPING, feedsvc_cli, sqlite_cms

    cms = tmp_path / "cms.db"
    sqlite_cms(cms, "P-1")
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[source]\nurl = "sqlite:///{cms}"\ntable = "posts"\n{MAPPING}', encoding="utf-8"
    )
    file = tmp_path / "var" / "state.db"
    port = free_port()
    file.parent.mkdir()
    env = {"FEEDSVC_CONFIG": str(config), "FEEDSVC_HTTP__PORT": str(port),
           "FEEDSVC_SOURCE__POLL_SECONDS": "1",
           "FEEDSVC_DATABASE__URL": f"sqlite:///{file}"}  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with Receiver() as hook:
        for argv in (
            ["topics", "add", "kien-thuy", "--title", "Kiến Thụy", "--query", "Kiến Thụy"],
            ["subs", "add", "--channel", "apprise", "--to", hook.url(), "--topic", "kien-thuy"],
        ):
            done = feedsvc_cli(env, tmp_path, *argv)
            assert done.returncode == 0, done.stderr

        def alerts(n: int) -> int:
            return sum(f"e.vn/{n}" in str(r.body) for r in hook.all())

        def add_post(n: int) -> None:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            with closing(sqlite3.connect(cms)) as conn:
                conn.execute(
                    "INSERT INTO posts VALUES (?, ?, ?, ?, 'published', ?, ?)",
                    (n, f"P-{n}", f"https://e.vn/{n}", f"Kiến Thụy {n}", now, now),
                )
                conn.commit()

        def in_feed(n: int) -> bool:
            feed = get(f"{base}/feeds/kien-thuy.rss")
            return feed is not None and f"https://e.vn/{n}" in feed.text

        outputs = []
        proc = start_feedsvc(["run", "--no-bot"], env, tmp_path)
        try:
            wait_until(lambda: answers_ok(f"{base}/readyz"), 60, "/readyz")
            wait_until(lambda: in_feed(1), 60, "the first pass (P-1 in the feed)")
            add_post(2)
            wait_until(lambda: alerts(2) == 1, 60, "P-2 alerted")
            file.rename(file.with_name("state.db.moved"))
            add_post(3)
            wait_until(lambda: (r := get(f"{base}/readyz")) is not None and r.status_code == 503,
                       30, "/readyz 503 while the file is away")  # fmt: skip
            searched = get(f"{base}/feeds/search.rss?q=thuy")
            assert searched is not None and searched.status_code == 503, searched
            assert not file.exists() and file.with_name("state.db-wal").exists()
            assert alerts(3) == 0
            file.with_name("state.db.moved").rename(file)
            try:
                wait_until(lambda: alerts(3) == 1, 60, "P-3 alerted once the file is back")
            except AssertionError as exc:  # why, from the service's own lines (one CI run's)
                proc.terminate()
                said = proc.communicate(timeout=60)[0].decode()
                raise AssertionError(f"{exc}; the service said:\n{said[-8000:]}") from None
        finally:
            if proc.returncode is None:
                proc.terminate()
                outputs.append(proc.communicate(timeout=60)[0].decode())
        assert proc.returncode == 0, outputs[0]
        said = [line for line in outputs[0].splitlines() if GONE in line]
        assert said and all("WARNING" in line for line in said), outputs[0]
        assert "Traceback" not in outputs[0] and "no such table" not in outputs[0], outputs[0]
        proc = start_feedsvc(["run", "--no-bot"], env, tmp_path)
        try:
            wait_until(lambda: answers_ok(f"{base}/readyz"), 60, "/readyz after the restart")
            add_post(4)  # alerted after the start's first pass: that pass is over
            wait_until(lambda: alerts(4) == 1, 60, "P-4 alerted")
        finally:
            proc.terminate()
            outputs.append(proc.communicate(timeout=60)[0].decode())
        counts = [alerts(n) for n in (1, 2, 3, 4)]
        assert counts == [0, 1, 1, 1], [r.body for r in hook.all()]
