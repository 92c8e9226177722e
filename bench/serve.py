"""Requests/s for a cached 50-item feed from the running service vs nginx serving the same bytes.

Both servers run on this machine, and wrk (Debian package) loads each in turn, from a second
process on loopback, with the same connections and duration: 200s (no validator) and 304s
(If-None-Match with the current ETag). Goal (issue #4): feedsvc >= 0.5 of nginx for both.

Two pairings, same run: one feedsvc process against nginx with one worker (one core each), and
feedsvc with a web replica sharing the port (``http.reuse_port``) against nginx with two
workers (the whole machine each; wrk shares the same cores in both cases). For operators, also
feedsvc behind the shipped caching front, ``deploy/nginx/feedsvc.conf`` (one nginx worker).

    python bench/serve.py [--seconds 10] [--connections 50]
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

from feedsvc.demo import ArticleGenerator

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == 200:
                return r
            last = RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {url}: {last!r}")


def listeners(port: int) -> int:
    """Sockets in LISTEN state on ``port`` (IPv4), from /proc/net/tcp."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1
        for line in lines
        if (fields := line.split())[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    )


def feedsvc_env(port: int) -> dict[str, str]:
    return {
        **os.environ,
        "FEEDSVC_HTTP__PORT": str(port),
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_LOG__LEVEL": "WARNING",
        "FEEDSVC_SOURCE__POLL_SECONDS": "1",
        "FEEDSVC_HTTP__REUSE_PORT": "true",
    }


def start_replica(work: Path, port: int) -> subprocess.Popen[bytes]:
    """A web replica (no ingest, no bot) on the same port; returns once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--no-scheduler", "--no-bot"],
        cwd=work,
        env=feedsvc_env(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while listeners(port) < 2:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("the web replica did not start listening")
        time.sleep(0.2)
    return proc


def start_feedsvc(work: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    (work / "config").mkdir(parents=True)
    (work / "config" / "topics.toml").write_text(
        '[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\nquery = \'"Kiến Thụy"\'\n',
        encoding="utf-8",
    )
    gen = ArticleGenerator(seed=3)
    with (work / "a.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(60):
            a = gen.make(datetime.now().astimezone())
            record = a.to_json() | {"title": f"Kiến Thụy: {a.title} ({i})"}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    env = feedsvc_env(port)
    subprocess.run(
        [sys.executable, "-m", "feedsvc", "import", "a.jsonl"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--no-bot"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/feeds/kien-thuy.rss"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for the snapshot with all 50 items
        body = wait_http(url).content
        if body.count(b"<item>") == 50:
            return proc, url
        time.sleep(0.3)
    raise SystemExit("feed never reached 50 items")


def run_nginx(work: Path, workers: int, server: str) -> subprocess.Popen[bytes]:
    """nginx in the foreground with ``server`` (one or more server blocks) in its http block."""
    conf = work / "nginx.conf"
    conf.write_text(f"""
