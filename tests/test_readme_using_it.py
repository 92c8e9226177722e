"""README's "Using it" block, typed as a newcomer types it.

Each line of the block is run as written, by a shell, in a fresh directory holding only the
sample topics at ``config/topics.toml`` (as the repository root does) and an ``articles.jsonl``
in the README's article JSON form, with ``feedsvc`` on ``PATH``: the default state DB
(``sqlite:///var/feedsvc.db``), no config file. ``feedsvc run`` runs until its first ingest
has stored the imported articles, then gets SIGTERM. A synopsis line (``topics list | add |
…``) is checked word by word: each names a subcommand. So a renamed command, option or
default, or an output the README shows, breaks here first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from processes import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


def using_it_block() -> list[str]:
    """The command lines of the README's "## Using it" sh block, their comments cut off."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Using it\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("\n```", 1)[0]
    return [re.split(r"\s{2,}#\s", line, maxsplit=1)[0].strip() for line in block.splitlines()]


def article(key: str, title: str, minutes_ago: int) -> str:
    """One line of the README's article JSON, published ``minutes_ago``."""
    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).astimezone()
    return json.dumps({
        "source_key": key, "url": f"https://example.vn/an-ninh/{key.lower()}.html",
        "title": title, "summary": "Tin mẫu.", "body": "<p>Nội dung.</p>", "author": "Thu Hà",
        "section": "An ninh - Trật tự", "tags": ["An ninh - Trật tự"],
        "image_url": "https://example.vn/anh/1.jpg",
        "published_at": at.isoformat(timespec="seconds"),
        "updated_at": at.isoformat(timespec="seconds"),
    }, ensure_ascii=False)  # fmt: skip


class Walk:
    """A directory where the README's commands are typed, and the shell that types them."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "newsroom"
        (self.dir / "config").mkdir(parents=True)
        shutil.copy(ROOT / "config" / "topics.toml", self.dir / "config" / "topics.toml")
        (self.dir / "articles.jsonl").write_text(
            article("ANHP-0042", "Công an huyện Kiến Thụy triệt phá đường dây đánh bạc", 30)
            + "\n"
            + article("ANHP-0043", "Công an nhắc người dân về an toàn giao thông dịp Tết", 20)
            + "\n",
            encoding="utf-8",
        )
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "feedsvc"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m feedsvc "$@"\n')
        shim.chmod(0o755)
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
        self.env = env | {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "FEEDSVC_HTTP__PORT": str(self.port),  # `feedsvc run` below: any free port
        }

    def type(self, line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", line], cwd=self.dir, env=self.env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    def run_until_ingested(self, line: str) -> tuple[int, str]:
        """`feedsvc run` as typed, until its ingest has stored what `import` wrote; SIGTERM."""
        log = self.dir / "run.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["bash", "-c", f"exec {line}"], cwd=self.dir, env=self.env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            said = lambda: log.read_text("utf-8", errors="replace")  # noqa: E731
            try:
                wait_until(lambda: "ingest: 2 new" in said() or proc.poll() is not None,
                           90, "run's first ingest")  # fmt: skip
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=60)
        return code, said()


@pytest.fixture
def walk(tmp_path: Path) -> Walk:
    return Walk(tmp_path)


def test_the_block_is_what_this_test_walks() -> None:
    lines = using_it_block()
    assert lines[0] == "feedsvc db upgrade"
    assert all(line.startswith("feedsvc ") for line in lines), lines
    assert len(lines) >= 9, lines


def test_every_line_of_using_it_works_as_typed(walk: Walk) -> None:
    said: dict[str, str] = {}
    for line in using_it_block():
        words = line.split()
        if " | " in line:  # a synopsis: `feedsvc topics list | add | …`
            group = words[1]
            names = [words[2]] + [w for i, w in enumerate(words) if words[i - 1] == "|"]
            for name in names:
                helped = walk.type(f"feedsvc {group} {name} --help")
                assert helped.returncode == 0, (line, name, helped.stderr)
            continue
        if words[1] == "run":
            code, log = walk.run_until_ingested(line)
            assert code == 0, log
            assert "feedsvc started" in log and "ingest: 2 new" in log, log
            said[line] = log
            continue
        result = walk.type(line)
        assert result.returncode == 0, (line, result.stdout, result.stderr)
        said[line] = result.stdout
    assert said["feedsvc import articles.jsonl"].startswith("inserted 2,"), said
    assert re.search(r"^articles_stored\s+2$", said["feedsvc status"], re.M), said
    explained = next(out for line, out in said.items() if "--explain" in line)
    assert explained.splitlines()[0] == "ANHP-0042", explained  # 0043 is about giao thông
    assert "ANHP-0043" not in explained
    topics = said["feedsvc match --topics config/topics.toml < articles.jsonl"]
    rows = dict(line.split("\t") for line in topics.splitlines())
    assert "kien-thuy" in rows["ANHP-0042"].split(","), rows
    atom = said["feedsvc render kien-thuy --format atom"]
    assert "<feed" in atom and "Công an huyện Kiến Thụy triệt phá" in atom
    assert "OK" in said["feedsvc config check"]
