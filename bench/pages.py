"""What the reader index costs at many topics: before (one page of every topic) and after (pages
of 50 and a filter), side by side.

    python bench/pages.py [--topics 240,3000,5000] [--baseline /path/to/other/checkout]

Prints, per checkout and topic count (each in its own process, the code from ``PYTHONPATH``):
CPU seconds to build every topic's subscribe links and to render the whole index from scratch
(every entry, every page: a restart), the size of ``/`` as served (raw and gzipped, level 6 as
``feedsvc.web.http_cache`` does), the CPU milliseconds one changed topic costs the index (its
entry rendered again, then the page that holds it — the whole index before pages — joined,
hashed for its ETag and gzipped), and, where the checkout has the filter, milliseconds for
``/?q=kien thuy`` (filter every topic, render the page of matches, hash, gzip) and for
``/?q=xa`` (matching every topic: a full page of 50). Goal: ``/`` small at thousands of topics,
a change costing one page; figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

CHILD = """
import gzip, json, sys, time
from datetime import UTC, datetime, timedelta
from feedsvc.catalogue import translator
from feedsvc.pages import render as R
from feedsvc.web.http_cache import strong_etag
topics, bot = int(sys.argv[1]), sys.argv[2] or None
site = R.Site("Báo", "https://baohaiphong.vn", "https://tin.baohaiphong.vn")
t = translator("vi")
now = datetime(2026, 11, 30, tzinfo=UTC)
paged = hasattr(R, "IndexView")
if paged:
    from feedsvc.pages import listing as L

def cpu(fn, repeat=1):
    start = time.process_time()
    for _ in range(repeat):
        out = fn()
    return out, (time.process_time() - start) / repeat

def served(body):
    return body, strong_etag(body), gzip.compress(body, compresslevel=6, mtime=0)

def topic(i, tag=""):
    arts = [R.PageArticle(f"Tiêu đề bài {i}-{j}{tag} về công an", f"https://baohaiphong.vn/{i}-{j}.html",
                          now - timedelta(minutes=i + j), guid=f"g{i}-{j}") for j in range(3)]
    title = "Kiến Thụy" if i == topics // 2 else f"Xã {i}"
    links = R.subscribe_links("https://tin.baohaiphong.vn", f"xa-{i:05d}", bot)
    return R.page_topic(f"xa-{i:05d}", title, "Tin về xã, phường", 42, arts, links)

pages, links_s = cpu(lambda: [topic(i) for i in range(topics)])

def page_of(entries, n, query="", hits=None):
    listed = entries if hits is None else [entries[i] for i in hits]
    at = L.paging(len(listed), n)
    view = R.IndexView(at, query, search=query != "" or len(listed) > L.PAGE_SIZE)
    return R.render_index_of(t, site, listed[at.start : at.start + L.PAGE_SIZE], view)

def everything():
    entries = R.index_entries(t, site, pages)
    if not paged:
        return entries, [served(R.render_index_of(t, site, entries))]
    count = L.page_count(len(entries))
    return entries, [served(page_of(entries, n)) for n in range(1, count + 1)]

(entries, bodies), full_s = cpu(everything)
first, _, packed = bodies[0]
changed = topics // 2

def one_change():
    entry = R.index_entries(t, site, [topic(changed, " (sửa)")])[0]
    listed = entries[:changed] + [entry] + entries[changed + 1 :]
    if not paged:
        return served(R.render_index_of(t, site, listed))
    return served(page_of(listed, changed // L.PAGE_SIZE + 1))

_, change_s = cpu(one_change, 5)
out = {"links": links_s, "full": full_s, "kb": len(first) / 1e3, "gz": len(packed) / 1e3,
       "change": change_s * 1e3, "pages": len(bodies)}
if paged:
    keys = [e.key for e in entries]
    def search(query):
        words = L.query_words(L.clean_query(query))
        hits = L.matching(keys, words)
        return served(page_of(entries, 1, query, hits))
    (body, _, _), out["find_one"] = cpu(lambda: search("kien thuy"), 20)
    assert body.count(b'class="topic"') == 1, "the filter found one topic"
    (body, _, _), out["find_many"] = cpu(lambda: search("xa"), 20)
    out["find_one"] *= 1e3
    out["find_many"] *= 1e3
print(json.dumps(out))
"""


def run(tree: Path, topics: int, bot: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # cwd=tree: ``python -c`` puts the working directory first on sys.path, before PYTHONPATH
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(topics), bot], env=env, cwd=tree, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", default="240,3000,5000", help="comma-separated counts")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alongside")
    parser.add_argument("--no-bot", action="store_true", help="no Telegram links or QR codes")
    args = parser.parse_args()
    trees = [("this checkout", Path(__file__).parent.parent)]
    if args.baseline is not None:
        trees.append(("baseline", args.baseline))
    bot = "" if args.no_bot else "TinBot"
    print(machine())
    print(f"3 headlines a topic, Telegram bot: {'no' if args.no_bot else 'yes'}; CPU time")
    print(
        f"{'checkout':<15}{'topics':>7}{'links s':>9}{'full s':>8}{'pages':>7}{'/ KB':>9}"
        f"{'/ gz KB':>9}{'1 change ms':>13}{'?q=1 ms':>9}{'?q=50 ms':>10}"
    )
    for topics in (int(n) for n in args.topics.split(",")):
        for name, tree in trees:
            r = run(tree, topics, bot)
            find = (
                f"{r['find_one']:>9.1f}{r['find_many']:>10.1f}"
                if "find_one" in r
                else f"{'–':>9}{'–':>10}"
            )
            print(
                f"{name:<15}{topics:>7}{r['links']:>9.2f}{r['full']:>8.2f}{r['pages']:>7.0f}"
                f"{r['kb']:>9.1f}{r['gz']:>9.1f}{r['change']:>13.1f}{find}"
            )


if __name__ == "__main__":
    main()
