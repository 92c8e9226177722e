"""CPU per feed poll answered by the fast path: ``FeedFastPath.answer`` plus the poll counter,
for a conditional GET answered 304, with typical feed-reader headers. In-process (no sockets),
so it isolates what the serving code itself costs from the HTTP server and the machine's load.

    python bench/fastpath.py [--against OTHER_CHECKOUT]

``--against`` times another checkout's fast path (``feedsvc/web/fast_path.py``, or
``feedsvc/web/feeds.py`` where it lived before) in the same process, interleaved, e.g. main
exported with ``git archive main | tar -x -C /tmp/main``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

from feedsvc.stats.polls import PollCounter
from feedsvc.web import fast_path
from feedsvc.web.http_cache import make_snapshot

SNAP = make_snapshot(b"x" * 70_000, "application/rss+xml", datetime(2026, 1, 1, tzinfo=UTC))
HEADERS = [
    (b"host", b"feeds.example.vn"), (b"user-agent", b"Feedly/1.0"), (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip"), (b"if-none-match", SNAP.etag.encode()),
    (b"connection", b"keep-alive"),
]  # fmt: skip


class Backend:
    def __init__(self) -> None:
        self.polls = PollCounter()
        self.polled = self.polls.count

    def snapshot(self, slug: str, fmt: str, limit: int) -> Any:
        return SNAP if slug == "kien-thuy" else None


def poll(module: ModuleType) -> Callable[[], None]:
    backend = Backend()
    fast = module.FeedFastPath(None, backend, 300)

    def once() -> None:
        found = fast.answer("GET", "/feeds/kien-thuy.rss", b"", HEADERS)
        if len(found) == 3:  # this version counts polls (older ones return two values)
            backend.polled(found[2])

    return once


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--number", type=int, default=200_000)
    args = parser.parse_args()
    print(f"machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}")
    versions = {"this tree": poll(fast_path)}
    if args.against:
        web = args.against / "feedsvc" / "web"
        found = web / "fast_path.py" if (web / "fast_path.py").exists() else web / "feeds.py"
        spec = importlib.util.spec_from_file_location("other_fast_path", found)
        assert spec and spec.loader
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        versions[str(args.against)] = poll(other)
    best: dict[str, list[float]] = {name: [] for name in versions}
    for _ in range(5):  # interleaved, so load changes hit both alike
        for name, fn in versions.items():
            runs = timeit.repeat(fn, number=args.number, repeat=3)
            best[name].append(min(runs) / args.number * 1e6)
    for name, values in best.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name}: {min(values):.2f} µs per 304 poll (best of rounds: {shown})")


if __name__ == "__main__":
    main()
