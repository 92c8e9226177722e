"""The W3C feedvalidator finds no errors or warnings in our RSS, Atom and OPML.

The validator is not on PyPI; point ``FEEDVALIDATOR_SRC`` at a checkout of
https://github.com/w3c/feedvalidator (the directory holding ``src/feedvalidator``, or ``src``
itself). It runs in a subprocess (it sets process-wide socket timeouts) with the interpreter in
``FEEDVALIDATOR_PYTHON`` (default: this one), which needs lxml, html5lib and rdflib.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from feedsvc.articles import Article
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_feed, render_opml

PUBLIC = "https://tin.baohaiphong.example"
SITE = "https://baohaiphong.example/"
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
}

RUNNER = r"""
import io, json, sys
sys.path.insert(0, sys.argv[1])
import feedvalidator
from feedvalidator import compatibility, logging
jobs = json.load(sys.stdin)
out = []
for job in jobs:
    with open(job["path"], "rb") as fh:
        result = feedvalidator.validateStream(
            fh, firstOccurrenceOnly=1, contentType=job["content_type"], base=job["base"])
    events = compatibility.AA(result["loggedEvents"])
    out.append({"name": job["name"], "events": [
        {"class": type(e).__name__,
         "level": "error" if isinstance(e, logging.Error) else
                  "warning" if isinstance(e, logging.Warning) else "info",
         "params": {k: str(v) for k, v in e.params.items()}}
        for e in events]})
json.dump(out, sys.stdout)
"""


def validator_src() -> Path:
    root = os.environ.get("FEEDVALIDATOR_SRC")
    if not root:
        pytest.skip("FEEDVALIDATOR_SRC not set: point it at a w3c/feedvalidator checkout")
    path = Path(root)
    for candidate in (path / "src", path):
        if (candidate / "feedvalidator" / "__init__.py").is_file():
            return candidate
    pytest.fail(f"FEEDVALIDATOR_SRC={root} has no feedvalidator package (src/feedvalidator)")


def sample_articles() -> list[Article]:
    ict = timezone(timedelta(hours=7))
    return [
        Article(
            source_key="HP-2023-08-01-0101",
            url="https://baohaiphong.example/an-ninh/triet-pha-duong-day-lo-de.html",
            title="Triệt phá đường dây lô đề ở Kiến Thụy",
            published_at=datetime(2023, 8, 1, 16, 20, tzinfo=ict),
            updated_at=datetime(2023, 8, 1, 18, 0, tzinfo=ict),
            summary="Công an huyện <em>Kiến Thụy</em> triệt phá đường dây lô đề.",
            body='<p>Ngày 1/8, lực lượng chức năng <a href="/phap-luat">bắt quả tang</a>.</p>'
            '<img src="/anh/2023/08/lo-de.jpg" alt="Tang vật">',
            author="Đỗ Minh Tuấn",
            section="Pháp luật",
            tags=("An ninh - Trật tự", "Kiến Thụy"),
            image_url="https://baohaiphong.example/anh/2023/08/lo-de.jpg",
        ),
        Article(
            source_key="HP-2023-07-30-0042",
            url="https://baohaiphong.example/giao-thong/phan-luong-cau-rao.html",
            title="Phân luồng giao thông qua cầu Rào",
            published_at=datetime(2023, 7, 30, 7, 0, tzinfo=ict),
        ),
    ]


def documents(tmp_path: Path) -> list[dict[str, str]]:
    jobs = []
    for fmt in ("rss", "atom"):
        self_url = feed_urls(PUBLIC, "kien-thuy")[fmt]
        meta = FeedMeta(
            title="Kiến Thụy",
            description="Tin huyện Kiến Thụy",
            site_url=SITE,
            self_url=self_url,
            feed_id=feed_id(PUBLIC, "kien-thuy"),
            hub_url="https://pubsubhubbub.appspot.com/",
        )
        for name, articles in (("full", sample_articles()), ("empty", [])):
            path = tmp_path / f"{name}.{fmt}"
            path.write_bytes(render_feed(meta, articles, fmt))
            jobs.append(
                {
                    "name": path.name,
                    "path": str(path),
                    "base": self_url,
                    "content_type": CONTENT_TYPES[fmt],
                }
            )
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(
        render_opml("Báo Hải Phòng", [("Kiến Thụy", feed_urls(PUBLIC, "kt")["rss"], SITE)])
    )
    jobs.append(
        {
            "name": opml.name,
            "path": str(opml),
            "base": f"{PUBLIC}/feeds.opml",
            "content_type": CONTENT_TYPES["opml"],
        }
    )
    return jobs


def test_w3c_feedvalidator_is_clean(tmp_path: Path) -> None:
    src = validator_src()
    python = os.environ.get("FEEDVALIDATOR_PYTHON", sys.executable)
    completed = subprocess.run(
        [python, "-c", RUNNER, str(src)],
        input=json.dumps(documents(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    problems = {
        r["name"]: [e for e in r["events"] if e["level"] in ("error", "warning")] for r in results
    }
    assert problems == {r["name"]: [] for r in results}
