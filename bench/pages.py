"""What the reader pages cost at many topics, with and without a Telegram bot.

    python bench/pages.py [--topics 3000] [--baseline /path/to/other/checkout]

Prints, per checkout (each in its own process, the code from ``PYTHONPATH``): CPU seconds to
build every topic's subscribe links (the QR code of the Telegram link lived there until it
became an image of its own), CPU seconds to render the index page from them, and its size.
Goal (issue 16's pages at thousands of topics): a restart's render must not be bound by QR
codes; the figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

CHILD = """
import sys, time
from datetime import UTC, datetime, timedelta
from feedsvc.catalogue import translator
from feedsvc.pages import render as R
topics, bot = int(sys.argv[1]), sys.argv[2] or None
site = R.Site("Báo", "https://baohaiphong.vn", "https://tin.baohaiphong.vn")
now = datetime(2026, 11, 30, tzinfo=UTC)
start = time.process_time()
pages = []
for i in range(topics):
    arts = [R.PageArticle(f"Tiêu đề bài {i}-{j} về công an", f"https://baohaiphong.vn/{i}-{j}.html",
                          now - timedelta(minutes=i + j), guid=f"g{i}-{j}") for j in range(5)]
    links = R.subscribe_links("https://tin.baohaiphong.vn", f"chu-de-{i}", bot)
    pages.append(R.page_topic(f"chu-de-{i}", f"Chủ đề {i}", "Mô tả", 42, arts, links))
built = time.process_time()
body = R.render_index(translator("vi"), site, pages)
done = time.process_time()
print(f"{built - start:.2f} {done - built:.2f} {len(body) / 1e6:.1f}")
"""


def run(tree: Path, topics: int, bot: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # cwd=tree: ``python -c`` puts the working directory first on sys.path, before PYTHONPATH
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(topics), bot], env=env, cwd=tree, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=3000)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alongside")
    args = parser.parse_args()
    trees = [("this checkout", Path(__file__).parent.parent)]
    if args.baseline is not None:
        trees.append(("baseline", args.baseline))
    print(machine())
    print(f"{args.topics:,} topics, 5 headlines each; CPU seconds")
    print(f"{'checkout':<15}{'bot':<6}{'subscribe links':>17}{'index page':>12}{'MB':>7}")
    for bot in ("", "TinBot"):
        for name, tree in trees:
            links, index, size = run(tree, args.topics, bot)
            print(f"{name:<15}{'yes' if bot else 'no':<6}{links:>17}{index:>12}{size:>7}")


if __name__ == "__main__":
    main()
