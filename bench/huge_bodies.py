"""Resident memory of a running service fed articles whose bodies are just under the limit.

A tester's U5: a PostgreSQL-state service with the five shipped topics, three batches of 30
rows whose body is ``'<p>' || repeat('Kiến Thụy công an trật tự ', 75000) || '</p>'`` (~1.9 M
characters, under the 2,000,000-character article limit) went from 221 MB to 1,110 MB resident,
1,346 MB after three ``?limit=200`` renders, and stayed there. This script replays that against
``feedsvc run --no-bot`` in a child process (built-in source: the rows are written to the state
DB's ``source_articles`` table, as ``feedsvc import`` would), and prints its ``VmRSS`` and
``VmHWM`` (``/proc/<pid>/status``, MB) after each step: start, each batch ingested, the renders.

    python bench/huge_bodies.py [--state sqlite|pg] [--batches 3] [--rows 30] [--repeat 75000]
                                [--probe] [--restart]
                                [--env NAME=VALUE ...]

``--probe``: between steps gdb runs ``huge_bodies_probe.py`` in the service (which objects hold
big texts), then ``malloc_trim(0)``, and RSS is read again. ``--restart``: after the renders the
service is stopped and started on the same DB (the tester's 937 MB after a restart).
``--env`` passes settings or allocator variables to the service (``MALLOC_ARENA_MAX=2``,
``FEEDSVC_HTTP__RENDER_CACHE_MB=0``) to compare. Run it with another checkout's ``feedsvc`` on
``PYTHONPATH`` to compare versions.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine

ROOT = Path(__file__).resolve().parent.parent
PG_NAME = f"feedsvc_bench_huge_{os.getpid()}"  # dropped at the end


def status(pid: int) -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` of ``pid``, MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = round(int(value.split()[0]) / 1024)
    return out


def in_service(pid: int, calls: list[str]) -> None:
    """Calls made inside the service process by gdb (``--probe``): a look at what it holds, or
    glibc's ``malloc_trim(0)``, without changing the service."""
    cmd = ["gdb", "-p", str(pid), "-batch", "-nx"]
    for call in calls:
        cmd += ["-ex", call]
    subprocess.run(cmd, capture_output=True, check=False, timeout=300)


PROBE = Path(__file__).with_name("huge_bodies_probe.py")


def probe(pid: int) -> None:
    """Which objects hold big texts (``huge_bodies_probe.py`` run in the service)."""
    in_service(pid, [
        "call (int)PyGILState_Ensure()",
        f'call (int)PyRun_SimpleString("exec(open(\\"{PROBE}\\").read())")',
        "call (void)PyGILState_Release($1)",
    ])  # fmt: skip


def trim(pid: int) -> None:
    """glibc's ``malloc_trim(0)`` in the service: what RSS is freed heap not given back."""
    in_service(pid, ["call (int)malloc_trim(0)"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def state_url(kind: str, tmp: Path) -> str:
    """A fresh, migrated state DB."""
    from feedsvc.db import Database, upgrade

    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'state.db'}"
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_NAME}"))
            conn.execute(text(f"CREATE DATABASE {PG_NAME}"))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    return url


def add_rows(url: str, first: int, rows: int, repeat: int) -> None:
    """``rows`` built-in source rows of one huge body each, changed now."""
    body = "<p>" + "Kiến Thụy công an trật tự " * repeat + "</p>"
    now = datetime.now(UTC)
    engine = create_engine(url)
    from feedsvc.db.schema import source_articles

    with engine.begin() as conn:
        for n in range(first, first + rows):
            conn.execute(
                insert(source_articles),
                {"source_key": f"HUGE-{n}", "url": f"https://baohaiphong.vn/huge-{n}.html",
                 "title": f"Kiến Thụy: tin số {n}", "body": body, "tags": [],
                 "published_at": now - timedelta(hours=1, seconds=n), "changed_at": now},
            )  # fmt: skip
    engine.dispose()


def stored(url: str) -> int:
    from feedsvc.db.schema import articles

    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(articles)).scalar_one()
    engine.dispose()
    return int(n)


def wait_for(what: str, ok: object, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not ok():  # type: ignore[operator]
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=75_000)
    parser.add_argument("--renders", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after each step")
    parser.add_argument("--restart", action="store_true", help="then a restart on the same DB")
    parser.add_argument("--probe", action="store_true", help="gdb: big texts held, malloc_trim")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the service")
    args = parser.parse_args()
    import feedsvc

    print(f"{machine()}; feedsvc from {Path(feedsvc.__file__).parent}; state {args.state}; "
          f"{args.batches} x {args.rows} rows of {args.repeat * 26 + 7:,} characters; "
          f"env {' '.join(args.env) or '-'}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = state_url(args.state, tmp)
        port = free_port()
        env = {
            **os.environ,
            "FEEDSVC_CONFIG": "/dev/null",
            "FEEDSVC_DATABASE__URL": url,
            "FEEDSVC_HTTP__PORT": str(port),
            "FEEDSVC_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
            "FEEDSVC_TOPICS__FILE": str(ROOT / "config" / "topics.toml"),
            "FEEDSVC_SOURCE__POLL_SECONDS": "2",
            "HUGE_PROBE_OUT": str(tmp / "probe.out"),
            **dict(e.split("=", 1) for e in args.env),
        }
        log = open(tmp / "service.log", "wb")  # noqa: SIM115

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "run", "--no-bot"],
                env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

        proc = start()
        base = f"http://127.0.0.1:{port}"
        rows: list[dict[str, object]] = []

        def note(step: str, seconds: float | None = None) -> None:
            time.sleep(args.settle)
            row = {"step": step, **status(proc.pid)}
            if seconds is not None:
                row["seconds"] = round(seconds, 1)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)

        def ready() -> bool:
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2).read()
                return True
            except OSError:
                return False

        def look(after: str) -> None:
            if not args.probe:
                return
            probe(proc.pid)
            print(after, (tmp / "probe.out").read_text().strip().splitlines()[-1], flush=True)
            trim(proc.pid)
            note(f"after {after}: malloc_trim(0)")

        try:
            wait_for("the service to start", ready, proc, 90)
            note("started")
            for b in range(args.batches):
                t = time.perf_counter()
                add_rows(url, b * args.rows, args.rows, args.repeat)
                want = (b + 1) * args.rows
                wait_for(f"batch {b + 1}", lambda w=want: stored(url) >= w, proc, 600)
                note(f"batch {b + 1} ingested", time.perf_counter() - t)
            look("ingest")
            for i in range(args.renders):
                t = time.perf_counter()
                size = len(
                    urllib.request.urlopen(
                        f"{base}/feeds/kien-thuy.rss?limit={200 - i}", timeout=120
                    ).read()
                )
                note(f"?limit={200 - i} render ({size / 1e6:.1f} MB)", time.perf_counter() - t)
            look("renders")
            if args.restart:  # the same DB: what the start's renders leave
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
                proc = start()
                wait_for("the service to start again", ready, proc, 120)
                note("restarted on the same DB")
                time.sleep(30)
                note("restarted, 30 s later")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            log.close()
            if args.state == "pg":
                admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)"))
                admin.dispose()
            if proc.returncode not in (0, None):
                print((tmp / "service.log").read_text()[-3000:])


if __name__ == "__main__":
    main()
