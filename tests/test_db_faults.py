"""A DB connection that dies silently never freezes the service (issue #18 §1).

A :class:`tcpproxy.TcpProxy` in front of PostgreSQL or MariaDB stops forwarding without
closing anything, the way a failover behind a virtual IP or lost NAT state looks from the
client. Every wait on a DB socket must end (connect, statement, read; ``feedsvc.db.timeouts``),
the failure must be logged, work must resume once the network forwards again, and SIGTERM must
end the process within 5 s even while a worker is stuck in the driver (``feedsvc.shutdown``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from conftest import mariadb_database
from factories import article
from processes import wait_until
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from tcpproxy import TcpProxy
from test_source_external import Cms, _setup, mapping

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles
from feedsvc.db.timeouts import READ_GRACE, DbTimeouts
from feedsvc.db.urls import psycopg_url
from feedsvc.source.engine import source_engine
from feedsvc.store import lite
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic

FAST = DbTimeouts(connect=2, statement=1, keepalive=5)
READ = FAST.statement + READ_GRACE  # the client's deadline for one wait
SLACK = 4.0  # a loaded 2-core machine


def through(proxy: TcpProxy, url: str, port: int) -> str:
    return url.replace(f"127.0.0.1:{port}", f"127.0.0.1:{proxy.port}")


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        yield proxy


@pytest.fixture
def cms() -> Iterator[Cms]:
    """The CMS of tests/test_source_external.py on the machine's MariaDB."""
    with mariadb_database("feedsvc_cms") as url:
        made = _setup("mariadb", url)
        yield made
        made.writer.dispose()


@pytest.fixture
def mariadb_proxy() -> Iterator[TcpProxy]:
    with TcpProxy(("127.0.0.1", 3306)) as proxy:
        yield proxy


def timed_failure(run: object) -> float:
    t0 = time.monotonic()
    with pytest.raises(OperationalError):
        run()  # type: ignore[operator]
    return time.monotonic() - t0


# -- the engines ---------------------------------------------------------------------------------


@pytest.mark.postgres
def test_state_db_waits_end_and_the_pool_recovers(pg_url: str, pg_proxy: TcpProxy) -> None:
    upgrade(Database(pg_url))
    db = Database(through(pg_proxy, pg_url, 5432), timeouts=FAST)
    with db.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    pg_proxy.pause()

    def query() -> None:
        with db.read() as conn:  # the pooled connection is dead: pre-ping, then reconnect
            conn.execute(select(articles.c.id).limit(1)).all()

    elapsed = timed_failure(query)
    assert elapsed <= READ + FAST.connect + SLACK
    elapsed = timed_failure(query)  # a new connection through the silent proxy
    assert elapsed <= READ + FAST.connect + SLACK
    pg_proxy.resume()
    with db.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    db.dispose()


@pytest.mark.postgres
def test_a_statement_cut_off_mid_flight_fails_within_the_read_timeout(
    pg_url: str, pg_proxy: TcpProxy
) -> None:
    db = Database(through(pg_proxy, pg_url, 5432), timeouts=FAST)
    t0 = time.monotonic()
    with pytest.raises(OperationalError), db.read() as conn:
        conn.execute(text("SELECT 1"))
        pg_proxy.pause()
        t0 = time.monotonic()
        conn.execute(text("SELECT 2")).all()
    assert READ - 1 <= time.monotonic() - t0 <= READ + SLACK
    pg_proxy.resume()
    # a slow statement ends by the server's own timeout
    with db.write() as conn, pytest.raises(OperationalError, match="statement timeout"):
        conn.execute(text("SELECT pg_sleep(3)"))
    db.dispose()


# -- the CLI's read-only path (feedsvc.store.lite: psycopg without SQLAlchemy) ------------------


def lite_pg(url: str) -> AbstractContextManager[lite.Reader]:
    parsed = psycopg_url(url)
    assert parsed is not None
    return lite.read_only_pg(parsed, FAST)


