"""``feedsvc demo``'s banner promises feeds that hold the seeded articles when it prints.

The demo seeded its archive into the built-in source table and printed "N sample articles
seeded" with the feeds' URLs; the service's first ingest tick, which moves the rows into the
feeds, ran only after the banner, so a reader who followed a URL at once saw an empty feed for
a second or more. The first ingest now runs before the banner. Each URL is fetched ONCE, as
soon as the banner is read: no polling after it.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from in_process import feedsvc as in_process

ROOT = Path(__file__).resolve().parent.parent
BANNER_END = "Ctrl-C to stop."
START_SECONDS = 120  # a loaded CI machine: the banner, not the feeds, is waited for


Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Start]:
    """Start ``feedsvc demo --port 0`` (any free port, named in the banner) in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        with (tmp_path / "demo.log").open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "demo", "--port", "0", "--dir", "d", *args],
                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _banner(proc: subprocess.Popen[str]) -> str:
    """The banner's lines, read from stdout until its last one (deadline-bounded)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    text = ""
    while BANNER_END not in text:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, f"the demo ended before its banner: {text}"
        text += line
    return text


def _named(pattern: str, banner: str) -> tuple[str, ...]:
    found = re.search(pattern, banner)
    assert found is not None, f"{pattern!r} not in the banner: {banner}"
    return found.groups()


@pytest.mark.parametrize("articles", [None, "40"], ids=["default", "40-articles"])
def test_the_feeds_the_banner_names_hold_the_seeded_articles(
    demo: Start, articles: str | None
) -> None:
    banner = _banner(demo(*(["--articles", articles] if articles else [])))
    [seeded] = _named(r"feedsvc demo: (\d+) sample articles seeded", banner)
    assert int(seeded) == int(articles or 300)
    rss, atom = _named(r"  feeds +(\S+\.rss) +(\S+\.atom)\n", banner)
    [search] = _named(r"  search +(\S+)\n", banner)
    # the address bound, named: the demo listens on 127.0.0.1 alone, and its URLs are there
    [listening] = _named(r"  listening on (.+)\n", banner)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", listening), listening
    assert rss.startswith(f"{listening}/feeds/"), (listening, rss)
    with httpx.Client(timeout=30) as client:  # the server may still be starting: it answers
        rss_body = client.get(rss).text
        atom_body = client.get(atom).text
        found = client.get(search).json()
    assert rss_body.count("<item>") > 0, rss_body[:500]
    assert atom_body.count("<entry>") > 0, atom_body[:500]
    assert len(found["items"]) > 0, found
    # the address printed is the one the feed names as its own (it printed `+` for the space,
    # the feed named `%20`: the W3C validator's SelfDoesntMatchLocation there, a tester's)
    assert found["feed_url"] == search and "+" not in search, (found["feed_url"], search)


def test_the_banners_cli_settings_render_the_feed_the_demo_serves(
    demo: Start, tmp_path: Path
) -> None:
    """A tester followed the banner's hint (its ``export``) and ran ``feedsvc render`` on the
    demo's database: the feed's self and stylesheet links named port 8080, not the demo's. Run
    from another directory, the command renders what the demo serves, byte for byte (an article
    may be added between the two reads: read again until both agree, within a deadline)."""
    (tmp_path / "config").mkdir()  # the demo's directory's config: its [site] is the feeds'
    (tmp_path / "config" / "feedsvc.toml").write_text(
        '[site]\ntitle = "Tin tức Hải Phòng"\n', encoding="utf-8"
    )
    banner = _banner(demo("--articles", "40"))
    [exports] = _named(r"\n +export (.+)\n", banner)
    [rss] = _named(r"  feeds +(\S+\.rss) ", banner)
    slug = rss.rsplit("/", 1)[1].removesuffix(".rss")
    given: dict[str, str | None] = {}
    for assignment in exports.split():
        name, _, value = assignment.partition("=")
        given[name] = value.strip("'")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=30) as client:
        while True:
            served = client.get(rss).content
            # in this process: which DB and settings the exported names give is the subject
            done = in_process(["render", slug, "--format", "rss"], elsewhere, **given)
            assert done.returncode == 0, done.stderr
            rendered = done.stdout_bytes
            if rendered == served or time.monotonic() > deadline:
                break
    assert rendered == served, (rendered[:600], served[:600])
    assert "Tin tức Hải Phòng".encode() in served
