"""A stop while ingest waits to connect to a CMS that never answers is a stop in order.

``feedsvc run`` with ``source.url`` on a port that takes the TCP connection and says nothing (a
proxy or a port-forward in front of a stopped server) got SIGTERM while its ingest tick waited
up to ``source.connect_timeout`` (10 s): "work abandoned", exit 1, and systemd marked the unit
failed, though a connect holds no row and no transaction (a tester's). Now the tick's connect
is left behind, logged so, and the exit is the signal's (0 for SIGTERM, 130 for SIGINT), within
the 5 s a stop is given. ``source.connects.ConnectWatch`` tells a connect under way, by thread.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import free_port, wait_until
from site_placeholder import unplaced
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from test_db_connect_timeout import Silent

from feedsvc.db.timeouts import DbTimeouts
from feedsvc.source.connects import ConnectWatch
from feedsvc.source.engine import source_engine

SCHEMES = {"mysql": "mysql+pymysql://r:x@127.0.0.1:{port}/cms",
           "postgresql": "postgresql://r:x@127.0.0.1:{port}/cms"}  # fmt: skip


@pytest.fixture
def silent() -> Iterator[Silent]:
    listener = Silent()
    yield listener
    listener.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_connect_is_under_way_in_its_own_thread_only_until_it_fails(
    silent: Silent, scheme: str
) -> None:
    watch = ConnectWatch()
    engine = source_engine(SCHEMES[scheme].format(port=silent.port), DbTimeouts(connect=3), watch)
    failed: list[BaseException] = []

    def connect() -> None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            failed.append(exc)

    thread = threading.Thread(target=connect)
    thread.start()
    wait_until(lambda: silent.accepted >= 1, 30, "the connect to reach the silent port")
    assert watch.under_way(thread.ident)
    assert not watch.under_way(threading.get_ident())  # another thread's wait is not vouched for
    assert not watch.under_way(None)
    thread.join(timeout=30)
    assert failed, "the connect to a silent port should fail at connect_timeout"
    assert not watch.under_way(thread.ident)  # a failed connect is over
    engine.dispose()


def test_a_connect_that_succeeds_is_over(tmp_path: Path) -> None:
    watch = ConnectWatch()
    engine = source_engine(f"sqlite:///{tmp_path / 'cms.db'}", None, watch)
    import sqlite3

    sqlite3.connect(tmp_path / "cms.db").close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert not watch.under_way(threading.get_ident())
    engine.dispose()


def _run(tmp_path: Path, url: str) -> tuple[subprocess.Popen[bytes], Path]:
    config = tmp_path / "site.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[source]\nurl = "{url}"\ntable = "news"\nconnect_timeout = 60\n'
        f'[topics]\nfile = "{tmp_path / "topics.toml"}"\n',
        encoding="utf-8",
    )
    (tmp_path / "topics.toml").write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", str(free_port()),
             "--config", str(config)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return proc, log


@pytest.mark.parametrize(
    ("scheme", "sig", "code"),
    [
        ("mysql", signal.SIGTERM, 0),
        ("postgresql", signal.SIGTERM, 0),
        ("mysql", signal.SIGINT, 130),
    ],
)
def test_a_stop_while_ingest_waits_on_a_silent_cms_is_in_order(
    tmp_path: Path, silent: Silent, scheme: str, sig: signal.Signals, code: int
) -> None:
    proc, log = _run(tmp_path, SCHEMES[scheme].format(port=silent.port))
    try:
        wait_until(lambda: "feedsvc started" in log.read_text(errors="replace"), 60, "the start")
        wait_until(lambda: silent.accepted >= 1, 60, "ingest to connect to the silent CMS")
        t0 = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text_ = log.read_text(errors="replace")
    assert proc.returncode == code, text_
    assert took < 5.5, (took, text_)  # README: a stop ends within 5 s (+ a loaded machine)
    assert "is left behind: it holds nothing, nothing is lost" in text_, text_
    assert "feedsvc stopped\n" in text_ or text_.rstrip().endswith("feedsvc stopped"), text_
    # journald: a warning (but the placeholder [site]'s at start)
    assert "work abandoned" not in text_ and "WARNING" not in unplaced(text_), text_
    assert f"exiting now, exit {code}\n" in text_, text_
    assert "Traceback" not in text_, text_