@pytest.mark.postgres
def test_the_lite_reader_has_the_same_bounds(pg_url: str, pg_proxy: TcpProxy) -> None:
    """Statement timeout on the server; a read cut off mid-flight, and a connect to a silent
    server, fail within the same deadlines as ``Database``'s connections."""
    upgrade(Database(pg_url))
    with pytest.raises(psycopg.errors.QueryCanceled), lite_pg(pg_url) as reader:
        t0 = time.monotonic()
        reader.rows("SELECT pg_sleep(30)")
    assert time.monotonic() - t0 <= FAST.statement + SLACK
    proxied = through(pg_proxy, pg_url, 5432)
    with pytest.raises(psycopg.OperationalError), lite_pg(proxied) as reader:
        assert reader.rows("SELECT 1") == [(1,)]
        pg_proxy.pause()
        t0 = time.monotonic()
        reader.rows("SELECT 2")
    assert READ - 1 <= time.monotonic() - t0 <= READ + SLACK
    t0 = time.monotonic()
    with pytest.raises(psycopg.OperationalError), lite_pg(proxied):
        pass
    assert time.monotonic() - t0 <= FAST.connect + SLACK


@pytest.mark.postgres
def test_status_on_a_silent_state_db_ends_in_one_line(
    pg_url: str, pg_proxy: TcpProxy, tmp_path: Path
) -> None:
    upgrade(Database(pg_url))
    pg_proxy.pause()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__CONNECT_TIMEOUT": "2",
        "FEEDSVC_DATABASE__URL": through(pg_proxy, pg_url, 5432),
    }
    for argv in (["status"], ["topics", "list"]):
        t0 = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert time.monotonic() - t0 <= 2 + SLACK + 3  # + the interpreter's start-up
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("feedsvc: database error in the state DB "), done.stderr
        # worded as through SQLAlchemy
        assert ": OperationalError (ConnectionTimeout): " in done.stderr, done.stderr
        assert "timeout" in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.mysql
def test_cms_waits_end_and_the_pool_recovers(cms: Cms, mariadb_proxy: TcpProxy) -> None:
    engine = source_engine(through(mariadb_proxy, cms.url, 3306), FAST)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        mariadb_proxy.pause()
        elapsed = timed_failure(lambda: conn.execute(text("SELECT 2")).all())
        assert elapsed <= READ + SLACK

    def query() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).all()

    assert timed_failure(query) <= READ + FAST.connect + SLACK  # connect handshake bounded too
    mariadb_proxy.resume()
    query()
    with engine.connect() as conn:  # the server stops a slow statement itself
        t0 = time.monotonic()
        with pytest.raises(OperationalError, match="max_statement_time"):
            conn.execute(text("SELECT SLEEP(3)")).all()
        assert time.monotonic() - t0 < 3
    engine.dispose()


# -- the service --------------------------------------------------------------------------------


