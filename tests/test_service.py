"""`feedsvc run` and `feedsvc demo` as real subprocesses: health, readiness, clean SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fakeserver import PATIENCE
from processes import free_port, get, listeners, wait_until
from processes import start_feedsvc as start
from sqlalchemy import create_engine, func, select

from feedsvc.db.schema import articles

ROOT = Path(__file__).parent.parent


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    topics = (ROOT / "config" / "topics.toml").read_text(encoding="utf-8")
    (tmp_path / "config" / "topics.toml").write_text(topics, encoding="utf-8")
    return tmp_path


@pytest.fixture
def proc_cleanup() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_run_serves_health_and_stops_on_sigterm(
    workdir: Path, proc_cleanup: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    env = {"FEEDSVC_HTTP__PORT": str(port), "FEEDSVC_SOURCE__POLL_SECONDS": "1"}
    proc = start(["run"], env, workdir)
    proc_cleanup.append(proc)
    base = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: (r := get(f"{base}/healthz")) is not None and r.status_code == 200, 60, "/healthz"
    )
    wait_until(
        lambda: (r := get(f"{base}/readyz")) is not None and r.status_code == 200, 60, "/readyz"
    )
    public = httpx.get(f"{base}/readyz", timeout=PATIENCE).json()
    assert public.pop("ready") is True and set(public) <= {"message"}  # details need the token
    metrics = httpx.get(f"{base}/metrics", timeout=PATIENCE).text
    assert "feedsvc_ingest_ticks_total" in metrics
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)  # patience; the bound under test is the assert below
    elapsed = time.monotonic() - t0
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert code == 0, output
    assert elapsed < 5, f"took {elapsed:.1f} s to stop"
    assert "feedsvc stopped" in output
    assert (workdir / "var" / "feedsvc.db").is_file()


def test_run_with_broken_config_exits_nonzero(workdir: Path) -> None:
    bad = workdir / "bad.toml"
    bad.write_text("[http]\nport = 99999\n[site]\ntimezone = 'Nowhere/Town'\n")
    result = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--config", str(bad)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "http.port" in result.stderr and "site.timezone" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_ingests_new_articles_within_seconds(
    workdir: Path, proc_cleanup: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    demo_dir = workdir / "demo"
    proc = start(
        ["demo", "--port", str(port), "--dir", str(demo_dir), "--articles", "30", "--every", "1"],
        {},
        workdir,
    )
    proc_cleanup.append(proc)
    base = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: (r := get(f"{base}/healthz")) is not None and r.status_code == 200,
        60,
        "demo /healthz",
    )
    engine = create_engine(f"sqlite:///{demo_dir / 'demo.db'}")

    def stored() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())

    wait_until(lambda: stored() >= 30, 60, "the seeded articles to be ingested")
    # the bound under test: new articles within seconds (--every 1: three take ~3 s)
    wait_until(lambda: stored() >= 33, 20, "generated articles to be ingested")
    engine.dispose()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130  # Ctrl-C, after the clean stop (README: exit codes)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_web_replica_shares_the_port_with_reuse_port(
    workdir: Path, proc_cleanup: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    env = {
        "FEEDSVC_HTTP__PORT": str(port),
        "FEEDSVC_HTTP__REUSE_PORT": "true",
        "FEEDSVC_SOURCE__POLL_SECONDS": "1",
    }
    feed = f"http://127.0.0.1:{port}/feeds/kien-thuy.rss"
    main = start(["run", "--no-bot"], env, workdir)
    proc_cleanup.append(main)
    wait_until(lambda: (r := get(feed)) is not None and r.status_code == 200, 60, "main process")
    etag = httpx.get(feed, timeout=PATIENCE).headers["etag"]
    replica = start(["run", "--no-scheduler", "--no-bot"], env, workdir)
    proc_cleanup.append(replica)
    wait_until(lambda: listeners(port) == 2, 60, "the web replica to listen on the same port")
    main.send_signal(signal.SIGTERM)
    assert main.wait(timeout=30) == 0
    wait_until(lambda: listeners(port) == 1, 30, "the main process to close its socket")
    after = httpx.get(feed, timeout=PATIENCE)  # only the replica is left to answer
    assert after.status_code == 200 and after.headers["etag"] == etag
    assert replica.poll() is None
