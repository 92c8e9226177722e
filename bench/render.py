"""Cold render time of a topic feed: 50 and 500 items, RSS / Atom / JSON Feed.

"Cold" = a fresh render from Article objects (sanitising included), as after an ingest that
changed the feed; nothing is cached between repetitions. Goals (issue #4): 50 items < 10 ms,
500 items < 100 ms, per format.

Usage: .venv/bin/python bench/render.py [--repeat N] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.articles import Article
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_feed, render_formats
from feedsvc.feeds.model import clear_item_cache

PUBLIC = "https://tin.baohaiphong.example"
SITE = "https://baohaiphong.example/"
GOALS_MS = {50: 10.0, 500: 100.0}
PARAGRAPH = (
    "<p>Chiều {n}/5, Công an huyện Kiến Thụy phối hợp với lực lượng chức năng kiểm tra "
    '<a href="/ho-so/{n}">cơ sở kinh doanh</a> trên địa bàn xã Tú Sơn, phát hiện nhiều sai '
    "phạm về an toàn phòng cháy, chữa cháy và trật tự giao thông.</p>"
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_articles(count: int) -> list[Article]:
    """Realistic sizes: ~3 KB body (6 paragraphs), summary, tags, image, author."""
    start = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    return [
        Article(
            source_key=f"HP-BENCH-{n:05d}",
            url=f"https://baohaiphong.example/thoi-su/bai-viet-so-{n}.html",
            title=f"Kiến Thụy: kiểm tra an toàn phòng cháy tại cơ sở số {n}",
            published_at=start + timedelta(minutes=17 * n),
            summary=f"Lực lượng chức năng huyện Kiến Thụy kiểm tra cơ sở số {n}.",
            body="".join(PARAGRAPH.format(n=n) for _ in range(6)),
            author="Nguyễn Thị Lan",
            section="Thời sự",
            tags=("An ninh - Trật tự", "Kiến Thụy"),
            image_url=f"/anh/2024/05/{n}.jpg",
        )
        for n in range(count)
    ]


def meta(fmt: str) -> FeedMeta:
    return FeedMeta(
        title="Kiến Thụy",
        description="Tin tức huyện Kiến Thụy",
        site_url=SITE,
        self_url=feed_urls(PUBLIC, "kien-thuy")[fmt],
        feed_id=feed_id(PUBLIC, "kien-thuy"),
    )


def time_ms(fn: Callable[[], object], repeat: int, cold: bool = True) -> tuple[float, float, float]:
    """(median wall, best wall, median CPU) of ``repeat`` runs, in ms.

    ``cold`` empties the prepared-item memo before each run. CPU time (``process_time``) is
    reported because wall time on a shared, loaded box also counts time spent waiting for a core.
    """
    walls, cpus = [], []
    fn()  # warm the memo for the warm case (and imports/first-call paths for both)
    for _ in range(repeat):
        if cold:
            clear_item_cache()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - c0) * 1000)
        walls.append((time.perf_counter() - t0) * 1000)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()

    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    render_feed(meta("rss"), make_articles(5), "rss")  # import / first-call warm-up only
    rows = []
    for count in (50, 500):
        articles = make_articles(count)
        repeat = args.repeat if count == 50 else max(5, args.repeat // 3)
        for fmt in ("rss", "atom", "json"):
            m = meta(fmt)

            def one(m: FeedMeta = m, f: str = fmt, a: list[Article] = articles) -> bytes:
                return render_feed(m, a, f)

            cold, best, cpu = time_ms(one, repeat)
            _, _, warm = time_ms(one, repeat, cold=False)
            ok = "yes" if cpu < GOALS_MS[count] else "NO"
            goal = f"{GOALS_MS[count]:.0f}"
            rows.append((count, fmt, cold, best, cpu, warm, len(one()), goal, ok))
        metas = {fmt: meta(fmt) for fmt in ("rss", "atom", "json")}

        def three(ms: dict[str, FeedMeta] = metas, a: list[Article] = articles) -> object:
            return render_formats(ms, a)

        cold, best, cpu = time_ms(three, repeat)
        _, _, warm = time_ms(three, repeat, cold=False)
        goal = f"{3 * GOALS_MS[count]:.0f}"
        ok = "yes" if cpu < 3 * GOALS_MS[count] else "NO"
        rows.append((count, "all three (render_formats)", cold, best, cpu, warm, 0, goal, ok))

    lines = [
        "# Feed render benchmark (`bench/render.py`)",
        "",
        f"- Machine: {cpu_model()} ({os.cpu_count()} vCPU), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()} "
        f"({sys.implementation.name}); load average at start {load}",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; repeat: {args.repeat} (50 items), "
        f"{max(5, args.repeat // 3)} (500 items). Articles: ~3 KB HTML body, summary, author, "
        "section, 2 tags, image.",
        "- **cold**: memo of sanitised items emptied before each run (render right after ingest "
        "of all-new articles). **warm**: items already sanitised (re-render of a feed whose "
        "articles were seen before; only feedgen/JSON layout runs).",
        "",
        "| items | format | cold wall median ms | cold wall best ms | cold CPU median ms "
        "| warm CPU median ms | bytes | goal ms | cold CPU meets goal |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for count, fmt, cold, best, cpu, warm, size, goal, ok in rows:
        size_text = f"{size:,}" if size else "-"
        lines.append(
            f"| {count} | {fmt} | {cold:.2f} | {best:.2f} | {cpu:.2f} | {warm:.2f} "
            f"| {size_text} | {goal} | {ok} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