user {getpass.getuser()};
worker_processes {workers};
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  types {{ application/rss+xml rss; }}
  client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
  uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
  {server}
}}
""")
    (work / "tmp").mkdir()
    return subprocess.Popen(
        ["nginx", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


#: Not in nginx's default configuration: keeps the file's descriptor and metadata between
#: requests, so a 304 costs no open()/stat(). Measured as a stricter yardstick.
OPEN_FILE_CACHE = "open_file_cache max=64 inactive=60s; open_file_cache_valid 60s;"


def start_nginx(
    work: Path, port: int, body: bytes, workers: int, extra: str = ""
) -> subprocess.Popen[bytes]:
    """nginx serving ``body`` as a static file, the yardstick."""
    root = work / "www"
    (root / "feeds").mkdir(parents=True)
    (root / "feeds" / "kien-thuy.rss").write_bytes(body)
    server = f"server {{ listen 127.0.0.1:{port}; root {root}; etag on; {extra} }}"
    return run_nginx(work, workers, server)


def start_nginx_front(work: Path, port: int, svc_port: int) -> subprocess.Popen[bytes]:
    """The shipped deploy/nginx/feedsvc.conf (one worker) caching in front of feedsvc."""
    site = (ROOT / "deploy" / "nginx" / "feedsvc.conf").read_text(encoding="utf-8")
    site = site.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{svc_port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("/var/cache/nginx/feedsvc", str(work / "cache"))
    return run_nginx(work, 1, site)


def wrk(url: str, seconds: int, connections: int, etag: str | None) -> float:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url]
    if etag:
        cmd[1:1] = ["-H", f"If-None-Match: {etag}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw errors against {url}:\n{out}")
    assert match, out
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not installed (apt-get install {tool})")
    print(f"machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}")
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx workers run as an unprivileged user and must read the file
        svc_port = free_port()
        svc, svc_url = start_feedsvc(work / "svc", svc_port)
        procs.append(svc)
        try:
            first = httpx.get(svc_url)
            body, etag = first.content, first.headers["etag"]
            print(
                f"feed: {len(body):,} bytes, 50 items; wrk -t2 -c{args.connections} "
                f"-d{args.seconds}s"
            )
            results: dict[tuple[str, int, str], float] = {}

            def load(name: str, n: int, url: str, tag: str) -> None:
                for code, header in (("200", None), ("304", tag)):
                    results[(name, n, code)] = wrk(url, args.seconds, args.connections, header)
                    print(f"{name} x{n} {code}: {results[(name, n, code)]:10,.0f} req/s")

            for workers in (1, 2):
                port = free_port()
                (work / f"ngx{workers}").mkdir()
                ngx = start_nginx(work / f"ngx{workers}", port, body, workers)
                procs.append(ngx)
                ngx_url = f"http://127.0.0.1:{port}/feeds/kien-thuy.rss"
                load("nginx", workers, ngx_url, wait_http(ngx_url).headers["etag"])
                ngx.terminate()
                ngx.wait(timeout=15)
                if workers == 1:
                    port = free_port()
                    (work / "ngx-ofc").mkdir()
                    ngx = start_nginx(work / "ngx-ofc", port, body, 1, OPEN_FILE_CACHE)
                    procs.append(ngx)
                    ngx_url = f"http://127.0.0.1:{port}/feeds/kien-thuy.rss"
                    load("nginx open_file_cache", 1, ngx_url, wait_http(ngx_url).headers["etag"])
                    ngx.terminate()
                    ngx.wait(timeout=15)
                if workers == 2:
                    port = free_port()
                    (work / "front").mkdir()
                    front = start_nginx_front(work / "front", port, svc_port)
                    procs.append(front)
                    front_url = f"http://127.0.0.1:{port}/feeds/kien-thuy.rss"
                    wait_http(front_url)
                    load("feedsvc x1 behind deploy/nginx cache, nginx", 1, front_url, etag)
                    front.terminate()
                    front.wait(timeout=15)
                    procs.append(start_replica(work / "svc", svc_port))
                    if httpx.get(svc_url).headers["etag"] != etag:
                        raise SystemExit("the replica serves different bytes")
                load("feedsvc", workers, svc_url, etag)
            for code in ("200", "304"):
                front_ratio = (
                    results[("feedsvc x1 behind deploy/nginx cache, nginx", 1, code)]
                    / (results[("nginx", 1, code)])
                )
                print(f"ratio {code}, feedsvc behind its nginx cache / nginx x1: {front_ratio:.2f}")
            for n in (1, 2):
                for code in ("200", "304"):
                    ratio = results[("feedsvc", n, code)] / results[("nginx", n, code)]
                    print(f"ratio {code}, feedsvc x{n} / nginx x{n}: {ratio:.2f} (goal >= 0.5)")
            for code in ("200", "304"):
                ratio = results[("feedsvc", 1, code)] / results[("nginx open_file_cache", 1, code)]
                print(f"ratio {code}, feedsvc x1 / nginx x1 with open_file_cache: {ratio:.2f}")
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=15)


if __name__ == "__main__":
    main()
