"""Answer times of another client while one address floods feedsvc with busy keep-alive
connections (t-reader's finding: at 1,000-1,500 connections every other client timed out).

wrk (Debian package) holds ``--connections`` keep-alive connections from 127.0.0.1, each asking
feeds, ``/``, a topic page and the OPML, gzip, as fast as they are answered. Meanwhile a probe
from 127.0.0.31 (another loopback address: another client) opens a new connection every
``--every`` seconds and asks a feed or ``/healthz``, with a 4 s deadline; its time to the first
byte of the answer is recorded, and the listen queue (connections the kernel holds for accept)
sampled. Printed per flood size: the probes' percentiles, how many got no answer in 4 s, the
deepest listen queue, wrk's requests/s and its non-2xx answers (429s past the per-client cap).

    python bench/accept_fairness.py [--connections 400,1000,1500] [--seconds 25]
        [--per-client N]   # http.max_connections_per_client (default: feedsvc's)

Run it against another checkout's code with ``PYTHONPATH=that/checkout`` (the "before" row).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from serve import free_port, start_feedsvc

import feedsvc

PROBE_FROM = "127.0.0.31"
DEADLINE = 4.0
MIX = """local paths = {"/feeds/kien-thuy.rss", "/feeds/kien-thuy.atom", "/feeds/kien-thuy.json",
  "/", "/topics/kien-thuy", "/feeds.opml"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], {["Accept-Encoding"] = "gzip"})
end
"""


def probe(port: int, path: str) -> float | None:
    """Seconds to the first byte of ``path``'s answer on a new connection from PROBE_FROM, or
    None when no answer came within DEADLINE."""
    started = time.monotonic()
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=DEADLINE, source_address=(PROBE_FROM, 0)
        ) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            sock.settimeout(max(0.01, DEADLINE - (time.monotonic() - started)))
            if not sock.recv(1):
                return None
    except OSError:
        return None
    return time.monotonic() - started


def listen_queue(port: int) -> int:
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout.split()
    return int(out[1]) if len(out) > 1 else 0


def flood(port: int, connections: int, seconds: int, every: float, mix: Path) -> dict[str, str]:
    wrk = subprocess.Popen(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(mix),
         f"http://127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    time.sleep(3)  # the flood's connections are open (or queued)
    times: list[float] = []
    missed = deepest = 0
    end = time.monotonic() + seconds - 5
    n = 0
    while time.monotonic() < end:
        n += 1
        took = probe(port, "/healthz" if n % 4 == 0 else "/feeds/kien-thuy.rss")
        deepest = max(deepest, listen_queue(port))
        if took is None:
            missed += 1
        else:
            times.append(took)
        time.sleep(max(0.0, every - (took or DEADLINE)))
    out, _ = wrk.communicate()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    times.sort()

    def pct(q: float) -> str:
        return f"{times[min(len(times) - 1, int(q * len(times)))]:.2f}" if times else "-"

    return {
        "connections": str(connections),
        "probes": str(n),
        "no answer in 4 s": str(missed),
        "p50 s": pct(0.5),
        "p90 s": pct(0.9),
        "max s": f"{times[-1]:.2f}" if times else "-",
        "mean s": f"{statistics.fmean(times):.2f}" if times else "-",
        "listen queue max": str(deepest),
        "wrk req/s": rate.group(1) if rate else "?",
        "wrk non-2xx": non2xx.group(1) if non2xx else "0",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", default="400,1000,1500")
    parser.add_argument("--seconds", type=int, default=25)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--per-client", type=int, default=None)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # wrk's connections; feedsvc's own
    if args.per_client is not None:
        os.environ["FEEDSVC_HTTP__MAX_CONNECTIONS_PER_CLIENT"] = str(args.per_client)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"feedsvc from {Path(feedsvc.__file__).parent}")
    with tempfile.TemporaryDirectory(prefix="accept-") as tmp:
        work = Path(tmp)
        mix = work / "mix.lua"
        mix.write_text(MIX, encoding="utf-8")
        port = free_port()
        proc, _ = start_feedsvc(work / "svc", port)
        try:
            rows = [
                flood(port, int(c), args.seconds, args.every, mix)
                for c in args.connections.split(",")
            ]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(" | ".join(rows[0]))
    for row in rows:
        print(" | ".join(row.values()))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
