"""``connect_timeout`` bounds the whole connect, the server's greeting included.

A port that takes TCP connections and then says nothing (a proxy, a load balancer or a
port-forward in front of a server that is down) held a MariaDB/MySQL connect for
``statement_timeout`` + 5 s: PyMySQL read the greeting under its read timeout, so ``source
check`` with ``connect_timeout = 3`` took 66 s and ingest hung as long (a tester's). libpq's
``connect_timeout`` covers the startup already; these tests hold both backends to it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import mariadb_database
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from feedsvc.db import Database
from feedsvc.db.timeouts import DbTimeouts
from feedsvc.db.urls import psycopg_url
from feedsvc.source.engine import source_engine
from feedsvc.store import lite

SLACK = 3.0  # a loaded 2-core machine
#: a statement timeout far above every connect bound here: the old read-timeout wait shows
LONG = 40.0


class Silent:
    """A listener on 127.0.0.1 that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self._held.append(self._sock.accept()[0])
            except TimeoutError:
                continue

    @property
    def accepted(self) -> int:
        """Connections taken so far (each then held, unanswered)."""
        return len(self._held)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._sock.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    listener = Silent()
    yield listener
    listener.close()


def failed_within(url: str, timeouts: DbTimeouts) -> tuple[float, str]:
    engine = source_engine(url, timeouts)
    t0 = time.monotonic()
    with pytest.raises(OperationalError) as failed, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    return time.monotonic() - t0, str(failed.value)


@pytest.mark.parametrize("scheme", ["mysql+pymysql", "mysql", "mariadb+pymysql", "mariadb"])
@pytest.mark.parametrize("connect", [1.0, 2.5])
def test_a_mysql_source_that_never_greets_fails_within_connect_timeout(
    silent: Silent, scheme: str, connect: float
) -> None:
    url = f"{scheme}://reader:secret@127.0.0.1:{silent.port}/cms?charset=utf8mb4"
    elapsed, error = failed_within(url, DbTimeouts(connect=connect, statement=LONG))
    assert connect - 0.2 <= elapsed <= connect + SLACK, error
    assert f"within {connect:g} s while connecting (connect_timeout)" in error, error
    assert "secret" not in error


@pytest.mark.parametrize("connect", [2.0, 3.0])
def test_a_postgresql_source_that_never_answers_fails_within_connect_timeout(
    silent: Silent, connect: float
) -> None:
    """libpq's ``connect_timeout`` (psycopg's own wait) covers the startup: checked, not
    assumed."""
    url = f"postgresql://reader:secret@127.0.0.1:{silent.port}/cms"
    elapsed, error = failed_within(url, DbTimeouts(connect=connect, statement=LONG))
    assert elapsed <= connect + SLACK, error


def test_a_silent_postgresql_state_db_fails_within_connect_timeout(silent: Silent) -> None:
    """The state DB's engine and the CLI's read-only reader (``store.lite``)."""
    url = f"postgresql://feedsvc@127.0.0.1:{silent.port}/feedsvc"
    bounds = DbTimeouts(connect=2, statement=LONG)
    db = Database(url, timeouts=bounds)
    t0 = time.monotonic()
    with pytest.raises(OperationalError), db.read() as conn:
        conn.execute(text("SELECT 1"))
    assert time.monotonic() - t0 <= 2 + SLACK
    db.dispose()
    parsed = psycopg_url(url)
    assert parsed is not None
    t0 = time.monotonic()
    with pytest.raises(Exception, match="timeout"), lite.read_only_pg(parsed, bounds):
        pass
    assert time.monotonic() - t0 <= 2 + SLACK


@pytest.mark.mysql
def test_a_mysql_connection_keeps_its_read_timeout_after_connecting() -> None:
    """The connect's bound is the connect's only: a connection made waits ``statement + 5``
    for an answer (PyMySQL's private ``_read_timeout``, which ``mysql_connect`` sets)."""
    bounds = DbTimeouts(connect=1.5, statement=7)
    with mariadb_database("feedsvc_connect") as url:
        engine = source_engine(url, bounds)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT SLEEP(2)")).scalar() == 0  # > connect: no timeout
            raw = conn.connection.dbapi_connection
            assert raw is not None
            assert (raw._read_timeout, raw._write_timeout) == (bounds.read, bounds.read)  # type: ignore[attr-defined]
        engine.dispose()


@pytest.mark.parametrize("connect", ["2", "3.5"])
def test_source_check_on_a_silent_mysql_port_ends_within_connect_timeout(
    silent: Silent, tmp_path: Path, connect: str
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        f'[source]\nurl = "mysql+pymysql://u:p@127.0.0.1:{silent.port}/cms"\n'
        f"connect_timeout = {connect}\nstatement_timeout = {LONG:g}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "source", "check", "--config", str(config)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert time.monotonic() - t0 <= float(connect) + SLACK + 4  # + the interpreter's start-up
    assert done.returncode == 1, done.stderr
    assert "cannot connect to the source" in done.stderr, done.stderr
    assert "(connect_timeout)" in done.stderr, done.stderr
