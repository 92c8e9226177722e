"""Requests/s for a cached 50-item feed from the running service vs nginx serving the same bytes.

Both servers run on this machine, and wrk (Debian package) loads each in turn, from a second
process on loopback, with the same connections and duration: 200s (no validator) and 304s
(If-None-Match with the current ETag). Goal (issue #4): feedsvc >= 0.5 of nginx for both.

    python bench/serve.py [--seconds 10] [--connections 50] [--workers 1]
"""

from __future__ import annotations

import argparse
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
    env = {**os.environ, "FEEDSVC_HTTP__PORT": str(port), "FEEDSVC_CONFIG": "/dev/null",
           "FEEDSVC_LOG__LEVEL": "WARNING", "FEEDSVC_SOURCE__POLL_SECONDS": "1"}
    subprocess.run([sys.executable, "-m", "feedsvc", "import", "a.jsonl"], cwd=work, env=env,
                   check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "feedsvc", "run", "--no-bot"], cwd=work,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/feeds/kien-thuy.rss"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for the snapshot with all 50 items
        body = wait_http(url).content
        if body.count(b"<item>") == 50:
            return proc, url
        time.sleep(0.3)
    raise SystemExit("feed never reached 50 items")


def start_nginx(work: Path, port: int, body: bytes, workers: int) -> subprocess.Popen[bytes]:
    root = work / "www"
    (root / "feeds").mkdir(parents=True)
    (root / "feeds" / "kien-thuy.rss").write_bytes(body)
    conf = work / "nginx.conf"
    conf.write_text(f"""
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
  server {{ listen 127.0.0.1:{port}; root {root}; etag on; }}
}}
""")
    (work / "tmp").mkdir()
    return subprocess.Popen(["nginx", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


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
    parser.add_argument("--workers", type=int, default=1, help="nginx worker processes")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not installed (apt-get install {tool})")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx workers run as an unprivileged user and must read the file
        svc, svc_url = start_feedsvc(work / "svc", free_port())
        ngx = None
        try:
            first = httpx.get(svc_url)
            body, etag = first.content, first.headers["etag"]
            port = free_port()
            (work / "ngx").mkdir()
            ngx = start_nginx(work / "ngx", port, body, args.workers)
            ngx_url = f"http://127.0.0.1:{port}/feeds/kien-thuy.rss"
            ngx_etag = wait_http(ngx_url).headers["etag"]
            print(f"feed: {len(body):,} bytes, 50 items; wrk -t2 -c{args.connections} "
                  f"-d{args.seconds}s; nginx worker_processes {args.workers}; feedsvc 1 process")
            results = {}
            runs = (("feedsvc 200", svc_url, None), ("nginx 200", ngx_url, None),
                    ("feedsvc 304", svc_url, etag), ("nginx 304", ngx_url, ngx_etag))
            for name, url, tag in runs:
                results[name] = wrk(url, args.seconds, args.connections, tag)
                print(f"{name:12} {results[name]:10,.0f} req/s")
            for code in ("200", "304"):
                ratio = results[f"feedsvc {code}"] / results[f"nginx {code}"]
                print(f"ratio {code}: {ratio:.2f} of nginx (goal >= 0.5)")
        finally:
            svc.terminate()
            svc.wait(timeout=15)
            if ngx is not None:
                ngx.terminate()
                ngx.wait(timeout=15)


if __name__ == "__main__":
    main()