def start_service(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    base |= {
        "FEEDSVC_CONFIG": str(work / "feedsvc.toml"),
        "FEEDSVC_SOURCE__POLL_SECONDS": "0.5",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_TELEGRAM__LEASE_SECONDS": "5",
    }
    log = work / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-http", "--no-bot"],
            cwd=work,
            env=base | env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_until(
        lambda: "feedsvc started" in log.read_text("utf-8") or proc.poll() is not None,
        120,
        "the service to start",
    )
    assert proc.poll() is None, log.read_text("utf-8")
    return proc, log


def wait_logged(predicate: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    """:func:`wait_until`, showing the service's log when it times out."""
    try:
        wait_until(predicate, timeout, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; service log:\n{log.read_text('utf-8')}") from None


def assert_prompt_exit(proc: subprocess.Popen[bytes], elapsed: float, log: Path) -> None:
    """Gone within 5 s of SIGTERM; exit 0 (stopped in order) or 1 (the guard cut it short)."""
    text_ = log.read_text("utf-8")
    assert elapsed <= 5.0, f"SIGTERM took {elapsed:.1f} s:\n{text_}"
    assert proc.returncode in (0, 1), text_
    assert "feedsvc stopping" in text_


def sigterm_while_stuck(proc: subprocess.Popen[bytes], log: Path) -> float:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(
            "SIGTERM did not end the service in 30 s:\n" + log.read_text()
        ) from None
    return time.monotonic() - t0


@pytest.mark.slow
@pytest.mark.postgres
def test_service_on_a_silently_dead_state_db(
    tmp_path: Path, pg_url: str, pg_proxy: TcpProxy
) -> None:
    direct = Database(pg_url)
    upgrade(direct)
    now = datetime.now(UTC)
    with direct.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"công an"'), "cli", now)
    (tmp_path / "feedsvc.toml").write_text("", encoding="utf-8")
    proc, log = start_service(
        tmp_path,
        {
            "FEEDSVC_DATABASE__URL": through(pg_proxy, pg_url, 5432),
            "FEEDSVC_DATABASE__CONNECT_TIMEOUT": "2",
            "FEEDSVC_DATABASE__STATEMENT_TIMEOUT": "1",
        },
    )
    try:

        def stored(key: str) -> bool:
            with direct.read() as conn:
                found = conn.execute(select(articles.c.id).where(articles.c.source_key == key))
                return found.first() is not None

        def publish(n: int) -> str:
            a = article(n, published_at=datetime.now(UTC) - timedelta(minutes=1))
            with direct.write() as conn:
                upsert_source_articles(conn, [a], datetime.now(UTC))
            return a.source_key

        wait_logged(lambda: stored(publish(1)), 60, "the first article to be ingested", log)
        pg_proxy.pause()
        t0 = time.monotonic()
        second = publish(2)
        wait_until(
            lambda: "no answer within" in log.read_text("utf-8"),
            READ + FAST.connect + SLACK + 5,
            "the dead connection to be logged",
        )
        assert time.monotonic() - t0 <= READ + FAST.connect + SLACK + 5
        pg_proxy.resume()
        wait_logged(lambda: stored(second), 60, "the article to be stored once it forwards", log)
        third = publish(3)  # surely a later tick: ingest runs again
        wait_logged(lambda: stored(third), 60, "ingest to resume once the network forwards", log)
        pg_proxy.pause()
        fourth = publish(4)
        time.sleep(1.5)  # ticks and the dispatcher are now blocked in the driver
        assert not stored(fourth)
        elapsed = sigterm_while_stuck(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
        pg_proxy.resume()
        direct.dispose()
    assert_prompt_exit(proc, elapsed, log)


@pytest.mark.slow
@pytest.mark.mysql
def test_service_on_a_silently_dead_cms(tmp_path: Path, cms: Cms, mariadb_proxy: TcpProxy) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    direct = Database(state)
    upgrade(direct)
    with direct.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"công an"'), "cli", datetime.now(UTC))
    columns = mapping("mariadb")
    lines = [f'{k} = "{v}"' for k, v in columns.model_dump(exclude_unset=True).items()]
    (tmp_path / "feedsvc.toml").write_text(
        '[source]\ntable = "news_articles"\ntimezone = "UTC"\n[source.columns]\n'
        + "\n".join(line.replace('"(', "'''(").replace(')"', ")'''") for line in lines)
        + "\n",
        encoding="utf-8",
    )
    proc, log = start_service(
        tmp_path,
        {
            "FEEDSVC_DATABASE__URL": state,
            "FEEDSVC_SOURCE__URL": through(mariadb_proxy, cms.url, 3306),
            "FEEDSVC_SOURCE__CONNECT_TIMEOUT": "2",
            "FEEDSVC_SOURCE__STATEMENT_TIMEOUT": "1",
        },
    )

    def stored(n: int) -> bool:
        with direct.read() as conn:
            found = conn.execute(select(articles.c.id).where(articles.c.source_key == f"cms-{n}"))
            return found.first() is not None

    try:
        cms.insert(1, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
        wait_logged(lambda: stored(1), 60, "the first CMS article to be ingested", log)
        mariadb_proxy.pause()
        t0 = time.monotonic()
        cms.insert(2, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
        # the failed read, then ingest's probe of the CMS (a new connection): both bounded
        bound = 2 * (READ + FAST.connect) + SLACK + 5
        wait_logged(
            lambda: "(1 in a row)" in log.read_text("utf-8"),
            bound,
            "the CMS failure to be logged",
            log,
        )
        assert time.monotonic() - t0 <= bound
        mariadb_proxy.resume()
        wait_logged(lambda: stored(2), 60, "ingest to resume once the CMS answers", log)
        mariadb_proxy.pause()
        time.sleep(1.5)  # the ingest tick is blocked reading the CMS
        elapsed = sigterm_while_stuck(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
        mariadb_proxy.resume()
        direct.dispose()
    assert_prompt_exit(proc, elapsed, log)
