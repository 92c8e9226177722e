"""A real feed reader (newsboat) reads the running service's feeds and finds the items."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from factories import VN, article, jsonl
from fakeserver import PATIENCE
from test_service import free_port, get, start, wait_until

ROOT = Path(__file__).parent.parent
NEWSBOAT = shutil.which("newsboat")


def read_with_newsboat(work: Path, url: str) -> tuple[set[str], set[str]]:
    """Run ``newsboat -x reload`` on one feed URL; return the titles and guids it stored."""
    home = work / "home"
    (home / ".newsboat").mkdir(parents=True)
    (work / "urls").write_text(url + "\n")
    result = subprocess.run(
        [
            NEWSBOAT or "newsboat",
            "-u",
            str(work / "urls"),
            "-c",
            str(work / "cache.db"),
            "-x",
            "reload",
        ],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(work / "cache.db") as conn:
        rows = conn.execute("SELECT title, guid FROM rss_item WHERE feedurl = ?", (url,))
        pairs = rows.fetchall()
    return {t for t, _ in pairs}, {g for _, g in pairs}


@pytest.mark.skipif(NEWSBOAT is None, reason="newsboat not installed (Debian package newsboat)")
def test_newsboat_reads_rss_and_atom(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "topics.toml", tmp_path / "config" / "topics.toml")
    items = [
        article(i, published_at=datetime.now(VN), title=f"Kiến Thụy: tin thử số {i}")
        for i in range(1, 4)
    ]
    (tmp_path / "a.jsonl").write_text(jsonl(*items), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "feedsvc", "import", "a.jsonl"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(
        ["run", "--no-bot"],
        {
            "FEEDSVC_HTTP__PORT": str(port),
            "FEEDSVC_HTTP__PUBLIC_URL": base,
            "FEEDSVC_SOURCE__POLL_SECONDS": "1",
        },
        tmp_path,
    )
    try:
        wait_until(
            lambda: (
                (r := get(f"{base}/feeds/kien-thuy.json")) is not None
                and r.status_code == 200
                and len(r.json()["items"]) == 3
            ),
            30,
            "3 items",
        )
        expected = {a.title for a in items}
        guids = {}
        for fmt in ("rss", "atom"):  # separate caches: newsboat keys items by guid
            titles, guids[fmt] = read_with_newsboat(tmp_path / fmt, f"{base}/feeds/kien-thuy.{fmt}")
            assert titles == expected, fmt
        assert guids["rss"] == guids["atom"]  # the same article has the same id in every format
        assert httpx.get(f"{base}/healthz", timeout=PATIENCE).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
