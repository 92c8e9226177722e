"""Cold render time of a topic feed: 50 and 500 items, RSS / Atom / JSON Feed.

"Cold" = a fresh render from Article objects (sanitising included), as after an ingest that
changed the feed; nothing is cached between repetitions. Goals (issue #4): 50 items < 10 ms,
500 items < 100 ms, per format.

Usage: .venv/bin/python bench/render.py [--repeat N] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.articles import Article
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_feed, render_formats

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


def time_ms(fn: object, repeat: int) -> tuple[float, float]:
    """Median and best of ``repeat`` runs, in milliseconds."""
    assert callable(fn)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs), min(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()

    render_feed(meta("rss"), make_articles(5), "rss")  # import / first-call warm-up only
    rows = []
    for count in (50, 500):
        articles = make_articles(count)
        repeat = args.repeat if count == 50 else max(5, args.repeat // 3)
        for fmt in ("rss", "atom", "json"):
            m = meta(fmt)
            median, best = time_ms(lambda m=m, f=fmt: render_feed(m, articles, f), repeat)
            size = len(render_feed(m, articles, fmt))
            ok = "yes" if median < GOALS_MS[count] else "NO"
            rows.append((count, fmt, median, best, size, GOALS_MS[count], ok))
        metas = {fmt: meta(fmt) for fmt in ("rss", "atom", "json")}
        median, best = time_ms(lambda ms=metas: render_formats(ms, articles), repeat)
        rows.append((count, "all 3 (render_formats)", median, best, 0, 3 * GOALS_MS[count], "-"))

    lines = [
        "# Feed render benchmark (cold render, `bench/render.py`)",
        "",
        f"- Machine: {cpu_model()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({sys.implementation.name})",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; repeat: {args.repeat} (50 items), "
        f"{max(5, args.repeat // 3)} (500 items); times are per render, sanitising included.",
        "",
        "| items | format | median ms | best ms | bytes | goal ms | meets goal |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for count, fmt, median, best, size, goal, ok in rows:
        size_text = f"{size:,}" if size else "-"
        lines.append(
            f"| {count} | {fmt} | {median:.2f} | {best:.2f} | {size_text} | {goal:.0f} | {ok} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
